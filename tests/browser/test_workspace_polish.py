"""What a coordinator meets at once in the workspace (issue 18, item 5): a filter brings the map
to its area and says that it is on, the tabs stay usable over an open hazard panel, the
balance chart is readable, and a drawn hazard gets its reference and status."""

import pytest

from tests.browser.pages import ARTIFACTS, demo_site, login, map_point, zoom_to

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site():
    with demo_site("polish") as s:
        coordinator = s["token"]("demo-coordinator")
        areas = s["api"].get(
            "/admin-areas", params={"limit": 1000}, headers=coordinator
        )
        assert areas.status_code == 200, areas.text
        s["areas"] = areas.json()["features"]
        s["coordinator"] = coordinator
        yield s


def _bounds(pg):
    return pg.evaluate(
        """() => { const b = window.safeground.map.getBounds();
                   return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"""
    )


def _extent(feature):
    xs, ys = [], []

    def walk(c):
        if isinstance(c[0], (int, float)):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for x in c:
                walk(x)

    walk(feature["geometry"]["coordinates"])
    return min(xs), min(ys), max(xs), max(ys)


def test_a_filter_moves_the_map_to_its_area_and_shows_a_removable_chip(site, page):
    login(page, site["base"])
    area = next(f for f in site["areas"] if (f["properties"].get("level") or 1) >= 2)
    w, s, e, n = _extent(area)
    zoom_to(page, 20.0, 40.0, 9)  # far from the area
    chip = page.locator("#filter-chip")
    assert chip.is_hidden()
    page.click("#tab-filters")
    page.select_option("#f-admin", area["properties"]["pcode"])
    page.wait_for_function(
        "() => !document.querySelector('#filter-chip').hidden", timeout=10_000
    )
    bw, bs, be, bn = _bounds(page)
    # the area is in view and fills a good part of it (fitBounds, not a mere pan)
    assert bw <= w and bs <= s and be >= e and bn >= n, ((bw, bs, be, bn), (w, s, e, n))
    assert (e - w) >= 0.25 * (be - bw) or (n - s) >= 0.25 * (bn - bs)
    assert area["properties"]["name"] in chip.inner_text()
    page.screenshot(path=str(ARTIFACTS / "polish-filter-chip.png"))
    chip.locator("button").click()
    assert chip.is_hidden()
    assert page.locator("#f-admin").input_value() == ""


def test_tabs_stay_usable_over_an_open_hazard_panel(site, page):
    login(page, site["base"])
    page.locator("#priority-list button.link").first.click()
    page.locator("#hazard-panel").wait_for(state="visible")
    page.wait_for_selector("#hazard-panel svg.balance text")
    # scroll the side panel down to the bottom of the hazard panel, as a reader does
    page.evaluate(
        "() => { const s = document.querySelector('#side'); s.scrollTop = s.scrollHeight; }"
    )
    page.wait_for_timeout(200)
    for tab in ("#tab-priorities", "#tab-filters", "#tab-import", "#tab-legend"):
        hit = page.evaluate(
            """(sel) => { const b = document.querySelector(sel).getBoundingClientRect();
                          const e = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
                          return e && (e.closest('[role=tab]') || {}).id; }""",
            tab,
        )
        assert hit == tab[1:], (tab, hit)
    page.click("#tab-filters")
    assert page.locator("#pane-filters").is_visible()


def test_balance_chart_labels_are_at_least_12_px(site, page):
    login(page, site["base"])
    page.locator("#priority-list button.link").first.click()
    page.wait_for_selector("#hazard-panel svg.balance text")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('#hazard-panel svg.balance text')].map((t) => {
              const scale = t.ownerSVGElement.getScreenCTM().a;
              return parseFloat(getComputedStyle(t).fontSize) * scale; })"""
    )
    assert sizes and min(sizes) >= 12, sizes


def test_the_draw_form_asks_for_reference_and_status(site, page):
    login(page, site["base"])
    lon, lat = 31.95, 49.95
    zoom_to(page, lon, lat, 17)
    page.click("#draw-hazard")
    d = 0.0008
    for x, y in [
        (lon, lat),
        (lon + d, lat),
        (lon + d, lat + d / 2),
        (lon, lat + d / 2),
    ]:
        page.mouse.click(*map_point(page, x, y))
        page.wait_for_timeout(150)
    page.mouse.click(*map_point(page, lon, lat))  # back on the first vertex closes it
    page.locator("#feature-dialog").wait_for(state="visible")
    assert page.locator("#ff-external_id").is_visible()
    assert page.locator("#ff-status").is_visible()
    assert page.locator("#ff-status").input_value() == ""  # derived unless chosen
    page.fill("#ff-external_id", "POLISH-REF-1")
    page.fill("#ff-name", "Drawn with a reference")
    page.select_option("#ff-status", "worked_on")
    page.screenshot(path=str(ARTIFACTS / "polish-draw-form.png"))
    page.click("#feature-form button[type=submit]")
    page.locator("#feature-dialog").wait_for(state="hidden")
    r = site["api"].get(
        "/hazards",
        params={"bbox": f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"},
        headers=site["coordinator"],
    )
    assert r.status_code == 200, r.text
    found = [
        f
        for f in r.json()["features"]
        if f["properties"]["external_id"] == "POLISH-REF-1"
    ]
    assert len(found) == 1, r.json()
    assert found[0]["properties"]["status"] == "worked_on"
    assert found[0]["properties"]["name"] == "Drawn with a reference"

"""The public map's check, as a person uses it (issue 18, item 4).

The map centre is marked by a crosshair before anyone presses "Check the map centre", so the
place checked is the place seen; on a phone the verdict appears over the map, in a live
region, instead of below the fold.
"""

import pytest

from tests.browser.pages import ARTIFACTS, demo_site, post_cha, ready, zoom_to

pytestmark = pytest.mark.slow

# a small CHA of our own, published: the check at its centre must say DANGER
RING = [[31.30, 49.30], [31.31, 49.30], [31.31, 49.306], [31.30, 49.306]]
CENTRE = (31.305, 49.303)


@pytest.fixture(scope="module")
def published():
    with demo_site("check_ui") as site:
        api, coordinator = site["api"], site["token"]("demo-coordinator")
        post_cha(api, coordinator, RING, "Check UI field")
        pub = api.post("/public/publications", headers=site["token"]("demo-admin"))
        assert pub.status_code in (200, 201), pub.text
        yield site


def _crosshair_and_map_centre(pg):
    return pg.evaluate(
        """() => {
            const c = document.querySelector('#crosshair');
            const r = c.getBoundingClientRect();
            const m = window.safeground.map;
            const mc = m.getContainer().getBoundingClientRect();
            const p = m.latLngToContainerPoint(m.getCenter());
            const style = getComputedStyle(c);
            return {
                cross: [r.left + r.width / 2, r.top + r.height / 2],
                centre: [mc.left + p.x, mc.top + p.y],
                visible: r.width > 0 && r.height > 0 && style.visibility !== 'hidden'
                    && style.display !== 'none',
                events: style.pointerEvents,
            };
        }"""
    )


def test_crosshair_marks_the_map_centre_before_any_check(published, page):
    page.goto(published["base"] + "/")
    ready(page)
    assert (
        page.locator("#check-result").inner_text().strip() == ""
    )  # nothing checked yet
    seen = _crosshair_and_map_centre(page)
    assert seen["visible"], seen
    assert seen["events"] == "none", "the crosshair must never take a click or a drag"
    assert abs(seen["cross"][0] - seen["centre"][0]) <= 2, seen
    assert abs(seen["cross"][1] - seen["centre"][1]) <= 2, seen
    # still the centre after the map moves
    zoom_to(page, *CENTRE, 15)
    seen = _crosshair_and_map_centre(page)
    assert abs(seen["cross"][0] - seen["centre"][0]) <= 2, seen
    assert abs(seen["cross"][1] - seen["centre"][1]) <= 2, seen
    page.select_option("#language", "uk")
    page.wait_for_function("() => document.documentElement.lang === 'uk'")
    assert page.locator("#crosshair").is_visible()
    page.screenshot(path=str(ARTIFACTS / "check-crosshair-uk.png"))


@pytest.mark.viewport(390, 844)
def test_on_a_phone_the_verdict_shows_over_the_map(published, page):
    page.goto(published["base"] + "/")
    ready(page)
    zoom_to(page, *CENTRE, 16)  # the published CHA under the crosshair
    assert page.locator("#map-verdict").is_hidden()
    page.click("#check-centre")
    verdict = page.locator("#map-verdict")
    verdict.wait_for(state="visible")
    page.wait_for_function(
        "() => document.querySelector('#map-verdict').textContent.includes('DANGER')"
    )
    assert verdict.get_attribute("role") == "status"  # announced to screen readers
    box = verdict.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= 844, (
        box
    )  # no scrolling
    mapbox = page.locator("#map").bounding_box()
    assert (
        mapbox["y"] <= box["y"]
        and box["y"] + box["height"] <= mapbox["y"] + mapbox["height"]
    ), (box, mapbox)  # over the map
    # read once: the side panel's copy is no longer a live region
    assert page.locator("#check-result").get_attribute("aria-live") == "off"
    page.screenshot(path=str(ARTIFACTS / "check-phone-verdict-en.png"))
    page.select_option("#language", "uk")
    page.wait_for_function(
        "() => document.querySelector('#map-verdict').textContent.includes('НЕБЕЗПЕКА')"
    )
    page.screenshot(path=str(ARTIFACTS / "check-phone-verdict-uk.png"))
    verdict.locator("button.close").click()
    assert verdict.is_hidden()


def test_on_a_desktop_the_verdict_stays_in_the_panel(published, page):
    page.goto(published["base"] + "/")
    ready(page)
    zoom_to(page, *CENTRE, 16)
    page.click("#check-centre")
    page.wait_for_function(
        "() => document.querySelector('#check-result').textContent.includes('DANGER')"
    )
    assert page.locator("#map-verdict").is_hidden()
    assert page.locator("#check-result").get_attribute("aria-live") == "polite"

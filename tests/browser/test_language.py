"""Switching to Ukrainian leaves no English on the screen (issue 18, items 3 and 6).

On the public map with a details card open, and in the workspace with a hazard panel open, the
language is switched to uk; then every visible text node of the page (and the title,
aria-label and placeholder of visible elements) is compared with the English catalogue: none
may equal an English string whose Ukrainian differs. The page title changes, the open card is
drawn again (and the public map's verdict asked again), and admin areas show by name with
their codes on hover. Screenshots in uk go to ``test-artifacts/browser/lang-*.png``.
"""

import json
from pathlib import Path

import pytest
from shapely.geometry import shape

from tests.browser.pages import ARTIFACTS, demo_site, login, ready, tiles_drawn, zoom_to
from tests.browser.pages import map_point as _map_point

pytestmark = pytest.mark.slow

WEB = Path(__file__).resolve().parents[2] / "web"
EN = json.loads((WEB / "static/i18n/en.json").read_text())
UK = json.loads((WEB / "static/i18n/uk.json").read_text())

# Visible text of the page: text nodes and the title, aria-label and placeholder of elements
# that are rendered (display, visibility, a box on the screen).
VISIBLE_TEXT = """() => {
  const shown = (el) => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      if (e.hidden) return false;
      const s = getComputedStyle(e);
      if (s.display === "none" || s.visibility === "hidden") return false;
    }
    return el.getClientRects().length > 0;
  };
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const text = n.nodeValue.trim();
    if (text && n.parentElement && shown(n.parentElement)) {
      out.push({ text, where: n.parentElement.tagName + "#" + (n.parentElement.id || "") });
    }
  }
  for (const el of document.body.querySelectorAll("[title], [aria-label], [placeholder]")) {
    if (!shown(el)) continue;
    for (const a of ["title", "aria-label", "placeholder"]) {
      const v = (el.getAttribute(a) || "").trim();
      if (v) out.push({ text: v, where: `${el.tagName}#${el.id || ""}[${a}]` });
    }
  }
  return out;
}"""


def english_strings(served_en: dict, served_uk: dict) -> dict[str, str]:
    """English strings whose Ukrainian differs: the page catalogue (web/static/i18n) and the
    code labels it is served with; placeholders' templates are left out."""
    out = {}
    for en, uk in ((EN, UK), (served_en, served_uk)):
        for key, value in en.items():
            if "{" not in value and uk.get(key) != value and value.strip():
                out[value.strip()] = key
    return out


def english_left(pg, english: dict[str, str]) -> list:
    return [
        (item["text"], english[item["text"]], item["where"])
        for item in pg.evaluate(VISIBLE_TEXT)
        if item["text"] in english
    ]


def to_ukrainian(pg):
    pg.select_option("#language", "uk")
    pg.wait_for_function("() => document.documentElement.lang === 'uk'")


@pytest.fixture(scope="module")
def site():
    """The demo programme, one hazard with a change in its history, and a publication."""
    with demo_site("language") as s:
        api, coordinator = s["api"], s["token"]("demo-coordinator")
        admin = s["token"]("demo-admin")
        org = api.get("/auth/me", headers=coordinator).json()["organisation"]
        hazards = api.get(
            "/hazards", params={"limit": 200, "status": "open"}, headers=coordinator
        ).json()["features"]
        mine = next(
            h
            for h in hazards
            if len(h["properties"]["admin"] or []) >= 2
            and h["properties"]["organisation"] == org
            and h["geometry"]["type"] in ("Polygon", "MultiPolygon")
        )
        hid = mine["id"]
        r = api.get(f"/hazards/{hid}", headers=coordinator)
        r = api.patch(
            f"/hazards/{hid}",
            headers={**coordinator, "If-Match": r.headers["etag"]},
            json={
                "type": "Feature",
                "properties": {"notes": "checked by the language test"},
            },
        )
        assert r.status_code == 200, r.text
        pub = api.post("/public/publications", headers=admin)
        assert pub.status_code in (200, 201), pub.text
        names = {
            f["properties"]["pcode"]: f["properties"]["name"]
            for f in api.get(
                "/admin-areas", params={"limit": 1000}, headers=coordinator
            ).json()["features"]
        }
        served = {
            lang: api.get(f"{s['base']}/i18n/{lang}.json").json()
            for lang in ("en", "uk")
        }
        yield {
            **s,
            "hazard": mine,
            "names": names,
            "english": english_strings(served["en"], served["uk"]),
        }


def test_public_page_in_ukrainian_with_a_card_open(site, page):
    page.goto(site["base"] + "/")
    ready(page)
    assert page.title() == EN["page.public_title"]
    spot = shape(site["hazard"]["geometry"]).representative_point()
    zoom_to(page, spot.x, spot.y, 16)
    tiles_drawn(page)
    page.mouse.click(*_map_point(page, spot.x, spot.y))
    details = page.locator("#details")
    details.wait_for(state="visible")
    assert EN["field.classification"] in details.inner_text()
    page.click("#check-centre")  # a verdict on screen too
    verdict = page.locator("#check-result [class^='status-']")
    verdict.wait_for()
    status = verdict.get_attribute("class").split()[0].removeprefix("status-")
    assert verdict.inner_text() == EN[f"check.status.{status}"]
    assert english_left(page, site["english"]), (
        "the walk finds English before the switch"
    )

    to_ukrainian(page)
    page.wait_for_function(
        "t => document.querySelector('#check-result').innerText.includes(t)",
        arg=UK[f"check.status.{status}"],
    )
    page.wait_for_function(
        "t => document.querySelector('#details').innerText.includes(t)",
        arg=UK["field.classification"],
    )
    assert details.is_visible()  # the card stays open, drawn again in Ukrainian
    text = details.inner_text()
    assert EN["field.classification"] not in text and EN["details.keep_out"] not in text
    assert page.title() == UK["page.public_title"]
    assert english_left(page, site["english"]) == []
    page.screenshot(path=str(ARTIFACTS / "lang-public-details-uk.png"))


def test_workspace_in_ukrainian_with_the_hazard_panel_open(site, page):
    login(page, site["base"])
    assert page.title() == EN["page.app_title"]
    h = site["hazard"]
    codes = h["properties"]["admin"]
    page.goto(site["base"] + f"/app#hazard={h['id']}")
    panel = page.locator("#hazard-panel")
    panel.wait_for(state="visible")
    page.wait_for_function(
        "() => document.querySelector('#hazard-body .changes') !== null"
    )
    admin = panel.locator(".admin-path").first
    assert admin.get_attribute("title") == " › ".join(codes)
    assert admin.inner_text() == " › ".join(site["names"][c] for c in codes)
    assert EN["field.notes"] in panel.locator(".changes").first.inner_text()
    assert english_left(page, site["english"]), (
        "the walk finds English before the switch"
    )

    to_ukrainian(page)
    page.wait_for_function(
        "t => document.querySelector('#hazard-panel').innerText.includes(t)",
        arg=UK["field.classification"],
    )
    assert panel.is_visible()
    page.wait_for_function(
        "t => [...document.querySelectorAll('#hazard-body .changes')].some(e => e.innerText.includes(t))",
        arg=UK["field.notes"],
    )
    assert page.title() == UK["page.app_title"]
    admin = panel.locator(".admin-path").first
    assert admin.get_attribute("title") == " › ".join(codes)
    assert not any(c in admin.inner_text() for c in codes)
    # the priority list shows the areas by name too, the codes on hover
    first = page.locator("#priority-list .admin-path").first
    first.wait_for()
    listed = first.get_attribute("title").split(" › ")
    assert listed and all(c in site["names"] for c in listed), listed
    assert first.inner_text() == " › ".join(site["names"][c] for c in listed)
    assert english_left(page, site["english"]) == []
    page.screenshot(path=str(ARTIFACTS / "lang-workspace-hazard-uk.png"))
    page.click("#tab-filters")
    option = page.locator(f"#f-admin option[value='{codes[-1]}']")
    assert option.get_attribute("title") == codes[-1]
    assert site["names"][codes[-1]] in option.inner_text()
    assert english_left(page, site["english"]) == []
    page.screenshot(path=str(ARTIFACTS / "lang-workspace-filters-uk.png"))

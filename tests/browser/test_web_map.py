"""The web map in a real browser: Debian's Chromium, headless, driven by Playwright.

A server runs on its own throwaway database with the demo programme, a hazard whose name is an
HTML injection attempt, and a publication of the public layer. The base map's host is blocked,
as on an offline field laptop: every data layer must still draw. Screenshots go to
``test-artifacts/browser/``. Chromium comes from the ``chromium`` package, which
``scripts/bootstrap.sh`` installs; without it these tests fail (they never skip).
"""

import json
import re

import httpx2 as httpx
import pytest

from tests.browser.pages import (
    ARTIFACTS,
    demo_site,
    geojson_file,
    post_cha,
    preview_import,
)
from tests.browser.pages import login as _login
from tests.browser.pages import map_point as _map_point
from tests.browser.pages import ready as _ready
from tests.browser.pages import tiles_drawn as _tiles_drawn
from tests.browser.pages import zoom_to as _zoom_to
from tests.live import live_server, server_env

# slow: Chromium against a live server (make test-fast leaves it out)
pytestmark = pytest.mark.slow

XSS_NAME = "Field <img src=x onerror=alert(1)> near the well"
PAGE_BUDGET = 500 * 1024  # the public map's first load, base map excluded


@pytest.fixture(scope="module")
def site():
    """The running app with demo data, the XSS hazard and a public publication."""
    with demo_site("web", SAFEGROUND_IMPORT_RUNNER="inline") as s:
        coordinator, admin = s["token"]("demo-coordinator"), s["token"]("demo-admin")
        ring = [[31.20, 49.20], [31.21, 49.20], [31.21, 49.206], [31.20, 49.206]]
        xss_id = post_cha(s["api"], coordinator, ring, XSS_NAME)
        yield {**s, "coordinator": coordinator, "admin": admin, "xss": xss_id}


@pytest.fixture(scope="module")
def published(site):
    """The site once the public layer has been published (the public map shows only that)."""
    pub = site["api"].post("/public/publications", headers=site["admin"])
    assert pub.status_code in (200, 201), pub.text
    return site


def test_public_map_draws_hazards_and_a_click_opens_details(published, page):
    page.goto(published["base"] + "/")
    _ready(page)
    hazards = page.locator("#map path.sg-hazard")
    hazards.first.wait_for(timeout=20_000)
    _tiles_drawn(page)  # every tile, not the first one only
    assert hazards.count() > 10
    assert page.locator("#demo-banner").is_visible()
    # at a national zoom the public layer is merged: zoom to one area and click it
    _zoom_to(page, 31.205, 49.203, 15)
    _tiles_drawn(page)
    page.mouse.click(*_map_point(page, 31.205, 49.203))
    details = page.locator("#details")
    details.wait_for(state="visible")
    text = details.inner_text()
    assert "Classification" in text and "Marking not recorded" in text
    page.keyboard.press("Escape")
    details.wait_for(state="hidden")


def test_language_switch_changes_labels(published, page):
    page.goto(published["base"] + "/")
    _ready(page)
    assert page.locator("h1").inner_text() == "Mine hazard map"
    page.select_option("#language", "uk")
    page.wait_for_function("() => document.documentElement.lang === 'uk'")
    assert page.locator("h1").inner_text() == "Мапа мінної небезпеки"
    assert "Умовні позначення" in page.locator("#legend").inner_text()
    page.reload()  # the choice is kept
    _ready(page)
    assert page.locator("h1").inner_text() == "Мапа мінної небезпеки"


def test_check_the_map_centre_by_keyboard(published, page):
    page.goto(published["base"] + "/")
    _ready(page)
    _zoom_to(page, 24.2, 50.3, 12)  # far outside the demo programme: no survey data
    page.focus("#check-me")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "check-centre"
    page.keyboard.press("Enter")
    result = page.locator("#check-result p").first
    result.wait_for()
    page.wait_for_function(
        "() => !document.querySelector('#check-result').textContent.includes('…')"
    )
    assert (
        "does NOT mean the place is safe" in page.locator("#check-result").inner_text()
    )


def test_public_first_load_is_under_500_kb(published, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route(
        re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort()
    )
    pg = context.new_page()
    requests = []
    pg.on("requestfinished", lambda r: requests.append(r))
    pg.goto(published["base"] + "/")
    _ready(pg)
    pg.locator("#map path.sg-hazard").first.wait_for(timeout=20_000)
    pg.wait_for_load_state("networkidle")
    total = sum(
        r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]
        for r in requests
        if r.url.startswith(published["base"])
    )
    context.close()
    (ARTIFACTS / "public-page-bytes.json").write_text(
        json.dumps({"bytes": total, "requests": len(requests)})
    )
    assert 0 < total < PAGE_BUDGET, f"{total} bytes"


def test_hazard_name_with_html_shows_as_text(site, page):
    _login(page, site["base"])
    page.goto(site["base"] + f"/app#hazard={site['xss']}")
    title = page.locator("#hazard-title")
    page.wait_for_function(
        "() => document.querySelector('#hazard-title').textContent.length > 0"
    )
    assert title.inner_text() == XSS_NAME
    assert page.locator("img[src='x']").count() == 0
    assert "Land-release balance" in page.locator("#hazard-panel").inner_text()
    page.click("#tab-filters")  # context layers can be switched on (no script error)
    page.check("#toggle-context-settlements")
    page.check("#toggle-context-roads")
    assert page.is_checked("#toggle-context-settlements")


def test_coordinator_imports_a_file_with_one_bad_row(site, page, tmp_path):
    ring = [[31.40, 49.40], [31.41, 49.40], [31.41, 49.406], [31.40, 49.406]]
    bad = [[31.45, 49.45], [31.46, 49.45], [31.46, 49.456], [31.45, 49.456]]

    def feature(r, name, classification):
        return {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [r + [r[0]]]},
            "properties": {
                "name": name,
                "classification": classification,
                "hazard_type": "minefield",
                "contamination": ["ap_mine"],
                "organisation": "DEMO-INGO",
                "date_of_information": "2025-10-02",
            },
        }

    path = tmp_path / "survey.geojson"
    geojson_file(
        path,
        [
            feature(ring, "Browser import good", "SHA"),
            feature(bad, "Browser import bad", "NOT-A-CLASS"),
        ],
    )
    preview_import(page, site["base"], path)
    errors = page.locator("#import-errors")
    errors.wait_for(timeout=30_000)
    text = errors.inner_text()
    assert "classification" in text and "NOT-A-CLASS" in text
    assert (
        page.locator("#import-report").inner_text().count("Nothing is saved yet") == 1
    )
    # the refused row is drawn on the map before the commit
    assert page.locator("#map path[stroke='#0050D0']").count() == 1
    assert page.locator("#import-commit").is_enabled()
    page.click("#import-commit")
    page.wait_for_function(
        "() => document.querySelector('#import-report').textContent.includes('Imported:')",
        timeout=30_000,
    )
    found = (
        site["api"]
        .get(
            "/hazards",
            headers=site["coordinator"],
            params={"bbox": "31.399,49.399,31.411,49.407"},
        )
        .json()["features"]
    )
    assert [f["properties"]["name"] for f in found] == ["Browser import good"]
    new_id = found[0]["id"]
    _zoom_to(page, 31.405, 49.403, 14)
    page.locator(f"#map path.hz-{new_id}").first.wait_for(timeout=20_000)


def test_check_my_location_inside_a_hazard(published, browser):
    """The browser's geolocation, granted, placed inside the CHA drawn by the fixture."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},  # a phone
        geolocation={"latitude": 49.203, "longitude": 31.205},
        permissions=["geolocation"],
        is_mobile=True,
        has_touch=True,
    )
    context.route(
        re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort()
    )
    pg = context.new_page()
    pg.goto(published["base"] + "/")
    _ready(pg)
    assert pg.locator("#map").is_visible()
    assert pg.locator("#map").bounding_box()["width"] <= 390
    pg.locator("#check-me").scroll_into_view_if_needed()
    pg.locator("#check-me").tap()
    pg.locator("#check-result .status-inside").wait_for(timeout=20_000)
    assert "DANGER" in pg.locator("#check-result").inner_text()
    pg.screenshot(path=str(ARTIFACTS / "phone-check-inside.png"), full_page=True)
    context.close()


def _tile_statuses(pg):
    """Every tile response of the page, as (url, status), in order."""
    seen = []
    pg.on(
        "response",
        lambda r: seen.append((r.url, r.status)) if "/tiles/" in r.url else None,
    )
    return seen


def _hazards_drawn(pg):
    """The hazard paths on the map once every tile asked for is drawn."""
    _tiles_drawn(pg)
    pg.wait_for_timeout(600)  # Leaflet prunes the previous zoom's tiles 250 ms later
    return pg.locator("#map path.sg-hazard").count()


@pytest.fixture(scope="module")
def default_limits(published):
    """A second server on the same database with the DEFAULT rate limits (the first one
    turns them off): what a visitor meets."""
    env = server_env(published["url"])
    for name in list(env):
        if name.startswith(("SAFEGROUND_ANON_RATE", "SAFEGROUND_PUBLIC_TILE_RATE")):
            del env[name]
    with live_server(env, log=ARTIFACTS / "server-default-limits.log") as base:
        yield base


FINAL_VIEW = (31.205, 49.203)  # the fixture's CHA, published
ZOOM_STEPS = 5


def _densest_place(api):
    """Where the most published areas lie within a desktop view at zoom 13 of each other."""
    r = api.get("/public/hazards", params={"limit": 10000})
    assert r.status_code == 200, r.text
    points = []
    for f in r.json()["features"]:
        c = f["geometry"]["coordinates"]
        while isinstance(c[0], list):
            c = c[0]
        points.append((c[0], c[1]))
    assert points

    def near(p):
        return sum(abs(q[0] - p[0]) < 0.08 and abs(q[1] - p[1]) < 0.03 for q in points)

    return max(points, key=near)


def test_zooming_in_fast_with_default_rate_limits_draws_every_hazard(
    default_limits, published, page, browser
):
    """A visitor zooms in five steps quickly under the default limits: no tile is refused,
    no banner stays, and the final view shows every hazard a fresh load of it shows."""
    place = _densest_place(published["api"])
    statuses = _tile_statuses(page)
    page.goto(default_limits + "/")
    _ready(page)
    page.locator("#map path.sg-hazard").first.wait_for(timeout=20_000)
    start = page.evaluate("window.safeground.map.getZoom()")
    for step in range(1, ZOOM_STEPS + 1):
        _zoom_to(page, *place, start + step)
        page.wait_for_timeout(250)  # quick: each step's tiles are asked for
    drawn = _hazards_drawn(page)
    assert page.locator("#tiles-banner").is_hidden()
    refused = [(u, s) for u, s in statuses if s != 200]
    assert not refused, refused[:5]
    # asked for with the publication's version: the browser keeps them for a year
    assert all("?v=" in u for u, _ in statuses)
    cached = httpx.get(statuses[0][0], timeout=60).headers["cache-control"]
    assert cached == "public, max-age=31536000, immutable"
    # the reference: the same view loaded directly (another browser, limits off)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route(
        re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort()
    )
    ref = context.new_page()
    ref.goto(published["base"] + "/")
    _ready(ref)
    _zoom_to(ref, *place, start + ZOOM_STEPS)
    expected = _hazards_drawn(ref)
    context.close()
    (ARTIFACTS / "zoom-default-limits.json").write_text(
        json.dumps(
            {
                "zoom": [start, start + ZOOM_STEPS],
                "place": place,
                "tile_responses": len(statuses),
                "hazard_paths": drawn,
                "reference_paths": expected,
            }
        )
    )
    assert expected > 10
    assert drawn == expected
    assert len(statuses) > 100  # more than the anonymous burst: the case that failed


def _refuse_first(pg, count, pattern="**/tiles/public-hazards/**"):
    """Answer the first ``count`` matching tile requests 429 (Retry-After: 1) or 503."""
    refused = []

    def handle(route):
        if len(refused) < count:
            status = 429 if len(refused) % 2 == 0 else 503
            refused.append(status)
            route.fulfill(
                status=status,
                headers={
                    "Content-Type": "application/problem+json",
                    "Retry-After": "1",
                },
                body=json.dumps({"status": status, "title": "refused by the test"}),
            )
        else:
            route.continue_()

    pg.route(pattern, handle)
    return refused


def test_refused_tiles_are_retried_and_a_banner_warns_until_drawn(published, page):
    refused = _refuse_first(page, 12)
    page.goto(published["base"] + "/")
    _ready(page)
    banner = page.locator("#tiles-banner")
    banner.wait_for(state="visible", timeout=20_000)
    assert banner.inner_text().startswith(
        "Some areas could not be loaded: do not assume they are safe"
    )
    assert banner.get_attribute("role") == "alert"
    banner.wait_for(state="hidden", timeout=60_000)  # every tile drawn after retries
    assert len(refused) == 12 and set(refused) == {429, 503}
    drawn = _hazards_drawn(page)
    page.unroute("**/tiles/public-hazards/**")
    page.reload()  # the same view with nothing refused
    _ready(page)
    page.locator("#map path.sg-hazard").first.wait_for(timeout=20_000)
    expected = _hazards_drawn(page)
    assert drawn == expected > 10


def test_tile_banner_in_ukrainian(published, page):
    page.goto(published["base"] + "/")
    _ready(page)
    page.select_option("#language", "uk")
    page.wait_for_function("() => document.documentElement.lang === 'uk'")
    _refuse_first(page, 1000)
    _zoom_to(page, *FINAL_VIEW, 13)
    banner = page.locator("#tiles-banner")
    banner.wait_for(state="visible", timeout=20_000)
    assert banner.inner_text().startswith("Деякі ділянки не вдалося завантажити")


def test_workspace_retries_refused_tiles_with_the_banner(site, page):
    _login(page, site["base"])
    refused = _refuse_first(page, 6, "**/tiles/hazards/**")
    _zoom_to(page, *FINAL_VIEW, 14)
    banner = page.locator("#tiles-banner")
    banner.wait_for(state="visible", timeout=20_000)
    banner.wait_for(state="hidden", timeout=60_000)
    assert len(refused) == 6
    page.locator(f"#map path.hz-{site['xss']}").first.wait_for(timeout=20_000)


def test_import_message_with_html_shows_as_text_in_the_tooltip(site, page, tmp_path):
    """A refused row's message echoes the bad value: in the map's tooltip it is text."""
    ring = [[31.50, 49.50], [31.51, 49.50], [31.51, 49.506], [31.50, 49.506]]
    evil = "<img src=x onerror=alert(document.domain)>"
    path = tmp_path / "evil.geojson"
    geojson_file(
        path,
        [
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [ring + [ring[0]]],
                },
                "properties": {
                    "name": "Tooltip injection",
                    "classification": evil,
                    "hazard_type": "minefield",
                    "contamination": ["ap_mine"],
                    "organisation": "DEMO-INGO",
                    "date_of_information": "2025-10-02",
                },
            }
        ],
    )
    preview_import(page, site["base"], path)
    page.locator("#import-errors").wait_for(timeout=30_000)
    rejected = page.locator("#map path[stroke='#0050D0']")
    rejected.first.wait_for(timeout=20_000)
    page.wait_for_timeout(500)  # the map has moved to the refused row
    rejected.first.hover(force=True)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for(timeout=10_000)
    assert evil in tooltip.inner_text()
    assert tooltip.locator("img").count() == 0
    assert page.locator("img[src='x']").count() == 0


def _csp_reports(pg):
    """Console errors of the page that are policy violations."""
    seen = []
    pg.on(
        "console",
        lambda m: (
            seen.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text
            else None
        ),
    )
    return seen


def _an_operation_summary(base):
    spec = httpx.get(base + "/openapi.json", timeout=60).json()
    return spec["paths"]["/api/v1/public/check"]["get"]["summary"]


def test_api_docs_render_offline_under_the_strict_policy(site, page):
    """/docs and /redoc with the internet blocked: every file is ours, nothing is refused by
    the policy, and the operations are there."""
    summary = _an_operation_summary(site["base"])
    violations = _csp_reports(page)
    outside = []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if not r.url.startswith((site["base"], "data:", "blob:"))
            else None
        ),
    )
    page.goto(site["base"] + "/docs")
    page.locator(".opblock-summary-description", has_text=summary).first.wait_for(
        timeout=30_000
    )
    assert page.locator(".opblock").count() > 20
    assert "Safeground" in page.locator(".info .title").inner_text()
    page.goto(site["base"] + "/redoc")
    page.locator("h2", has_text=summary).first.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "redoc.png"))
    # ReDoc's footer always asks for its maker's logo from cdn.redoc.ly: the policy refuses
    # it and the footer shows its text; nothing else is refused or asked for elsewhere
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert all(f"'{logo}'" in v for v in violations), violations
    assert set(outside) <= {logo}, outside

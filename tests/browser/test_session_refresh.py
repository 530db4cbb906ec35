"""A sign-in that lasts a working day, in a real browser (issue 19, item 2).

The server issues 1-minute access tokens. The workspace renews its token before it expires and
once after a 401, tiles included, through one renewal at a time (refresh tokens rotate, and a
spent one sent twice revokes the sign-in); it asks the user to sign in again only when the
server refuses the refresh, over the page, keeping the edit, and then saves it.
"""

import re
import time

import httpx2 as httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.pages import ARTIFACTS
from tests.live import demo_database, live_server, server_env

pytestmark = pytest.mark.slow

USER, PASSWORD = "demo-coordinator", "demo-password"
NAMES = ["Session edit after expiry", "Session edit after revocation"]
# places of the demo programme visited in turn, (lon, lat, zoom): each loads new tiles
VIEWS = [
    (31.0, 49.0, 11),
    (31.6, 48.6, 12),
    (30.6, 49.4, 11),
    (32.2, 49.2, 12),
    (31.2, 49.2, 13),
    (31.9, 48.3, 11),
    (30.9, 48.8, 12),
    (32.5, 49.6, 11),
]


def _square(lon, lat, d=0.006):
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d / 2], [lon, lat + d / 2]]
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


@pytest.fixture(scope="module")
def site():
    """The app with the demo programme, serving 1-minute access tokens, and two hazards of
    the demo coordinator's organisation to edit."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with demo_database("sg_session") as url:
        env = server_env(url, SAFEGROUND_ACCESS_TOKEN_MINUTES="1")
        with live_server(env, log=ARTIFACTS / "server-session.log") as base:
            api = httpx.Client(base_url=base + "/api/v1", timeout=60)

            def headers():
                """A fresh sign-in of the test itself (its tokens last a minute too)."""
                r = api.post(
                    "/auth/token", data={"username": USER, "password": PASSWORD}
                )
                assert r.status_code == 200, r.text
                assert r.json()["expires_in"] == 60
                return {"Authorization": "Bearer " + r.json()["access_token"]}

            ids = []
            for name, (lon, lat) in zip(
                NAMES, [(31.23, 49.23), (31.27, 49.25)], strict=True
            ):
                r = api.post(
                    "/hazards",
                    headers=headers(),
                    json={
                        "type": "Feature",
                        "geometry": _square(lon, lat),
                        "properties": {
                            "name": name,
                            "classification": "SHA",
                            "hazard_type": "minefield",
                            "contamination": ["ap_mine"],
                            "date_of_information": "2025-10-01",
                        },
                    },
                )
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])
            yield {"base": base, "api": api, "headers": headers, "hazards": ids}


def _responses(pg, t0):
    """Every answer the page gets: (seconds since t0, method, path, status)."""
    seen = []
    pg.on(
        "response",
        lambda r: seen.append(
            (
                time.monotonic() - t0,
                r.request.method,
                re.sub(r"^https?://[^/]+", "", r.url),
                r.status,
            )
        ),
    )
    return seen


def _click_unless_asked(pg, selector: str) -> bool:
    """Click ``selector``; True, without clicking, when the sign-in dialog already covers
    the page (it intercepts the click)."""
    try:
        pg.click(selector, timeout=10_000)
        return False
    except PlaywrightTimeout:
        assert pg.locator("#login-dialog").is_visible()
        return True


def _sign_in(pg, base):
    pg.goto(base + "/app")
    pg.locator("#login-dialog").wait_for(state="visible")
    assert pg.locator("#login-expired").is_hidden()  # a first sign-in, not an ended one
    pg.fill("#login-user", USER)
    pg.fill("#login-password", PASSWORD)
    pg.click("#login-form button[type=submit]")
    pg.wait_for_function("() => document.body.dataset.ready === 'true'", timeout=30_000)
    # what the user would see: the tile banner or the sign-in dialog showing, ever
    pg.evaluate(
        """() => {
            window.__seen = [];
            const banner = document.getElementById('tiles-banner');
            const dialog = document.getElementById('login-dialog');
            new MutationObserver(() => {
                if (!banner.hidden) window.__seen.push('tiles-banner');
                if (dialog.open) window.__seen.push('login-dialog');
            }).observe(document.body, {attributes: true, subtree: true,
                                       attributeFilter: ['hidden', 'open']});
        }"""
    )


def _seen(pg):
    return pg.evaluate("window.__seen")


def _zoom_to(pg, lon, lat, zoom):
    pg.evaluate(
        "([lon, lat, zoom]) => window.safeground.map.setView([lat, lon], zoom, {animate: false})",
        [lon, lat, zoom],
    )


def _tiles_drawn(pg, timeout=60_000):
    pg.wait_for_timeout(100)
    pg.wait_for_function(
        "() => document.body.dataset.tilesLoading === '0'", timeout=timeout
    )


def _requests_answered(pg, timeout=60_000):
    """Wait until the page's API requests are answered: a request refused 401 counts until
    the answer to its second sending (``<body data-requests-pending>``, client.js), as the
    finds of a view that its tiles may well outrun."""
    pg.wait_for_function(
        "() => (document.body.dataset.requestsPending || '0') === '0'",
        timeout=timeout,
    )


def _open_hazard(pg, hazard_id, name):
    """Open a hazard's panel by its link (/app#hazard=<id>) and wait until it shows it."""
    pg.evaluate("() => { location.hash = ''; }")
    pg.evaluate("(id) => { location.hash = '#hazard=' + id; }", hazard_id)
    pg.wait_for_function(
        "(name) => document.querySelector('#hazard-title').textContent === name",
        arg=name,
        timeout=20_000,
    )
    pg.locator("#edit-geometry").wait_for(timeout=20_000)


def _drag_a_vertex(pg, dx=45, dy=-35):
    """Edit the open hazard's outline: drag its first corner; returns where it went
    ([lon, lat])."""
    pg.click("#edit-geometry")
    vertex = pg.locator(
        ".leaflet-marker-pane .marker-icon:not(.marker-icon-middle)"
    ).first
    vertex.wait_for()
    box = vertex.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    pg.mouse.move(x, y)
    pg.mouse.down()
    pg.mouse.move(x + dx / 2, y + dy / 2, steps=5)
    pg.mouse.move(x + dx, y + dy, steps=5)
    pg.mouse.up()
    return pg.evaluate(
        """([x, y]) => {
            const map = window.safeground.map;
            const r = map.getContainer().getBoundingClientRect();
            const ll = map.containerPointToLatLng([x - r.left, y - r.top]);
            return [ll.lng, ll.lat];
        }""",
        [x + dx, y + dy],
    )


def _stored(site, hazard_id):
    r = site["api"].get(f"/hazards/{hazard_id}", headers=site["headers"]())
    assert r.status_code == 200, r.text
    return r.json()


def _has_vertex(feature, lonlat, tolerance=2e-4):
    """Whether the stored outline (Polygon or MultiPolygon) has a corner at ``lonlat``."""

    def positions(c):
        if isinstance(c[0], int | float):
            yield c
        else:
            for x in c:
                yield from positions(x)

    return any(
        abs(p[0] - lonlat[0]) < tolerance and abs(p[1] - lonlat[1]) < tolerance
        for p in positions(feature["geometry"]["coordinates"])
    )


def _errors_shown(pg):
    """Error messages shown on the page: the panels' and the page's own (a failed start)."""
    return [t for t in pg.locator(".msg-error").all_inner_texts() if t.strip()]


def test_workspace_outlives_one_minute_access_tokens(site, page):
    """Three minutes of work with 1-minute access tokens: tiles after every expiry, hazard
    panels, an outline edit saved after the first expiry; the user never meets a 401."""
    t0 = time.monotonic()
    seen = _responses(page, t0)
    _sign_in(page, site["base"])
    signed_in = time.monotonic() - t0
    first_token = page.evaluate("sessionStorage.getItem('sg.token')")
    edited, step, injected = None, 0, None
    while time.monotonic() - t0 < signed_in + 190:
        _zoom_to(page, *VIEWS[step % len(VIEWS)])
        _tiles_drawn(page)
        rows = page.locator("#priority-list button.link")
        rows.nth(step % 10).click()  # a hazard panel (its map view loads more tiles)
        page.locator("#hazard-panel").wait_for(state="visible")
        _tiles_drawn(page)
        step += 1
        now = time.monotonic() - t0
        if edited is None and now > signed_in + 70:  # past the first token's expiry
            _open_hazard(page, site["hazards"][0], NAMES[0])
            edited = _drag_a_vertex(page)
            page.click("#save-geometry")
            page.locator("#edit-message .msg-ok").wait_for(timeout=20_000)
        elif edited is not None and injected is None and now > signed_in + 120:
            # a tab that slept through its renewals holds an expired token: right after a
            # renewal, put the first (long expired) token back and load a screen of tiles
            held = page.evaluate("sessionStorage.getItem('sg.token')")
            with page.expect_response(
                lambda r: "/auth/refresh" in r.url, timeout=60_000
            ):
                pass
            page.wait_for_function(  # the renewed token is kept
                "(t) => sessionStorage.getItem('sg.token') !== t", arg=held
            )
            injected = len(seen)
            page.evaluate("(t) => sessionStorage.setItem('sg.token', t)", first_token)
            _zoom_to(page, 31.55, 49.05, 13)
            _tiles_drawn(page)
            _requests_answered(page)  # the view's finds too, sent again after their 401
            after = seen[injected:]
            refused = [(p, s) for _, m, p, s in after if s == 401]
            refreshes = [s for _, m, p, s in after if p.endswith("/auth/refresh")]
            assert sum(p.startswith("/tiles/") for p, _ in refused) > 1, after
            assert refreshes == [200]  # the many 401s shared one renewal
            assert page.evaluate("sessionStorage.getItem('sg.token')") != first_token
            for path, _ in refused:  # each sent again, and served
                answers = [s for _, _, p, s in after if p == path]
                assert answers[-1] in (200, 304), (path, answers)
        page.wait_for_timeout(5_000)
    assert injected is not None and edited is not None

    # the outline edit, saved after the first expiry, is stored
    stored = _stored(site, site["hazards"][0])
    assert stored["properties"]["version"] == 2
    assert _has_vertex(stored, edited)
    # renewed before every expiry: once signed in, no 401 but the ones the test caused
    before_injection = [r for r in seen[:injected] if r[0] > signed_in]
    assert [r for r in before_injection if r[3] == 401] == []
    refreshes = [r for r in seen if r[2].endswith("/auth/refresh")]
    assert len(refreshes) >= 4 and all(r[3] == 200 for r in refreshes), refreshes
    # tiles asked for after the first expiry were served (their last answer)
    late = {
        p: s for t, _, p, s in seen if p.startswith("/tiles/") and t > signed_in + 60
    }
    assert len(late) > 50
    assert set(late.values()) <= {200, 304}
    # nothing reached the user: no banner, no sign-in dialog, no error message
    assert _seen(page) == []
    assert page.locator("#tiles-banner").is_hidden()
    assert _errors_shown(page) == []  # the panels' messages and the page's own


def test_refused_refresh_asks_to_sign_in_and_keeps_the_edit(site, page):
    """The sign-in is revoked server-side (its refresh token sent twice elsewhere): saving an
    edit opens the sign-in dialog over the page, the edit stays, and once signed in it is
    saved."""
    t0 = time.monotonic()
    seen = _responses(page, t0)
    hazard = site["hazards"][1]
    _sign_in(page, site["base"])
    _open_hazard(page, hazard, NAMES[1])
    moved = _drag_a_vertex(page)
    # a copy of the tab's refresh token used twice: the server revokes the whole sign-in
    stolen = page.evaluate("sessionStorage.getItem('sg.refresh')")
    assert (
        site["api"].post("/auth/refresh", data={"refresh_token": stolen}).status_code
        == 200
    )
    assert (
        site["api"].post("/auth/refresh", data={"refresh_token": stolen}).status_code
        == 401
    )

    # the save is refused (401), the refresh too: the dialog opens. On a slow machine the
    # tab's own renewal (45 s after sign-in) may be refused first and open it before the
    # click: then the edit is saved after signing in, as the user would
    asked_first = _click_unless_asked(page, "#save-geometry")
    dialog = page.locator("#login-dialog")
    dialog.wait_for(state="visible", timeout=20_000)
    assert page.locator("#login-expired").is_visible()
    assert "Sign in again" in page.locator("#login-expired").inner_text()
    assert (
        page.input_value("#login-user") == USER
    )  # filled in: only the password to type
    # nothing saved yet, and nothing lost: the panel, the save button and the moved corner
    assert _stored(site, hazard)["properties"]["version"] == 1
    assert page.locator("#hazard-panel").is_visible()
    assert page.locator("#save-geometry").count() == 1
    vertices = page.evaluate(
        """() => [...document.querySelectorAll('.leaflet-marker-pane .marker-icon:not(.marker-icon-middle)')]
            .map((m) => { const r = m.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })
            .map(([x, y]) => { const map = window.safeground.map, c = map.getContainer().getBoundingClientRect();
                               const ll = map.containerPointToLatLng([x - c.left, y - c.top]); return [ll.lng, ll.lat]; })"""
    )
    assert any(
        abs(x - moved[0]) < 2e-4 and abs(y - moved[1]) < 2e-4 for x, y in vertices
    )
    page.screenshot(path=str(ARTIFACTS / "session-sign-in-again.png"))

    page.fill("#login-password", PASSWORD)
    page.click("#login-form button[type=submit]")
    if asked_first:
        dialog.wait_for(state="hidden", timeout=20_000)
        page.click("#save-geometry")
    page.locator("#edit-message .msg-ok").wait_for(timeout=20_000)
    assert dialog.is_hidden()
    stored = _stored(site, hazard)
    assert stored["properties"]["version"] == 2
    assert _has_vertex(stored, moved)
    patches = [s for _, m, p, s in seen if m == "PATCH"]
    # refused with the revoked token, then sent again once (or sent once signed in again)
    assert patches == ([200] if asked_first else [401, 200])
    refreshes = [s for _, m, p, s in seen if p.endswith("/auth/refresh")]
    assert refreshes == [401]  # one refusal, not one per waiting request
    assert _errors_shown(page) == []

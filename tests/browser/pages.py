"""What every browser test needs: a demo site on its own database, Chromium, and the small
moves on the pages (wait until ready, sign in, move the map, wait for tiles).

Shared by the browser test modules (fixtures in ``tests/browser/conftest.py``). Screenshots and
server logs go to ``test-artifacts/browser/``.
"""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx

from tests.live import demo_database, live_server, server_env

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
DEMO_PASSWORD = "demo-password"
OFFLINE = re.compile(r"^https?://(?!127\.0\.0\.1)")  # anything but the test server


@contextmanager
def demo_site(name: str, **env_overrides: str) -> Iterator[dict]:
    """A live server on a throwaway database holding the demo programme (a clone).

    Yields ``{"url", "base", "api", "env", "token"}``; ``token(user)`` signs a demo user in
    (``demo-admin``, ``demo-coordinator``, ``demo-eore``, ...) and returns its auth header.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with demo_database(f"sg_{name}") as url:
        env = server_env(url, **env_overrides)
        with live_server(env, log=ARTIFACTS / f"server-{name}.log") as base:
            api = httpx.Client(base_url=base + "/api/v1", timeout=60)

            def token(user):
                r = api.post(
                    "/auth/token", data={"username": user, "password": DEMO_PASSWORD}
                )
                assert r.status_code == 200, r.text
                return {"Authorization": "Bearer " + r.json()["access_token"]}

            yield {"url": url, "base": base, "api": api, "env": env, "token": token}


def ready(pg):
    pg.wait_for_function("() => document.body.dataset.ready === 'true'", timeout=20_000)


def login(pg, base, user="demo-coordinator", password=DEMO_PASSWORD):
    """Open the workspace and sign in."""
    pg.goto(base + "/app")
    pg.fill("#login-user", user)
    pg.fill("#login-password", password)
    pg.click("#login-form button[type=submit]")
    ready(pg)


def zoom_to(pg, lon, lat, zoom):
    """Move the map (the pages expose their Leaflet map as window.safeground.map)."""
    pg.evaluate(
        """([lon, lat, zoom]) =>
            window.safeground.map.setView([lat, lon], zoom, {animate: false})""",
        [lon, lat, zoom],
    )


def tiles_drawn(pg, timeout=60_000):
    """Wait until the map has drawn every tile it asked for (the pages count them in
    ``body[data-tiles-loading]``; "networkidle" is reached once per page load only)."""
    pg.wait_for_timeout(100)
    pg.wait_for_function(
        "() => document.body.dataset.tilesLoading === '0'", timeout=timeout
    )


def map_point(pg, lon, lat):
    """Page coordinates of a place on the map."""
    return pg.evaluate(
        """([lon, lat]) => {
            const map = window.safeground.map;
            const p = map.latLngToContainerPoint([lat, lon]);
            const r = map.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }""",
        [lon, lat],
    )


def post_cha(api, headers, ring, name) -> str:
    """Create a CHA minefield over ``ring`` (lon/lat corners, unclosed) through the API;
    its id."""
    r = api.post(
        "/hazards",
        headers=headers,
        json={
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring + [ring[0]]]},
            "properties": {
                "name": name,
                "classification": "CHA",
                "hazard_type": "minefield",
                "contamination": ["ap_mine"],
                "date_of_information": "2025-10-01",
            },
        },
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def geojson_file(path: Path, features: list[dict]) -> Path:
    """Write ``features`` as a GeoJSON FeatureCollection to ``path``; the path."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def preview_import(pg, base, path, *, refuse_repairs=False):
    """Sign in as the demo coordinator and run the import tab's dry run of ``path``."""
    login(pg, base)
    pg.click("#tab-import")
    pg.set_input_files("#import-file", str(path))
    if refuse_repairs:
        pg.check("#import-refuse-repairs")
    pg.click("#import-preview")

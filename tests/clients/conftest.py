"""A live server with the demo programme, for clients that nobody here wrote (GDAL, QGIS).

One server for the whole group: a throwaway database with the demo data (its first public
publication included), one extra spot hazard, and an API key of the demo organisation.
"""

from collections.abc import Iterator

import httpx2 as httpx
import pytest

from tests.helpers import CLIENT_ARTIFACTS as ARTIFACTS
from tests.live import demo_database, live_server, server_env


@pytest.fixture(scope="session")
def served() -> Iterator[dict]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with demo_database("sg_clients") as url:
        env = server_env(url, SAFEGROUND_IMPORT_RUNNER="inline")
        with live_server(env, log=ARTIFACTS / "server.log") as base:
            api = httpx.Client(base_url=base + "/api/v1", timeout=120)
            r = api.post(
                "/auth/token",
                data={"username": "demo-admin", "password": "demo-password"},
            )
            assert r.status_code == 200, r.text
            admin = {"Authorization": "Bearer " + r.json()["access_token"]}
            r = api.post(
                "/api-keys",
                headers=admin,
                json={
                    "name": "desktop-gis",
                    "role": "analyst",
                    "organisation": "DEMO-INGO",
                },
            )
            assert r.status_code == 201, r.text
            key = r.json()["key"]
            yield {"base": base, "api": api, "admin": admin, "key": key, "url": url}

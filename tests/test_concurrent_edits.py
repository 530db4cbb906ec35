"""No lost edits: 20 editors change one hazard at once through a real server.

Every editor reads the hazard, then sends its change with If-Match; a refused one (412) reads
again and retries. At the end every accepted change is a version in the history, in order, and
every refusal was a 412 problem+json: nothing was silently overwritten.
"""

import threading

import httpx2 as httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api.db import migrate
from api.services import auth
from api.settings import Settings
from api.vocab import OrganisationType, Role
from tests.factories import make_org
from tests.helpers import throwaway_database
from tests.live import live_server, server_env

EDITORS = 20


@pytest.fixture(scope="module")
def server():
    with throwaway_database("sg_conc") as url:
        migrate.upgrade(url)
        settings = Settings(database_url=url, env="test", secret_key="c" * 32)
        engine = create_engine(settings.database_url)
        with Session(engine) as s:
            make_org(s, "CONC", OrganisationType.ngo_national)
            auth.create_user(
                s,
                username="conc",
                password="a long password",
                role=Role.coordinator,
                organisation_code="CONC",
            )
            s.commit()
        engine.dispose()
        with live_server(server_env(url, SAFEGROUND_SECRET_KEY="c" * 32)) as base:
            yield base


def test_twenty_concurrent_editors_lose_nothing(server):
    token = httpx.post(
        server + "/api/v1/auth/token",
        data={"username": "conc", "password": "a long password"},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    feature = {
        "type": "Feature",
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[30, 50], [30.01, 50], [30.01, 50.01], [30, 50.01], [30, 50]]
            ],
        },
        "properties": {
            "classification": "SHA",
            "hazard_type": "minefield",
            "organisation": "CONC",
            "date_of_information": "2024-05-01",
            "notes": "start",
        },
    }
    created = httpx.post(server + "/api/v1/hazards", json=feature, headers=headers)
    assert created.status_code == 201, created.text
    url = f"{server}/api/v1/hazards/{created.json()['id']}"
    refused, accepted, errors = [], [], []
    start = threading.Barrier(EDITORS)

    def editor(n: int) -> None:
        with httpx.Client(headers=headers, timeout=30) as c:
            start.wait()
            for _ in range(200):
                etag = c.get(url).headers["ETag"]
                res = c.patch(
                    url,
                    json={"properties": {"notes": f"editor {n}"}},
                    headers={"If-Match": etag},
                )
                if res.status_code == 200:
                    accepted.append((n, res.headers["ETag"]))
                    return
                if res.status_code == 412 and res.headers["content-type"].startswith(
                    "application/problem+json"
                ):
                    refused.append(n)
                    continue
                errors.append((n, res.status_code, res.text[:200]))
                return

    threads = [threading.Thread(target=editor, args=(n,)) for n in range(EDITORS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(accepted) == EDITORS and refused  # they really collided
    history = httpx.get(url + "/history", headers=headers).json()
    versions = (
        history["versions"]
        if isinstance(history, dict) and "versions" in history
        else history
    )
    notes = [
        v["changes"]["notes"][1]
        for v in versions
        if "notes" in (v.get("changes") or {})
    ]
    # every accepted change is in the history exactly once, after the creation
    assert sorted(notes[1:]) == sorted(f"editor {n}" for n in range(EDITORS))
    assert len({etag for _, etag in accepted}) == EDITORS  # each got its own version

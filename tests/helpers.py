"""Helpers shared by test modules: assertions, request bodies, servers and databases.

A test module imports from here (or ``tests.factories``, ``tests.strategies``,
``tests.live``), never from another test module or a ``conftest.py``:
``tests/test_suite_hygiene.py`` checks it.
"""

import os
import socket
from pathlib import Path

import mapbox_vector_tile
import morecantile

from api.db.scratch import scratch_database
from api.settings import Settings

PROBLEM = "application/problem+json"
# what the real-client tests (tests/clients/) leave for a reader: logs, ogrinfo output
CLIENT_ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "clients"


def assert_problem(r, status: int) -> dict:
    """Assert that ``r`` is an RFC 9457 problem with ``status``; return its body."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    return body


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- databases -----------------------------------------------------------------------------


def server_database_url() -> str:
    """The URL of the test database server (``make test`` provisions it)."""
    url = os.environ.get("SAFEGROUND_TEST_DATABASE_URL") or os.environ.get(
        "DATABASE_URL"
    )
    if not url:
        raise RuntimeError(
            "no database: run the suite with `make test` (it provisions PostGIS and sets "
            "DATABASE_URL), or export DATABASE_URL=postgresql://user:pass@host:port/db"
        )
    return Settings(database_url=url).database_url


def throwaway_database(prefix: str = "sg_test"):
    """Create an empty PostGIS database on the test server, yield its URL, drop it."""
    return scratch_database(server_database_url(), prefix)


def import_coordinator(engine, code: str, username: str):
    """For the tests that import through the real job queue (they commit, in a database of
    their own): organisation ``code`` and its coordinator ``username`` (created once), and
    the principal an import of theirs runs as."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from api.services import auth
    from api.vocab import Role

    with Session(engine) as s:
        s.execute(
            text(
                "INSERT INTO organisations (code, name, type) "
                "VALUES (:code, :name, 'ngo_national') ON CONFLICT DO NOTHING"
            ),
            {"code": code, "name": f"{code} organisation"},
        )
        s.commit()
        uid = s.scalar(
            text("SELECT id FROM users WHERE username = :u"), {"u": username}
        )
        if uid is None:
            user = auth.create_user(
                s,
                username=username,
                password="a long password",
                role=Role.coordinator,
                organisation_code=code,
                restricted=False,
            )
            s.flush()
            uid = user.id
            s.commit()
        return auth.principal_for_import(s, uid, None)


def create_import(settings, engine, principal, data: bytes, name="h.geojson"):
    """A committed, not yet run hazards import of ``data`` (native profile); its id."""
    import io

    from sqlalchemy.orm import Session

    from api.services import imports

    with Session(engine) as s:
        imp = imports.create(
            s,
            upload=io.BytesIO(data),
            filename=name,
            kind="hazards",
            profile="native",
            mode="commit",
            atomic=False,
            principal=principal,
            settings=settings,
        )
        s.commit()
        return imp.id


# ---- imports -------------------------------------------------------------------------------


def upload(client, user, name: str, data: bytes, **form):
    """POST a file to /api/v1/imports (``mode`` defaults to commit); the raw response."""
    form.setdefault("mode", "commit")
    return client.post(
        "/api/v1/imports",
        files={"file": (name, data)},
        data={
            k: str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in form.items()
        },
        headers=user.headers,
    )


def run_import(client, user, name: str, data: bytes, **form) -> dict:
    """Upload a file (as :func:`upload`) and return the import's report."""
    res = upload(client, user, name, data, **form)
    assert res.status_code == 202, res.text
    report = client.get(res.headers["Location"], headers=user.headers)
    assert report.status_code == 200, report.text
    return report.json()


def import_square(client, user, org: str, i: int) -> dict:
    """Import the i-th test square as hazard ``IMP-<i>`` of ``org`` (commit); the report."""
    from tests.ingest import files as F

    feature = F.feature(F.square(i), F.hazard_props(i, org))
    return run_import(client, user, "h.geojson", F.geojson_bytes([feature]))


def import_finds(client, user, header: str, rows: list[str], **form) -> dict:
    """Import EO finds from a CSV of ``header`` and ``rows`` (commit unless ``mode``);
    the report."""
    data = (header + "\n".join(rows) + "\n").encode()
    return run_import(client, user, "eo.csv", data, kind="eo_finds", **form)


# ---- vector tiles --------------------------------------------------------------------------

TMS = morecantile.tms.get("WebMercatorQuad")
TILE_SPOT = (44.2001, 15.3001)  # lon, lat: somewhere no other test draws


def tile_url(layer: str, lon: float, lat: float, z: int) -> str:
    """The path of the tile of ``layer`` at zoom ``z`` holding the point (lon, lat)."""
    t = TMS.tile(lon, lat, z)
    return f"/tiles/{layer}/{t.z}/{t.x}/{t.y}.mvt"


def decode_tile(response) -> dict:
    """Assert a 200 and decode the vector tile (an empty body is an empty tile)."""
    assert response.status_code == 200, response.text
    if not response.content:
        return {}
    return mapbox_vector_tile.decode(response.content)


# ---- routes --------------------------------------------------------------------------------


def walk_routes(routes, prefix=""):
    """(path, methods) of every route, descending into included routers."""
    for route in routes:
        if hasattr(route, "original_router"):
            context = getattr(route, "include_context", None)
            yield from walk_routes(
                route.original_router.routes, prefix + getattr(context, "prefix", "")
            )
        elif getattr(route, "methods", None):
            yield prefix + route.path, route.methods


# ---- request bodies ------------------------------------------------------------------------

EORE_URL = "/api/v1/eore-sessions"
EORE_SPOT = (36.21137, 49.08712)  # lon, lat


def eore_session_body(lon=EORE_SPOT[0], lat=EORE_SPOT[1], **props) -> dict:
    """A risk-education session (GeoJSON Feature) at (lon, lat); ``lon=None``: no point."""
    base = {
        "session_date": "2024-06-14",
        "delivery_method": "school_based",
        "audience": "children",
        "language": "uk",
        "messages_covered": ["recognise_devices", "report"],
        "beneficiaries": [
            {"sex": "female", "age_band": "age_5_12", "count": 14},
            {"sex": "male", "age_band": "age_5_12", "count": 11},
            {
                "sex": "male",
                "age_band": "age_13_17",
                "disability": "with_disability",
                "count": 2,
            },
        ],
        "notes": "after a UXO find near the school",
    }
    base.update(props)
    return {
        "type": "Feature",
        "geometry": None
        if lon is None
        else {"type": "Point", "coordinates": [lon, lat]},
        "properties": base,
    }


KOBO_SUBMISSION = {  # a KoboToolbox hazard report, as its REST service posts it
    "_id": 40213,
    "_uuid": "5b8f5d0e-2f55-4a43-9a9b-2f1f0e5d7c11",
    "meta/instanceID": "uuid:5b8f5d0e-2f55-4a43-9a9b-2f1f0e5d7c11",
    "_submission_time": "2024-05-17T06:05:07",
    "_submitted_by": "enumerator1",
    "_xform_id_string": "aXk9mQ2cR8vF",
    "_attachments": [],
    "_geolocation": [49.1032, 36.2051],
    "today": "2024-05-17",
    "report/description": "Children found a metal object near the stream",
    "report/contamination": "ap_mine unexploded",
    "report/location_text": "stream behind the school",
    "report/hazard_location": "49.1032 36.2051 152.0 4.5",
    "devices": [
        {"devices/device_type": "AT", "devices/count": "2"},
        {"devices/device_type": "ap_mine", "devices/count": "1"},
    ],
    "informant/informant_name": "Petro Informant",
    "informant/informant_phone": "+380 67 765 4321",
    "informant/consent_to_contact": "yes",
}

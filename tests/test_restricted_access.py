"""Restricted data: every route that can return it, for principals with and without the right.

``restricted:read`` is decided in one place (``auth.can_read_restricted``; exact locations
through ``auth.sees_exact_locations``, which also lets admins and coordinators see them). For
each route below, a principal without ``restricted:read`` never gets the restricted fields,
and one with it (a user or an API key) does. A last test checks that no other module decides.
"""

import json
import re
from pathlib import Path

import pytest
from shapely.geometry import box

from api.services import auth
from api.vocab import Role
from tests.factories import hazard_feature
from tests.helpers import assert_problem
from tests.helpers import decode_tile as decode
from tests.helpers import tile_url as url

LON, LAT = 12.34567, 41.76543  # exact points; nothing else in the suite is drawn here
FIND = [12.3469, 41.76777]
ACCIDENT = [12.34912, 41.76999]
VICTIM_NAME = "Restricted Testperson"
INFORMANT_PHONE = "+39 333 000 1111"


@pytest.fixture
def data(client, actors, session):
    """A hazard, an EO find, an accident with a victim's personal data and a hazard report
    with an informant's contacts, plus API keys with and without ``restricted:read``."""
    coord = actors.coordinator_a.headers
    hazard = client.post(
        "/api/v1/hazards",
        json=hazard_feature(box(LON, LAT, LON + 0.01, LAT + 0.01), actors.org_a),
        headers=coord,
    )
    assert hazard.status_code == 201, hazard.text
    find = client.post(
        "/api/v1/eo-finds",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": FIND},
            "properties": {
                "eo_category": "ap_mine",
                "quantity": 1,
                "found_on": "2024-06-12",
                "hazard_id": hazard.json()["id"],
            },
        },
        headers=coord,
    )
    assert find.status_code == 201, find.text
    accident = client.post(
        "/api/v1/accidents",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": ACCIDENT},
            "properties": {
                "occurred_on": "2024-06-14",
                "accident_class": "mine_erw_accident",
                "device_category": "av_mine",
                "killed": 0,
                "injured": 1,
            },
        },
        headers=coord,
    )
    assert accident.status_code == 201, accident.text
    victim = client.post(
        f"/api/v1/accidents/{accident.json()['id']}/victims",
        json={
            "sex": "female",
            "role": "civilian",
            "outcome": "injured",
            "personal": {"name": VICTIM_NAME, "phone": "+39 333 999 8888"},
        },
        headers=coord,
    )
    assert victim.status_code == 201, victim.text
    report = client.post(
        "/api/v1/hazard-reports",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [LON + 0.005, LAT + 0.005]},
            "properties": {
                "source": "hotline",
                "reported_on": "2024-05-17",
                "contamination": ["uxo"],
                "contacts": [
                    {
                        "name": "Informant Person",
                        "phone": INFORMANT_PHONE,
                        "consent_to_contact": True,
                    }
                ],
            },
        },
        headers=coord,
    )
    assert report.status_code == 201, report.text
    key_plain, _ = auth.create_api_key(
        session, organisation_code=actors.org_a, name="reader", role=Role.analyst
    )
    key_restricted, _ = auth.create_api_key(
        session,
        organisation_code=actors.org_a,
        name="reader-restricted",
        role=Role.analyst,
        restricted=True,
    )
    return {
        "find": find.json()["id"],
        "accident": accident.json()["id"],
        "victim": victim.json()["id"],
        "report": report.json()["id"],
        "keys": {
            "key_without": {"X-API-Key": key_plain},
            "key_with": {"X-API-Key": key_restricted},
        },
    }


def _headers(actors, data, who: str) -> dict[str, str]:
    if who.startswith("key_"):
        return data["keys"][who]
    return getattr(actors, who).headers


def _exact(coords) -> bool:
    return any(
        abs(coords[0] - x) < 1e-9 and abs(coords[1] - y) < 1e-9
        for x, y in (FIND, ACCIDENT)
    )


# Each check answers: did this response carry the restricted data? (and asserts it is sane)
def _eo_find_list(client, h, d):
    r = client.get("/api/v1/eo-finds", params={"bbox": _bbox()}, headers=h)
    assert r.status_code == 200, r.text
    (f,) = r.json()["features"]
    return _exact(f["geometry"]["coordinates"])


def _eo_find_one(client, h, d):
    r = client.get(f"/api/v1/eo-finds/{d['find']}", headers=h)
    assert r.status_code == 200, r.text
    exact = _exact(r.json()["geometry"]["coordinates"])
    assert r.json()["properties"]["location_precision"] == (
        "exact" if exact else "generalised_0.01deg"
    )
    return exact


def _accident_list(client, h, d):
    r = client.get("/api/v1/accidents", params={"bbox": _bbox()}, headers=h)
    assert r.status_code == 200, r.text
    (f,) = r.json()["features"]
    assert VICTIM_NAME not in r.text  # never in a list, whoever asks
    return _exact(f["geometry"]["coordinates"])


def _accident_one(client, h, d):
    r = client.get(f"/api/v1/accidents/{d['accident']}", headers=h)
    assert r.status_code == 200, r.text
    assert VICTIM_NAME not in r.text
    return _exact(r.json()["geometry"]["coordinates"])


def _victim(client, h, d):
    r = client.get(
        f"/api/v1/accidents/{d['accident']}/victims/{d['victim']}", headers=h
    )
    assert r.status_code == 200, r.text
    shown = "personal" in r.json()
    assert shown == (VICTIM_NAME in r.text)
    return shown


def _victim_list(client, h, d):
    r = client.get(f"/api/v1/accidents/{d['accident']}/victims", headers=h)
    assert r.status_code == 200, r.text
    return VICTIM_NAME in r.text or any("personal" in v for v in r.json()["victims"])


def _casualties(client, h, d):
    r = client.get(
        "/api/v1/analytics/casualties",
        params={"group_by": "sex"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    # one injured woman: a cell of 1 identifies her; withheld without the right
    return any(c["count"] == 1 and not c["suppressed"] for c in r.json()["cells"])


def _report(client, h, d):
    r = client.get(f"/api/v1/hazard-reports/{d['report']}", headers=h)
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    shown = "contacts" in props
    assert shown == ("raw_submission" in props) == (INFORMANT_PHONE in r.text)
    return shown


def _report_list(client, h, d):
    r = client.get("/api/v1/hazard-reports", params={"limit": 1000}, headers=h)
    assert r.status_code == 200, r.text
    return INFORMANT_PHONE in r.text


def _eo_find_export(client, h, d):
    r = client.get("/api/v1/exports/eo-finds.geojson", headers=h)
    if r.status_code == 403:
        assert "restricted:read" in assert_problem(r, 403)["detail"]
        return False
    assert r.status_code == 200, r.text
    return any(_exact(f["geometry"]["coordinates"]) for f in r.json()["features"])


def _eo_find_tile(client, h, d):
    r = client.get(url("eo-finds", *FIND, 15), headers=h)
    if r.status_code == 403:
        assert_problem(r, 403)
        return False
    return bool(decode(r).get("eo-finds", {}).get("features"))


def _ogc(client, h, d):
    """No OGC collection publishes finds or accidents, to anyone."""
    r = client.get("/ogc/collections", params={"f": "json"}, headers=h)
    assert r.status_code == 200, r.text
    ids = {c["id"] for c in r.json()["collections"]}
    return bool(ids & {"eo-finds", "accidents", "victims", "hazard-reports"})


def _bbox() -> str:
    return f"{LON - 0.01},{LAT - 0.01},{LON + 0.02},{LAT + 0.02}"


# route check, the principals who must NOT see it, the principals who must
PERSONAL_WITHOUT = ["admin", "coordinator_a", "analyst_a", "eore_a", "key_without"]
LOCATION_WITHOUT = ["analyst_a", "eore_a", "key_without"]
WITH = ["analyst_restricted", "key_with"]
ROUTES = {
    "GET /api/v1/eo-finds": (_eo_find_list, LOCATION_WITHOUT, WITH),
    "GET /api/v1/eo-finds/{id}": (_eo_find_one, LOCATION_WITHOUT, WITH),
    "GET /api/v1/accidents": (_accident_list, LOCATION_WITHOUT, WITH),
    "GET /api/v1/accidents/{id}": (_accident_one, LOCATION_WITHOUT, WITH),
    "GET /api/v1/accidents/{id}/victims/{victim_id}": (_victim, PERSONAL_WITHOUT, WITH),
    "GET /api/v1/analytics/casualties": (_casualties, PERSONAL_WITHOUT, WITH),
    "GET /api/v1/hazard-reports/{id}": (_report, PERSONAL_WITHOUT, WITH),
    "GET /api/v1/exports/eo-finds.geojson": (_eo_find_export, LOCATION_WITHOUT, WITH),
    "GET /tiles/eo-finds/{z}/{x}/{y}.mvt": (_eo_find_tile, LOCATION_WITHOUT, WITH),
}
# routes that never carry restricted data, whoever asks
NEVER = {
    "GET /api/v1/accidents/{id}/victims": _victim_list,
    "GET /api/v1/hazard-reports": _report_list,
    "GET /ogc/collections": _ogc,
}
EVERYONE = sorted(set(PERSONAL_WITHOUT) | set(WITH))


@pytest.mark.parametrize("route", ROUTES)
def test_restricted_fields_only_with_restricted_read(client, actors, data, route):
    check, without, with_ = ROUTES[route]
    for who in without:
        assert not check(client, _headers(actors, data, who), data), (route, who)
    for who in with_:
        assert check(client, _headers(actors, data, who), data), (route, who)


@pytest.mark.parametrize("route", NEVER)
def test_routes_that_never_carry_restricted_data(client, actors, data, route):
    for who in EVERYONE:
        assert not NEVER[route](client, _headers(actors, data, who), data), (route, who)


def test_exact_locations_also_follow_the_role(client, actors, data):
    """Admins and coordinators task clearance and dispose of items: exact positions."""
    for who in ("admin", "coordinator_a", "coordinator_b"):
        h = _headers(actors, data, who)
        assert _eo_find_one(client, h, data) and _accident_one(client, h, data)


def test_anonymous_callers_get_none_of_it(client, data):
    for path in (
        f"/api/v1/eo-finds/{data['find']}",
        f"/api/v1/accidents/{data['accident']}/victims/{data['victim']}",
        f"/api/v1/hazard-reports/{data['report']}",
        "/api/v1/exports/eo-finds.geojson",
        url("eo-finds", *FIND, 15),
        "/ogc/collections/hazards/items",
    ):
        assert_problem(client.get(path), 401)


def test_restricted_read_is_decided_only_in_auth():
    """No module but api/services/auth.py reads the flag or the permission itself."""
    root = Path(__file__).resolve().parents[1] / "api"
    pattern = re.compile(
        r"principal\.restricted\b|\.permissions\b.*RESTRICTED_READ|RESTRICTED_READ in"
    )
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for path in root.rglob("*.py")
        if path.name != "auth.py" or path.parent.name != "services"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, offenders


# --- roles and organisation scoping on imports, exports, tiles and OGC -----------------------


def test_import_reports_are_scoped_to_the_organisation(client, actors):
    body = hazard_feature(box(LON, LAT, LON + 0.001, LAT + 0.001), actors.org_a)
    data = json.dumps({"type": "FeatureCollection", "features": [body]}).encode()
    r = client.post(
        "/api/v1/imports",
        files={"file": ("h.geojson", data)},
        data={"kind": "hazards", "mode": "dry_run"},
        headers=actors.coordinator_a.headers,
    )
    assert r.status_code == 202, r.text
    job = f"/api/v1/imports/{r.json()['id']}"
    assert client.get(job, headers=actors.coordinator_a.headers).status_code == 200
    assert client.get(job, headers=actors.admin.headers).status_code == 200
    assert_problem(client.get(job, headers=actors.coordinator_b.headers), 404)
    assert_problem(client.get(job), 401)


def test_imports_by_api_key_need_imports_write(client, session, actors):
    reports_only, _ = auth.create_api_key(
        session,
        organisation_code=actors.org_a,
        name="kobo",
        permissions=["hazard-reports:write"],
    )
    r = client.post(
        "/api/v1/imports",
        files={"file": ("h.geojson", b'{"type": "FeatureCollection", "features": []}')},
        data={"kind": "hazards", "mode": "dry_run"},
        headers={"X-API-Key": reports_only},
    )
    assert "imports:write" in assert_problem(r, 403)["detail"]


def test_exports_tiles_and_ogc_for_every_role_but_not_anonymous(client, actors, data):
    readers = (actors.admin, actors.coordinator_b, actors.eore_a, actors.analyst_a)
    for user in readers:
        assert client.get(
            "/api/v1/exports/hazards.geojson", headers=user.headers
        ).is_success
        assert client.get(url("hazards", LON, LAT, 12), headers=user.headers).is_success
        items = client.get(
            "/ogc/collections/hazards/items",
            params={"bbox": _bbox(), "f": "json"},
            headers=user.headers,
        )
        assert items.status_code == 200 and items.json()["numberReturned"] >= 1
    for path in (
        "/api/v1/exports/hazards.geojson",
        url("hazards", LON, LAT, 12),
        "/ogc/collections/hazards/items",
    ):
        assert_problem(client.get(path), 401)

"""Geometry edge cases are answered, not crashed (issue 20, item 7).

* A polygon reaching a pole (touching, covering or around it) or with an edge joining nearly
  antipodal positions is refused with 422 and the reason on every way in: POST and PATCH of
  hazards, hazard reports, activity releases, imports of hazards and of activities. Before
  the rule each of these shapes was stored (201), and PostGIS's geography functions, which
  every distance uses (finds near their hazard, priorities, planning), then failed on it
  with "Antipodal (180 degrees long) edge detected!" (500).
* Z and M values are dropped with the warning the README promises, on the JSON and the file
  paths, for polygons and points, mixed-dimension rings included.
* Every 4xx, Starlette's own (unknown route, method not allowed, a body that cannot be
  parsed) and the middlewares' (JSON depth, body size), carries our problem type, never
  ``about:blank``.
"""

import pytest
from shapely.geometry import Polygon, box, mapping
from sqlalchemy import text

from api.spatial.intake import IntakeProblem, intake_geometry, intake_shape
from tests.factories import (
    activity_body,
    hazard_feature,
    make_hazard,
    release,
    square,
)
from tests.helpers import run_import
from tests.ingest import files as F

PROBLEMS = "https://safeground.example.org/problems/"


def _cap(lat: float) -> Polygon:
    """A ring around a pole: the cap from ``lat`` to the pole, edges of 90° of longitude."""
    lons = [-180.0, -90.0, 0.0, 90.0, 180.0]
    pole = 90.0 if lat > 0 else -90.0
    return Polygon([(x, lat) for x in lons] + [(x, pole) for x in reversed(lons)])


# Each was stored before the rule (none is caught by the long-way-edge or 10,000 km² rules:
# edges span at most 180° of longitude, areas are a few km² to a few hundred km²).
SHAPES = {
    # 4 km² around the north pole
    "north_cap": (_cap(89.99), "pole"),
    "south_cap": (_cap(-89.99), "pole"),
    # 11 m wide, from pole to pole along a meridian: its long edges join antipodal positions
    "pole_to_pole": (
        Polygon([(0, -90), (0, 90), (0.0001, 90), (0.0001, -90)]),
        "pole",
    ),
    # 1 cm wide along the equator, half way round the globe: (0, 0) and (180, 0) are antipodal
    "equator_half": (
        Polygon([(0, 0), (180, 0), (180, 1e-7), (0, 1e-7)]),
        "antipodal",
    ),
    # the same, 179.5° long: still more than 179° of arc
    "nearly_antipodal": (
        Polygon([(0, 0), (179.5, 0), (179.5, 1e-6), (0, 1e-6)]),
        "antipodal",
    ),
}
REASON = {"pole": "pole", "antipodal": "nearly antipodal"}

# the whole-world ring (refused by the long-way-edge rule, checked here too)
WORLD = Polygon([(-180, -90), (180, -90), (180, 90), (-180, 90)])


def _problem(r, status: int = 422) -> dict:
    assert r.status_code == status, r.text[:600]
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].startswith(PROBLEMS), body
    return body


# -------------------------------------------------------------------- the geography crash


def test_postgis_geography_fails_on_these_shapes(session):
    """Why the rule exists: the shapes stored before it break a distance in PostGIS."""
    for name in ("equator_half", "pole_to_pole"):
        geom = SHAPES[name][0]
        with pytest.raises(Exception, match="Antipodal"), session.begin_nested():
            session.execute(
                text(
                    "SELECT ST_DWithin(ST_GeomFromText(:w, 4326)::geography, "
                    "'SRID=4326;POINT(30 50)'::geography, 100)"
                ),
                {"w": geom.wkt},
            )


# ----------------------------------------------------------------------- the intake itself


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_intake_refuses_on_both_paths(name):
    geom, kind = SHAPES[name]
    for run in (
        lambda: intake_geometry(mapping(geom), pointer="/geometry"),
        lambda: intake_shape(geom, pointer="/geometry"),
    ):
        with pytest.raises(IntakeProblem) as exc:
            run()
        message = exc.value.errors[0]["message"]
        assert REASON[kind] in message, message
        assert exc.value.errors[0]["pointer"].startswith("/geometry/coordinates/0/")


def test_plausible_geometries_are_unaffected():
    # near a pole but not touching it, a one-degree square, a polygon split at the antimeridian
    for geom in (
        box(10.0, 89.0, 10.01, 89.01),
        box(30.0, 49.0, 31.0, 50.0),
        box(179.9, -17.0, 180.0, -16.9),
        box(-180.0, -17.0, -179.9, -16.9),
    ):
        assert intake_geometry(mapping(geom)).geometry.is_valid
        assert intake_shape(geom, pointer="/geometry").geometry.is_valid


# ------------------------------------------------------------------------ every way in


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_post_hazard_refuses(client, actors, name):
    geom, kind = SHAPES[name]
    r = client.post(
        "/api/v1/hazards",
        json=hazard_feature(geom, actors.org_a),
        headers=actors.coordinator_a.headers,
    )
    body = _problem(r)
    assert REASON[kind] in body["detail"]
    assert body["errors"][0]["pointer"].startswith("/geometry/coordinates/0/")


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_patch_hazard_refuses(client, actors, name):
    geom, kind = SHAPES[name]
    h = actors.coordinator_a.headers
    created = client.post(
        "/api/v1/hazards",
        json=hazard_feature(square(30.0, 50.0, 0.01), actors.org_a),
        headers=h,
    )
    assert created.status_code == 201, created.text
    r = client.patch(
        f"/api/v1/hazards/{created.json()['id']}",
        json={"geometry": mapping(geom)},
        headers={**h, "If-Match": created.headers["etag"]},
    )
    assert REASON[kind] in _problem(r)["detail"]


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_hazard_report_refuses(client, actors, name):
    geom, kind = SHAPES[name]
    body = {
        "type": "Feature",
        "geometry": mapping(geom),
        "properties": {
            "source": "hotline",
            "reported_on": "2024-05-17",
            "description": "metal object at the edge of the field",
        },
    }
    r = client.post(
        "/api/v1/hazard-reports", json=body, headers=actors.coordinator_a.headers
    )
    assert REASON[kind] in _problem(r)["detail"]


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_activity_release_refuses(client, session, settings, actors, name):
    """Release polygons are not bounded by area, so only this rule stops them."""
    geom, kind = SHAPES[name]
    hid = make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        square(30.0, 50.0, 0.01),
        actors.org_a,
    )
    r = client.post(
        "/api/v1/activities",
        json=activity_body(actors.org_a, [hid], [release(geom, "cleared")]),
        headers=actors.coordinator_a.headers,
    )
    body = _problem(r)
    assert REASON[kind] in body["detail"]
    assert body["errors"][0]["pointer"].startswith(
        "/releases/features/0/geometry/coordinates/0/"
    )


def test_imports_refuse_rows(client, session, actors):
    names = sorted(SHAPES)
    feats = [
        F.feature(SHAPES[n][0], F.hazard_props(700 + i, actors.org_a))
        for i, n in enumerate(names)
    ]
    feats.append(F.feature(WORLD, F.hazard_props(799, actors.org_a)))
    rep = run_import(
        client,
        actors.coordinator_a,
        "edges.geojson",
        F.geojson_bytes(feats),
        mode="dry_run",
    )
    assert rep["counts"]["rejected"] == len(feats), rep
    by_row = {e["row"]: e["message"] for e in rep["errors"]}
    for i, n in enumerate(names):
        assert REASON[SHAPES[n][1]] in by_row[i + 1], by_row
    assert "long way round the globe" in by_row[len(feats)]

    # release polygons of an activity
    run_import(
        client,
        actors.coordinator_a,
        "h.geojson",
        F.geojson_bytes([F.feature(F.square(310), F.hazard_props(310, actors.org_a))]),
    )
    act = {
        "external_id": "ACT-EDGE",
        "activity_type": "clearance",
        "organisation": actors.org_a,
        "hazard_ids": "IMP-00310",
        "status": "completed",
        "start_date": "2024-06-01",
        "end_date": "2024-06-20",
        "methods": "manual",
        "outcome": "cleared",
    }
    rep = run_import(
        client,
        actors.coordinator_a,
        "act.geojson",
        F.geojson_bytes([F.feature(SHAPES["equator_half"][0], act)]),
        kind="activities",
        mode="dry_run",
    )
    assert rep["counts"]["rejected"] == 1, rep
    assert "nearly antipodal" in rep["errors"][0]["message"], rep


def test_whole_world_ring_is_refused_everywhere(client, session, settings, actors):
    """The issue's ring: 422 with the reason (the long-way edge), never 500."""
    h = actors.coordinator_a.headers
    r = client.post(
        "/api/v1/hazards", json=hazard_feature(WORLD, actors.org_a), headers=h
    )
    assert "long way round the globe" in _problem(r)["detail"]
    hid = make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        square(30, 50, 0.01),
        actors.org_a,
    )
    r = client.post(
        "/api/v1/activities",
        json=activity_body(actors.org_a, [hid], [release(WORLD, "cleared")]),
        headers=h,
    )
    assert "long way round the globe" in _problem(r)["detail"]


# ----------------------------------------------------------------------------- Z and M values

Z_NOTE = "Z/M values dropped"


def test_mixed_dimension_ring_is_flattened_with_the_warning(client, actors):
    ring = [[30.0, 50.0, 120.0], [30.01, 50.0], [30.01, 50.01, 5.0, 1.0], [30.0, 50.01]]
    geometry = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    r = client.post(
        "/api/v1/hazards",
        json=hazard_feature(geometry, actors.org_a),
        headers=actors.coordinator_a.headers,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert any(Z_NOTE in w for w in body["warnings"]), body.get("warnings")
    assert all(len(p) == 2 for p in body["geometry"]["coordinates"][0][0])


def test_measured_file_geometry_is_flattened_with_the_warning():
    from shapely import from_wkt

    for wkt in (
        "POLYGON M ((30 50 1, 30.01 50 2, 30.01 50.01 3, 30 50.01 4, 30 50 1))",
        "POLYGON ZM ((30 50 1 1, 30.01 50 2 1, 30.01 50.01 3 1, 30 50.01 4 1, 30 50 1 1))",
        "POLYGON Z ((30 50 1, 30.01 50 2, 30.01 50.01 3, 30 50.01 4, 30 50 1))",
    ):
        result = intake_shape(from_wkt(wkt), pointer="geometry")
        assert any(Z_NOTE in w for w in result.warnings), (wkt, result.warnings)
        assert result.geometry.wkt.startswith("MULTIPOLYGON ((("), result.geometry.wkt


def test_eo_find_point_with_z_says_so(client, session, settings, actors):
    hid = make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        square(30.0, 50.0, 0.01),
        actors.org_a,
    )
    find = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [30.005, 50.005, 131.5]},
        "properties": {
            "eo_category": "ap_mine",
            "hazard_id": str(hid),
            "found_on": "2024-06-01",
        },
    }
    r = client.post("/api/v1/eo-finds", json=find, headers=actors.coordinator_a.headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert any(Z_NOTE in w for w in body.get("warnings", [])), body
    assert len(body["geometry"]["coordinates"]) == 2


# ------------------------------------------------------------ every 4xx carries our type


def test_every_problem_carries_our_type(client, actors, settings):
    """Starlette's own errors and the middlewares' answers, swept: none is about:blank."""
    h = actors.admin.headers
    deep = ("[" * 1000 + "]" * 1000).encode()
    cases = {
        "unknown route 404": client.get("/api/v1/no-such-thing", headers=h),
        "unknown route, anonymous": client.get("/no/such/page/at/all.json"),
        "method not allowed 405": client.put("/api/v1/hazards", headers=h),
        "json depth 400": client.post(
            "/api/v1/hazards",
            content=deep,
            headers={**h, "content-type": "application/json"},
        ),
        "malformed form body 400": client.post(
            "/api/v1/auth/token",
            content=b"username=a&password=b",
            headers={"content-type": "multipart/form-data"},  # no boundary
        ),
        "malformed json 422": client.post(
            "/api/v1/hazards",
            content=b"{not json",
            headers={**h, "content-type": "application/json"},
        ),
        "body too large 413": client.post(
            "/api/v1/hazards",
            content=b"{}",
            headers={
                **h,
                "content-type": "application/json",
                "content-length": str(settings.max_body_bytes + 1),
            },
        ),
        "anonymous 401": client.get("/api/v1/hazards"),
        "wrong role 403": client.post(
            "/api/v1/hazards",
            json=hazard_feature(square(30, 50, 0.01), actors.org_a),
            headers=actors.analyst_a.headers,
        ),
        "invalid query 422": client.get("/api/v1/hazards?limit=0", headers=h),
    }
    seen = {}
    for name, r in cases.items():
        assert 400 <= r.status_code < 500, (name, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("application/problem+json"), name
        body = r.json()
        seen[name] = (r.status_code, body["type"])
        assert body["type"] != "about:blank", (name, body)
        assert body["type"].startswith(PROBLEMS), (name, body)
        assert body["status"] == r.status_code and body["title"] and body["detail"]
    assert seen["unknown route 404"][1] == PROBLEMS + "not-found"
    assert seen["method not allowed 405"][1] == PROBLEMS + "method-not-allowed"
    assert seen["json depth 400"][1] == PROBLEMS + "bad-request"
    assert seen["body too large 413"][1] == PROBLEMS + "payload-too-large"
    assert seen["malformed form body 400"][0] == 400, seen


def test_accident_point_with_z_or_m_says_so(client, actors):
    h = actors.coordinator_a.headers
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [36.21137, 49.08712, 151.0]},
        "properties": {
            "occurred_on": "2024-06-14",
            "accident_class": "mine_erw_accident",
            "killed": 0,
            "injured": 1,
        },
    }
    r = client.post("/api/v1/accidents", json=body, headers=h)
    assert r.status_code == 201, r.text
    assert any(Z_NOTE in w for w in r.json().get("warnings", [])), r.json()
    assert len(r.json()["geometry"]["coordinates"]) == 2
    moved = {"type": "Point", "coordinates": [36.2114, 49.0871, 150.0, 3.0]}
    r = client.patch(
        f"/api/v1/accidents/{r.json()['id']}",
        json={"geometry": moved},
        headers={**h, "If-Match": r.headers["etag"]},
    )
    assert r.status_code == 200, r.text
    assert any(Z_NOTE in w for w in r.json().get("warnings", [])), r.json()
    # without Z nothing is said
    r = client.post(
        "/api/v1/accidents",
        json={**body, "geometry": {"type": "Point", "coordinates": [36.2, 49.1]}},
        headers=h,
    )
    assert r.status_code == 201 and "warnings" not in r.json(), r.text


def test_eore_session_point_with_z_says_so(client, actors):
    from tests.helpers import EORE_URL as URL
    from tests.helpers import eore_session_body as session_body

    body = session_body()
    body["geometry"]["coordinates"].append(212.0)
    r = client.post(URL, json=body, headers=actors.eore_a.headers)
    assert r.status_code == 201, r.text
    assert any(Z_NOTE in w for w in r.json().get("warnings", [])), r.json()

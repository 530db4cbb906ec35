"""Generated polygons (``tests/strategies.py``) through the intake rules and land release.

Properties:

* the intake (``api.spatial.intake`` for JSON, ``api.ingest.gate.intake`` for imported files)
  never fails other than by rejecting, both paths agree, what they accept is a valid
  MultiPolygon of non-zero ellipsoidal area, and a repair is reported exactly when the input
  was invalid;
* through the API nothing answers 5xx: a hazard is created (201, repairs in ``warnings``)
  or refused (422 problem+json);
* the land-release figures of a hazard hold their invariants whatever the releases look
  like: 0 ≤ released ≤ baseline, remaining = baseline − released ≥ 0, the outcomes add up
  to released, baseline = the hazard's area on the ellipsoid.
"""

import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import mapping, shape
from shapely.geometry.polygon import orient

from api.ingest.gate import GateRejection
from api.ingest.gate import intake as gate_intake
from api.spatial.intake import (
    GRID_DEG,
    MIN_AREA_M2,
    IntakeProblem,
    ellipsoidal_area_m2,
    intake_geometry,
)
from tests.factories import geod_area, hazard_feature, release
from tests.strategies import hazard_and_releases, polygons

# slow: property-based (make test-fast leaves it out)
pytestmark = pytest.mark.slow

PURE = settings(max_examples=120, deadline=None, derandomize=True, database=None)
WITH_DB = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _json_intake(geom, max_vertices=100_000):
    try:
        return intake_geometry(mapping(geom), max_vertices=max_vertices), None
    except IntakeProblem as exc:
        assert exc.errors and all(
            e["pointer"].startswith("/geometry") and e["message"] for e in exc.errors
        )
        return None, exc.errors[0]["message"]


def _file_intake(geom, max_vertices=100_000):
    try:
        result = gate_intake(
            geom, pointer="/geometry", allow_point=False, max_vertices=max_vertices
        )
        return result, None
    except GateRejection as exc:
        assert exc.field.startswith("/geometry") and exc.message
        return None, exc.message


@PURE
@given(polygons())
def test_intake_accepts_only_valid_geometry_and_reports_repairs(drawn):
    kind, geom = drawn
    results = [_json_intake(geom), _file_intake(geom)]
    (json_result, json_reason), (file_result, file_reason) = results
    assert (json_result is None) == (file_result is None), (kind, results)
    if json_result is None:
        assert "zero area" in json_reason and "zero area" in file_reason
        assert kind in ("tiny", "sliver", "bowtie"), (kind, json_reason)
        return
    for result in (json_result, file_result):
        stored = result.geometry
        assert stored.geom_type == "MultiPolygon" and stored.is_valid, kind
        assert ellipsoidal_area_m2(stored) >= MIN_AREA_M2
        assert result.repaired == (not geom.is_valid), (kind, result.warnings)
        if result.repaired:
            assert any("made valid" in w for w in result.warnings)
        else:  # the polygon as sent, its positions on the 9-decimal grid served
            sent = shapely.set_precision(geom, GRID_DEG, mode="pointwise")
            assert stored.equals(sent) or stored.normalize().equals(sent.normalize())
    assert abs(
        ellipsoidal_area_m2(json_result.geometry)
        - ellipsoidal_area_m2(file_result.geometry)
    ) <= 1e-6 * max(1.0, ellipsoidal_area_m2(json_result.geometry))


@PURE
@given(polygons(kinds=("valid", "holed", "many", "huge")))
def test_areas_are_on_the_ellipsoid(drawn):
    kind, geom = drawn
    assume(geom.is_valid)  # the invalid draws are the intake's (repair) tests above
    ours = ellipsoidal_area_m2(geom)
    # pyproj's geodesic area (an independent computation) of the polygon with its edges
    # followed in 0.0002° steps, as RFC 7946 edges are straight in longitude/latitude;
    # undensified, a diagonal edge's geodesic would bulge poleward of the stored one (and
    # pyproj sums signed rings: holes must turn the other way than their shell)
    geodesic = geod_area(orient(shapely.segmentize(geom, 0.0002)))
    assert abs(ours - geodesic) <= 1e-5 * geodesic + 0.01, (kind, ours, geodesic)


@settings(max_examples=20, deadline=None, derandomize=True, database=None)
@given(polygons(kinds=("many",)))
def test_vertex_limit_is_a_rejection_not_a_crash(drawn):
    _, geom = drawn
    for run in (_json_intake, _file_intake):
        result, reason = run(geom, max_vertices=200)
        assert result is None and "vertices" in reason and "200" in reason


@WITH_DB
@given(polygons())
def test_hazard_api_never_fails_on_generated_polygons(client, actors, drawn):
    kind, geom = drawn
    r = client.post(
        "/api/v1/hazards",
        json=hazard_feature(geom, actors.org_a),
        headers=actors.coordinator_a.headers,
    )
    assert r.status_code in (201, 422), (kind, r.status_code, r.text[:300])
    if r.status_code == 422:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"][0]["pointer"].startswith("/geometry")
        return
    body = r.json()
    stored = shape(body["geometry"])
    assert stored.is_valid and stored.area > 0
    # a repair is reported exactly when the drawing was invalid (the gate's flags, such
    # as a possible duplicate of an earlier example, are other warnings)
    repairs = [w for w in body.get("warnings", []) if w.startswith("repaired")]
    assert bool(repairs) == (not geom.is_valid), (kind, body.get("warnings"))
    area = body["properties"]["area_m2"]
    expected = ellipsoidal_area_m2(stored)
    assert abs(area - expected) <= max(0.05, 1e-6 * expected)


def _balanced(lr: dict) -> None:
    baseline = lr["baseline_area_m2"]
    tol = max(0.01, 1e-6 * baseline)
    released, remaining = lr["released_area_m2"], lr["remaining_area_m2"]
    assert -tol <= released <= baseline + tol, lr
    assert remaining >= -tol, lr
    assert abs(baseline - released - remaining) <= tol, lr
    parts = lr["cancelled_area_m2"] + lr["reduced_area_m2"] + lr["cleared_area_m2"]
    assert abs(parts - released) <= tol, lr
    assert min(
        lr["cancelled_area_m2"], lr["reduced_area_m2"], lr["cleared_area_m2"]
    ) >= (-tol)


@WITH_DB
@given(hazard_and_releases(), st.booleans())
def test_land_release_invariants_hold_for_any_releases(
    client, actors, drawn, one_activity
):
    hazard, releases = drawn
    headers = actors.coordinator_a.headers
    created = client.post(
        "/api/v1/hazards", json=hazard_feature(hazard, actors.org_a), headers=headers
    )
    assert created.status_code == 201, created.text
    hid = created.json()["id"]
    batches = [releases] if one_activity else [[r] for r in releases]
    for batch in batches:
        if not batch:
            continue
        body = {
            "activity_type": "clearance",
            "organisation": actors.org_a,
            "hazard_ids": [hid],
            "status": "completed",
            "start_date": "2024-06-01",
            "end_date": "2024-06-20",
            "methods": ["manual"],
            "releases": {
                "type": "FeatureCollection",
                "features": [release(g, outcome) for g, outcome in batch],
            },
        }
        r = client.post("/api/v1/activities", json=body, headers=headers)
        assert r.status_code in (201, 422), r.text[:300]
        if any(not g.is_valid for g, _ in batch) and r.status_code == 201:
            assert r.json().get("warnings"), "a repaired release must be reported"
    got = client.get(f"/api/v1/hazards/{hid}", headers=headers)
    assert got.status_code == 200, got.text
    lr = got.json()["properties"]["land_release"]
    _balanced(lr)
    assert lr["baseline_area_m2"] == pytest.approx(
        ellipsoidal_area_m2(hazard), rel=1e-6, abs=0.01
    )

"""Served geometry is stored geometry, and valid (issue 13, item 4): positions are rounded at
intake to the 9 decimals the API serves, and a polygon that the rounding would make invalid
is repaired there, with a warning, instead of being stored valid and served invalid."""

import shapely
from shapely.geometry import Polygon, mapping, shape
from sqlalchemy import text

from api.spatial.intake import GRID_DEG, intake_geometry, intake_shape
from tests.factories import hazard_feature
from tests.helpers import run_import
from tests.ingest import files as F

E = 3e-10  # under half the served grid: rounding moves a position by up to 5e-10
# Valid as sent: the hole's left side runs 3e-10° (0.03 mm) inside the shell's left side.
# Rounded to 9 decimals it lies on it, and the interior is cut in two.
HOLE_NEAR_SHELL = Polygon(
    [(30.0, 50.0), (30.001, 50.0), (30.001, 50.001), (30.0, 50.001)],
    [
        [
            (30.0 + E, 50.0002),
            (30.0005, 50.0002),
            (30.0005, 50.0008),
            (30.0 + E, 50.0008),
        ]
    ],
)


def rounded(geom):
    return shapely.set_precision(geom, GRID_DEG, mode="pointwise")


def test_the_case_is_valid_as_sent_and_invalid_when_rounded():
    assert HOLE_NEAR_SHELL.is_valid
    assert not rounded(HOLE_NEAR_SHELL).is_valid


def test_intake_stores_positions_on_the_served_grid():
    fine = Polygon([(30.1234567891234, 50.0), (30.101, 50.0), (30.101, 50.001)])
    for result in (
        intake_geometry(mapping(fine), pointer="/geometry"),
        intake_shape(fine, pointer="/geometry"),
    ):
        xy = shapely.get_coordinates(result.geometry)
        assert (abs(xy * 1e9 - (xy * 1e9).round()) < 1e-3).all(), xy
        assert result.warnings == []


def test_intake_repairs_what_rounding_would_break():
    for result in (
        intake_geometry(mapping(HOLE_NEAR_SHELL), pointer="/geometry"),
        intake_shape(HOLE_NEAR_SHELL, pointer="/geometry"),
    ):
        assert result.geometry.is_valid
        assert rounded(result.geometry).equals_exact(result.geometry, 0)
        assert [w for w in result.warnings if "rounded to the 9 decimals" in w], (
            result.warnings
        )


def test_post_serves_a_valid_geometry_equal_to_the_stored_one(client, actors, session):
    r = client.post(
        "/api/v1/hazards",
        json=hazard_feature(HOLE_NEAR_SHELL, actors.org_a),
        headers=actors.coordinator_a.headers,
    )
    assert r.status_code == 201, r.text
    served = shape(r.json()["geometry"])
    assert served.is_valid and not served.is_empty
    assert any(w.startswith("repaired /geometry") for w in r.json()["warnings"])
    stored = session.execute(
        text("SELECT ST_AsText(geom), ST_IsValid(geom) FROM hazards WHERE id = :id"),
        {"id": r.json()["id"]},
    ).one()
    assert stored[1] is True
    assert shapely.from_wkt(stored[0]).equals_exact(served, 0)
    got = client.get(
        f"/api/v1/hazards/{r.json()['id']}", headers=actors.coordinator_a.headers
    )
    assert shape(got.json()["geometry"]).is_valid


def test_import_serves_a_valid_geometry(client, actors):
    feats = [F.feature(HOLE_NEAR_SHELL, F.hazard_props(1, actors.org_a))]
    rep = run_import(client, actors.coordinator_a, "h.geojson", F.geojson_bytes(feats))
    assert rep["counts"]["created"] == 1, rep
    assert any("rounded to the 9 decimals" in w["message"] for w in rep["warnings"])
    listed = client.get("/api/v1/hazards", headers=actors.coordinator_a.headers).json()[
        "features"
    ]
    assert [shape(f["geometry"]).is_valid for f in listed] == [True]

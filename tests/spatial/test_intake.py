"""The geometry intake rules, one by one (pure: no database)."""

import math

import pytest
from shapely.geometry import shape

from api.spatial.intake import (
    NO_PROGRAMME_MAX_AREA_M2,
    IntakeProblem,
    ellipsoidal_area_m2,
    intake_geometry,
    intake_point,
)

SQUARE = [[30.0, 50.0], [30.01, 50.0], [30.01, 50.01], [30.0, 50.01], [30.0, 50.0]]


def poly(*rings):
    return {"type": "Polygon", "coordinates": list(rings)}


def rejected(obj, **kw) -> list[dict]:
    with pytest.raises(IntakeProblem) as info:
        intake_geometry(obj, **kw)
    return info.value.errors


def test_intake_accepts_valid_polygon_as_multipolygon_without_warnings():
    result = intake_geometry(poly(SQUARE))
    assert result.geometry.geom_type == "MultiPolygon"
    assert result.warnings == []
    assert result.geometry.equals(shape(poly(SQUARE)))


def test_intake_rejects_null_geometry():
    errors = rejected(None)
    assert errors == [{"pointer": "/geometry", "message": errors[0]["message"]}]
    assert "null" in errors[0]["message"]


@pytest.mark.parametrize("obj", [poly(), {"type": "MultiPolygon", "coordinates": []}])
def test_intake_rejects_empty_geometry(obj):
    assert "empty" in rejected(obj)[0]["message"]


def test_intake_rejects_wrong_type_with_pointer_to_type():
    errors = rejected({"type": "LineString", "coordinates": [[30, 50], [31, 51]]})
    assert errors[0]["pointer"] == "/geometry/type"
    assert "LineString" in errors[0]["message"]


def test_intake_rejects_point_unless_allowed():
    point = {"type": "Point", "coordinates": [30, 50]}
    assert rejected(point)[0]["pointer"] == "/geometry/type"
    assert intake_geometry(point, allow_point=True).geometry.geom_type == "Point"


def test_intake_rejects_latitude_out_of_range_naming_the_coordinate():
    ring = [[30, 50], [30.01, 50], [30.01, 95.5], [30, 50.01], [30, 50]]
    errors = rejected(poly(ring))
    assert errors == [
        {
            "pointer": "/geometry/coordinates/0/2/1",
            "message": "latitude 95.5 is outside -90..90",
        }
    ]


def test_intake_rejects_longitude_out_of_range():
    ring = [[30, 50], [181, 50], [30.01, 50.01], [30, 50]]
    assert rejected(poly(ring))[0]["pointer"] == "/geometry/coordinates/0/1/0"


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_intake_rejects_non_finite_coordinates(bad):
    ring = [[30, 50], [30.01, bad], [30.01, 50.01], [30, 50]]
    errors = rejected(poly(ring))
    assert errors[0]["pointer"] == "/geometry/coordinates/0/1/1"
    assert "finite" in errors[0]["message"]


@pytest.mark.parametrize("bad", ["30", None, True, [1]])
def test_intake_rejects_non_numeric_coordinates(bad):
    ring = [[30, 50], [30.01, bad], [30.01, 50.01], [30, 50]]
    assert rejected(poly(ring))[0]["pointer"].startswith("/geometry/coordinates/0/1")


def test_intake_rejects_ring_with_too_few_positions():
    errors = rejected(poly([[30, 50], [30.01, 50], [30, 50]]))
    assert errors[0]["pointer"] == "/geometry/coordinates/0"
    assert "at least 4" in errors[0]["message"]


def test_intake_rejects_unclosed_ring_and_names_the_ends():
    errors = rejected(poly(SQUARE[:-1]))
    assert errors[0]["pointer"] == "/geometry/coordinates/0"
    assert "not closed" in errors[0]["message"] and "(30, 50)" in errors[0]["message"]


def test_intake_points_into_the_right_polygon_of_a_multipolygon():
    bad_ring = [[31, 50], [31.01, 50], [31.01, 50.01], [31, 50.01]]
    errors = rejected({"type": "MultiPolygon", "coordinates": [[SQUARE], [bad_ring]]})
    assert errors[0]["pointer"] == "/geometry/coordinates/1/0"


def test_intake_rejects_zero_area():
    collinear = [[30, 50], [30.01, 50.01], [30.02, 50.02], [30, 50]]
    assert "zero area" in rejected(poly(collinear))[0]["message"]


def test_intake_enforces_vertex_limit():
    errors = rejected(poly(SQUARE), max_vertices=4)
    assert "5 vertices" in errors[0]["message"] and "limit is 4" in errors[0]["message"]


def test_intake_uses_the_given_pointer():
    errors = rejected(None, pointer="/releases/features/3/geometry")
    assert errors[0]["pointer"] == "/releases/features/3/geometry"


def test_intake_repairs_bowtie_with_warning_and_location():
    bowtie = [[30, 50], [30.01, 50.01], [30.01, 50], [30, 50.01], [30, 50]]
    result = intake_geometry(poly(bowtie))
    assert result.geometry.is_valid and result.geometry.geom_type == "MultiPolygon"
    assert len(result.geometry.geoms) == 2
    assert len(result.warnings) == 1 and result.repaired
    assert "self-intersection at (30.005, 50.005)" in result.warnings[0]


def test_intake_repairs_hole_crossing_shell_keeping_only_polygons():
    shell = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    hole = [
        [8, 8],
        [12, 8],
        [12, 12],
        [8, 12],
        [8, 8],
    ]  # sticks out of the shell: invalid
    result = intake_geometry(poly(shell, hole))
    assert result.geometry.is_valid
    assert result.geometry.geom_type == "MultiPolygon"
    assert result.warnings


def test_intake_drops_z_with_warning():
    ring = [[30, 50, 120.5], [30.01, 50, 121], [30.01, 50.01, 119], [30, 50, 120.5]]
    result = intake_geometry(poly(ring))
    assert not result.geometry.has_z
    assert any("Z/M values dropped" in w for w in result.warnings)


def test_intake_point_validates_range():
    with pytest.raises(IntakeProblem) as info:
        intake_point(
            {"type": "Point", "coordinates": [200, 0]}, pointer="/properties/benchmark"
        )
    assert info.value.errors[0]["pointer"] == "/properties/benchmark/coordinates/0"


def test_geodesic_area_is_zero_for_points_and_positive_for_polygons():
    assert ellipsoidal_area_m2(shape({"type": "Point", "coordinates": [1, 2]})) == 0.0
    assert 790_000 < ellipsoidal_area_m2(shape(poly(SQUARE))) < 800_000


SHAPE_CASES = [
    {
        "type": "Polygon",
        "coordinates": [[[30, 50], [30.01, 50], [30.01, 50.01], [30, 50.01], [30, 50]]],
    },
    {
        "type": "Polygon",
        "coordinates": [[[30, 50], [30.01, 50.01], [30.01, 50], [30, 50.01], [30, 50]]],
    },
    {
        "type": "Polygon",
        "coordinates": [[[30, 50, 5], [30.01, 50, 5], [30.01, 50.01, 5], [30, 50, 5]]],
    },
    {
        "type": "Polygon",
        "coordinates": [[[30, 50], [30.01, 50], [30.02, 50], [30, 50]]],
    },
    {
        "type": "Polygon",
        "coordinates": [[[190, 50], [30.01, 50], [30.01, 50.01], [190, 50]]],
    },
    {
        "type": "MultiPolygon",
        "coordinates": [
            [[[30, 50], [30.01, 50], [30.01, 50.01], [30, 50]]],
            [[[31, 50], [31.01, 50], [31.01, 50.01], [31, 50]]],
        ],
    },
    {"type": "Point", "coordinates": [30, 50]},
]


@pytest.mark.parametrize("obj", SHAPE_CASES)
def test_intake_shape_agrees_with_intake_geometry(obj):
    """Files take the Shapely path, the API the GeoJSON path: same geometry, same verdict."""
    from shapely.geometry import shape

    from api.spatial.intake import intake_shape

    def outcome(fn, arg):
        try:
            r = fn(arg, pointer="/geometry", allow_point=True)
        except IntakeProblem as exc:
            return ("rejected", " ".join(exc.errors[0]["message"].split()[:4:3]))
        return ("accepted", r.geometry.wkb, [w.split(":")[0] for w in r.warnings])

    assert outcome(intake_shape, shape(obj)) == outcome(intake_geometry, obj)


# Edges read the long way round the globe, and implausible areas (tests/test_geometry_bounds.py
# has the end-to-end reproductions).

LONG_WAY = [[179.5, 10.0], [-179.5, 10.0], [-179.5, 11.0], [179.5, 11.0], [179.5, 10.0]]


def test_intake_refuses_an_edge_spanning_more_than_180_degrees_naming_it():
    (error,) = rejected(poly(LONG_WAY))
    assert error["pointer"] == "/geometry/coordinates/0/1"
    assert (
        "from (179.5, 10) to (-179.5, 10) spans 359° of longitude" in error["message"]
    )
    assert "±180°" in error["message"]


def test_intake_points_at_the_long_edge_in_the_second_polygon_of_a_multipolygon():
    shell = [[-179.9, -1.0], [179.9, -1.0], [179.9, 1.0], [-179.9, 1.0], [-179.9, -1.0]]
    obj = {"type": "MultiPolygon", "coordinates": [[SQUARE], [shell]]}
    (error,) = rejected(obj)
    assert error["pointer"] == "/geometry/coordinates/1/0/1"


def test_intake_accepts_a_geometry_split_at_the_antimeridian():
    east = [[179.9, 10.0], [180.0, 10.0], [180.0, 10.1], [179.9, 10.1], [179.9, 10.0]]
    west = [
        [-180.0, 10.0],
        [-179.9, 10.0],
        [-179.9, 10.1],
        [-180.0, 10.1],
        [-180.0, 10.0],
    ]
    obj = {"type": "MultiPolygon", "coordinates": [[east], [west]]}
    result = intake_geometry(obj, max_area_m2=NO_PROGRAMME_MAX_AREA_M2)
    assert 2 * 100e6 < ellipsoidal_area_m2(result.geometry) < 2 * 125e6


def test_intake_bounds_the_area_only_when_asked():
    big = [
        [30.0, 0.0],
        [31.0, 0.0],
        [31.0, 1.0],
        [30.0, 1.0],
        [30.0, 0.0],
    ]  # 12,300 km²
    assert intake_geometry(poly(big)).geometry.geom_type == "MultiPolygon"
    (error,) = rejected(poly(big), max_area_m2=NO_PROGRAMME_MAX_AREA_M2)
    assert error["pointer"] == "/geometry"
    assert "12,308 km², more than the 1,000 km²" in error["message"]


@pytest.mark.parametrize(
    "obj",
    [
        poly(LONG_WAY),
        poly([[30.0, 0.0], [31.0, 0.0], [31.0, 1.0], [30.0, 1.0], [30.0, 0.0]]),
    ],
)
def test_file_intake_refuses_the_same_with_the_same_message(obj):
    from api.ingest.gate import GateRejection
    from api.ingest.gate import intake as gate_intake

    message = rejected(obj, max_area_m2=NO_PROGRAMME_MAX_AREA_M2)[0]["message"]
    with pytest.raises(GateRejection) as info:
        gate_intake(
            shape(obj),
            pointer="/geometry",
            allow_point=False,
            max_vertices=1000,
            max_area_m2=NO_PROGRAMME_MAX_AREA_M2,
        )
    assert info.value.message == message

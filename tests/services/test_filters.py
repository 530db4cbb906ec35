"""The optional-filter SQL fragments (api/services/filters.py), run on PostGIS."""

import pytest
from sqlalchemy import text

from api.services.filters import (
    GENERALISED_GRID_DEG,
    bbox_param,
    bbox_sql,
    location_params,
    seen_bbox_sql,
    seen_point_sql,
)

SQUARE = "ST_GeomFromText('POLYGON((30 50, 30.1 50, 30.1 50.1, 30 50.1, 30 50))', 4326)"
# 0.004° off the 0.01° grid: snapped, the point is (30.00, 50.00)
POINT = "ST_SetSRID(ST_MakePoint(30.004, 50.004), 4326)"


def matches(session, fragment: str, geom: str, **params) -> bool:
    sql = f"SELECT count(*) FROM (SELECT {geom} AS g) t WHERE {fragment}"
    return session.execute(text(sql), params).scalar_one() == 1


def test_bbox_param_is_none_or_four_floats(session):
    assert bbox_param(None) is None
    box = bbox_param((30, 50, 30.5, 51))  # ints too, as a Python caller may pass them
    assert box == [30.0, 50.0, 30.5, 51.0] and {type(v) for v in box} == {float}
    assert matches(session, bbox_sql("g"), SQUARE, bbox=box)


@pytest.mark.parametrize(
    ("bbox", "expected"),
    [
        (None, True),  # no box asked: every row
        ((30.05, 50.05, 31, 51), True),  # overlaps
        ((29, 49, 31, 51), True),  # contains
        ((30.2, 50.2, 31, 51), False),  # disjoint
        ((30.1, 50.1, 31, 51), True),  # touches a corner
    ],
)
def test_bbox_sql(session, bbox, expected):
    assert matches(session, bbox_sql("g"), SQUARE, bbox=bbox_param(bbox)) is expected


def test_bbox_sql_never_matches_a_missing_geometry(session):
    fragment = bbox_sql("g")
    null = "CAST(NULL AS geometry)"
    assert not matches(session, fragment, null, bbox=[-180, -90, 180, 90])
    assert matches(session, fragment, null, bbox=None)


def test_seen_point_sql_snaps_unless_exact(session):
    seen = seen_point_sql(POINT)
    for exact, expected in ((True, [30.004, 50.004]), (False, [30.0, 50.0])):
        xy = session.execute(
            text(f"SELECT ST_X({seen}), ST_Y({seen})"), location_params(exact)
        ).one()
        assert list(xy) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("bbox", "exact", "expected"),
    [
        (None, False, True),
        ((30.003, 50.003, 30.005, 50.005), True, True),  # holds the exact point
        ((30.003, 50.003, 30.005, 50.005), False, False),  # not the snapped one
        ((29.999, 49.999, 30.001, 50.001), False, True),  # holds the snapped point
        ((29.999, 49.999, 30.001, 50.001), True, False),  # not the exact one
    ],
)
def test_seen_bbox_sql_tests_the_point_as_seen(session, bbox, exact, expected):
    fragment = seen_bbox_sql("g")
    params = {"bbox": bbox_param(bbox), **location_params(exact)}
    assert matches(session, fragment, POINT, **params) is expected


def test_location_params():
    assert location_params(True) == {
        "exact": True,
        "grid": GENERALISED_GRID_DEG,
        "pad": 0.0,
    }
    assert location_params(False)["pad"] == GENERALISED_GRID_DEG == 0.01

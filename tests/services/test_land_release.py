"""Land-release accounting against hand-computed cases.

Every case is built from longitude/latitude boxes, whose exact area on the WGS 84 ellipsoid
has a closed form (``box_area``), so the expected figures are computed independently of
PostGIS, pyproj and our code.
"""

import math

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy import text

from api.services import land_release
from tests.factories import (
    make_activity,
    make_activity_unless_apart,
    make_hazard,
    release,
)

A = 6378137.0
F = 1 / 298.257223563
E2 = F * (2 - F)
E = math.sqrt(E2)


def _q(lat_deg: float) -> float:
    s = math.sin(math.radians(lat_deg))
    return s / (1 - E2 * s * s) + math.log((1 + E * s) / (1 - E * s)) / (2 * E)


def box_area(lon1, lat1, lon2, lat2) -> float:
    """Exact ellipsoidal area of a longitude/latitude box (authalic closed form)."""
    return A * A * (1 - E2) / 2 * math.radians(lon2 - lon1) * (_q(lat2) - _q(lat1))


def figures(session, hazard_id) -> dict:
    row = (
        session.execute(
            text("SELECT * FROM hazard_land_release WHERE hazard_id = :h"),
            {"h": hazard_id},
        )
        .mappings()
        .one()
    )
    return dict(row)


def assert_balanced(f: dict) -> None:
    tol = max(0.01, 1e-6 * f["baseline_area_m2"])
    assert (
        abs(f["released_area_m2"] + f["remaining_area_m2"] - f["baseline_area_m2"])
        <= tol
    )
    parts = f["cancelled_area_m2"] + f["reduced_area_m2"] + f["cleared_area_m2"]
    assert abs(parts - f["released_area_m2"]) <= tol


def approx(value, rel=1e-7, abs_=0.01):
    return pytest.approx(value, rel=rel, abs=abs_)


@pytest.fixture
def hazard(session, settings, actors):
    """A 0.01° x 0.01° hazard at 50°N (about 79 ha) and a helper to add releases."""
    h = box(30.0, 50.0, 30.01, 50.01)
    hid = make_hazard(
        session, settings, actors.admin.principal, h, actors.org_a, classification="CHA"
    )

    def add(*releases, **fields):
        return make_activity(
            session,
            settings,
            actors.admin.principal,
            actors.org_a,
            [hid],
            list(releases),
            **fields,
        )

    return hid, add


def test_hazard_without_release_remains_whole(session, hazard):
    hid, _ = hazard
    f = figures(session, hid)
    assert f["baseline_area_m2"] == approx(box_area(30.0, 50.0, 30.01, 50.01))
    assert f["remaining_area_m2"] == approx(f["baseline_area_m2"])
    assert f["released_area_m2"] == 0


def test_disjoint_release_counts_zero_and_is_reported_outside(
    session, settings, actors, hazard
):
    """A release no longer touching its hazard (the hazard was re-surveyed elsewhere; a
    release touching none of its hazards is refused when written) counts zero for it and
    is reported outside."""
    from shapely.geometry import mapping

    from api.schemas.hazards import HazardFeaturePatch
    from api.services import hazards

    hid, add = hazard
    add(release(box(30.009, 50.0, 30.02, 50.01), "cleared"))
    hazards.update_hazard(
        session,
        hazard_id=hid,
        patch=HazardFeaturePatch(geometry=mapping(box(29.98, 50.0, 29.99, 50.01))),
        principal=actors.admin.principal,
        settings=settings,
        if_match="*",
    )
    f = figures(session, hid)
    assert f["released_area_m2"] == 0
    assert f["remaining_area_m2"] == approx(box_area(29.98, 50.0, 29.99, 50.01))
    assert f["outside_area_m2"] == approx(box_area(30.009, 50.0, 30.02, 50.01))


def test_a_release_touching_none_of_its_hazards_is_refused(hazard):
    """The rule a file row of releases meets (tests/ingest/test_imports.py), with its
    words."""
    from api.errors import InvalidGeometry

    _, add = hazard
    with pytest.raises(InvalidGeometry) as exc:
        add(release(box(30.02, 50.0, 30.03, 50.01), "cleared"))
    assert exc.value.errors == [
        {
            "pointer": "/releases/features/0/geometry",
            "message": "the release polygon does not touch its hazard: released land "
            "must lie in the hazard area",
        }
    ]


def test_nested_release_is_subtracted_exactly(session, hazard):
    hid, add = hazard
    add(release(box(30.002, 50.002, 30.004, 50.005), "cleared"))
    f = figures(session, hid)
    inner = box_area(30.002, 50.002, 30.004, 50.005)
    assert f["cleared_area_m2"] == approx(inner)
    assert f["remaining_area_m2"] == approx(box_area(30.0, 50.0, 30.01, 50.01) - inner)
    assert f["outside_area_m2"] == approx(0, abs_=1e-6)
    assert_balanced(f)


def test_overlapping_releases_count_once_for_the_strongest_outcome(session, hazard):
    hid, add = hazard
    # full-height strips: cancelled 30.000-30.006, cleared 30.004-30.007, reduced 30.005-30.009
    add(
        release(box(30.000, 50.0, 30.006, 50.01), "cancelled"),
        release(box(30.004, 50.0, 30.007, 50.01), "cleared"),
        release(box(30.005, 50.0, 30.009, 50.01), "reduced"),
    )
    f = figures(session, hid)
    strip = lambda a, b: box_area(a, 50.0, b, 50.01)  # noqa: E731
    assert f["cleared_area_m2"] == approx(strip(30.004, 30.007))
    assert f["reduced_area_m2"] == approx(strip(30.007, 30.009))
    assert f["cancelled_area_m2"] == approx(strip(30.000, 30.004))
    assert f["remaining_area_m2"] == approx(strip(30.009, 30.010))
    assert_balanced(f)


def test_releases_from_separate_activities_combine_the_same_way(session, hazard):
    hid, add = hazard
    add(
        release(box(30.000, 50.0, 30.006, 50.01), "cancelled"),
        activity_type="non_technical_survey",
    )
    add(release(box(30.004, 50.0, 30.007, 50.01), "cleared"))
    f = figures(session, hid)
    assert f["cleared_area_m2"] == approx(box_area(30.004, 50.0, 30.007, 50.01))
    assert f["cancelled_area_m2"] == approx(box_area(30.000, 50.0, 30.004, 50.01))


def test_release_partly_outside_counts_only_inside(session, hazard):
    hid, add = hazard
    add(release(box(30.008, 49.995, 30.02, 50.005), "reduced"))
    f = figures(session, hid)
    inside = box_area(30.008, 50.0, 30.01, 50.005)
    assert f["reduced_area_m2"] == approx(inside)
    assert f["outside_area_m2"] == approx(
        box_area(30.008, 49.995, 30.02, 50.005) - inside
    )
    assert_balanced(f)


def test_multipolygon_hazard_with_hole(session, settings, actors):
    outer = Polygon(
        box(31.0, 50.0, 31.01, 50.01).exterior.coords,
        [box(31.004, 50.004, 31.006, 50.006).exterior.coords],
    )
    island = box(31.02, 50.0, 31.03, 50.005)
    hid = make_hazard(
        session,
        settings,
        actors.admin.principal,
        MultiPolygon([outer, island]),
        actors.org_a,
    )
    base = (
        box_area(31.0, 50.0, 31.01, 50.01)
        - box_area(31.004, 50.004, 31.006, 50.006)
        + box_area(31.02, 50.0, 31.03, 50.005)
    )
    assert figures(session, hid)["baseline_area_m2"] == approx(base)
    # a release over the hole and the west half of the island: the hole is not hazard
    make_activity(
        session,
        settings,
        actors.admin.principal,
        actors.org_a,
        [hid],
        [
            release(box(31.003, 50.003, 31.007, 50.007), "cleared"),
            release(box(31.02, 50.0, 31.025, 50.005), "cancelled"),
        ],
    )
    f = figures(session, hid)
    ring = box_area(31.003, 50.003, 31.007, 50.007) - box_area(
        31.004, 50.004, 31.006, 50.006
    )
    assert f["cleared_area_m2"] == approx(ring)
    assert f["cancelled_area_m2"] == approx(box_area(31.02, 50.0, 31.025, 50.005))
    assert f["remaining_area_m2"] == approx(base - ring - f["cancelled_area_m2"])
    assert f["outside_area_m2"] == approx(box_area(31.004, 50.004, 31.006, 50.006))
    assert_balanced(f)


def test_area_at_49n_is_ellipsoidal_not_web_mercator(session, settings, actors):
    h = box(36.20, 49.10, 36.23, 49.12)
    hid = make_hazard(session, settings, actors.admin.principal, h, actors.org_a)
    f = figures(session, hid)
    assert f["baseline_area_m2"] == approx(box_area(36.20, 49.10, 36.23, 49.12))
    to_3857 = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    mercator = shapely.transform(
        h, lambda xy: np.column_stack(to_3857.transform(xy[:, 0], xy[:, 1]))
    ).area
    assert (
        2.25 < mercator / f["baseline_area_m2"] < 2.35
    )  # what a Web Mercator area would say


def test_full_clearance_closes_the_hazard_and_leaves_empty_remaining(session, hazard):
    hid, add = hazard
    add(release(box(29.99, 49.99, 30.02, 50.02), "cleared"))
    f = figures(session, hid)
    assert f["remaining_area_m2"] < 1.0
    assert_balanced(f)
    status = session.execute(
        text("SELECT status FROM hazards WHERE id = :h"), {"h": hid}
    )
    assert status.scalar_one() == "closed"


def test_status_is_derived_from_activities(session, hazard):
    hid, add = hazard

    def status():
        return session.execute(
            text("SELECT status FROM hazards WHERE id = :h"), {"h": hid}
        ).scalar_one()

    assert status() == "open"
    add(activity_type="technical_survey", status="planned", end_date=None)
    assert status() == "open"
    add(
        release(box(30.0, 50.0, 30.005, 50.01), "reduced"),
        activity_type="technical_survey",
        status="ongoing",
    )
    assert status() == "worked_on"
    add(release(box(30.0, 50.0, 30.008, 50.01), "cleared"))  # completed, 20 % left
    assert status() == "worked_on"


def test_full_recompute_matches_incremental(session, hazard):
    hid, add = hazard
    add(release(box(30.0, 50.0, 30.004, 50.01), "cleared"))
    before = figures(session, hid)
    assert land_release.recompute(session, None) >= 1
    after = figures(session, hid)
    for key in ("baseline_area_m2", "cleared_area_m2", "remaining_area_m2"):
        assert after[key] == approx(before[key], rel=1e-12)


def test_release_covering_a_spot_hazard_closes_it_without_outside_warning(
    session, settings, actors
):
    from shapely.geometry import Point, mapping

    from api.schemas.hazards import HazardFeaturePatch
    from api.services import hazards

    spot = make_hazard(
        session,
        settings,
        actors.admin.principal,
        Point(31.0, 49.0),
        actors.org_a,
        hazard_type="uxo_spot",
    )
    missed = make_hazard(
        session,
        settings,
        actors.admin.principal,
        Point(31.1, 49.0),
        actors.org_a,
        hazard_type="uxo_spot",
    )
    covering = box(30.9999, 48.9999, 31.0001, 49.0001)
    result = make_activity(
        session,
        settings,
        actors.admin.principal,
        actors.org_a,
        [spot],
        [release(covering, "cleared")],
        activity_type="eod_spot_task",
    )
    assert result.warnings == []
    assert figures(session, spot)["outside_area_m2"] == 0
    # a release missing the spot is refused (it touches none of its hazards)
    assert (
        make_activity_unless_apart(
            session,
            settings,
            actors.admin.principal,
            actors.org_a,
            [missed],
            [release(covering, "cleared")],
            activity_type="eod_spot_task",
        )
        is None
    )
    # a spot re-surveyed out of the release that covered it is not released by it
    make_activity(
        session,
        settings,
        actors.admin.principal,
        actors.org_a,
        [missed],
        [release(box(31.0999, 48.9999, 31.1001, 49.0001), "cleared")],
        activity_type="eod_spot_task",
    )
    hazards.update_hazard(
        session,
        hazard_id=missed,
        patch=HazardFeaturePatch(geometry=mapping(Point(31.2, 49.0))),
        principal=actors.admin.principal,
        settings=settings,
        if_match="*",
    )

    def status(hid):
        return session.execute(
            text("SELECT status FROM hazards WHERE id = :h"), {"h": hid}
        ).scalar_one()

    assert status(spot) == "closed"
    assert status(missed) == "worked_on"  # the release does not cover the spot

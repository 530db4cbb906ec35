"""Properties of the land-release arithmetic, on generated polygons (Hypothesis).

* released + remaining = baseline, and the three outcomes add up to released;
* each figure equals an independent computation with Shapely and pyproj on the stored
  geometries (remaining = area(hazard - union), cleared = area(hazard & cleared), ...);
* adding a release never increases what remains;
* the order in which releases are recorded does not change the totals.

Polygons are generated near 50°N: valid boxes and triangles, self-intersecting (bow-tie)
shapes that the intake repairs, polygons with holes, tiny and large ones.
"""

import pytest
from geoalchemy2.shape import to_shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box
from shapely.ops import unary_union
from sqlalchemy import text

from api.db.models import Hazard, ReleasePolygon
from api.services import land_release
from api.spatial.intake import ellipsoidal_area_m2
from tests.factories import (
    make_activity,
    make_activity_unless_apart,
    make_hazard,
    release,
)

# slow: property-based (make test-fast leaves it out)
pytestmark = pytest.mark.slow

LON0, LAT0 = 30.0, 50.0
SETTINGS = settings(  # derandomised like every property test: a failure reproduces
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OUTCOMES = st.sampled_from(["cancelled", "reduced", "cleared"])
coord = st.floats(0.0, 0.02, allow_nan=False, allow_infinity=False).map(
    lambda v: round(v, 6)
)


@st.composite
def polygons(draw):
    """A polygon in a 0.02° square at 50°N, of one of several kinds."""
    kind = draw(st.sampled_from(["box", "triangle", "bowtie", "holed", "tiny"]))
    x1, y1 = draw(coord), draw(coord)
    w = draw(st.floats(0.0005, 0.02))
    h = draw(st.floats(0.0005, 0.02))
    x, y = LON0 + x1, LAT0 + y1
    if kind == "box":
        return box(x, y, x + w, y + h)
    if kind == "tiny":
        return box(x, y, x + 0.00002, y + 0.00002)  # about 2 m x 1.4 m
    if kind == "triangle":
        return Polygon(
            [(x, y), (x + w, y + draw(coord) / 4), (x + draw(coord) / 4, y + h)]
        )
    if kind == "bowtie":
        return Polygon([(x, y), (x + w, y + h), (x + w, y), (x, y + h)])
    outer = box(x, y, x + w, y + h)
    return Polygon(
        outer.exterior.coords,
        [box(x + w / 4, y + h / 4, x + w / 2, y + h / 2).exterior.coords],
    )


def figures(session, hid):
    return (
        session.execute(
            text("SELECT * FROM hazard_land_release WHERE hazard_id = :h"), {"h": hid}
        )
        .mappings()
        .one()
    )


def independent(session, hid) -> dict[str, float]:
    """The figures recomputed with Shapely and pyproj from the stored geometries."""
    hazard = to_shape(session.get(Hazard, hid).geom)
    by_outcome = {"cleared": [], "reduced": [], "cancelled": []}
    for r in session.query(ReleasePolygon).filter_by(hazard_id=hid, retired_at=None):
        by_outcome[r.outcome].append(to_shape(r.geom))
    strong = by_outcome["cleared"]
    cleared = hazard.intersection(unary_union(strong)) if strong else None
    strong_reduced = strong + by_outcome["reduced"]
    every = strong_reduced + by_outcome["cancelled"]

    def area(geoms):
        return (
            ellipsoidal_area_m2(hazard.intersection(unary_union(geoms)))
            if geoms
            else 0.0
        )

    return {
        "cleared_area_m2": ellipsoidal_area_m2(cleared) if cleared else 0.0,
        "reduced_area_m2": area(strong_reduced) - area(strong),
        "cancelled_area_m2": area(every) - area(strong_reduced),
        "remaining_area_m2": ellipsoidal_area_m2(hazard.difference(unary_union(every)))
        if every
        else ellipsoidal_area_m2(hazard),
    }


def matches_independent(session, hid, f) -> bool:
    tol = max(0.05, 1e-6 * f["baseline_area_m2"])
    expected = independent(session, hid)
    return all(abs(f[k] - v) <= tol for k, v in expected.items())


def balanced(f) -> bool:
    tol = max(0.01, 1e-6 * f["baseline_area_m2"])
    parts = f["cancelled_area_m2"] + f["reduced_area_m2"] + f["cleared_area_m2"]
    return (
        abs(f["released_area_m2"] + f["remaining_area_m2"] - f["baseline_area_m2"])
        <= tol
        and abs(parts - f["released_area_m2"]) <= tol
        and min(
            f["cancelled_area_m2"],
            f["reduced_area_m2"],
            f["cleared_area_m2"],
            f["remaining_area_m2"],
        )
        >= -tol
    )


@SETTINGS
@given(
    hazard=polygons(), releases=st.lists(st.tuples(polygons(), OUTCOMES), max_size=5)
)
def test_released_plus_remaining_is_baseline_and_never_grows(
    session, settings_, actors, hazard, releases
):
    hid = make_hazard(session, settings_, actors.admin.principal, hazard, actors.org_a)
    previous = figures(session, hid)["remaining_area_m2"]
    assert balanced(figures(session, hid))
    for geom, outcome in releases:
        if not make_activity_unless_apart(
            session,
            settings_,
            actors.admin.principal,
            actors.org_a,
            [hid],
            [release(geom, outcome)],
        ):
            continue
        f = figures(session, hid)
        assert balanced(f), dict(f)
        assert matches_independent(session, hid, f), (
            dict(f),
            independent(session, hid),
        )
        tol = max(0.01, 1e-6 * f["baseline_area_m2"])
        assert f["remaining_area_m2"] <= previous + tol
        previous = f["remaining_area_m2"]


@SETTINGS
@given(
    hazard=polygons(),
    releases=st.lists(st.tuples(polygons(), OUTCOMES), min_size=2, max_size=4),
)
def test_order_of_releases_does_not_change_totals(
    session, settings_, actors, hazard, releases
):
    totals = []
    for ordering in (releases, list(reversed(releases))):
        hid = make_hazard(
            session, settings_, actors.admin.principal, hazard, actors.org_a
        )
        for geom, outcome in ordering:
            make_activity_unless_apart(
                session,
                settings_,
                actors.admin.principal,
                actors.org_a,
                [hid],
                [release(geom, outcome)],
            )
        totals.append(figures(session, hid))
    first, second = totals
    tol = max(0.01, 1e-6 * first["baseline_area_m2"])
    for key in (
        "cancelled_area_m2",
        "reduced_area_m2",
        "cleared_area_m2",
        "remaining_area_m2",
    ):
        assert abs(first[key] - second[key]) <= tol, key
    assert land_release.recompute(session, None) >= 2


def test_a_release_touching_the_hazard_edge_releases_nothing_more(
    session, settings, actors
):
    """Found by the property above: a release that only touches the hazard's edge makes the
    overlay a GeometryCollection (area and a line); the line has no area, the rest counts."""
    hazard = box(30.0, 50.0, 30.016, 50.016)
    hid = make_hazard(session, settings, actors.admin.principal, hazard, actors.org_a)
    for geom in (box(30.0, 50.0, 30.016, 50.008), box(30.0, 50.016, 30.016, 50.031)):
        make_activity(
            session,
            settings,
            actors.admin.principal,
            actors.org_a,
            [hid],
            [release(geom, "cancelled")],
        )
    f = figures(session, hid)
    assert f["cancelled_area_m2"] == pytest.approx(f["baseline_area_m2"] / 2, rel=1e-3)
    assert matches_independent(session, hid, f), (dict(f), independent(session, hid))

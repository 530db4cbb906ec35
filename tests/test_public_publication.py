"""Publishing the public layer: the record, the generalisation, what is kept and withheld.

Hazards are drawn near 50°N, 24°E (no other test draws there).
"""

import pytest
from geoalchemy2.shape import to_shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import Point, Polygon, box, shape
from sqlalchemy import select, text

from api.db.models import EOFind, PublicCount, PublicHazard, PublicReleased
from api.schemas.public import Publication
from api.services import public
from tests.factories import make_activity, make_admin_area, make_hazard, release
from tests.helpers import assert_problem

LON, LAT = 24.0, 50.0
GEOD = Geod(ellps="WGS84")


def _publish(session, actors, settings_):
    return public.publish(session, principal=actors.admin.principal, settings=settings_)


def _areas(session, publication_id) -> list[PublicHazard]:
    return list(
        session.scalars(
            select(PublicHazard).where(PublicHazard.publication_id == publication_id)
        )
    )


def test_post_publication_records_who_when_parameters_and_counts(
    client, actors, session, settings
):
    make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        box(LON, LAT, LON + 0.01, LAT + 0.005),
        actors.org_a,
    )
    r = client.post("/api/v1/public/publications", headers=actors.admin.headers)
    assert r.status_code == 201, r.text
    body = r.json()
    Publication.model_validate(body)
    assert r.headers["location"].endswith(body["id"])
    assert body["published_by"] == {
        "id": str(actors.admin.principal.user_id),
        "name": actors.admin.name,
    }
    assert body["published_at"]
    assert body["parameters"] == {
        "buffer_m": 50.0,
        "simplify_tolerance_m": 10.0,
        "min_count": 5,
        "statuses": ["open", "worked_on", "suspended"],
        "growth_min_m2": 10.0,
    }
    counts = body["counts"]
    assert counts["source_hazards"] == 1
    assert counts["hazard_areas"] == 1
    assert counts["new_areas"] == 1
    assert counts["previous_publication"] is None
    assert counts["hazard_area_m2"] > 0.01 * 0.005 * 111_320 * 71_600
    listed = client.get("/api/v1/public/publications", headers=actors.admin.headers)
    assert listed.status_code == 200
    assert listed.json()["items"][0] == body


@pytest.mark.parametrize("who", [None, "coordinator_a", "analyst_a"])
def test_only_admins_publish(client, actors, who):
    headers = getattr(actors, who).headers if who else {}
    r = client.post("/api/v1/public/publications", headers=headers)
    assert_problem(r, 401 if who is None else 403)
    assert_problem(
        client.get("/api/v1/public/publications", headers=headers),
        401 if who is None else 403,
    )


def test_public_areas_union_buffer_and_keep_public_fields_only(
    session, actors, settings
):
    p = actors.coordinator_a.principal
    # two hazards 30 m apart merge into one area; a far one stays apart; a closed one and
    # a retired one are not published
    a = box(LON, LAT, LON + 0.004, LAT + 0.003)
    b = box(LON + 0.0044, LAT, LON + 0.008, LAT + 0.003)  # ~29 m east of a
    far = box(LON + 0.05, LAT, LON + 0.052, LAT + 0.002)
    make_hazard(session, settings, p, a, actors.org_a, classification="SHA")
    make_hazard(
        session,
        settings,
        p,
        b,
        actors.org_a,
        classification="CHA",
        hazard_type="cmr_strike_area",
        status="worked_on",
        date_of_information="2024-07-01",
    )
    make_hazard(session, settings, p, far, actors.org_a, status="suspended")
    done = box(LON + 0.1, LAT, LON + 0.101, LAT + 0.001)
    done_id = make_hazard(session, settings, p, done, actors.org_a)
    make_activity(
        session, settings, p, actors.org_a, [done_id], [release(done, "cleared")]
    )
    record = _publish(session, actors, settings)
    areas = sorted(_areas(session, record["id"]), key=lambda h: -h.area_m2)
    assert len(areas) == 2  # the cleared (closed) hazard is not a warning
    merged, alone = areas
    assert merged.classification == "CHA"  # confirmed if any part is
    assert merged.hazard_type == "mixed"
    assert merged.status == "open"  # open outranks worked_on
    assert str(merged.last_update) == "2024-07-01"
    assert merged.marking == "not_recorded"
    assert set(merged.what_to_do) >= {"en", "uk"}
    assert "101" in merged.what_to_do["en"]
    assert alone.status == "suspended" and alone.hazard_type == "minefield"
    merged_geom = to_shape(merged.geom)
    assert merged_geom.covers(a) and merged_geom.covers(b)
    # buffered outward by at least 50 m: a point 45 m east of b's edge is inside
    east = GEOD.fwd(LON + 0.008, LAT + 0.0015, 90, 45)
    assert merged_geom.covers(Point(east[0], east[1]))
    # and not absurdly: 100 m east is outside (buffer 50 + tolerance 10)
    east = GEOD.fwd(LON + 0.008, LAT + 0.0015, 90, 100)
    assert not merged_geom.covers(Point(east[0], east[1]))
    columns = {c.name for c in PublicHazard.__table__.columns}
    assert columns == {
        "id",
        "publication_id",
        "classification",
        "hazard_type",
        "status",
        "marking",
        "last_update",
        "what_to_do",
        "change",
        "admin_pcodes",
        "area_m2",
        "geom",
    }


def test_generalised_areas_cover_every_source_hazard_with_vertices_dropped(
    session, actors, settings
):
    """A ragged hazard (many vertices): the public area covers it with far fewer."""
    import math

    ring = [
        (
            LON + 0.003 * math.cos(t) * (1 + 0.15 * math.sin(7 * t)),
            LAT + 0.002 * math.sin(t) * (1 + 0.15 * math.cos(5 * t)),
        )
        for t in (i * 2 * math.pi / 240 for i in range(240))
    ]
    ragged = Polygon(ring)
    make_hazard(session, settings, actors.coordinator_a.principal, ragged, actors.org_a)
    record = _publish(session, actors, settings)
    (area,) = _areas(session, record["id"])
    geom = to_shape(area.geom)
    assert geom.covers(ragged)
    covered = session.execute(
        text(
            "SELECT bool_and(ST_Covers(p.geom, h.geom)) FROM public_hazards p, hazards h "
            "WHERE p.publication_id = :id"
        ),
        {"id": record["id"]},
    ).scalar()
    assert covered is True
    vertices = sum(len(g.exterior.coords) for g in geom.geoms)
    assert vertices < 240


coord = st.floats(0.0, 0.02, allow_nan=False, allow_infinity=False)


@st.composite
def hazard_shapes(draw):
    """A box, a triangle, a polygon with a hole, or a point (uxo_spot), near 50°N."""
    kind = draw(st.sampled_from(["box", "triangle", "holed", "thin", "point"]))
    x, y = LON + 0.2 + draw(coord), LAT + draw(coord)
    w = draw(st.floats(0.0002, 0.02))
    h = draw(st.floats(0.0002, 0.02))
    if kind == "point":
        return Point(x, y)
    if kind == "box":
        return box(x, y, x + w, y + h)
    if kind == "thin":
        return box(x, y, x + w, y + 0.00005)  # about 5 m wide
    if kind == "triangle":
        return Polygon([(x, y), (x + w, y + h / 3), (x + w / 3, y + h)])
    return Polygon(
        box(x, y, x + w, y + h).exterior.coords,
        [box(x + w / 4, y + h / 4, x + 3 * w / 4, y + 3 * h / 4).exterior.coords],
    )


@pytest.mark.slow
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shapes=st.lists(hazard_shapes(), min_size=1, max_size=4))
def test_property_no_point_of_a_source_hazard_lies_outside_the_public_layer(
    session, actors, settings_, shapes
):
    ids = []
    for geom in shapes:
        kind = "uxo_spot" if geom.geom_type == "Point" else "minefield"
        ids.append(
            make_hazard(
                session,
                settings_,
                actors.coordinator_a.principal,
                geom,
                actors.org_a,
                hazard_type=kind,
            )
        )
    record = _publish(session, actors, settings_)
    layer = [to_shape(a.geom) for a in _areas(session, record["id"])]
    for geom in shapes:
        # every vertex and an inner point of every source hazard lies in a public area
        points = [Point(c) for c in _coords(geom)] + [geom.representative_point()]
        for pt in points:
            assert any(area.covers(pt) for area in layer), pt.wkt
    # every whole hazard is covered by one area (PostGIS, exact)
    uncovered = session.execute(
        text(
            "SELECT count(*) FROM hazards h WHERE h.id = ANY(:ids) AND NOT EXISTS "
            "(SELECT 1 FROM public_hazards p WHERE p.publication_id = :id "
            "AND ST_Covers(p.geom, h.geom))"
        ),
        {"ids": ids, "id": record["id"]},
    ).scalar()
    assert uncovered == 0
    # and the warning reaches at least the 50 m buffer beyond every vertex
    # (geodesic distance to the public area's outline; 0.5 m for projection round-off)
    nearest_edge = session.execute(
        text(
            "WITH v AS (SELECT (ST_DumpPoints(h.geom)).geom AS g FROM hazards h "
            "WHERE h.id = ANY(:ids)) "
            "SELECT min(ST_Distance(ST_Boundary(p.geom)::geography, v.g::geography)) "
            "FROM v JOIN public_hazards p ON p.publication_id = :id "
            "AND ST_Covers(p.geom, v.g)"
        ),
        {"ids": ids, "id": record["id"]},
    ).scalar()
    assert nearest_edge >= 49.5


def _coords(geom):
    if geom.geom_type == "Point":
        return [(geom.x, geom.y)]
    return list(geom.exterior.coords) + [c for i in geom.interiors for c in i.coords]


def test_released_land_only_from_completed_activities_minus_warnings(
    session, actors, settings
):
    p = actors.coordinator_a.principal
    hazard = box(LON + 0.3, LAT, LON + 0.31, LAT + 0.01)
    hid = make_hazard(session, settings, p, hazard, actors.org_a)
    cleared = box(LON + 0.3, LAT, LON + 0.31, LAT + 0.004)
    make_activity(
        session, settings, p, actors.org_a, [hid], [release(cleared, "cleared")]
    )
    planned = box(LON + 0.3, LAT + 0.006, LON + 0.31, LAT + 0.01)
    make_activity(
        session,
        settings,
        p,
        actors.org_a,
        [hid],
        [release(planned, "reduced")],
        status="ongoing",
        end_date=None,
    )
    record = _publish(session, actors, settings)
    released = list(
        session.scalars(
            select(PublicReleased).where(PublicReleased.publication_id == record["id"])
        )
    )
    assert [r.outcome for r in released] == ["cleared"]
    assert str(released[0].completed_on) == "2024-06-20"
    assert "risk" in released[0].residual_risk["en"]
    assert released[0].residual_risk["uk"]
    # the rest of the hazard is still open: the released polygon never overlaps a warning
    (area,) = _areas(session, record["id"])
    overlap = to_shape(released[0].geom).intersection(to_shape(area.geom)).area
    assert overlap < 1e-12


def test_counts_per_admin_area_never_below_five(client, session, actors, settings):
    p = actors.coordinator_a.principal
    big = box(LON + 0.4, LAT, LON + 0.5, LAT + 0.1)
    small = box(LON + 0.5, LAT, LON + 0.6, LAT + 0.1)
    make_admin_area(session, "PX01", big, 1)
    make_admin_area(session, "PX02", small, 1)
    hid = make_hazard(
        session,
        settings,
        p,
        box(LON + 0.45, LAT + 0.05, LON + 0.46, LAT + 0.06),
        actors.org_a,
    )
    for i in range(6):
        session.add(_find(actors, hid, LON + 0.401 + i * 0.001, LAT + 0.001))
    for i in range(4):
        session.add(_find(actors, hid, LON + 0.501 + i * 0.001, LAT + 0.001))
    session.flush()
    record = _publish(session, actors, settings)
    rows = list(
        session.scalars(
            select(PublicCount).where(PublicCount.publication_id == record["id"])
        )
    )
    assert [(r.kind, r.admin_pcode, r.count) for r in rows] == [("eo_finds", "PX01", 6)]
    assert record["counts"]["count_areas"] == 1
    assert record["counts"]["count_areas_withheld"] == 1
    published = client.get("/api/v1/public/counts").json()
    assert published["items"] == [
        {
            "kind": "eo_finds",
            "admin_pcode": "PX01",
            "admin_name": "Area PX01",
            "admin_level": 1,
            "count": 6,
        }
    ]
    # the database refuses a count below five whatever writes it
    with pytest.raises(Exception, match="count_at_least_5"), session.begin_nested():
        session.add(
            PublicCount(
                publication_id=record["id"],
                kind="accidents",
                admin_pcode="PX02",
                admin_name="x",
                admin_level=1,
                count=4,
            )
        )
        session.flush()


def _find(actors, hazard_id, lon, lat) -> EOFind:
    from geoalchemy2.shape import from_shape

    organisation_id = actors.coordinator_a.principal.organisation_id
    return EOFind(
        organisation_id=organisation_id,
        hazard_id=hazard_id,
        eo_category="uxo",
        geom=from_shape(Point(lon, lat), srid=4326),
    )


def test_change_against_the_previous_publication(session, actors, settings):
    p = actors.coordinator_a.principal
    first = box(LON + 0.7, LAT, LON + 0.71, LAT + 0.01)
    make_hazard(session, settings, p, first, actors.org_a, external_id="G-1")
    one = _publish(session, actors, settings)
    assert [a.change for a in _areas(session, one["id"])] == ["new"]
    two = _publish(session, actors, settings)
    assert [a.change for a in _areas(session, two["id"])] == ["unchanged"]
    assert two["counts"]["previous_publication"] == one["id"]
    make_hazard(
        session,
        settings,
        p,
        box(LON + 0.7, LAT, LON + 0.72, LAT + 0.01),
        actors.org_a,
        external_id="G-1",
        date_of_information="2024-08-01",
    )
    three = _publish(session, actors, settings)
    assert [a.change for a in _areas(session, three["id"])] == ["grown"]
    assert three["counts"]["grown_areas"] == 1


def test_public_hazards_geojson(client, actors, session, settings):
    empty = client.get("/api/v1/public/hazards")
    assert empty.status_code == 200
    assert empty.json()["features"] == [] and empty.json()["publication"] is None
    make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        box(LON + 0.8, LAT, LON + 0.81, LAT + 0.01),
        actors.org_a,
        classification="CHA",
    )
    _publish(session, actors, settings)
    r = client.get("/api/v1/public/hazards", headers={"Accept-Language": "uk"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    assert r.headers["cache-control"] == "public, max-age=60"
    (feature,) = r.json()["features"]
    props = feature["properties"]
    assert set(props) == {
        "id",
        "classification",
        "classification_label",
        "hazard_type",
        "hazard_type_label",
        "status",
        "status_label",
        "marking",
        "marking_label",
        "last_update",
        "what_to_do",
        "area_m2",
        "admin",
    }
    assert props["classification"] == "CHA"
    assert props["what_to_do"].startswith("Не заходьте")
    assert shape(feature["geometry"]).covers(
        box(LON + 0.8, LAT, LON + 0.81, LAT + 0.01)
    )

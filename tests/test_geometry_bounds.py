"""Bounded geometry work: edges read the long way round the globe, implausible hazard areas,
and the cost of measuring any stored geometry (legacy rows included).

Each test here failed before the bounds: the 34-vertex zigzag was densified to 57 million
positions (gigabytes, minutes), a one-degree square across the antimeridian was stored as a
4.3 million km² hazard, and a few such rows, even retired, made the burn-down run into the
statement timeout.
"""

import importlib.util
import os
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, box, mapping
from sqlalchemy import text

from api.services import hazards
from api.spatial.intake import (
    MAX_DENSIFIED_POINTS,
    NO_PROGRAMME_MAX_AREA_M2,
    ellipsoidal_area_m2,
    ellipsoidal_areas,
)
from tests.factories import hazard_feature, make_activity, make_hazard, release
from tests.helpers import run_import
from tests.ingest import files as F

MB = 1024 * 1024
# a one-degree square across the antimeridian, written with its edges the long way round
LONG_WAY_SQUARE = box(-179.5, 10.0, 179.5, 11.0)


def zigzag(lon: float = 170.0, n: int = 34) -> Polygon:
    """``n`` vertices alternating between -lon and +lon at increasing latitudes (1 KB)."""
    coords = [
        ((-lon if i % 2 == 0 else lon), -60.0 + 120.0 * i / (n - 2))
        for i in range(n - 1)
    ]
    return Polygon([*coords, coords[0]])


def _rss() -> int:
    return psutil.Process(os.getpid()).memory_info().rss


def _post(client, actors, geometry):
    return client.post(
        "/api/v1/hazards",
        json=hazard_feature(geometry, actors.org_a),
        headers=actors.coordinator_a.headers,
    )


def _problem(r, status: int = 422) -> dict:
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()


# ------------------------------------------------------------------------------ reproduction 1


def test_zigzag_across_the_globe_is_refused_fast_and_small(client, actors):
    geom = zigzag(170.0)
    assert len(geom.exterior.coords) == 34
    rss, start = _rss(), time.perf_counter()
    body = _problem(_post(client, actors, geom))
    elapsed, grown = time.perf_counter() - start, _rss() - rss
    assert elapsed < 2.0, elapsed
    assert grown < 200 * MB, grown / MB
    first = body["errors"][0]
    # the geometry and the edge are named: /geometry/coordinates/<ring>/<position>
    assert first["pointer"] == "/geometry/coordinates/0/1"
    assert "340° of longitude" in first["message"]
    assert "long way round the globe" in first["message"]
    assert "antimeridian" in first["message"]


def test_zigzag_of_edges_under_180_degrees_is_measured_in_bounded_work(client, actors):
    """Edges of 170° are not read the long way round, but each is 850,000 steps of 0.0002°:
    the measure adds at most MAX_DENSIFIED_POINTS positions, then the area is implausible."""
    geom = zigzag(85.0)
    rss, start = _rss(), time.perf_counter()
    body = _problem(_post(client, actors, geom))
    elapsed, grown = time.perf_counter() - start, _rss() - rss
    assert elapsed < 2.0, elapsed
    assert grown < 200 * MB, grown / MB
    assert body["errors"][0]["pointer"].startswith("/geometry")
    assert "more than the 1,000 km² accepted for a hazard" in body["detail"]


def test_zigzag_through_an_import_dry_run_is_refused_fast(client, session, actors):
    feats = [
        F.feature(zigzag(170.0), F.hazard_props(900, actors.org_a)),
        F.feature(zigzag(85.0), F.hazard_props(901, actors.org_a)),
        F.feature(box(30.5, 50.5, 30.51, 50.51), F.hazard_props(902, actors.org_a)),
    ]
    rss, start = _rss(), time.perf_counter()
    rep = run_import(
        client,
        actors.coordinator_a,
        "zigzag.geojson",
        F.geojson_bytes(feats),
        mode="dry_run",
    )
    elapsed, grown = time.perf_counter() - start, _rss() - rss
    assert elapsed < 4.0, elapsed
    assert grown < 200 * MB, grown / MB
    assert rep["counts"]["rejected"] == 2 and rep["counts"]["created"] == 1, rep
    by_row = {e["row"]: e["message"] for e in rep["errors"]}
    assert "long way round the globe" in by_row[1]
    assert "accepted for a hazard" in by_row[2]


def test_measure_adds_a_bounded_number_of_positions():
    geom = zigzag(85.0)
    step = max(0.0002, geom.length / MAX_DENSIFIED_POINTS)
    dense = shapely.segmentize(geom, step)
    assert shapely.get_num_coordinates(dense) <= MAX_DENSIFIED_POINTS + 2 * 34
    start = time.perf_counter()
    area = ellipsoidal_area_m2(geom)
    assert time.perf_counter() - start < 0.5
    assert area > NO_PROGRAMME_MAX_AREA_M2
    assert ellipsoidal_areas([geom])[0] == pytest.approx(area, rel=1e-12)


def test_python_and_postgis_measures_agree_small_and_large(session):
    small = Polygon([(30.5, 50.5), (30.52, 50.51), (30.51, 50.53)])
    # perimeter over 0.4°: measured in steps longer than 0.0002° (the same in both)
    large = Polygon([(20.0, 10.0), (23.0, 11.0), (21.0, 14.5)])
    for geom in (small, large, zigzag(85.0)):
        sql = session.execute(
            text("SELECT sg_area_m2(ST_GeomFromText(:w, 4326))"), {"w": geom.wkt}
        ).scalar_one()
        assert sql == pytest.approx(ellipsoidal_area_m2(geom), rel=1e-9)
    # the longer step changes the figure by less than 1e-9 relative for a one-degree hazard
    # (under 5 m² of 9,000 km²), by less than 1e-7 for an implausibly large geometry
    to_6933 = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)
    one_degree = Polygon([(30.0, 49.0), (31.0, 49.5), (30.5, 50.5), (29.6, 50.0)])
    for geom, rel in ((one_degree, 1e-9), (large, 1e-7)):
        fine = shapely.transform(
            shapely.segmentize(geom, 0.0002),
            lambda xy: np.column_stack(to_6933.transform(xy[:, 0], xy[:, 1])),
        ).area
        assert ellipsoidal_area_m2(geom) == pytest.approx(fine, rel=rel)


# ------------------------------------------------------------------------------ reproduction 2


def test_square_written_across_the_antimeridian_the_long_way_is_refused(client, actors):
    body = _problem(_post(client, actors, LONG_WAY_SQUARE))
    first = body["errors"][0]
    assert first["pointer"].startswith("/geometry/coordinates/0/")
    assert "359° of longitude" in first["message"]
    assert "split" in first["message"] and "±180°" in first["message"]


def test_square_split_at_the_antimeridian_is_accepted(client, actors):
    """The same kind of rectangle, 0.2° by 0.1°, written as RFC 7946 asks: split at ±180°."""
    split = MultiPolygon(
        [box(179.9, 10.0, 180.0, 10.1), box(-180.0, 10.0, -179.9, 10.1)]
    )
    r = _post(client, actors, split)
    assert r.status_code == 201, r.text[:500]
    area = r.json()["properties"]["area_m2"]
    assert area == pytest.approx(ellipsoidal_area_m2(split), rel=1e-9)
    assert 235e6 < area < 250e6  # about 242 km², not millions


def test_hazard_larger_than_the_bound_is_refused_but_smaller_accepted(client, actors):
    # no admin areas are loaded here: the bound is 1,000 km²
    body = _problem(_post(client, actors, box(30.0, 0.0, 31.0, 1.0)))  # ~12,300 km²
    assert "12,3" in body["detail"] and "1,000 km²" in body["detail"]
    assert body["errors"][0]["pointer"] == "/geometry"
    r = _post(client, actors, box(30.0, 0.0, 30.25, 0.25))  # ~770 km²
    assert r.status_code == 201, r.text[:300]


def test_patch_to_a_long_way_geometry_is_refused(client, actors):
    created = _post(client, actors, box(30.5, 50.5, 30.51, 50.51))
    assert created.status_code == 201
    hid = created.json()["id"]
    r = client.patch(
        f"/api/v1/hazards/{hid}",
        json={"geometry": mapping(LONG_WAY_SQUARE), "properties": {}},
        headers={**actors.coordinator_a.headers, "If-Match": created.headers["ETag"]},
    )
    body = _problem(r)
    assert "long way round the globe" in body["errors"][0]["message"]


def _legacy_rows(session, settings, actors, n: int = 3) -> list:
    """Hazards stored the long way round before the intake refused them, then retired:
    geometries written straight in SQL, as legacy data would be."""
    ids = []
    for i in range(n):
        hid = make_hazard(
            session,
            settings,
            actors.coordinator_a.principal,
            box(30.5 + i * 0.01, 50.5, 30.505 + i * 0.01, 50.505),
            actors.org_a,
            date_of_information="2024-03-01",
        )
        ids.append(hid)
        geom = box(-179.5 + i * 0.1, 10.0 + i, 179.5 - i * 0.1, 11.0 + i)
        params = {"h": hid, "w": MultiPolygon([geom]).wkt}
        session.execute(
            text(
                "UPDATE hazards SET geom = ST_GeomFromText(:w, 4326), "
                "area_m2 = sg_area_m2(ST_GeomFromText(:w, 4326)) WHERE id = :h"
            ),
            params,
        )
        session.execute(
            text(
                "UPDATE hazard_states SET geom = ST_GeomFromText(:w, 4326) WHERE hazard_id = :h"
            ),
            params,
        )
        hazards.retire_hazard(
            session,
            hazard_id=hid,
            principal=actors.coordinator_a.principal,
            if_match='"1"',
            reason="data error",
        )
        # the retirement's flush wrote the hazard's geometry held in memory back: the
        # legacy geometry again, on the row and its states
        session.execute(
            text("UPDATE hazards SET geom = ST_GeomFromText(:w, 4326) WHERE id = :h"),
            params,
        )
        session.execute(
            text(
                "UPDATE hazard_states SET geom = ST_GeomFromText(:w, 4326) WHERE hazard_id = :h"
            ),
            params,
        )
    return ids


def _demo_sized(session, settings, actors, n: int = 40) -> None:
    """Live hazards of the demo's size (up to 0.6 km²), some with releases."""
    for i in range(n):
        x, y = 30.0 + (i % 8) * 0.02, 50.0 + (i // 8) * 0.02
        hid = make_hazard(
            session,
            settings,
            actors.coordinator_a.principal,
            box(x, y, x + 0.008, y + 0.006),
            actors.org_a,
            date_of_information="2024-02-01",
        )
        if i % 3 == 0:
            make_activity(
                session,
                settings,
                actors.coordinator_a.principal,
                actors.org_a,
                [hid],
                [release(box(x, y, x + 0.004, y + 0.006), "cleared", "2024-06-20")],
            )


def test_burndown_and_as_of_summary_with_legacy_antimeridian_rows_are_fast(
    client, session, settings, actors
):
    _demo_sized(session, settings, actors)
    _legacy_rows(session, settings, actors)
    # the planner sees these rows as autovacuum would show them in production, not whatever
    # statistics earlier tests' rolled-back rows left on the shared test database
    session.execute(
        text(
            "ANALYZE hazards, hazard_versions, hazard_states, activities, "
            "activity_hazards, release_polygons"
        )
    )
    headers = actors.analyst_a.headers
    start = time.perf_counter()
    r = client.get(
        "/api/v1/land-release/burndown",
        params={"from": "2024-01", "to": "2025-12"},
        headers=headers,
    )
    elapsed = time.perf_counter() - start
    assert r.status_code == 200, r.text[:300]
    assert elapsed < 1.0, elapsed
    points = r.json()["series"][0]["points"]
    assert len(points) == 24
    # the legacy rows count while they were live (as they were stored), the arithmetic holds
    may = next(p for p in points if p["date"] == "2024-05-31")
    assert may["hazard_count"] == 43
    assert may["baseline_area_m2"] > 1e12
    assert may["released_area_m2"] + may["remaining_area_m2"] == pytest.approx(
        may["baseline_area_m2"], rel=1e-9
    )
    start = time.perf_counter()
    s = client.get(
        "/api/v1/land-release/summary",
        params={"group_by": "organisation", "as_of": "2024-12-31"},
        headers=headers,
    )
    elapsed = time.perf_counter() - start
    assert s.status_code == 200, s.text[:300]
    assert elapsed < 1.0, elapsed
    assert s.json()["totals"]["hazard_count"] == 43


def test_sg_area_m2_of_a_long_way_row_is_bounded(session):
    start = time.perf_counter()
    area = session.execute(
        text("SELECT sg_area_m2(ST_GeomFromText(:w, 4326))"), {"w": zigzag(170.0).wkt}
    ).scalar_one()
    assert time.perf_counter() - start < 0.5
    assert area > 0


@pytest.mark.slow
def test_migration_0016_flags_legacy_rows_and_keeps_them(session, settings, actors):
    legacy = _legacy_rows(session, settings, actors, n=2)
    normal = make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        box(30.7, 50.7, 30.71, 50.71),
        actors.org_a,
    )
    before = {
        h: session.execute(
            text("SELECT ST_AsText(geom) FROM hazards WHERE id = :h"), {"h": h}
        ).scalar_one()
        for h in legacy
    }
    path = (
        Path(__file__).parent.parent
        / "migrations/versions/0016_bounded_areas_and_implausible_geometries.py"
    )
    spec = importlib.util.spec_from_file_location("migration_0016", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    session.execute(text(migration.FLAG_IMPLAUSIBLE))
    rows = session.execute(
        text(
            "SELECT entity_id, after FROM audit_log "
            "WHERE action = 'geometry_flagged' AND actor = 'migration 0016'"
        )
    ).all()
    flagged = {r.entity_id: r.after for r in rows}
    assert set(flagged) >= {str(h) for h in legacy}
    assert str(normal) not in flagged
    for h in legacy:
        after = flagged[str(h)]
        assert after["reason"] == ["long_way_edge", "implausible_area"]
        assert after["retired"] is True and after["max_edge_span_deg"] > 358
    # kept unchanged: not deleted, not moved
    for h, wkt in before.items():
        assert (
            session.execute(
                text("SELECT ST_AsText(geom) FROM hazards WHERE id = :h"), {"h": h}
            ).scalar_one()
            == wkt
        )


@pytest.mark.parametrize(
    ("geometry", "expected"),
    [
        (LONG_WAY_SQUARE, "long way round the globe"),
        (box(30.0, 0.0, 31.0, 1.0), "more than the 1,000 km² accepted for a hazard"),
    ],
)
def test_hazard_report_with_an_implausible_geometry_is_refused(
    client, actors, geometry, expected
):
    body = {
        "type": "Feature",
        "geometry": mapping(geometry),
        "properties": {
            "source": "hotline",
            "reported_on": "2024-05-17",
            "description": "metal object at the edge of the field",
            "contamination": ["ap_mine"],
        },
    }
    r = client.post("/api/v1/hazard-reports", json=body, headers=actors.eore_a.headers)
    problem = _problem(r)
    assert problem["errors"][0]["pointer"].startswith("/geometry")
    assert expected in problem["errors"][0]["message"]

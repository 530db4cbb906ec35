"""The fictional demo programme: loaded once into its own database, then inspected.

The load commits real data, so it runs in a throwaway database of its own rather than in
the rolled-back ``session`` of the other tests.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import shapely
from pydantic import SecretStr
from shapely.geometry import MultiPolygon
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from api.db import migrate
from api.errors import Conflict
from api.schemas.organisations import OrganisationCreate
from api.services import auth, demo, organisations
from api.settings import Settings
from api.vocab import ActivityType, OrganisationType
from tests.helpers import throwaway_database

SEED = demo.DEFAULT_SEED


@dataclass
class Loaded:
    engine: Engine
    settings: Settings
    report: str


@pytest.fixture(scope="module")
def loaded() -> Iterator[Loaded]:
    with throwaway_database("sg_demo") as url:
        migrate.upgrade(url)
        settings = Settings(database_url=url, env="test")
        engine = create_engine(settings.database_url)
        try:
            with Session(engine) as session:
                report = demo.load(session, seed=SEED, settings=settings)
            yield Loaded(engine, settings, report)
        finally:
            engine.dispose()


def rows(loaded: Loaded, sql: str, **params) -> list:
    with loaded.engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def scalar(loaded: Loaded, sql: str, **params):
    with loaded.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def grouped(loaded: Loaded, sql: str) -> dict:
    return dict(rows(loaded, sql))


def test_report_gives_counts_and_credentials(loaded):
    report = loaded.report
    assert "3 organisations" in report
    assert "150 activities" in report
    assert "500 EO finds" in report
    assert "demo-admin" in report and "demo-coordinator" in report
    assert "demo-eore" in report
    assert "demo-password" in report
    assert "\n" not in report


def test_counts(loaded):
    assert scalar(loaded, "SELECT count(*) FROM organisations WHERE is_demo") == 3
    classes = grouped(loaded, "SELECT classification, count(*) FROM hazards GROUP BY 1")
    assert sum(classes.values()) >= 300
    assert classes.get("SHA", 0) > 0 and classes.get("CHA", 0) > 0
    assert scalar(loaded, "SELECT count(DISTINCT hazard_type) FROM hazards") >= 5
    types = grouped(loaded, "SELECT activity_type, count(*) FROM activities GROUP BY 1")
    assert sum(types.values()) == 150
    assert set(types) == {t.value for t in ActivityType}
    outcomes = grouped(
        loaded, "SELECT outcome, count(*) FROM release_polygons GROUP BY 1"
    )
    assert {"cancelled", "reduced", "cleared"} <= set(outcomes)
    statuses = grouped(loaded, "SELECT status, count(*) FROM activities GROUP BY 1")
    assert set(statuses) == {
        "planned",
        "ongoing",
        "suspended",
        "completed",
        "cancelled",
    }
    assert scalar(loaded, "SELECT count(*) FROM eo_finds") == 500
    assert scalar(loaded, "SELECT count(*) FROM users WHERE is_demo") == 3


def test_admin_areas_form_two_levels(loaded):
    levels = grouped(loaded, "SELECT level, count(*) FROM admin_areas GROUP BY 1")
    assert set(levels) == {1, 2}
    assert levels[1] >= 3
    assert 3 * levels[1] <= levels[2] <= 6 * levels[1]
    orphans = scalar(
        loaded,
        """
        SELECT count(*) FROM admin_areas c
        WHERE c.level = 2 AND NOT EXISTS (
            SELECT 1 FROM admin_areas p
            WHERE p.pcode = c.parent_pcode AND p.level = 1)""",
    )
    assert orphans == 0
    assert scalar(loaded, "SELECT bool_and(pcode LIKE 'ZZ%') FROM admin_areas")
    # The districts tile their provinces: same total area, no overlap between siblings.
    by_level = grouped(
        loaded, "SELECT level, sum(sg_area_m2(geom)) FROM admin_areas GROUP BY 1"
    )
    assert by_level[2] == pytest.approx(by_level[1], rel=1e-9)


def test_every_record_is_flagged_and_named_demo(loaded):
    for table in (
        "organisations",
        "hazards",
        "activities",
        "eo_finds",
        "admin_areas",
        "users",
    ):
        assert scalar(loaded, f"SELECT bool_and(is_demo) FROM {table}"), table
    assert scalar(loaded, "SELECT bool_and(name ILIKE '%demo%') FROM hazards")
    assert scalar(loaded, "SELECT bool_and(name LIKE 'Demo %') FROM organisations")
    assert scalar(loaded, "SELECT bool_and(name LIKE 'Demo %') FROM admin_areas")
    assert scalar(loaded, "SELECT bool_and(external_id LIKE 'DEMO-HA-%') FROM hazards")
    assert scalar(
        loaded, "SELECT bool_and(external_id LIKE 'DEMO-AC-%') FROM activities"
    )


def test_hazard_areas_are_in_range(loaded):
    low, high, points = rows(
        loaded,
        """
        SELECT min(area_m2) FILTER (WHERE GeometryType(geom) <> 'POINT'),
               max(area_m2) FILTER (WHERE GeometryType(geom) <> 'POINT'),
               count(*) FILTER (WHERE GeometryType(geom) = 'POINT')
        FROM hazards""",
    )[0]
    assert low >= 2_000
    assert high <= 600_000
    assert points > 0  # some UXO/AXO spots are recorded as points
    point_types = rows(
        loaded,
        """
        SELECT DISTINCT hazard_type FROM hazards WHERE GeometryType(geom) = 'POINT'""",
    )
    assert {t for (t,) in point_types} <= {"uxo_spot", "axo_site"}


def test_some_hazards_overlap(loaded):
    assert (
        scalar(
            loaded,
            """
        SELECT count(*) FROM hazards a JOIN hazards b
          ON a.id < b.id AND ST_Intersects(a.geom, b.geom)
         AND ST_Area(ST_Intersection(a.geom, b.geom)) > 0""",
        )
        >= 1
    )


def test_statuses_follow_the_work(loaded):
    statuses = grouped(loaded, "SELECT status, count(*) FROM hazards GROUP BY 1")
    assert statuses.get("closed", 0) >= 1
    assert statuses.get("worked_on", 0) >= 1
    assert statuses.get("open", 0) >= 1


def test_land_release_balances(loaded):
    unbalanced = rows(
        loaded,
        """
        SELECT hazard_id, baseline_area_m2, released_area_m2, remaining_area_m2
        FROM hazard_land_release
        WHERE abs(released_area_m2 + remaining_area_m2 - baseline_area_m2)
              > greatest(0.01, 1e-6 * baseline_area_m2)""",
    )
    assert unbalanced == []
    assert scalar(loaded, "SELECT count(*) FROM hazard_land_release") == scalar(
        loaded, "SELECT count(*) FROM hazards"
    )


def test_some_releases_expand_the_boundary(loaded):
    assert (
        scalar(
            loaded,
            """
        SELECT count(*) FROM release_polygons r JOIN hazards h ON h.id = r.hazard_id
        WHERE GeometryType(h.geom) <> 'POINT' AND r.outside_area_m2 > 1""",
        )
        >= 1
    )


def test_hazards_are_assigned_to_admin_areas(loaded):
    total, assigned, primary = rows(
        loaded,
        """
        SELECT count(*), count(*) FILTER (WHERE admin_pcodes <> '{}'),
               count(*) FILTER (WHERE admin_primary ? '2')
        FROM hazards""",
    )[0]
    assert assigned >= 0.95 * total
    assert primary >= 0.95 * total


def test_history_keeps_a_superseded_report(loaded):
    assert (
        scalar(loaded, "SELECT count(*) FROM hazard_versions WHERE superseded <> '[]'")
        >= 1
    )
    assert (
        scalar(loaded, "SELECT count(*) FROM hazard_versions WHERE kind = 'update'") > 0
    )


def test_geometries_needed_no_repair(loaded):
    # the gate's flags (a few demo hazards lie inside others: possible duplicates) are
    # not repairs
    repaired = """SELECT count(*) FROM hazard_versions, jsonb_array_elements_text(warnings) w
                  WHERE w NOT LIKE 'possible duplicate:%'"""
    assert scalar(loaded, repaired) == 0
    assert (
        scalar(loaded, "SELECT count(*) FROM release_polygons WHERE warnings <> '[]'")
        == 0
    )


def test_finds_lie_at_their_hazards(loaded):
    assert (
        scalar(
            loaded,
            """
        SELECT count(*) FROM eo_finds f JOIN hazards h ON h.id = f.hazard_id
        WHERE NOT ST_DWithin(h.geom::geography, f.geom::geography, 100)""",
        )
        == 0
    )
    assert scalar(loaded, "SELECT count(*) FROM eo_finds WHERE hazard_id IS NULL") == 0
    # categories match what the hazard is suspected or known to hold
    assert (
        scalar(
            loaded,
            """
        SELECT count(*) FROM eo_finds f JOIN hazards h ON h.id = f.hazard_id
        WHERE NOT f.eo_category = ANY(h.contamination)""",
        )
        == 0
    )


def test_same_seed_same_programme(loaded):
    first, again = demo.build(SEED), demo.build(SEED)
    assert first.fingerprint() == again.fingerprint()
    assert demo.build(SEED + 1).fingerprint() != first.fingerprint()
    # What is stored is exactly what was planned, so a second load would store the same.
    stored = {
        ext: shapely.from_wkb(bytes(wkb))
        for ext, wkb in rows(
            loaded, "SELECT external_id, ST_AsBinary(geom) FROM hazards"
        )
    }
    assert set(stored) == {h.external_id for h in first.hazards}
    for hazard in first.hazards:
        planned = hazard.geom
        if planned.geom_type == "Polygon":
            planned = MultiPolygon([planned])
        assert stored[hazard.external_id].equals_exact(planned, 0), hazard.external_id


def test_demo_users_can_sign_in(loaded):
    with Session(loaded.engine) as session:
        user = auth.authenticate(session, "demo-coordinator", demo.DEMO_PASSWORD)
        assert user is not None and user.role == "coordinator"
        assert auth.authenticate(session, "demo-admin", demo.DEMO_PASSWORD) is not None


def test_if_empty_loads_nothing_into_a_loaded_database(loaded):
    before = scalar(loaded, "SELECT count(*) FROM hazards")
    with Session(loaded.engine) as session:
        report = demo.load(session, if_empty=True, settings=loaded.settings)
    assert report.startswith("Nothing loaded")
    assert scalar(loaded, "SELECT count(*) FROM hazards") == before


def test_second_load_is_refused(loaded):
    with Session(loaded.engine) as session, pytest.raises(Conflict, match="already"):
        demo.load(session, settings=loaded.settings)
    assert scalar(loaded, "SELECT count(*) FROM organisations") == 3


@pytest.fixture
def empty() -> Iterator[tuple[Engine, Settings]]:
    with throwaway_database("sg_demo_empty") as url:
        migrate.upgrade(url)
        settings = Settings(database_url=url, env="test")
        engine = create_engine(settings.database_url)
        try:
            yield engine, settings
        finally:
            engine.dispose()


def test_a_failed_load_leaves_nothing(empty, monkeypatch):
    engine, settings = empty
    create_hazard = demo.hazards.create_hazard
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("disk full")
        return create_hazard(*args, **kwargs)

    monkeypatch.setattr(demo.hazards, "create_hazard", failing)
    with Session(engine) as session, pytest.raises(RuntimeError, match="disk full"):
        demo.load(session, settings=settings)
    with engine.connect() as conn:
        for table in ("organisations", "admin_areas", "hazards"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0


def test_load_is_refused_in_prod(empty):
    """The demo's accounts have a published password: never in a production database."""
    engine, settings = empty
    prod = settings.model_copy(
        update={"env": "prod", "secret_key": SecretStr("prod-secret-" + "x" * 30)}
    )
    for if_empty in (False, True):
        with Session(engine) as session, pytest.raises(Conflict, match="prod"):
            demo.load(session, if_empty=if_empty, settings=prod)
    with engine.connect() as conn:
        for table in ("users", "organisations", "hazards"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0


def test_refuses_to_mix_with_real_data(empty):
    engine, settings = empty
    with Session(engine) as session:
        organisations.create(
            session,
            data=OrganisationCreate(
                code="REAL", name="A real operator", type=OrganisationType.other
            ),
        )
        with pytest.raises(Conflict, match="real data"):
            demo.load(session, settings=settings)
        report = demo.load(session, if_empty=True, settings=settings)
    assert report.startswith("Nothing loaded")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM organisations")).scalar() == 1


def test_the_public_map_has_a_first_publication(loaded):
    """`make run` opens a public map with something on it: the demo publishes once."""
    assert "first publication of the public layer" in loaded.report
    (author, areas) = rows(
        loaded,
        "SELECT published_by_name, (SELECT count(*) FROM public_hazards h "
        "WHERE h.publication_id = p.id) FROM public_publications p",
    )[0]
    assert author == "demo-admin" and areas > 0

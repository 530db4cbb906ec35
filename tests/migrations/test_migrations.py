"""Schema through Alembic only: up, down to base, up again; models and migrations agree."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from api.db import migrate
from api.db.base import Base
from api.db.migrate import include_object
from api.settings import Settings
from tests.helpers import throwaway_database

# slow: migrations on throwaway databases (make test-fast leaves them out)
pytestmark = pytest.mark.slow


def _geometry_columns(conn) -> set[tuple[str, str]]:
    rows = conn.execute(
        text(
            "SELECT f_table_name, f_geometry_column FROM geometry_columns "
            "WHERE f_table_schema = 'public'"
        )
    )
    return {(table, column) for table, column in rows}


@pytest.fixture(scope="module")
def fresh_url():
    with throwaway_database("sg_migr") as url:
        yield url


def _tables(engine) -> set[str]:
    return {
        t
        for t in inspect(engine).get_table_names()
        if t != "spatial_ref_sys" and not t.startswith("procrastinate")
    }


def test_upgrade_downgrade_upgrade(fresh_url):
    engine = create_engine(Settings(database_url=fresh_url).database_url)
    try:
        migrate.upgrade(fresh_url)
        tables = _tables(engine)
        assert {
            "hazards",
            "hazard_versions",
            "hazard_states",
            "hazard_land_release",
            "activities",
            "release_polygons",
            "eo_finds",
            "admin_areas",
            "users",
            "api_keys",
            "organisations",
        } <= tables
        assert "procrastinate_jobs" in inspect(engine).get_table_names()  # job queue
        migrate.downgrade(fresh_url, "base")
        assert _tables(engine) == {"alembic_version"}
        assert not [
            t
            for t in inspect(engine).get_table_names()
            if t.startswith("procrastinate")
        ]
        with engine.connect() as conn:
            assert (
                conn.execute(
                    text("SELECT count(*) FROM pg_proc WHERE proname = 'sg_area_m2'")
                ).scalar()
                == 0
            )
        migrate.upgrade(fresh_url)
        assert _tables(engine) == tables
        with engine.connect() as conn:
            gist = {
                (row.tablename, row.indexdef.split("(")[-1].rstrip(")"))
                for row in conn.execute(
                    text(
                        "SELECT tablename, indexdef FROM pg_indexes WHERE indexdef LIKE '%gist%'"
                    )
                )
            }
            columns = _geometry_columns(conn)
        assert len(columns) >= 8 and ("hazards", "geom") in columns
        assert columns <= gist  # every geometry column has a GiST index
    finally:
        engine.dispose()


def test_models_and_migrations_agree(database_url):
    engine = create_engine(Settings(database_url=database_url).database_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == []

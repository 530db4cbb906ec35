"""safeground backup / restore: a restored database has the same rows and figures."""

from shapely.geometry import box
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.cli import app as cli
from api.db import migrate
from api.settings import Settings, get_settings
from tests.factories import activity_body, make_actors, make_hazard, release
from tests.helpers import throwaway_database

TABLES = ("hazards", "hazard_versions", "hazard_states", "activities", "release_polygons",
          "users", "organisations", "hazard_land_release")  # fmt: skip
FIGURES = (
    "SELECT round(sum(baseline_area_m2)::numeric, 6), round(sum(cleared_area_m2)::numeric, 6), "
    "round(sum(remaining_area_m2)::numeric, 6) FROM hazard_land_release"
)


def _state(url: str) -> dict:
    engine = create_engine(Settings(database_url=url).database_url)
    with engine.connect() as conn:
        out = {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES
        }
        out["figures"] = tuple(conn.execute(text(FIGURES)).one())
        out["revision"] = conn.execute(
            text("SELECT version_num FROM alembic_version")
        ).scalar()
    engine.dispose()
    return out


def _invoke(url: str, *args):
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(
            cli, list(args), env={"SAFEGROUND_DATABASE_URL": url, "DATABASE_URL": url}
        )
    finally:
        get_settings.cache_clear()


def test_backup_restores_into_a_new_database(tmp_path):
    from api.schemas.activities import ActivityCreate
    from api.services import activities

    with throwaway_database("sg_bk_src") as src, throwaway_database("sg_bk_dst") as dst:
        migrate.upgrade(src)
        settings = Settings(database_url=src, env="test", secret_key="b" * 32)
        engine = create_engine(settings.database_url)
        with Session(engine) as s:
            actors = make_actors(s, settings)
            geom = box(30.0, 50.0, 30.01, 50.01)
            hid = make_hazard(
                s, settings, actors.coordinator_a.principal, geom, actors.org_a
            )
            body = activity_body(
                actors.org_a,
                [hid],
                [release(box(30.0, 50.0, 30.005, 50.01), "cleared")],
            )
            activities.create_activity(
                s,
                body=ActivityCreate.model_validate(body),
                principal=actors.coordinator_a.principal,
                settings=settings,
            )
            s.commit()
        engine.dispose()
        before = _state(src)
        dump = tmp_path / "sg.dump"
        res = _invoke(src, "backup", str(dump))
        assert res.exit_code == 0, res.output
        res = _invoke(dst, "restore", str(dump))
        assert res.exit_code == 0, res.output
        assert _state(dst) == before
        assert before["hazards"] >= 1 and before["figures"][1] > 0
        again = _invoke(dst, "restore", str(dump))  # never over existing data
        assert again.exit_code == 1 and "not empty" in again.output

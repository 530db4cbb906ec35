"""Imports through the real job queue and the command line, in their own throwaway database.

These commit for real (a worker is another connection), so they do not use the rolled-back
session of the other tests.
"""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api import jobs
from api.cli import app as cli
from api.db import migrate
from api.db.models import Hazard, Import
from api.services import auth, imports
from api.settings import Settings, get_settings
from tests.helpers import create_import, import_coordinator, throwaway_database
from tests.ingest import files as F


@pytest.fixture(scope="module")
def queue_db():
    with throwaway_database("sg_queue") as url:
        migrate.upgrade(url)
        settings = Settings(
            database_url=url, env="test", secret_key="q" * 32, import_runner="queue"
        )
        engine = create_engine(settings.database_url)
        yield settings, engine
        engine.dispose()


def _setup(engine) -> auth.Principal:
    return import_coordinator(engine, "QORG", "q-coord")


def _queue(settings, engine, principal, data: bytes, name="h.geojson") -> str:
    import_id = create_import(settings, engine, principal, data, name)
    with Session(engine) as s:
        s.get(Import, import_id).job_id = jobs.enqueue_import(s, import_id)
        s.commit()
    return import_id


def _status(engine, import_id):
    with Session(engine) as s:
        return s.get(Import, import_id)


def test_worker_runs_queued_import_and_a_crashed_one_can_run_again(
    queue_db, monkeypatch
):
    settings, engine = queue_db
    # tidy up even after a small load
    monkeypatch.setattr(imports.job, "ANALYZE_AFTER", 1)
    principal = _setup(engine)
    data = F.geojson_bytes(
        [F.feature(F.square(i), F.hazard_props(i, "QORG")) for i in range(4)]
    )
    import_id = _queue(settings, engine, principal, data)
    assert _status(engine, import_id).status == "queued"
    with Session(
        engine
    ) as s:  # the job sits in the database queue, not in this process
        assert (
            s.scalar(
                text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'")
            )
            == 1
        )
    jobs.run_worker(settings, wait=False)
    imp = _status(engine, import_id)
    assert imp.status == "succeeded" and imp.counts["created"] == 4, (
        imp.failure,
        imp.counts,
    )
    with engine.connect() as conn:  # the worker vacuumed and analysed what it loaded
        assert conn.execute(
            text(
                "SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL "
                "FROM pg_stat_user_tables WHERE relname = 'hazards'"
            )
        ).scalar()

    # a worker that dies mid-job leaves the import running with a stale heartbeat
    second = _queue(settings, engine, principal, data)
    with Session(engine) as s:
        s.execute(
            update(Import)
            .where(Import.id == second)
            .values(
                status="running", heartbeat_at=datetime.now(UTC) - timedelta(hours=1)
            )
        )
        s.execute(
            text(
                "UPDATE procrastinate_jobs SET status = 'doing' WHERE args->>'import_id' = :i"
            ),
            {"i": str(second)},
        )
        s.commit()
    jobs.run_worker(settings, wait=False)  # a new worker starts and sweeps
    imp = _status(engine, second)
    assert imp.status == "failed" and "interrupted" in imp.failure
    with Session(engine) as s:  # run it again: safe, nothing is duplicated
        again = imports.prepare_retry(s, second, principal)
        again.job_id = jobs.enqueue_import(s, again.id)
        s.commit()
    jobs.run_worker(settings, wait=False)
    imp = _status(engine, second)
    assert (
        imp.status == "succeeded"
        and imp.counts["unchanged"] == 4
        and imp.counts["created"] == 0
    )
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Hazard)) == 4


def test_reading_an_import_never_writes_the_worker_sweeps_every_minute(queue_db):
    settings, engine = queue_db
    principal = _setup(engine)
    data = F.geojson_bytes([F.feature(F.square(90), F.hazard_props(90, "QORG"))])
    import_id = _queue(settings, engine, principal, data)
    stale = datetime.now(UTC) - timedelta(hours=1)
    with Session(engine) as s:  # its worker died an hour ago
        s.execute(
            update(Import)
            .where(Import.id == import_id)
            .values(status="running", heartbeat_at=stale)
        )
        s.commit()
    with Session(engine) as s:  # GET /imports/{id} reads: the status stays as stored
        assert imports.report(s, import_id, principal)["status"] == "running"
        assert not s.new and not s.dirty
        s.commit()
    assert _status(engine, import_id).status == "running"

    app = jobs.make_app(settings)  # each worker defers the sweep once a minute
    sweep = app.tasks[jobs.SWEEP_TASK]
    periodic = [
        p for p in app.periodic_registry.periodic_tasks.values() if p.task is sweep
    ]
    assert [p.cron for p in periodic] == ["* * * * *"]
    sweep(timestamp=0)  # what the worker runs when the minute comes
    imp = _status(engine, import_id)
    assert imp.status == "failed" and "interrupted" in imp.failure
    with Session(engine) as s:  # leave the queue empty for the next tests
        s.execute(text("DELETE FROM procrastinate_jobs WHERE status = 'todo'"))
        s.commit()


def test_cli_import_dry_run_and_commit(queue_db, tmp_path):
    settings, engine = queue_db
    _setup(engine)
    path = tmp_path / "cli.geojson"
    path.write_bytes(
        F.geojson_bytes(
            [
                F.feature(F.square(200 + i), F.hazard_props(200 + i, "QORG"))
                for i in range(3)
            ]
            + [F.feature(None, F.hazard_props(299, "QORG"))]
        )
    )
    env = {
        "SAFEGROUND_DATABASE_URL": settings.database_url,
        "DATABASE_URL": settings.database_url,
    }
    runner = CliRunner()
    get_settings.cache_clear()
    try:
        report = tmp_path / "r.json"
        res = runner.invoke(
            cli,
            ["import", str(path), "--user", "q-coord", "--report", str(report)],
            env=env,
        )
        assert res.exit_code == 0, res.output
        assert "created 3" in res.output and "row 4" in res.output
        assert json.loads(report.read_text())["mode"] == "dry_run"
        with Session(engine) as s:
            assert (
                s.scalar(
                    select(func.count())
                    .select_from(Hazard)
                    .where(Hazard.external_id.like("IMP-002%"))
                )
                == 0
            )
        get_settings.cache_clear()
        res = runner.invoke(
            cli, ["import", str(path), "--user", "q-coord", "--mode", "commit"], env=env
        )
        assert res.exit_code == 0, res.output
        with Session(engine) as s:
            assert (
                s.scalar(
                    select(func.count())
                    .select_from(Hazard)
                    .where(Hazard.external_id.like("IMP-002%"))
                )
                == 3
            )
        get_settings.cache_clear()
        res = runner.invoke(
            cli,
            ["import", str(path), "--user", "q-coord", "--mode", "commit", "--atomic"],
            env=env,
        )
        assert res.exit_code == 1 and "nothing was written" in res.output
    finally:
        get_settings.cache_clear()


def _format_files(tmp_path) -> dict[str, tuple[str, bytes, list[str]]]:
    """One small file per format and profile: name, bytes and extra CLI options."""
    org = "QORG"
    gdf = F.hazards_gdf(2, org)
    gdf["external_id"] = [f"CLI-{i}" for i in range(2)]
    sq = F.square(500)
    csv = (
        "external_id,classification,hazard_type,organisation,date_of_information,mgrs\n"
        f"CLI-CSV,SHA,uxo_spot,{org},17.05.2024,36UUA1234567890\n"
    )
    kobo = [
        {
            "_uuid": "cli-kobo",
            "g/hazard_type": "minefield",
            "g/classification": "suspected",
            "g/hazard_area": "50.9 30.9 0 5; 50.9 30.901 0 5; 50.901 30.901 0 5; 50.9 30.9 0 5",
        }
    ]
    imsma = [
        F.feature(
            sq,
            {
                "IMSMA_ID": "CLI-IMSMA",
                "Hazard_Type_Status": "Suspected",
                "Organisation_Code": org,
            },
        )
    ]
    osm = [
        F.feature(
            F.square(501),
            {"@id": "way/77", "boundary": "hazard", "hazard": "minefield"},
        )
    ]
    kml = F.kml_bytes(
        [
            (
                "K",
                {
                    "external_id": "CLI-KML",
                    "classification": "SHA",
                    "organisation": org,
                },
                F.kml_polygon(F.square(502)),
            )
        ]
    )
    xlsx = F.xlsx_bytes(
        [
            ["external_id", "classification", "organisation", "wkt"],
            ["CLI-XLSX", "CHA", org, F.square(503).wkt],
        ]
    )
    return {
        "gpkg": ("h.gpkg", F.write_gpkg(tmp_path / "h.gpkg", {"hazards": gdf}), []),
        "shp": ("h.zip", F.shapefile_zip(tmp_path, gdf), []),
        "kml": ("h.kml", kml, []),
        "kmz": ("h.kmz", F.zip_bytes({"doc.kml": kml}), []),
        "csv": ("h.csv", csv.encode(), []),
        "xlsx": ("h.xlsx", xlsx, []),
        "imsma": ("i.geojson", F.geojson_bytes(imsma), ["--profile", "imsma"]),
        "kobo": (
            "k.json",
            json.dumps(kobo).encode(),
            ["--profile", "kobo", "--organisation", "QORG"],
        ),
        "osm": (
            "o.geojson",
            F.geojson_bytes(osm),
            ["--profile", "osm", "--organisation", "QORG"],
        ),
    }


@pytest.mark.parametrize(
    "fmt", ["gpkg", "shp", "kml", "kmz", "csv", "xlsx", "imsma", "kobo", "osm"]
)
def test_cli_imports_every_format_and_profile(queue_db, tmp_path, fmt):
    settings, engine = queue_db
    _setup(engine)
    name, data, options = _format_files(tmp_path)[fmt]
    path = tmp_path / name
    path.write_bytes(data)
    env = {
        "SAFEGROUND_DATABASE_URL": settings.database_url,
        "DATABASE_URL": settings.database_url,
    }
    get_settings.cache_clear()
    try:
        res = CliRunner().invoke(
            cli,
            ["import", str(path), "--user", "q-coord", "--mode", "commit", *options],
            env=env,
        )
    finally:
        get_settings.cache_clear()
    assert res.exit_code == 0, res.output
    counts = {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"(\w+) (\d+)", res.output.split("(", 1)[1])
    }
    assert counts["rejected"] == 0 and counts["read"] >= 1, res.output
    # every row stored, or already stored by an earlier format carrying the same ids
    assert counts["created"] + counts["unchanged"] == counts["read"], res.output

"""Imports through the real job queue and the command line, in their own throwaway database.

These commit for real (a worker is another connection), so they do not use the rolled-back
session of the other tests.
"""

import json
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
from api.vocab import Role
from tests.conftest import throwaway_database
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
    with Session(engine) as s:
        s.execute(
            text(
                "INSERT INTO organisations (code, name, type) VALUES ('QORG', 'Queue org', 'ngo_national') ON CONFLICT DO NOTHING"
            )
        )
        s.commit()
        if s.scalar(text("SELECT count(*) FROM users WHERE username = 'q-coord'")) == 0:
            auth.create_user(
                s,
                username="q-coord",
                password="a long password",
                role=Role.coordinator,
                organisation_code="QORG",
                restricted=False,
            )
            s.commit()
        uid = s.scalar(text("SELECT id FROM users WHERE username = 'q-coord'"))
        return auth.principal_for_import(s, uid, None)


def _queue(settings, engine, principal, data: bytes, name="h.geojson") -> str:
    import io

    with Session(engine) as s:
        imp = imports.create(
            s,
            upload=io.BytesIO(data),
            filename=name,
            kind="hazards",
            profile="native",
            mode="commit",
            atomic=False,
            principal=principal,
            settings=settings,
        )
        imp.job_id = jobs.enqueue_import(s, imp.id)
        s.commit()
        return imp.id


def _status(engine, import_id):
    with Session(engine) as s:
        return s.get(Import, import_id)


def test_worker_runs_queued_import_and_a_crashed_one_can_run_again(queue_db):
    settings, engine = queue_db
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

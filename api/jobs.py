"""Background jobs on a PostgreSQL-backed queue (procrastinate).

Jobs live in the database (``procrastinate_jobs``, installed by migration 0003), so workers can
run as separate processes or on other machines and a queued job survives a restart. A job is
enqueued in the same transaction as the record it works on (``enqueue_import``): either both
exist or neither. ``safeground worker`` runs a worker; ``make run`` starts one beside the server.

A worker that dies mid-job leaves its import ``running`` with a stale heartbeat; every worker
marks such imports failed with the reason (``imports.sweep_interrupted``) when it starts and
then once a minute (a procrastinate periodic task), and ``POST /imports/{id}/retry`` runs it
again. Reading an import never writes.
"""

import asyncio
import json
import logging
import uuid
from collections.abc import Callable

import procrastinate
from procrastinate.jobs import Status
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.settings import Settings, get_settings

logger = logging.getLogger(__name__)

QUEUE = "imports"
IMPORT_TASK = "safeground.run_import"
SWEEP_TASK = "safeground.sweep_interrupted_imports"
SWEEP_CRON = "* * * * *"  # a dead worker's import is failed within 6 minutes


def _conninfo(settings: Settings) -> str:
    return settings.database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def make_app(settings: Settings | None = None) -> procrastinate.App:
    """The procrastinate app with Safeground's tasks, connected to the configured database."""
    from api.ingest import gdalsafe

    gdalsafe.install()  # the worker reads uploads: no network, no VRT for GDAL (readers.py)
    settings = settings or get_settings()
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=_conninfo(settings))
    )

    @app.task(name=IMPORT_TASK, queue=QUEUE)
    def run_import(import_id: str) -> None:
        run_import_now(uuid.UUID(import_id), settings)

    # one sweep per minute across all workers: the periodic defer is deduplicated per minute
    @app.periodic(cron=SWEEP_CRON, periodic_id="interrupted-imports")
    @app.task(name=SWEEP_TASK, queue=QUEUE, queueing_lock=SWEEP_TASK)
    def sweep_interrupted_imports(timestamp: int) -> None:
        sweep_now(settings)

    return app


def sweep_now(settings: Settings) -> int:
    """Mark imports whose worker died as failed, in a transaction of its own."""
    from api.db.engine import make_engine, make_sessionmaker
    from api.services import imports

    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            swept = imports.sweep_interrupted(session)
            session.commit()
    finally:
        engine.dispose()
    if swept:
        logger.warning("marked %d interrupted import(s) as failed", swept)
    return swept


def run_import_now(
    import_id: uuid.UUID,
    settings: Settings,
    on_progress: Callable[[str, int, int | None], None] | None = None,
) -> None:
    """Run one import with its own sessions: one for the data, one for progress
    (``on_progress`` is also told the stage, rows done and rows total)."""
    from api.db.engine import make_engine, make_sessionmaker
    from api.services import imports

    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    try:
        with sessions() as book:
            imports.sweep_interrupted(book)
            book.commit()
            if not imports.start(book, import_id):
                logger.info("import %s is not queued; nothing to do", import_id)
                return
        with sessions() as data, sessions() as book:
            data.execute(text("SET statement_timeout = 0"))
            imports.run(data, book, import_id, settings, on_progress)
    finally:
        engine.dispose()


def enqueue_import(session: Session, import_id: uuid.UUID) -> int:
    """Queue the import's job in the caller's transaction; returns the job id."""
    job = {
        "queue_name": QUEUE,
        "task_name": IMPORT_TASK,
        "priority": 0,
        "lock": f"import:{import_id}",
        "queueing_lock": None,
        "args": json.dumps({"import_id": str(import_id)}),
        "scheduled_at": None,
    }
    return session.execute(
        text(
            "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue_name, :task_name, "
            ":priority, :lock, :queueing_lock, CAST(:args AS jsonb), "
            "CAST(:scheduled_at AS timestamptz))::procrastinate_job_to_defer_v1]))"
        ),
        job,
    ).scalar_one()


def dispatch_import(session: Session, import_id: uuid.UUID, settings: Settings) -> None:
    """Queue a prepared import for a worker, or run it here (``import_runner=inline``).

    The caller's pending changes (the import row) are committed with the job.
    """
    from api.services import imports

    session.flush()
    if settings.import_runner == "queue":
        job_id = enqueue_import(session, import_id)
        session.execute(
            text("UPDATE imports SET job_id = :j WHERE id = :i"),
            {"j": job_id, "i": import_id},
        )
        session.commit()
        return
    session.commit()
    imports.start(session, import_id)
    imports.run(session, session, import_id, settings)


def run_worker(settings: Settings | None = None, *, wait: bool = True) -> None:
    """Run a worker on the imports queue (``wait=False``: process what is queued, then stop)."""
    settings = settings or get_settings()
    sweep_now(settings)
    asyncio.run(_work(make_app(settings), wait))


async def _work(app: procrastinate.App, wait: bool) -> None:
    async with app.open_async():
        # jobs left "doing" by a worker that died: failed, so that their lock is freed and the
        # import (already marked failed above) can be queued again
        for job in await app.job_manager.get_stalled_jobs(queue=QUEUE):
            assert job.id is not None  # read from the jobs table: it has its id
            logger.warning(
                "job %s was left running by a dead worker: marked failed", job.id
            )
            await app.job_manager.finish_job_by_id_async(
                job.id, status=Status.FAILED, delete_job=False
            )
        await app.run_worker_async(
            queues=[QUEUE], wait=wait, install_signal_handlers=wait
        )

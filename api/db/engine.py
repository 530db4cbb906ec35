"""Engine and session factory built from settings (never at import time)."""

import logging
import time

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings

logger = logging.getLogger(__name__)


def make_engine(settings: Settings, **kw) -> Engine:
    """Create the SQLAlchemy engine for ``settings.database_url``.

    Every connection gets ``statement_timeout``, so a runaway spatial query is cut off,
    ``jit = off``: the planner's cost estimates for spatial overlays are high enough to trigger
    JIT compilation, which costs more than a second per statement and saves nothing here, and
    ``plan_cache_mode = force_custom_plan``: psycopg prepares a statement run five times on a
    connection, and PostgreSQL may then keep one generic plan for it, in which the optional
    filters written here (``CAST(:all AS boolean) OR id = ANY(:ids)``) cannot use an index.
    The likely case: an import's dry run, one long transaction whose new rows no statistics
    count yet, where each batch's land-release statements grew slower with the rows before
    them. With this setting, one ``make bench-import`` run each (100,000 polygons): the dry
    run's land-release stage 47.5 s -> 22.1 s, the whole dry run 82.8 s -> 64.0 s; a
    committed import (statistics kept up by autovacuum) did not change beyond the noise.
    """
    options = {
        "pool_pre_ping": True,
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_pool_size,
        "connect_args": {
            "connect_timeout": 5,
            "options": f"-c statement_timeout={int(settings.db_statement_timeout_ms)} -c jit=off"
            " -c plan_cache_mode=force_custom_plan",
            "application_name": "safeground",
        },
    }
    options.update(kw)
    return create_engine(settings.database_url, **options)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A sessionmaker whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def wait_for_database(engine: Engine, seconds: float) -> bool:
    """Wait up to ``seconds`` for the database to answer; True once it does.

    Called at start-up so a server started with its database (compose, systemd) does not
    answer its first requests with 503. When the wait runs out the server starts anyway:
    requests get 503 problem+json until the database is back, then succeed again, since
    every connection is checked before use (``pool_pre_ping``).
    """
    deadline = time.monotonic() + seconds
    delay = 0.5
    while True:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except DBAPIError as exc:
            if time.monotonic() + delay > deadline:
                logger.warning(
                    "database not reachable at start-up (%s); serving 503 until it is",
                    exc.__class__.__name__,
                )
                return False
            logger.info("waiting for the database (%s)", exc.__class__.__name__)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)

"""Engine and session factory built from settings (never at import time)."""

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings


def make_engine(settings: Settings, **kw) -> Engine:
    """Create the SQLAlchemy engine for ``settings.database_url``.

    Every connection gets ``statement_timeout``, so a runaway spatial query is cut off, and
    ``jit = off``: the planner's cost estimates for spatial overlays are high enough to trigger
    JIT compilation, which costs more than a second per statement and saves nothing here.
    """
    options = {
        "pool_pre_ping": True,
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_pool_size,
        "connect_args": {
            "connect_timeout": 5,
            "options": f"-c statement_timeout={int(settings.db_statement_timeout_ms)} -c jit=off",
            "application_name": "safeground",
        },
    }
    options.update(kw)
    return create_engine(settings.database_url, **options)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A sessionmaker whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)

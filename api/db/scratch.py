"""Throwaway databases on a PostgreSQL server, for the test suite and the benchmarks."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.settings import Settings

TEMPLATE = "safeground_template"  # made by scripts/dev-db.sh, with PostGIS enabled


@contextmanager
def scratch_database(
    server_url: str, prefix: str, *, keep: bool = False
) -> Iterator[str]:
    """Create an empty PostGIS database on the server of ``server_url``; yield its URL.

    It is made from the ``safeground_template`` database when there is one (so a role
    without superuser rights gets PostGIS), else created plain with ``CREATE EXTENSION``.
    It is dropped afterwards unless ``keep``.
    """
    server = make_url(Settings(database_url=server_url).database_url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        has_template = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :t AND datistemplate"),
            {"t": TEMPLATE},
        ).first()
        template = f" TEMPLATE {TEMPLATE}" if has_template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        if not has_template:
            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            engine.dispose()
        yield url
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

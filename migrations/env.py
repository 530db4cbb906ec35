"""Alembic environment: URL from the caller or from settings, GeoAlchemy2 helpers installed."""

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool

from api.db.base import Base
from api.db import models  # noqa: F401  (registers every table on Base.metadata)
from api.settings import Settings

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("database_url")
    return Settings(database_url=url).database_url if url else Settings().database_url


def include_object(obj, name, type_, reflected, compare_to):
    """Skip PostGIS's own tables (spatial_ref_sys, topology, tiger) and GeoAlchemy2 noise."""
    if type_ == "table" and (name in {"spatial_ref_sys"} or getattr(obj, "schema", None)
                             in {"topology", "tiger", "tiger_data"}):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = create_engine(_url(), poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

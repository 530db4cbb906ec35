"""Run Alembic from code: ``safeground db upgrade``, the test fixtures and the benchmarks."""

from alembic import command
from alembic.config import Config
from geoalchemy2 import alembic_helpers

from api.package_data import folder


def alembic_config(database_url: str) -> Config:
    """An Alembic config for ``database_url`` that does not depend on the working directory.

    The revisions are the package's ``_migrations`` (the checkout's ``migrations/``).
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(folder("_migrations")))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrade the schema of ``database_url`` to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Downgrade the schema of ``database_url`` to ``revision`` (``base`` empties it)."""
    command.downgrade(alembic_config(database_url), revision)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Skip PostGIS's and procrastinate's own tables in autogenerate."""
    if type_ == "table" and (
        name == "spatial_ref_sys"
        or name.startswith("procrastinate")  # the job queue's own schema (0003)
        or getattr(obj, "schema", None) in {"topology", "tiger", "tiger_data"}
    ):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)

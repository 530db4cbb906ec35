"""Declarative base with a constraint naming convention, so Alembic names are stable."""

from datetime import datetime

from sqlalchemy import DateTime, Integer, MetaData, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every ORM model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def now_column() -> Mapped[datetime]:
    """A server-set timestamp (``now()`` when the row is inserted)."""
    return mapped_column(
        DateTime(timezone=True), server_default=text("now()"), nullable=False
    )


class VersionedMixin:
    """The columns of a record edited under If-Match (``api/services/versioned.py``).

    ``version`` starts at 1 and every accepted change increments it; it is the record's ETag.
    ``created_at`` and ``updated_at`` are set by the server.
    """

    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()

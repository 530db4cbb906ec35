"""File and form imports: the job, its uploaded file and its row-by-row report.

* ``imports`` is the job: what was asked (kind, profile, mode, atomic, options), who asked, and
  what happened (status, progress, counts, the reason of a failure). A worker keeps
  ``heartbeat_at`` fresh while it runs; a running import whose heartbeat is stale was
  interrupted (the worker crashed or was stopped) and is marked failed.
* ``import_chunks`` holds the upload itself, so that a worker on another machine can read it and
  a failed import can be run again.
* ``import_messages`` is the report: every rejected row (``error``), every repair or adjustment
  (``warning``) and every possible duplicate or other finding for review (``flag``).
"""

import uuid
from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base
from api.db.models.common import now_column, uuid_pk

IMPORT_STATUSES = ("queued", "running", "succeeded", "failed")
IMPORT_KINDS = (
    "hazards",
    "activities",
    "releases",
    "eo_finds",
    "admin_areas",
    "context",
)


class Import(Base):
    """One import job and its outcome."""

    __tablename__ = "imports"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in IMPORT_STATUSES) + ")",
            name="status",
        ),
        CheckConstraint("mode IN ('dry_run', 'commit')", name="mode"),
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in IMPORT_KINDS) + ")", name="kind"
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(Text)
    profile: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(Text)
    atomic: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    options: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    filename: Mapped[str] = mapped_column(Text)
    file_format: Mapped[str | None] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    sha256: Mapped[str | None] = mapped_column(Text)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id")
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id")
    )
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("api_keys.id")
    )
    author: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=text("'queued'"))
    progress: Mapped[float] = mapped_column(Float, server_default=text("0"))
    # where a running import is (IMPORT_STAGES) and the file's row count when known
    stage: Mapped[str | None] = mapped_column(Text)
    rows_total: Mapped[int | None] = mapped_column(BigInteger)
    counts: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    failure: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[datetime] = now_column()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ImportChunk(Base):
    """A piece of an uploaded file, in order (kept so that any worker can run, and re-run, it).

    Stored in pieces of a few MB so that neither the server nor a worker ever holds the whole
    upload in memory.
    """

    __tablename__ = "import_chunks"

    import_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("imports.id", ondelete="CASCADE"),
        primary_key=True,
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ImportMessage(Base):
    """One line of an import's report: a rejected row, a repair, or a finding to review."""

    __tablename__ = "import_messages"
    __table_args__ = (
        CheckConstraint("severity IN ('error', 'warning', 'flag')", name="severity"),
    )

    import_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("imports.id", ondelete="CASCADE"),
        primary_key=True,
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    severity: Mapped[str] = mapped_column(Text)
    row: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    record_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    location: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=4326)
    )  # a point of the row's geometry, when the file gave one

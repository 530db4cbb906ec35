"""Imports (response bodies)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ImportLink(BaseModel):
    """Where to follow the import."""

    rel: str
    href: str


class ImportQueued(BaseModel):
    """An import accepted for processing; follow ``links`` (``self``) for its report."""

    id: str
    status: str
    links: list[ImportLink]


class ImportMessage(BaseModel):
    """A rejected row, a repair or a flag."""

    row: int | None = Field(description="row or feature number in the file")
    field: str | None
    message: str
    record_id: str | None = Field(None, description="the record the row wrote")
    location: list[float] | None = Field(None, description="lon, lat of the row")
    location_precision: Literal["generalised_0.01deg"] | None = Field(
        None, description="present when the location was generalised for the caller"
    )


class ImportReport(BaseModel):
    """An import's status, progress, counts, and every rejected row, repair and flag."""

    id: str
    status: str = Field(description="queued, running, succeeded or failed")
    progress: float = Field(description="0..1")
    kind: str
    profile: str
    mode: str
    atomic: bool
    filename: str
    format: str | None
    layer: str | None
    size_bytes: int
    sha256: str | None
    counts: dict[str, int]
    errors: list[ImportMessage]
    warnings: list[ImportMessage]
    flags: list[ImportMessage]
    failure: str | None
    attempts: int
    author: str
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None

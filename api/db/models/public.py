"""The public layer: publications of generalised warnings, never a view of operational tables.

A publication is built by one statement from the current data (``api.services.public``) and
then only read. Each one keeps who published it, when, with which parameters, and what it
holds, so the national authority can sign off exactly what was made public.

* ``public_publications``: one row per publication (who, when, parameters, counts).
* ``public_hazards``: generalised hazard areas (union of open, worked-on and suspended hazards,
  buffered outward on the ellipsoid, simplified so they still cover every source hazard), with
  public fields only, and how each area changed against the previous publication.
* ``public_released``: land released by completed activities, with its date and a
  residual-risk note, cut away from the published hazard areas.
* ``public_coverage``: the smallest administrative areas (those with no child area) where the
  programme has recorded anything (a hazard of any status, a release, an EO find): where a
  check can answer "clear". Everywhere else it answers "no data", never "safe".
* ``public_counts``: EO finds and accidents counted per administrative area; an area with
  fewer than ``public_min_count`` (at least 5) is not published at all.
"""

import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base
from api.db.models.common import in_vocab, now_column, uuid_pk
from api.vocab import Classification, HazardStatus, ReleaseOutcome

PUBLIC_CHANGES = ("new", "grown", "unchanged")
PUBLIC_MARKINGS = ("marked", "unmarked", "not_recorded")
COUNT_KINDS = ("eo_finds", "accidents")


def _one_of(column: str, codes: tuple[str, ...]) -> CheckConstraint:
    return CheckConstraint(
        f"{column} IN ({', '.join(repr(c) for c in codes)})", name=column
    )


class PublicPublication(Base):
    """One publication of the public layer: who, when, with which parameters, what it holds."""

    __tablename__ = "public_publications"
    __table_args__ = (Index("ix_public_publications_published_at", "published_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    published_at: Mapped[datetime] = now_column()
    published_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id")
    )
    published_by_name: Mapped[str] = mapped_column(Text)
    parameters: Mapped[dict] = mapped_column(JSONB)
    counts: Mapped[dict] = mapped_column(JSONB)


class PublicHazard(Base):
    """A generalised public hazard area of one publication (public fields only)."""

    __tablename__ = "public_hazards"
    __table_args__ = (
        in_vocab("classification", Classification),
        in_vocab("status", HazardStatus),
        _one_of("marking", PUBLIC_MARKINGS),
        _one_of("change", PUBLIC_CHANGES),
        Index("ix_public_hazards_admin_pcodes", "admin_pcodes", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    publication_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("public_publications.id", ondelete="CASCADE"),
        index=True,
    )
    classification: Mapped[str] = mapped_column(Text)  # SHA or CHA (CHA if any part is)
    hazard_type: Mapped[str] = mapped_column(Text)  # a HazardType code, or 'mixed'
    status: Mapped[str] = mapped_column(Text)  # open, worked_on or suspended
    marking: Mapped[str] = mapped_column(Text)
    last_update: Mapped[date] = mapped_column(Date)
    what_to_do: Mapped[dict] = mapped_column(JSONB)  # {"en": "...", "uk": "..."}
    change: Mapped[str] = mapped_column(Text)  # against the previous publication
    admin_pcodes: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    area_m2: Mapped[float] = mapped_column(Float)
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326))


class PublicReleased(Base):
    """Land released by a completed activity, as published (with a residual-risk note)."""

    __tablename__ = "public_released"
    __table_args__ = (
        in_vocab("outcome", ReleaseOutcome),
        Index(
            "ix_public_released_admin_pcodes", "admin_pcodes", postgresql_using="gin"
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    publication_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("public_publications.id", ondelete="CASCADE"),
        index=True,
    )
    outcome: Mapped[str] = mapped_column(Text)
    completed_on: Mapped[date] = mapped_column(Date)
    residual_risk: Mapped[dict] = mapped_column(JSONB)  # {"en": "...", "uk": "..."}
    admin_pcodes: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    area_m2: Mapped[float] = mapped_column(Float)
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326))


class PublicCount(Base):
    """EO finds or accidents counted in one administrative area (never fewer than 5)."""

    __tablename__ = "public_counts"
    __table_args__ = (
        _one_of("kind", COUNT_KINDS),
        CheckConstraint("count >= 5", name="count_at_least_5"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    publication_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("public_publications.id", ondelete="CASCADE"),
        index=True,
    )
    kind: Mapped[str] = mapped_column(Text)
    admin_pcode: Mapped[str] = mapped_column(Text)
    admin_name: Mapped[str] = mapped_column(Text)
    admin_level: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)


class PublicCoverage(Base):
    """An administrative area the programme has recorded work in, as of one publication."""

    __tablename__ = "public_coverage"

    id: Mapped[uuid.UUID] = uuid_pk()
    publication_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("public_publications.id", ondelete="CASCADE"),
        index=True,
    )
    admin_pcode: Mapped[str] = mapped_column(Text)
    admin_name: Mapped[str] = mapped_column(Text)
    admin_level: Mapped[int] = mapped_column(Integer)
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326))

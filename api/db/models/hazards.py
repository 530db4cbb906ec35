"""Hazard areas: the current state, every version received, the derived timeline and figures.

* ``hazards`` holds the current state (what the summary window shows), kept for fast reads.
* ``hazard_versions`` is the append-only log of every report: who, when, what it stated, the
  geometry as submitted and as stored, and what it changed in the current state.
* ``hazard_states`` is derived from the versions: the state valid from one date of information
  to the next, so that ``as_of`` queries are one indexed lookup.
* ``hazard_land_release`` holds the land-release figures (areas), recomputed on every write
  that touches the hazard; the remaining geometry is computed when asked for.
"""

import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base, VersionedMixin
from api.db.models.common import all_in_vocab, in_vocab, now_column, uuid_pk
from api.vocab import Classification, Contamination, HazardStatus, HazardType

GEOMETRY_KINDS = "GeometryType(geom) IN ('MULTIPOLYGON', 'POINT')"
# A number 0..10,000,000, or an object whose numbers are (migration 0015)
BENEFICIARIES_RULE = (
    "beneficiaries IS NULL OR jsonb_typeof(beneficiaries) = 'null' "
    "OR (jsonb_typeof(beneficiaries) = 'number' "
    "AND beneficiaries::numeric BETWEEN 0 AND 10000000) "
    "OR (jsonb_typeof(beneficiaries) = 'object' AND NOT jsonb_path_exists(beneficiaries, "
    "'$.* ? (@.type() == \"number\" && (@ < 0 || @ > 10000000))'))"
)


class Hazard(VersionedMixin, Base):
    """A hazard area in its current state (the fold of its versions by date of information)."""

    __tablename__ = "hazards"
    __table_args__ = (
        in_vocab("classification", Classification),
        in_vocab("hazard_type", HazardType),
        in_vocab("status", HazardStatus),
        in_vocab("status_set", HazardStatus),
        all_in_vocab("contamination", Contamination),
        CheckConstraint(GEOMETRY_KINDS, name="geom_kind"),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        # the bounds of the write schemas (api/schemas/common.py), migration 0015
        CheckConstraint(
            "estimated_area_m2 IS NULL OR "
            "(estimated_area_m2 >= 0 AND estimated_area_m2 <= 1e12)",
            name="estimated_area",
        ),
        CheckConstraint(BENEFICIARIES_RULE, name="beneficiaries"),
        Index(
            "uq_hazards_org_external_id",
            "organisation_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        Index("ix_hazards_admin_pcodes", "admin_pcodes", postgresql_using="gin"),
        Index("ix_hazards_contamination", "contamination", postgresql_using="gin"),
        # the default order of lists and OGC pages: newest information first
        Index(
            "ix_hazards_current_by_doi",
            text("date_of_information DESC"),
            "id",
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    external_id: Mapped[str | None] = mapped_column(Text)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id"), index=True
    )
    name: Mapped[str | None] = mapped_column(Text)
    classification: Mapped[str] = mapped_column(Text)
    hazard_type: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=text("'open'"))
    status_set: Mapped[str | None] = mapped_column(Text)
    contamination: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    date_of_information: Mapped[date] = mapped_column(Date)
    benchmark: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=4326))
    reference_point: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=4326)
    )
    estimated_area_m2: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[str | None] = mapped_column(Text)
    blockages: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    beneficiaries: Mapped[dict | int | None] = mapped_column(JSONB)
    notes: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("GEOMETRY", srid=4326))
    area_m2: Mapped[float] = mapped_column(Float)
    admin_pcodes: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    admin_primary: Mapped[dict] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    # no server default, unlike the mixin's: the first version is always written by the service
    version: Mapped[int] = mapped_column(Integer)
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id")
    )
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HazardVersion(Base):
    """One report about a hazard, kept forever, whether or not it changed the current state."""

    __tablename__ = "hazard_versions"
    __table_args__ = (
        UniqueConstraint(
            "hazard_id", "version", name="uq_hazard_versions_hazard_version"
        ),
        CheckConstraint("kind IN ('create', 'update', 'retire')", name="kind"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    hazard_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hazards.id")
    )
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(Text)
    date_of_information: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = now_column()
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id")
    )
    author_api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("api_keys.id")
    )
    author: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text, server_default=text("'api'"))
    report: Mapped[dict] = mapped_column(JSONB)
    submitted_geometry: Mapped[dict | None] = mapped_column(JSONB)
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("GEOMETRY", srid=4326))
    warnings: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    changes: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    superseded: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    origin: Mapped[dict | None] = mapped_column(JSONB)
    import_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("imports.id"), index=True
    )


class HazardState(Base):
    """The state of a hazard valid from one date of information until the next (derived)."""

    __tablename__ = "hazard_states"
    __table_args__ = (Index("ix_hazard_states_valid", "valid_from", "valid_to"),)

    hazard_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hazards.id"), primary_key=True
    )
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    valid_to: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id")
    )
    retired: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    state: Mapped[dict] = mapped_column(JSONB)
    geom: Mapped[WKBElement] = mapped_column(Geometry("GEOMETRY", srid=4326))


class HazardLandRelease(Base):
    """Land-release figures of a hazard, on the ellipsoid, kept current on every write."""

    __tablename__ = "hazard_land_release"

    hazard_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hazards.id"), primary_key=True
    )
    baseline_area_m2: Mapped[float] = mapped_column(Float)
    cancelled_area_m2: Mapped[float] = mapped_column(Float)
    reduced_area_m2: Mapped[float] = mapped_column(Float)
    cleared_area_m2: Mapped[float] = mapped_column(Float)
    released_area_m2: Mapped[float] = mapped_column(Float)
    remaining_area_m2: Mapped[float] = mapped_column(Float)
    outside_area_m2: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[datetime] = now_column()

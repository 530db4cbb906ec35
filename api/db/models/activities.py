"""Land-release activities, their links to hazards, and their release polygons."""

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
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base, VersionedMixin
from api.db.models.common import all_in_vocab, in_vocab, now_column, uuid_pk
from api.vocab import ActivityStatus, ActivityType, Method, ReleaseOutcome


class Activity(VersionedMixin, Base):
    """A survey, clearance or EOD task carried out by one organisation."""

    __tablename__ = "activities"
    __table_args__ = (
        in_vocab("activity_type", ActivityType),
        in_vocab("status", ActivityStatus),
        all_in_vocab("methods", Method),
        CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name="dates",
        ),
        CheckConstraint(  # the bound of the write schemas, migration 0015
            "clearance_depth_cm IS NULL OR "
            "(clearance_depth_cm >= 0 AND clearance_depth_cm <= 10000)",
            name="clearance_depth",
        ),
        Index(
            "uq_activities_org_external_id",
            "organisation_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    external_id: Mapped[str | None] = mapped_column(Text)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id"), index=True
    )
    activity_type: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    methods: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    clearance_depth_cm: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id")
    )
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ActivityHazard(Base):
    """Link between an activity and a hazard it addresses (many-to-many)."""

    __tablename__ = "activity_hazards"

    activity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("activities.id"), primary_key=True
    )
    hazard_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hazards.id"), primary_key=True, index=True
    )


class ReleasePolygon(Base):
    """Land cancelled, reduced or cleared by an activity, attributed to one hazard."""

    __tablename__ = "release_polygons"
    __table_args__ = (
        in_vocab("outcome", ReleaseOutcome),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    activity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("activities.id"), index=True
    )
    hazard_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hazards.id"), index=True
    )
    feature_index: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(Text)
    date: Mapped[date] = mapped_column(Date)
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326))
    area_m2: Mapped[float] = mapped_column(Float)
    effective_area_m2: Mapped[float | None] = mapped_column(Float)
    outside_area_m2: Mapped[float | None] = mapped_column(Float)
    properties: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    submitted_geometry: Mapped[dict | None] = mapped_column(JSONB)
    warnings: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    created_at: Mapped[datetime] = now_column()
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

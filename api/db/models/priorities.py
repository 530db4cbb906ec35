"""Clearance prioritisation: the versioned model, raw indicators, scores, flags and overrides.

* ``priority_models``: every version of the model document (api.domain.priority_model); one
  is active.
* ``hazard_indicators``: the raw indicator values of each current hazard, computed set-based
  in PostGIS and refreshed when the hazard or its surroundings change.
* ``priority_scores``: each hazard's score and band under a model; a weight change scores
  again from the stored indicators without computing them again (a page's breakdown is
  derived from the indicators when it is read).
* ``priority_flags``: the do-no-harm gate, set by a coordinator with a reason.
* ``priority_overrides``: a coordinator's band for a hazard, with the written justification,
  shown beside the computed rank; never deleted (revoking one is recorded too).
"""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base
from api.db.models.common import now_column, uuid_pk

BANDS_SQL = "('high', 'medium', 'low')"


class PriorityModel(Base):
    """One version of the priority model."""

    __tablename__ = "priority_models"
    __table_args__ = (
        Index(
            "uq_priority_models_active",
            "is_active",
            unique=True,
            postgresql_where=text("is_active"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    version: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(Text)
    document: Mapped[dict] = mapped_column(JSONB)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    notes: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id")
    )
    created_at: Mapped[datetime] = now_column()
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HazardIndicators(Base):
    """Raw indicator values of a hazard (see api.domain.priority_model.INDICATORS)."""

    __tablename__ = "hazard_indicators"

    hazard_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hazards.id"), primary_key=True
    )
    accidents_1km_24m: Mapped[int] = mapped_column(Integer)
    threat_class: Mapped[float] = mapped_column(Float)
    evidence_class: Mapped[float] = mapped_column(Float)
    population_1km: Mapped[int] = mapped_column(BigInteger)
    facilities_500m: Mapped[int] = mapped_column(Integer)
    roads_50m: Mapped[int] = mapped_column(Integer)
    blocked_land_uses: Mapped[int] = mapped_column(Integer)
    area_m2: Mapped[float] = mapped_column(Float)
    development_requests: Mapped[int] = mapped_column(Integer)
    security_exclusion: Mapped[bool] = mapped_column(Boolean)
    computed_at: Mapped[datetime] = now_column()


class PriorityScore(Base):
    """A hazard's score under one model version."""

    __tablename__ = "priority_scores"
    __table_args__ = (
        CheckConstraint(f"band IN {BANDS_SQL}", name="band"),
        Index(
            "ix_priority_scores_order",
            "model_id",
            "gated",
            text("score DESC"),
            "hazard_id",
        ),
    )

    model_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("priority_models.id"), primary_key=True
    )
    hazard_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hazards.id"), primary_key=True
    )
    score: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(Text)
    gated: Mapped[bool] = mapped_column(Boolean)
    computed_at: Mapped[datetime] = now_column()


class PriorityFlag(Base):
    """The do-no-harm gate of a hazard, with who set it and why."""

    __tablename__ = "priority_flags"
    __table_args__ = (
        CheckConstraint("length(justification) >= 10", name="justification"),
    )

    hazard_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hazards.id"), primary_key=True
    )
    do_no_harm: Mapped[bool] = mapped_column(Boolean)
    justification: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text)
    set_at: Mapped[datetime] = now_column()


class PriorityOverride(Base):
    """A manual band for a hazard, justified and audited; revoked, never deleted."""

    __tablename__ = "priority_overrides"
    __table_args__ = (
        CheckConstraint(f"band IN {BANDS_SQL}", name="band"),
        CheckConstraint("length(justification) >= 10", name="justification"),
        Index(
            "uq_priority_overrides_current",
            "hazard_id",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    hazard_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hazards.id"), index=True
    )
    band: Mapped[str] = mapped_column(Text)
    justification: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text)
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id")
    )
    created_at: Mapped[datetime] = now_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(Text)
    revoke_justification: Mapped[str | None] = mapped_column(Text)

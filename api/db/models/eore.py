"""Explosive-ordnance risk education (EORE) sessions (domain.md §1.9).

* ``eore_sessions``: when, by whom, how and for whom a session was delivered, and where: either
  a point, or, when the team judged it not safe to record one, only the administrative area
  (``location_safe_to_record`` false, ``geom`` null, ``admin_pcode`` required; a CHECK
  enforces both shapes).
* ``eore_session_beneficiaries``: people reached, one row per sex × age band × disability cell.
* ``eore_session_hazards`` and ``eore_session_accidents``: the hazards and accidents that
  prompted a session (links, many-to-many).

Community focal points' names and phones are deliberately not stored (domain.md §5.2).
"""

import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base, VersionedMixin
from api.db.models.common import all_in_vocab, in_vocab, uuid_pk
from api.vocab import (
    EoreAgeBand,
    EoreAudience,
    EoreDeliveryMethod,
    EoreDisability,
    EoreMessage,
    Sex,
)

LOCATION_RULE = (
    "(location_safe_to_record AND geom IS NOT NULL) OR "
    "(NOT location_safe_to_record AND geom IS NULL AND admin_pcode IS NOT NULL)"
)


class EoreSession(VersionedMixin, Base):
    """A risk-education session (or broadcast), located by a point or by its admin area."""

    __tablename__ = "eore_sessions"
    __table_args__ = (
        in_vocab("delivery_method", EoreDeliveryMethod),
        in_vocab("audience", EoreAudience),
        all_in_vocab("messages_covered", EoreMessage),
        CheckConstraint(LOCATION_RULE, name="location"),
        CheckConstraint(
            "ended_on IS NULL OR ended_on >= session_date", name="ended_after_start"
        ),
        Index(
            "uq_eore_sessions_org_external_id",
            "organisation_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL AND retired_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    external_id: Mapped[str | None] = mapped_column(Text)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id"), index=True
    )
    team: Mapped[str | None] = mapped_column(Text)
    session_date: Mapped[date] = mapped_column(Date, index=True)
    ended_on: Mapped[date | None] = mapped_column(Date)
    delivery_method: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(Text)
    messages_covered: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    location_safe_to_record: Mapped[bool] = mapped_column(server_default=text("true"))
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=4326))
    admin_pcode: Mapped[str | None] = mapped_column(
        Text, ForeignKey("admin_areas.pcode", onupdate="CASCADE"), index=True
    )
    settlement_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("context_settlements.id", ondelete="SET NULL"),
        index=True,
    )
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id")
    )
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EoreBeneficiaryCount(Base):
    """People reached by a session in one sex × age band × disability cell."""

    __tablename__ = "eore_session_beneficiaries"
    __table_args__ = (
        UniqueConstraint(
            "session_id",
            "sex",
            "age_band",
            "disability",
            name="uq_eore_session_beneficiaries_cell",
        ),
        in_vocab("sex", Sex),
        in_vocab("age_band", EoreAgeBand),
        in_vocab("disability", EoreDisability),
        CheckConstraint("count >= 0", name="count"),
        CheckConstraint("count <= 1000000", name="count_max"),  # migration 0015
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    session_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("eore_sessions.id"), index=True
    )
    sex: Mapped[str] = mapped_column(Text)
    age_band: Mapped[str] = mapped_column(Text)
    disability: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer)


class EoreSessionHazard(Base):
    """A hazard that prompted a session."""

    __tablename__ = "eore_session_hazards"

    session_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("eore_sessions.id"), primary_key=True
    )
    hazard_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hazards.id"), primary_key=True, index=True
    )


class EoreSessionAccident(Base):
    """An accident that prompted a session."""

    __tablename__ = "eore_session_accidents"

    session_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("eore_sessions.id"), primary_key=True
    )
    accident_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("accidents.id"), primary_key=True, index=True
    )

"""Accidents and their victims; victims' personal data in a table of its own.

* ``accidents`` holds the accident point, date, device category, class and the reported totals
  of people killed and injured (which may include people not itemised as victims).
* ``victims`` holds the known individuals with non-personal attributes only: sex, age and age
  band at the accident, role, outcome, activity at the time.
* ``victim_personal_data`` holds name, date of birth, address and contacts, in its own table so
  that no query for victims or accidents carries them by accident; it is read only with
  ``restricted:read``.
"""

import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base, VersionedMixin
from api.db.models.common import in_vocab, uuid_pk
from api.vocab import (
    AccidentClass,
    AgeBand,
    CasualtyOutcome,
    Contamination,
    Sex,
    VictimRole,
)


class Accident(VersionedMixin, Base):
    """A mine/ERW or demining accident, located where it happened."""

    __tablename__ = "accidents"
    __table_args__ = (
        in_vocab("device_category", Contamination),
        in_vocab("accident_class", AccidentClass),
        CheckConstraint("killed >= 0", name="killed"),
        CheckConstraint("injured >= 0", name="injured"),
        # the bounds of the write schemas (api/schemas/common.py), migration 0015
        CheckConstraint("killed <= 10000000", name="killed_max"),
        CheckConstraint("injured <= 10000000", name="injured_max"),
        Index(
            "uq_accidents_org_external_id",
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
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    device_category: Mapped[str | None] = mapped_column(Text)
    accident_class: Mapped[str] = mapped_column(Text)
    killed: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    injured: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    hazard_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hazards.id"), index=True
    )
    notes: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326))
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id")
    )
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Victim(VersionedMixin, Base):
    """A known person killed or injured in an accident; no personal data here."""

    __tablename__ = "victims"
    __table_args__ = (
        in_vocab("sex", Sex),
        in_vocab("age_band", AgeBand),
        in_vocab("role", VictimRole),
        in_vocab("outcome", CasualtyOutcome),
        CheckConstraint("age IS NULL OR (age >= 0 AND age <= 130)", name="age"),
        CheckConstraint(
            "age IS NULL OR age_band = CASE WHEN age < 18 THEN 'child' ELSE 'adult' END",
            name="age_band_matches_age",
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    accident_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("accidents.id"), index=True
    )
    sex: Mapped[str] = mapped_column(Text, server_default=text("'unknown'"))
    age: Mapped[int | None] = mapped_column(Integer)
    age_band: Mapped[str] = mapped_column(Text, server_default=text("'unknown'"))
    role: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)
    activity_at_time: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id")
    )


class VictimPersonalData(Base):
    """A victim's name, date of birth, address and contacts: personal data, restricted."""

    __tablename__ = "victim_personal_data"

    victim_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("victims.id", ondelete="CASCADE"),
        primary_key=True,
    )
    name: Mapped[str | None] = mapped_column(Text)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)

"""Hazard reports: unverified information about possible contamination, kept apart from hazards.

A report comes from a public hotline, a risk-education session, a community survey or a field
form (KoboToolbox/ODK). It is never shown as a hazard: a coordinator of the organisation that
received it verifies it, then accepts it (linking it to an existing hazard or creating a new
SHA) or rejects it.

* ``hazard_reports`` holds what was reported, where, by which channel, and the workflow state
  with its audit columns. ``raw_submission`` (the form as sent) is restricted.
* ``hazard_report_contacts`` holds the informants' personal data, in a table of its own so that
  no query for the report itself can carry it by accident; it is read only with
  ``restricted:read``.
* ``hazard_report_events`` is the append-only log of every transition: who, when, from which
  status to which, and the note.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum

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
from api.vocab import Contamination, ReportSource, ReportStatus


class ReportAction(StrEnum):
    """What an event in a report's log did."""

    submit = "submit"
    resubmit = "resubmit"  # the sender changed a report that was still only submitted
    verify = "verify"
    accept = "accept"
    reject = "reject"


class HazardReport(VersionedMixin, Base):
    """One report as received, with its workflow state."""

    __tablename__ = "hazard_reports"
    __table_args__ = (
        in_vocab("source", ReportSource),
        in_vocab("status", ReportStatus),
        all_in_vocab("contamination", Contamination),
        CheckConstraint(
            "GeometryType(geom) IN ('POINT', 'MULTIPOLYGON')", name="geom_kind"
        ),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        CheckConstraint("gps_accuracy_m >= 0", name="gps_accuracy"),
        CheckConstraint(  # the bound of the write schema (NaN too), migration 0015
            "gps_accuracy_m IS NULL OR gps_accuracy_m <= 100000",
            name="gps_accuracy_max",
        ),
        CheckConstraint(
            "status = 'submitted' OR verified_at IS NOT NULL", name="verified"
        ),
        CheckConstraint(
            "(status IN ('accepted', 'rejected')) = (decided_at IS NOT NULL)",
            name="decided",
        ),
        CheckConstraint(
            "status <> 'rejected' OR decision_note IS NOT NULL", name="rejection_note"
        ),
        CheckConstraint(
            "(status = 'accepted') = (hazard_id IS NOT NULL)", name="accepted_link"
        ),
        Index(
            "uq_hazard_reports_org_external_id",
            "organisation_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id"), index=True
    )
    external_id: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default=text("'submitted'"))
    reported_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    contamination: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("GEOMETRY", srid=4326), nullable=True
    )
    location_text: Mapped[str | None] = mapped_column(Text)
    gps_accuracy_m: Mapped[float | None] = mapped_column(Float)
    raw_submission: Mapped[dict | None] = mapped_column(JSONB)
    content_sha256: Mapped[str] = mapped_column(Text)  # tells a re-send from a change
    warnings: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    submitted_by: Mapped[str] = mapped_column(Text)
    submitted_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id")
    )
    submitted_by_api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("api_keys.id")
    )
    verified_by: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    hazard_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hazards.id"), index=True
    )


class HazardReportContact(Base):
    """An informant or focal point of a report: personal data, restricted."""

    __tablename__ = "hazard_report_contacts"

    report_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("hazard_reports.id", ondelete="CASCADE"),
        primary_key=True,
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(Text)
    consent_to_contact: Mapped[bool | None] = mapped_column(Boolean)
    notes: Mapped[str | None] = mapped_column(Text)


class HazardReportEvent(Base):
    """One step of a report's workflow, kept forever."""

    __tablename__ = "hazard_report_events"
    __table_args__ = (
        in_vocab("action", ReportAction),
        in_vocab("from_status", ReportStatus),
        in_vocab("to_status", ReportStatus),
    )

    report_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("hazard_reports.id", ondelete="CASCADE"),
        primary_key=True,
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(Text)
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = now_column()
    actor: Mapped[str] = mapped_column(Text)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id")
    )
    actor_api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("api_keys.id")
    )
    note: Mapped[str | None] = mapped_column(Text)
    hazard_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hazards.id")
    )

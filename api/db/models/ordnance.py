"""Explosive-ordnance items found during activities."""

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
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base
from api.db.models.common import in_vocab, now_column, uuid_pk
from api.vocab import Contamination, DisposalMethod, EOCondition


class EOFind(Base):
    """An item (or batch) found, located where found, not where destroyed."""

    __tablename__ = "eo_finds"
    __table_args__ = (
        in_vocab("eo_category", Contamination),
        in_vocab("condition", EOCondition),
        in_vocab("disposal_method", DisposalMethod),
        CheckConstraint("quantity >= 1", name="quantity"),
        CheckConstraint("depth_cm IS NULL OR depth_cm >= 0", name="depth"),
        # the bounds of the write schemas (api/schemas/common.py), migration 0015
        CheckConstraint("quantity <= 10000000", name="quantity_max"),
        CheckConstraint("depth_cm IS NULL OR depth_cm <= 10000", name="depth_max"),
        CheckConstraint(
            "activity_id IS NOT NULL OR hazard_id IS NOT NULL", name="linked"
        ),
        Index(
            "uq_eo_finds_org_external_id",
            "organisation_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    external_id: Mapped[str | None] = mapped_column(Text)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id")
    )
    activity_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("activities.id"), index=True
    )
    hazard_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hazards.id"), index=True
    )
    eo_category: Mapped[str] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    condition: Mapped[str | None] = mapped_column(Text)
    depth_cm: Mapped[int | None] = mapped_column(Integer)
    found_on: Mapped[date | None] = mapped_column(Date)
    disposal_method: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326))
    origin: Mapped[dict | None] = mapped_column(JSONB)
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id")
    )
    created_at: Mapped[datetime] = now_column()
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

"""The land-release history of each hazard, kept current by the database (migration 0019).

A hazard's figures as known on a date change only where one of its states starts or ends or
one of its releases is dated; between two such dates they are constant. A **segment** is such a
span ``[valid_from, valid_to)`` (``valid_to`` NULL: still current) in which the hazard was known
and not retired, with the figures and group keys that ``summary.summarise(as_of=...)`` gives on
any day of it. The burn-down sums segments instead of recomputing every month.

Triggers on ``hazard_states``, ``release_polygons``, ``activities`` (methods) and
``admin_areas`` note the touched hazards in ``land_release_pending``; their segments are
recomputed when the transaction commits (or at once with ``SELECT sg_land_release_flush()``).
Areas are ``numeric`` (the computed figures to 15 significant digits) so that sums over
segments added and taken off cancel exactly. No application code writes these tables.
"""

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Numeric, Text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base


class LandReleaseSegment(Base):
    """A hazard's land-release figures and group keys, constant over ``[from, to)``."""

    __tablename__ = "land_release_segments"

    hazard_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("hazards.id", ondelete="CASCADE"),
        primary_key=True,
    )
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    valid_to: Mapped[date | None] = mapped_column(Date)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id")
    )
    contamination: Mapped[list[str]] = mapped_column(ARRAY(Text))
    admin1: Mapped[str | None] = mapped_column(Text)
    admin2: Mapped[str | None] = mapped_column(Text)
    admin_pcodes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    baseline_area_m2: Mapped[Decimal] = mapped_column(Numeric)
    cancelled_area_m2: Mapped[Decimal] = mapped_column(Numeric)
    reduced_area_m2: Mapped[Decimal] = mapped_column(Numeric)
    cleared_area_m2: Mapped[Decimal] = mapped_column(Numeric)
    released_area_m2: Mapped[Decimal] = mapped_column(Numeric)
    remaining_area_m2: Mapped[Decimal] = mapped_column(Numeric)


class LandReleaseSegmentMethod(Base):
    """Per segment (``hazard_id``, ``valid_from``) and release method: the m² the pieces of
    the releases of that method cancelled, reduced and cleared (the segment's end,
    organisation and P-codes repeated, so that the burn-down reads this table alone)."""

    __tablename__ = "land_release_segment_methods"

    hazard_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("hazards.id", ondelete="CASCADE"),
        primary_key=True,
    )
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    method: Mapped[str] = mapped_column(Text, primary_key=True)
    valid_to: Mapped[date | None] = mapped_column(Date)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id")
    )
    admin_pcodes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    cancelled_area_m2: Mapped[Decimal] = mapped_column(Numeric)
    reduced_area_m2: Mapped[Decimal] = mapped_column(Numeric)
    cleared_area_m2: Mapped[Decimal] = mapped_column(Numeric)


class LandReleasePending(Base):
    """Hazards a transaction touched, whose segments are recomputed when it commits."""

    __tablename__ = "land_release_pending"

    xact: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hazard_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)

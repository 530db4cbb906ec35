"""Context layers: what lies around hazards, for prioritisation (issue 4).

Settlements (points with population), roads and tracks (lines), facilities (schools, health
posts, water points: points), land use (polygons) and security exclusion zones (polygons).
Programme-wide reference data, loaded through file imports (``kind=context``), matched on
re-import by ``external_id``. Each table has a GiST index on its geometry.
"""

import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    CheckConstraint,
    Date,
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
from api.vocab import LandUse

FACILITY_TYPES = ("school", "health", "water_point", "other")


class _ContextRow:
    """Columns every context layer has."""

    id: Mapped[uuid.UUID] = uuid_pk()
    external_id: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    import_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("imports.id")
    )
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()


def _unique_external_id(table: str) -> Index:
    return Index(
        f"uq_{table}_external_id",
        "external_id",
        unique=True,
        postgresql_where=text("external_id IS NOT NULL"),
    )


class Settlement(_ContextRow, Base):
    """A populated place."""

    __tablename__ = "context_settlements"
    __table_args__ = (
        _unique_external_id("context_settlements"),
        CheckConstraint("population IS NULL OR population >= 0", name="population"),
    )

    population: Mapped[int | None] = mapped_column(Integer)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326))


class Road(_ContextRow, Base):
    """A road or track."""

    __tablename__ = "context_roads"
    __table_args__ = (_unique_external_id("context_roads"),)

    road_class: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTILINESTRING", srid=4326))


class Facility(_ContextRow, Base):
    """A school, health facility or water point."""

    __tablename__ = "context_facilities"
    __table_args__ = (
        _unique_external_id("context_facilities"),
        CheckConstraint(
            "facility_type IN (" + ", ".join(f"'{t}'" for t in FACILITY_TYPES) + ")",
            name="facility_type",
        ),
    )

    facility_type: Mapped[str] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326))


class LandUseArea(_ContextRow, Base):
    """An area of one land use (the codes of ``blockages``)."""

    __tablename__ = "context_land_use"
    __table_args__ = (
        _unique_external_id("context_land_use"),
        in_vocab("land_use", LandUse),
    )

    land_use: Mapped[str] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326))


class SecurityZone(_ContextRow, Base):
    """An area where teams may not work (a gate of prioritisation)."""

    __tablename__ = "context_security_zones"
    __table_args__ = (_unique_external_id("context_security_zones"),)

    reason: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326))


ContextModel = type[Settlement | Road | Facility | LandUseArea | SecurityZone]

CONTEXT_LAYERS: dict[str, ContextModel] = {
    "settlements": Settlement,
    "roads": Road,
    "facilities": Facility,
    "land_use": LandUseArea,
    "security_zones": SecurityZone,
}

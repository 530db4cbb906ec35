"""Administrative units (country structure), keyed by P-code."""

import uuid
from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    FetchedValue,
    Float,
    ForeignKey,
    Integer,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base
from api.db.models.common import now_column, uuid_pk


class AdminArea(Base):
    """An administrative unit: P-code, name, level, parent and MultiPolygon (EPSG:4326)."""

    __tablename__ = "admin_areas"
    __table_args__ = (CheckConstraint("level >= 0", name="level"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    pcode: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    names: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    level: Mapped[int] = mapped_column(Integer, index=True)
    parent_pcode: Mapped[str | None] = mapped_column(
        Text, ForeignKey("admin_areas.pcode", onupdate="CASCADE")
    )
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326))
    # on the ellipsoid, set by a trigger (migration 0020): bounds a hazard's area
    area_m2: Mapped[float | None] = mapped_column(
        Float, server_default=FetchedValue(), server_onupdate=FetchedValue()
    )
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = now_column()

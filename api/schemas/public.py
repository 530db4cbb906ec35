"""Response bodies of the public layer (documentation of /api/v1/public in OpenAPI)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class PublishedBy(BaseModel):
    """The admin who published."""

    id: str | None = Field(None, description="user id (None for an API key)")
    name: str


class Publication(BaseModel):
    """A publication record: who published, when, with which parameters, what it holds."""

    id: str
    published_at: datetime
    published_by: PublishedBy
    parameters: dict[str, Any] = Field(
        description="buffer_m, simplify_tolerance_m, min_count, statuses, growth_min_m2"
    )
    counts: dict[str, Any] = Field(
        description="source_hazards, hazard_areas, new_areas, grown_areas, "
        "hazard_area_m2, released_areas, covered_admin_areas, count_areas, "
        "count_areas_withheld, previous_publication"
    )


class PublicationList(BaseModel):
    """Publications, newest first."""

    items: list[Publication]


class PublicationRef(BaseModel):
    """Which publication an answer comes from."""

    id: str
    published_at: datetime


class Advice(BaseModel):
    """What to do and not to do, in the caller's language, and where to report."""

    do: list[str]
    dont: list[str]
    hotline: str


class CheckResult(BaseModel):
    """Where a point stands against the latest publication."""

    status: Literal["inside", "near", "clear", "no_data"] = Field(
        description="no_data: no survey coverage there (or nothing published): unknown, "
        "never safe"
    )
    nearest_m: float | None = Field(
        description="metres on the WGS 84 ellipsoid to the nearest public hazard area"
    )
    near_m: float = Field(description="the distance within which a point is near")
    message: str
    advice: Advice
    language: str
    publication: PublicationRef | None


class PublicCount(BaseModel):
    """EO finds or accidents in one administrative area (never fewer than 5)."""

    kind: Literal["eo_finds", "accidents"]
    admin_pcode: str
    admin_name: str
    admin_level: int
    count: int = Field(ge=5)


class PublicCounts(BaseModel):
    """The counts of the latest publication."""

    publication: PublicationRef | None
    items: list[PublicCount]

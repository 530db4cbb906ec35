"""Response bodies of the public layer (documentation of /api/v1/public in OpenAPI)."""

from datetime import date, datetime
from typing import Any, Literal

from geojson_pydantic import Feature, FeatureCollection, MultiPolygon
from pydantic import BaseModel, Field

from api.schemas.common import Link
from api.vocab import ReleaseOutcome


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
    links: list[Link] = []


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


class PublicHazardProperties(BaseModel):
    """Public fields of a published hazard area, labels in the caller's language."""

    id: str
    classification: Literal["SHA", "CHA"]
    classification_label: str
    hazard_type: str = Field(description="a hazard type code, or mixed")
    hazard_type_label: str
    status: Literal["open", "worked_on", "suspended"]
    status_label: str
    marking: str
    marking_label: str
    last_update: date
    what_to_do: str
    area_m2: float
    admin: list[str] = Field(description="P-codes of the areas it touches")


class PublicHazardFeature(Feature[MultiPolygon, PublicHazardProperties]):
    """A published (generalised) hazard area."""

    id: str


class PublicHazards(FeatureCollection[PublicHazardFeature]):
    """The hazard areas of the latest publication (empty before the first)."""

    numberMatched: int  # noqa: N815 - name fixed by OGC API Features
    numberReturned: int  # noqa: N815
    links: list[Link]
    publication: PublicationRef | None


class PublicReleasedProperties(BaseModel):
    """Published released land, with its date and residual risk."""

    id: str
    outcome: ReleaseOutcome
    outcome_label: str
    completed_on: date
    residual_risk: str
    area_m2: float
    admin: list[str] = Field(description="P-codes of the areas it touches")


class PublicReleasedFeature(Feature[MultiPolygon, PublicReleasedProperties]):
    """Published released land."""

    id: str


class PublicReleased(FeatureCollection[PublicReleasedFeature]):
    """Released land of the latest publication (empty before the first)."""

    numberMatched: int  # noqa: N815 - name fixed by OGC API Features
    numberReturned: int  # noqa: N815
    links: list[Link]
    publication: PublicationRef | None

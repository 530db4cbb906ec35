"""Activity request bodies: a land-release activity with its release polygons."""

import datetime as dt
import uuid
from typing import Any, Literal

from geojson_pydantic import Feature, FeatureCollection, MultiPolygon
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.common import Day, DepthCm, GeoJSONGeometry, Link, servable
from api.vocab import ActivityStatus, ActivityType, Method, ReleaseOutcome


class ReleaseProperties(BaseModel):
    """Properties of a release polygon; other members are kept as given."""

    model_config = ConfigDict(extra="allow")

    outcome: ReleaseOutcome
    date: Day | None = Field(
        None,
        description="Date the land was released; defaults to the activity's end_date",
    )
    hazard_id: str | None = Field(
        None,
        description="Hazard (id or external id) this polygon releases; needed only when the "
        "activity addresses several hazards and the polygon should count for one of them",
    )

    @model_validator(mode="after")
    def _servable_extras(self) -> "ReleaseProperties":
        # other members are stored as given and served again: numbers must be JSON numbers
        for name, value in (self.model_extra or {}).items():
            servable(value, name)
        return self


class ReleaseFeature(BaseModel):
    """A Polygon or MultiPolygon Feature of land released."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] = "Feature"
    id: Any = None
    geometry: GeoJSONGeometry | None
    properties: ReleaseProperties


class ReleaseCollection(BaseModel):
    """The release polygons of an activity."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[ReleaseFeature] = Field(default_factory=list, max_length=10_000)


class ActivityCreate(BaseModel):
    """A land-release activity (survey, clearance, EOD task) and the land it released."""

    model_config = ConfigDict(extra="forbid")

    external_id: str | None = Field(None, min_length=1, max_length=200)
    activity_type: ActivityType
    organisation: str | None = Field(None, description="Code; defaults to the caller's")
    hazard_ids: list[str] = Field(
        ..., min_length=1, description="Hazard ids or external ids"
    )
    status: ActivityStatus
    start_date: Day | None = None
    end_date: Day | None = None
    methods: list[Method] = Field(default_factory=list)
    clearance_depth_cm: DepthCm | None = Field(None, description="0..10,000 cm")
    notes: str | None = Field(None, max_length=10_000)
    releases: ReleaseCollection | None = None

    @model_validator(mode="after")
    def _dates(self) -> "ActivityCreate":
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class ActivityPatch(BaseModel):
    """A partial update of an activity; ``releases``, when sent, replaces them all."""

    model_config = ConfigDict(extra="forbid")

    external_id: str | None = Field(None, min_length=1, max_length=200)
    activity_type: ActivityType | None = None
    hazard_ids: list[str] | None = Field(None, min_length=1)
    status: ActivityStatus | None = None
    start_date: Day | None = None
    end_date: Day | None = None
    methods: list[Method] | None = None
    clearance_depth_cm: DepthCm | None = Field(None, description="0..10,000 cm")
    notes: str | None = Field(None, max_length=10_000)
    releases: ReleaseCollection | None = None


class ActivityRef(BaseModel):
    """An activity id in a response."""

    id: uuid.UUID


ACTIVITY_EXAMPLE = {
    "external_id": "HALO-UA-CL-0042",
    "activity_type": "clearance",
    "organisation": "HALO",
    "hazard_ids": ["HALO-UA-HA-0001"],
    "status": "completed",
    "start_date": "2024-06-01",
    "end_date": "2024-06-20",
    "methods": ["manual", "mechanical"],
    "clearance_depth_cm": 13,
    "releases": {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [36.20, 49.10],
                            [36.21, 49.10],
                            [36.21, 49.11],
                            [36.20, 49.11],
                            [36.20, 49.10],
                        ]
                    ],
                },
                "properties": {"outcome": "cleared", "date": "2024-06-20"},
            },
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [36.21, 49.10],
                            [36.23, 49.10],
                            [36.23, 49.11],
                            [36.21, 49.11],
                            [36.21, 49.10],
                        ]
                    ],
                },
                "properties": {"outcome": "reduced", "date": "2024-06-10"},
            },
        ],
    },
}


# --- responses -------------------------------------------------------------------------------


class ReleasePropertiesOut(BaseModel):
    """A stored release polygon: the members sent, with server-set figures."""

    model_config = ConfigDict(extra="allow")

    id: str
    hazard_id: str
    outcome: ReleaseOutcome
    date: dt.date
    area_m2: float = Field(description="m² on the WGS 84 ellipsoid")
    counted_area_m2: float | None = Field(
        description="the part counted against the hazard, m²"
    )
    outside_area_m2: float | None = Field(description="the part outside the hazard, m²")
    warnings: list[str] | None = Field(
        None, description="present when the server repaired or adjusted the polygon"
    )


class ReleaseFeatureOut(Feature[MultiPolygon, ReleasePropertiesOut]):
    """A release polygon as stored (one per hazard it falls in)."""

    id: str


class ReleaseCollectionOut(FeatureCollection[ReleaseFeatureOut]):
    """The release polygons of an activity."""


class ActivityOut(BaseModel):
    """An activity with its release polygons."""

    id: str
    external_id: str | None
    activity_type: ActivityType
    status: ActivityStatus
    organisation: str = Field(description="organisation code")
    start_date: dt.date | None
    end_date: dt.date | None
    methods: list[str]
    clearance_depth_cm: int | None
    notes: str | None
    version: int
    is_demo: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    hazard_ids: list[str]
    releases: ReleaseCollectionOut
    warnings: list[str] | None = Field(
        None,
        description="present on writes when the server repaired or adjusted the input",
    )


class ActivityList(BaseModel):
    """A page of activities, most recent start first."""

    activities: list[ActivityOut]
    numberMatched: int  # noqa: N815 - as the feature collections
    numberReturned: int  # noqa: N815
    links: list[Link]

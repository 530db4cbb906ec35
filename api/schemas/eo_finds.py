"""EO find request bodies (GeoJSON Point Features)."""

import uuid
from datetime import date, datetime
from typing import Any, Literal

from geojson_pydantic import Feature, Point
from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import MAX_COUNT, Day, DepthCm, FeaturePage, GeoJSONGeometry
from api.vocab import Contamination, DisposalMethod, EOCondition


class EOFindProperties(BaseModel):
    """What was found, where it sat, and what was done with it."""

    model_config = ConfigDict(extra="forbid")

    external_id: str | None = Field(None, min_length=1, max_length=200)
    eo_category: Contamination
    model: str | None = Field(None, max_length=200)
    quantity: int = Field(1, ge=1, le=MAX_COUNT, description="1..10,000,000")
    condition: EOCondition | None = None
    depth_cm: DepthCm | None = Field(None, description="0..10,000 cm")
    found_on: Day | None = None
    activity_id: uuid.UUID | None = None
    hazard_id: str | None = Field(None, description="Hazard id or external id")
    organisation: str | None = Field(
        None, description="Code; defaults to the activity's"
    )
    disposal_method: DisposalMethod | None = None
    notes: str | None = Field(None, max_length=10_000)


class EOFindFeature(BaseModel):
    """A Point Feature where the item was found (not where it was destroyed)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] = "Feature"
    id: Any = None
    geometry: GeoJSONGeometry | None
    properties: EOFindProperties


EO_FIND_EXAMPLE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [36.2051, 49.1032]},
    "properties": {
        "eo_category": "ap_mine",
        "model": "PMN-2",
        "quantity": 1,
        "condition": "armed",
        "depth_cm": 5,
        "found_on": "2024-06-12",
        "hazard_id": "HALO-UA-HA-0001",
        "disposal_method": "in_situ_demolition",
    },
}


# --- responses -------------------------------------------------------------------------------


class EOFindPropertiesOut(BaseModel):
    """Properties of a find as stored, with server-set members."""

    id: str
    external_id: str | None
    organisation: str = Field(description="organisation code")
    activity_id: str | None
    hazard_id: str | None
    eo_category: Contamination
    model: str | None
    quantity: int
    condition: EOCondition | None
    depth_cm: int | None
    found_on: date | None
    disposal_method: DisposalMethod | None
    notes: str | None
    is_demo: bool
    created_at: datetime
    location_precision: Literal["exact", "generalised_0.01deg"] = Field(
        description="generalised to a 0.01° grid for callers without restricted:read"
    )


class EOFindFeatureOut(Feature[Point, EOFindPropertiesOut]):
    """A find as a Point Feature, where it was found."""

    id: str
    warnings: list[str] | None = Field(
        None, description="present on writes when the server has doubts about the input"
    )


class EOFindCollection(FeaturePage[EOFindFeatureOut]):
    """A page of finds."""

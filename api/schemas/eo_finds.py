"""EO find request bodies (GeoJSON Point Features)."""

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import MAX_COUNT, Day, DepthCm, GeoJSONGeometry
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

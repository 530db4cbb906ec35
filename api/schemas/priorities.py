"""Clearance priorities: model versions, the ranking and overrides (request and response
bodies)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Band = Literal["high", "medium", "low"]


# --- request bodies ------------------------------------------------------------------------


class ModelCreate(BaseModel):
    """A new version of the priority model."""

    name: str = Field(..., min_length=1, max_length=200)
    notes: str | None = Field(None, max_length=5000)
    activate: bool = True
    model: dict[str, Any] = Field(..., description="criteria, gates and bands")


class OverrideCreate(BaseModel):
    """A manual band with its written justification."""

    band: Literal["high", "medium", "low"]
    justification: str = Field(..., max_length=5000)


class Justification(BaseModel):
    """A written reason."""

    justification: str = Field(..., max_length=5000)


class DoNoHarm(BaseModel):
    """The do-no-harm gate of a hazard."""

    do_no_harm: bool
    justification: str = Field(..., max_length=5000)


# --- response bodies -----------------------------------------------------------------------


class PriorityModelOut(BaseModel):
    """A stored version of the priority model."""

    id: str
    version: int
    name: str
    active: bool
    notes: str | None
    author: str
    created_at: datetime | None
    activated_at: datetime | None
    model: dict[str, Any] = Field(description="criteria, gates and bands")


class PriorityModelList(BaseModel):
    """Versions, newest first, with the active one marked."""

    items: list[PriorityModelOut]


class ModelRef(BaseModel):
    """The model version a ranking comes from."""

    id: str
    version: int
    name: str


class IndicatorPart(BaseModel):
    """One indicator: its raw value, its normalised value and the rule."""

    value: float | int | bool | None
    normalised: float
    rule: str


class CriterionPart(BaseModel):
    """One criterion: its weight, score (mean of its indicators) and contribution."""

    weight: float
    score: float
    contribution: float = Field(description="points out of 100")
    indicators: dict[str, IndicatorPart]


class CurrentOverride(BaseModel):
    """A manual band, shown beside the computed rank."""

    band: Band
    justification: str
    author: str
    at: datetime


class RankedHazard(BaseModel):
    """A hazard with its explained score."""

    hazard_id: str
    external_id: str | None
    name: str | None
    classification: str
    hazard_type: str | None
    status: str
    organisation: str
    admin: list[str]
    area_m2: float
    rank: int | None = Field(description="null when a gate fails (listed, not ranked)")
    score: float
    band: Band
    gates: dict[str, Literal["pass", "fail"]]
    breakdown: dict[str, CriterionPart]
    explanation: str
    override: CurrentOverride | None


class Ranking(BaseModel):
    """A page of hazards in priority order."""

    model: ModelRef
    numberMatched: int  # noqa: N815 - as the feature collections
    numberReturned: int  # noqa: N815
    items: list[RankedHazard]


class OverrideOut(BaseModel):
    """An override, current or revoked."""

    id: str
    band: Band
    justification: str
    author: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_justification: str | None


class OverrideHistory(BaseModel):
    """Every override of a hazard, current first."""

    hazard_id: str
    overrides: list[OverrideOut]


class DoNoHarmOut(BaseModel):
    """The do-no-harm gate as set."""

    hazard_id: str
    do_no_harm: bool

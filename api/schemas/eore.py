"""Risk-education (EORE) session request bodies: GeoJSON Point Features.

A session is located by a Point, or, when the team judged it not safe to record one
(``location_safe_to_record`` false), by ``admin`` (a P-code) alone with ``geometry`` null.
"""

import uuid
from datetime import date, datetime
from typing import Any, Literal

from geojson_pydantic import Feature, Point
from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Day, FeaturePage, GeoJSONGeometry, Link
from api.vocab import (
    EoreAgeBand,
    EoreAudience,
    EoreDeliveryMethod,
    EoreDisability,
    EoreMessage,
    Sex,
)

NOTES_DESCRIPTION = (
    "free text; never put names or phone numbers of focal points or participants here"
)
MAX_LINKS = 1000


class BeneficiaryCell(BaseModel):
    """People reached in one sex × age band × disability cell."""

    model_config = ConfigDict(extra="forbid")

    sex: Sex
    age_band: EoreAgeBand
    disability: EoreDisability = EoreDisability.unknown
    count: int = Field(ge=0, le=1_000_000, description="0..1,000,000")


class EoreSessionProperties(BaseModel):
    """What was delivered, when, by whom, for whom; beneficiaries; what prompted it."""

    model_config = ConfigDict(extra="forbid")

    external_id: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="the sender's id (e.g. the form id ORG-RE-yyyymmdd-HHMM); "
        "re-sending it updates the session",
    )
    organisation: str | None = Field(None, description="code; defaults to the caller's")
    team: str | None = Field(None, max_length=200)
    session_date: Day = Field(description="date of the session (or first broadcast)")
    ended_on: Day | None = Field(
        None, description="last day, for broadcasts or multi-day activities"
    )
    delivery_method: EoreDeliveryMethod
    audience: EoreAudience = Field(description="the primary audience")
    language: str | None = Field(
        None, min_length=2, max_length=35, description="language of delivery, e.g. uk"
    )
    messages_covered: list[EoreMessage] = Field(default_factory=list, max_length=20)
    location_safe_to_record: bool = Field(
        True,
        description="false when it was not safe to record the location: send geometry "
        "null and admin instead; no point is stored",
    )
    admin: str | None = Field(
        None,
        max_length=50,
        description="P-code of the administrative area; required when the location is "
        "not safe to record, else derived from the point when left out",
    )
    settlement_id: uuid.UUID | None = Field(
        None, description="the community (context settlement) reached"
    )
    beneficiaries: list[BeneficiaryCell] = Field(
        default_factory=list,
        max_length=100,
        description="people reached, one entry per sex × age band × disability cell",
    )
    hazard_ids: list[str] = Field(
        default_factory=list,
        max_length=MAX_LINKS,
        description="hazards (ids or external ids) that prompted the session",
    )
    accident_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=MAX_LINKS,
        description="accidents that prompted the session",
    )
    notes: str | None = Field(None, max_length=10_000, description=NOTES_DESCRIPTION)


class EoreSessionFeature(BaseModel):
    """A session as a Point Feature (``geometry`` null when not safe to record)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] = "Feature"
    id: Any = None
    geometry: GeoJSONGeometry | None = None
    properties: EoreSessionProperties


class EoreSessionPropertiesPatch(BaseModel):
    """Properties to change; members left out keep their value; lists are replaced."""

    model_config = ConfigDict(extra="forbid")

    external_id: str | None = Field(None, min_length=1, max_length=200)
    team: str | None = Field(None, max_length=200)
    session_date: Day | None = None
    ended_on: Day | None = None
    delivery_method: EoreDeliveryMethod | None = None
    audience: EoreAudience | None = None
    language: str | None = Field(None, min_length=2, max_length=35)
    messages_covered: list[EoreMessage] | None = Field(None, max_length=20)
    location_safe_to_record: bool | None = None
    admin: str | None = Field(None, max_length=50)
    settlement_id: uuid.UUID | None = None
    beneficiaries: list[BeneficiaryCell] | None = Field(None, max_length=100)
    hazard_ids: list[str] | None = Field(None, max_length=MAX_LINKS)
    accident_ids: list[uuid.UUID] | None = Field(None, max_length=MAX_LINKS)
    notes: str | None = Field(None, max_length=10_000, description=NOTES_DESCRIPTION)


class EoreSessionPatch(BaseModel):
    """A partial Feature: ``geometry`` and/or ``properties``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] = "Feature"
    geometry: GeoJSONGeometry | None = None
    properties: EoreSessionPropertiesPatch | None = None


EORE_SESSION_EXAMPLE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [36.2113, 49.0871]},
    "properties": {
        "external_id": "HALO-UA-RE-20240614-1030",
        "session_date": "2024-06-14",
        "delivery_method": "school_based",
        "audience": "children",
        "language": "uk",
        "messages_covered": ["recognise_devices", "report"],
        "beneficiaries": [
            {"sex": "female", "age_band": "age_5_12", "count": 14},
            {"sex": "male", "age_band": "age_5_12", "count": 11},
            {
                "sex": "male",
                "age_band": "age_5_12",
                "disability": "with_disability",
                "count": 1,
            },
        ],
        "notes": "school yard session after a UXO find nearby",
    },
}

EORE_SESSION_WITHHELD_EXAMPLE = {
    "type": "Feature",
    "geometry": None,
    "properties": {
        "session_date": "2024-06-15",
        "delivery_method": "interpersonal",
        "audience": "farmers_herders",
        "location_safe_to_record": False,
        "admin": "UA6312",
        "beneficiaries": [{"sex": "male", "age_band": "age_18_plus", "count": 9}],
    },
}

EORE_SESSION_PATCH_EXAMPLE = {
    "properties": {
        "beneficiaries": [
            {"sex": "female", "age_band": "age_5_12", "count": 15},
            {"sex": "male", "age_band": "age_5_12", "count": 11},
        ]
    }
}


# --- responses -------------------------------------------------------------------------------


class EoreSessionPropertiesOut(BaseModel):
    """Properties of a session as stored, with server-set members."""

    id: str
    external_id: str | None
    organisation: str = Field(description="organisation code")
    team: str | None
    session_date: date
    ended_on: date | None
    delivery_method: EoreDeliveryMethod
    audience: EoreAudience
    language: str | None
    messages_covered: list[EoreMessage]
    location_safe_to_record: bool
    admin: str | None = Field(description="P-code of the administrative area")
    admin_name: str | None
    settlement_id: str | None
    settlement_name: str | None
    notes: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    beneficiaries: list[BeneficiaryCell]
    beneficiaries_total: int
    hazard_ids: list[str]
    accident_ids: list[str]


class EoreSessionFeatureOut(Feature[Point, EoreSessionPropertiesOut]):
    """A session as a Point Feature; geometry null where the location was not safe to
    record."""

    id: str
    warnings: list[str] | None = Field(
        None,
        description="present on writes when the server repaired or adjusted the input",
    )


class EoreSessionCollection(FeaturePage[EoreSessionFeatureOut]):
    """A page of sessions."""


class PlanningParametersOut(BaseModel):
    """The planning parameters as applied, with the cut-off dates."""

    distance_m: int
    accident_months: int
    accidents_since: date
    eore_months: int
    sessions_since: date
    reach_m: int
    admin: str | None
    min_population: int | None


class PlanningRow(BaseModel):
    """A settlement where risk education is due."""

    rank: int
    id: str
    external_id: str | None
    name: str
    population: int | None
    admin: str | None = Field(description="P-code of the smallest administrative area")
    open_hazards: int
    nearest_hazard_m: float | None
    recent_accidents: int
    nearest_accident_m: float | None = Field(
        description="metres, for callers who see exact accident locations; null for others"
    )
    nearest_accident_band: str | None = Field(
        description='"< 1 km", "1–5 km", "5–10 km" or "> 10 km"; for every caller'
    )
    last_session_on: date | None
    lon: float
    lat: float


class EorePlanning(BaseModel):
    """Settlements where risk education is due, largest population first."""

    parameters: PlanningParametersOut
    items: list[PlanningRow]
    numberMatched: int  # noqa: N815 - as the feature collections
    numberReturned: int  # noqa: N815
    links: list[Link]

"""Accident and victim request bodies.

Accidents are GeoJSON Point Features. Victims are plain JSON objects under an accident; a
victim's personal data (``personal``) is written with it and stored apart.
"""

from datetime import date, datetime
from typing import Any, Literal

from geojson_pydantic import Feature, Point
from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Count, Day, FeaturePage, GeoJSONGeometry
from api.vocab import AccidentClass, CasualtyOutcome, Contamination, Sex, VictimRole

NOTES_DESCRIPTION = (
    "free text; never put names or contacts here (use a victim's `personal` object)"
)


class AccidentProperties(BaseModel):
    """What happened, when, and how many people were killed and injured."""

    model_config = ConfigDict(extra="forbid")

    external_id: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="the sender's id; re-sending it updates the accident",
    )
    organisation: str | None = Field(None, description="code; defaults to the caller's")
    occurred_on: Day = Field(description="date of the accident")
    accident_class: AccidentClass
    device_category: Contamination | None = Field(
        None, description="category of the device that caused it (contamination codes)"
    )
    killed: Count = Field(
        0,
        description="reported number of people killed (itemised or not), 0..10,000,000",
    )
    injured: Count = Field(
        0,
        description="reported number of people injured (itemised or not), 0..10,000,000",
    )
    hazard_id: str | None = Field(None, description="hazard id or external id")
    notes: str | None = Field(None, max_length=10_000, description=NOTES_DESCRIPTION)


class AccidentFeature(BaseModel):
    """An accident as a Point Feature, located where it happened."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] = "Feature"
    id: Any = None
    geometry: GeoJSONGeometry | None
    properties: AccidentProperties


class AccidentPropertiesPatch(BaseModel):
    """Properties to change; members left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    external_id: str | None = Field(None, min_length=1, max_length=200)
    occurred_on: Day | None = None
    accident_class: AccidentClass | None = None
    device_category: Contamination | None = None
    killed: Count | None = None
    injured: Count | None = None
    hazard_id: str | None = None
    notes: str | None = Field(None, max_length=10_000, description=NOTES_DESCRIPTION)


class AccidentPatch(BaseModel):
    """A partial Feature: ``geometry`` and/or ``properties``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] = "Feature"
    geometry: GeoJSONGeometry | None = None
    properties: AccidentPropertiesPatch | None = None


class VictimPersonal(BaseModel):
    """A victim's personal data: stored apart, read back only with ``restricted:read``."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=500)
    date_of_birth: Day | None = None
    address: str | None = Field(None, max_length=2000)
    phone: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=320)


class VictimCreate(BaseModel):
    """A person killed or injured in the accident.

    ``age`` is the age at the accident; when left out it is derived from
    ``personal.date_of_birth``. ``age_band`` (child under 18, adult, unknown) is derived.
    """

    model_config = ConfigDict(extra="forbid")

    sex: Sex = Sex.unknown
    age: int | None = Field(None, ge=0, le=130, description="age at the accident")
    role: VictimRole
    outcome: CasualtyOutcome
    activity_at_time: str | None = Field(
        None, max_length=200, description="e.g. farming, herding, travelling, demining"
    )
    personal: VictimPersonal | None = None


class VictimPatch(BaseModel):
    """Members to change; ``personal`` replaces the personal data (null removes it)."""

    model_config = ConfigDict(extra="forbid")

    sex: Sex | None = None
    age: int | None = Field(None, ge=0, le=130)
    role: VictimRole | None = None
    outcome: CasualtyOutcome | None = None
    activity_at_time: str | None = Field(None, max_length=200)
    personal: VictimPersonal | None = None


ACCIDENT_EXAMPLE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [36.2113, 49.0871]},
    "properties": {
        "external_id": "HALO-UA-ACC-20240614-1030",
        "occurred_on": "2024-06-14",
        "accident_class": "mine_erw_accident",
        "device_category": "av_mine",
        "killed": 1,
        "injured": 2,
        "notes": "tractor ploughing a field edge",
    },
}

ACCIDENT_PATCH_EXAMPLE = {"properties": {"injured": 3}}

VICTIM_EXAMPLE = {
    "sex": "male",
    "age": 47,
    "role": "civilian",
    "outcome": "injured",
    "activity_at_time": "farming",
    "personal": {
        "name": "Ivan Example",
        "date_of_birth": "1977-03-02",
        "address": "Example village, Kharkiv oblast",
        "phone": "+380 00 000 0000",
    },
}

VICTIM_PATCH_EXAMPLE = {"outcome": "killed"}


# --- responses -------------------------------------------------------------------------------


class AccidentPropertiesOut(BaseModel):
    """Properties of an accident as stored, with server-set members."""

    id: str
    external_id: str | None
    organisation: str = Field(description="organisation code")
    occurred_on: date
    accident_class: AccidentClass
    device_category: Contamination | None
    killed: int
    injured: int
    hazard_id: str | None
    notes: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    victims_recorded: int = Field(description="victims itemised under the accident")
    location_precision: Literal["exact", "generalised_0.01deg"] = Field(
        description="generalised to a 0.01° grid for callers without restricted:read"
    )


class AccidentFeatureOut(Feature[Point, AccidentPropertiesOut]):
    """An accident as a Point Feature (never with victims' data)."""

    id: str
    warnings: list[str] | None = Field(
        None, description="present on writes when the server changed the input"
    )


class AccidentCollection(FeaturePage[AccidentFeatureOut]):
    """A page of accidents."""


class VictimPersonalOut(BaseModel):
    """A victim's personal data (callers with restricted:read only)."""

    name: str | None
    date_of_birth: date | None
    address: str | None
    phone: str | None
    email: str | None


class VictimOut(BaseModel):
    """A victim of an accident; ``personal`` only on ``GET`` of one victim, with
    restricted:read (null when none recorded). Sex, age, age band, role, outcome and
    activity are null (``attributes``: ``withheld``) for callers without restricted:read,
    except in the response to the write that set them: with the accident's date they would
    be a casualty count of one."""

    id: str
    accident_id: str
    sex: Sex | None
    age: int | None
    age_band: str | None
    role: VictimRole | None
    outcome: CasualtyOutcome | None
    activity_at_time: str | None
    attributes: Literal["exact", "withheld"] = Field(
        description="withheld: the attributes above are null (no restricted:read)"
    )
    version: int
    created_at: datetime
    updated_at: datetime
    has_personal_data: bool
    personal: VictimPersonalOut | None = None


class VictimList(BaseModel):
    """The victims of an accident, never with personal data."""

    victims: list[VictimOut]
    numberReturned: int  # noqa: N815 - as the collections


class CasualtyCell(BaseModel):
    """People killed or injured in one combination of the grouped dimensions; the
    dimension members (sex, age_band, role, outcome) present are those grouped by."""

    model_config = ConfigDict(extra="allow")

    sex: str | None = None
    age_band: str | None = None
    role: str | None = None
    outcome: str | None = None
    labels: dict[str, str] = Field(description="label of each dimension's value")
    count: int | None = Field(description="null when withheld")
    suppressed: bool


class CasualtyTotal(BaseModel):
    """The table total."""

    count: int | None
    suppressed: bool


class Suppression(BaseModel):
    """Whether small counts were withheld, and by which rule."""

    applied: bool
    threshold: int
    rule: str


class CasualtyFigures(BaseModel):
    """Casualties disaggregated by the requested dimensions."""

    group_by: list[Literal["sex", "age_band", "role", "outcome"]]
    period: str | None = Field(
        None,
        description="without restricted:read, the fixed period answered: 2024-08, "
        "2024-Q3, 2024 or all",
    )
    cells: list[CasualtyCell]
    total: CasualtyTotal
    suppression: Suppression
    not_itemised: str

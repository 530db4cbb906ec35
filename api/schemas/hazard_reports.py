"""Hazard reports: request bodies (a report, workflow transitions, acceptance), their
OpenAPI examples, and the bodies served."""

import uuid
from datetime import date, datetime
from typing import Any, Literal

from geojson_pydantic import Feature
from geojson_pydantic.geometries import Geometry
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas.common import (
    MAX_GPS_ACCURACY_M,
    Day,
    FeaturePage,
    GeoJSONGeometry,
)
from api.vocab import (
    Classification,
    Contamination,
    Evidence,
    HazardType,
    ReportSource,
    ReportStatus,
)

# --- request bodies ------------------------------------------------------------------------


class ContactIn(BaseModel):
    """An informant or focal point. Personal data: stored apart, read with restricted:read."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=500)
    phone: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=320)
    role: str | None = Field(
        None, max_length=200, description="e.g. farmer, teacher, village head"
    )
    consent_to_contact: bool | None = Field(
        None, description="whether the informant agreed to be contacted again"
    )
    notes: str | None = Field(None, max_length=2000)


class HazardReportPropertiesCreate(BaseModel):
    """What was reported, by which channel, and to whom."""

    model_config = ConfigDict(extra="forbid")

    source: ReportSource
    external_id: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="the sender's id; re-sending the same report is not a duplicate",
    )
    organisation: str | None = Field(
        None,
        description="code of the receiving organisation; defaults to the caller's",
    )
    reported_on: Day | None = Field(
        None, description="date of the report; defaults to today"
    )
    description: str | None = Field(None, max_length=10_000)
    contamination: list[Contamination] = Field(
        default_factory=list, description="suspected contamination"
    )
    location_text: str | None = Field(
        None, max_length=2000, description="the location as the informant described it"
    )
    gps_accuracy_m: float | None = Field(
        None,
        ge=0,
        le=MAX_GPS_ACCURACY_M,
        allow_inf_nan=False,
        description="0..100,000 m",
    )
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)


class HazardReportFeature(BaseModel):
    """A hazard report as a GeoJSON Feature; the geometry may be null (not safe to record)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] = "Feature"
    geometry: GeoJSONGeometry | None = Field(
        None, description="Point, Polygon or MultiPolygon in EPSG:4326, or null"
    )
    properties: HazardReportPropertiesCreate


class TransitionNote(BaseModel):
    """An optional note recorded with a transition."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=5000)


class RejectBody(BaseModel):
    """Why the report is rejected (required)."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(..., min_length=1, max_length=5000)

    @field_validator("note")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a rejection needs a note saying why")
        return value.strip()


class AcceptCreate(BaseModel):
    """The new hazard (an SHA) to create from the report."""

    model_config = ConfigDict(extra="forbid")

    classification: Classification = Field(
        Classification.SHA, description="always SHA: a report is not direct evidence"
    )
    hazard_type: HazardType | None = None
    name: str | None = Field(None, max_length=500)
    external_id: str | None = Field(None, min_length=1, max_length=200)
    contamination: list[Contamination] | None = Field(
        None, description="defaults to the report's suspected contamination"
    )
    date_of_information: Day | None = Field(
        None, description="defaults to the report's date"
    )
    evidence: Evidence | None = None
    notes: str | None = Field(None, max_length=10_000)
    organisation: str | None = Field(
        None,
        description="code; defaults to the accepting coordinator's organisation",
    )
    geometry: GeoJSONGeometry | None = Field(
        None,
        description="the perimeter drawn after verification; defaults to the report's",
    )


class AcceptBody(BaseModel):
    """Link the report to a hazard (``hazard_id``) or create one (``create``)."""

    model_config = ConfigDict(extra="forbid")

    hazard_id: uuid.UUID | None = None
    create: AcceptCreate | None = None
    note: str | None = Field(None, max_length=5000)


REPORT_EXAMPLES = {
    "hotline": {
        "summary": "A hotline call with a point location",
        "value": {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [36.2051, 49.1032]},
            "properties": {
                "source": "hotline",
                "external_id": "HOTLINE-2024-0042",
                "reported_on": "2024-05-17",
                "description": "Caller saw a mine-like object at the edge of the field",
                "contamination": ["ap_mine"],
                "location_text": "north edge of the field behind the school",
                "gps_accuracy_m": 15,
                "contacts": [
                    {
                        "name": "Informant name",
                        "phone": "+380 00 000 0000",
                        "role": "farmer",
                        "consent_to_contact": True,
                    }
                ],
            },
        },
    },
    "eore_session": {
        "summary": "Reported during a risk-education session, without a safe location",
        "value": {
            "type": "Feature",
            "geometry": None,
            "properties": {
                "source": "eore_session",
                "reported_on": "2024-05-20",
                "description": "Pupils say there are shells in the ravine east of the village",
                "contamination": ["uxo"],
                "location_text": "ravine east of the village, by the old mill",
            },
        },
    },
}

ACCEPT_EXAMPLES = {
    "link": {
        "summary": "Link to a hazard already recorded",
        "value": {
            "hazard_id": "0b6f0c8e-5d7e-4c0f-9a4e-2f3d1f5b9a11",
            "note": "Same field as HALO-UA-HA-0001",
        },
    },
    "create": {
        "summary": "Create a new suspected hazardous area from the report",
        "value": {
            "create": {
                "classification": "SHA",
                "hazard_type": "minefield",
                "name": "Field behind the school",
            },
            "note": "Confirmed by the NTS team's key informant interviews",
        },
    },
}


# --- response bodies ---------------------------------------------------------------------


class ReportEvent(BaseModel):
    """One step of a report's workflow."""

    seq: int
    action: str
    from_status: ReportStatus | None
    to_status: ReportStatus
    at: datetime
    by: str
    note: str | None
    hazard_id: str | None


class ReportContact(BaseModel):
    """An informant's contact (restricted:read only)."""

    name: str | None
    phone: str | None
    email: str | None
    role: str | None
    consent_to_contact: bool | None
    notes: str | None


class HazardReportProperties(BaseModel):
    """A report as listed: never with informants' contacts or the raw submission."""

    id: str
    external_id: str | None
    organisation: str = Field(description="code of the receiving organisation")
    source: ReportSource
    status: ReportStatus
    reported_on: date
    description: str | None
    contamination: list[str]
    location_text: str | None
    gps_accuracy_m: float | None
    hazard_id: str | None = Field(description="the hazard it was linked to or created")
    submitted_by: str
    verified_by: str | None
    verified_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    location_precision: Literal["exact", "generalised_0.01deg"] | None = Field(
        None,
        description="a reported point is generalised to a 0.01° grid for callers who may "
        "not see exact locations; null without a geometry",
    )


class HazardReportDetail(HazardReportProperties):
    """One report with its workflow log; ``contacts`` and ``raw_submission`` only for
    callers with restricted:read."""

    intake_warnings: list[Any] = Field(description="what intake noticed on submission")
    has_contacts: bool
    events: list[ReportEvent]
    contacts: list[ReportContact] | None = None
    raw_submission: dict[str, Any] | None = None


class HazardReportFeatureOut(Feature[Geometry, HazardReportDetail]):
    """One hazard report as a Feature (geometry null when only described in words)."""

    id: str
    warnings: list[str] | None = Field(
        None,
        description="present on writes when the server repaired or adjusted the input",
    )


class HazardReportListFeature(Feature[Geometry, HazardReportProperties]):
    """A hazard report in a list."""

    id: str


class HazardReportCollection(FeaturePage[HazardReportListFeature]):
    """A page of hazard reports, newest first."""

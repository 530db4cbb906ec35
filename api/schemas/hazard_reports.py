"""Hazard reports as served (response bodies); request bodies are in the service."""

from datetime import date, datetime
from typing import Any, Literal

from geojson_pydantic import Feature
from geojson_pydantic.geometries import Geometry
from pydantic import BaseModel, Field

from api.db.models.hazard_reports import ReportSource, ReportStatus
from api.schemas.common import FeaturePage


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

"""Hazard request and response bodies (GeoJSON Features)."""

from datetime import date, datetime
from typing import Any, Literal

from geojson_pydantic import Feature
from geojson_pydantic.geometries import Geometry
from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import (
    Beneficiaries,
    Count,
    Day,
    EstimatedAreaM2,
    GeoJSONGeometry,
    Link,
)
from api.vocab import (
    Classification,
    Contamination,
    Evidence,
    HazardStatus,
    HazardType,
    LandUse,
)

READ_ONLY_PROPERTIES = (
    "id",
    "area_m2",
    "admin",
    "version",
    "created_at",
    "updated_at",
    "land_release",
    "status_source",
    "is_demo",
    "warnings",
    "retired_at",
)


class _ReadOnlyTolerant(BaseModel):
    """Accepts the server-set members of a Feature read earlier, so it can be sent back.

    They are ignored, and the write response says so in ``warnings``.
    """

    model_config = ConfigDict(extra="forbid")

    id: Any = Field(None, json_schema_extra={"readOnly": True})
    area_m2: Any = Field(None, json_schema_extra={"readOnly": True})
    admin: Any = Field(None, json_schema_extra={"readOnly": True})
    version: Any = Field(None, json_schema_extra={"readOnly": True})
    created_at: Any = Field(None, json_schema_extra={"readOnly": True})
    updated_at: Any = Field(None, json_schema_extra={"readOnly": True})
    land_release: Any = Field(None, json_schema_extra={"readOnly": True})
    status_source: Any = Field(None, json_schema_extra={"readOnly": True})
    is_demo: Any = Field(None, json_schema_extra={"readOnly": True})
    warnings: Any = Field(None, json_schema_extra={"readOnly": True})
    retired_at: Any = Field(None, json_schema_extra={"readOnly": True})

    def read_only_sent(self) -> list[str]:
        """Names of server-set members present in the request."""
        return [n for n in READ_ONLY_PROPERTIES if n in self.model_fields_set]


class HazardPropertiesCreate(_ReadOnlyTolerant):
    """Properties of a new hazard area."""

    external_id: str | None = Field(None, min_length=1, max_length=200)
    name: str | None = Field(None, max_length=500)
    classification: Classification
    hazard_type: HazardType | None = None
    status: HazardStatus | None = Field(
        None, description="Set only to override the derived status; omit to derive it"
    )
    contamination: list[Contamination] = Field(default_factory=list)
    organisation: str | None = Field(
        None, description="Organisation code; defaults to the caller's organisation"
    )
    date_of_information: Day | None = Field(
        None, description="Date the information is true for; defaults to today"
    )
    benchmark: GeoJSONGeometry | None = None
    reference_point: GeoJSONGeometry | None = None
    estimated_area_m2: EstimatedAreaM2 | None = Field(None, description="0..1e12 m²")
    evidence: Evidence | None = None
    blockages: list[LandUse] = Field(default_factory=list)
    beneficiaries: Count | Beneficiaries | None = Field(
        None, description="a number, or an object of numbers; each 0..10,000,000"
    )
    notes: str | None = Field(None, max_length=10_000)


class HazardPropertiesPatch(_ReadOnlyTolerant):
    """Properties of a partial update; only the members sent are changed."""

    external_id: str | None = Field(None, min_length=1, max_length=200)
    name: str | None = Field(None, max_length=500)
    classification: Classification | None = None
    hazard_type: HazardType | None = None
    status: HazardStatus | None = Field(
        None, description="null returns to the derived status"
    )
    contamination: list[Contamination] | None = None
    organisation: str | None = None
    date_of_information: Day | None = Field(
        None,
        description="Date the information is true for; omitted = a correction of the "
        "current record, dated as it is",
    )
    benchmark: GeoJSONGeometry | None = None
    reference_point: GeoJSONGeometry | None = None
    estimated_area_m2: EstimatedAreaM2 | None = Field(None, description="0..1e12 m²")
    evidence: Evidence | None = None
    blockages: list[LandUse] | None = None
    beneficiaries: Count | Beneficiaries | None = Field(
        None, description="a number, or an object of numbers; each 0..10,000,000"
    )
    notes: str | None = Field(None, max_length=10_000)


class HazardFeatureCreate(BaseModel):
    """A GeoJSON Feature describing a new hazard area."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] = "Feature"
    id: Any = Field(None, json_schema_extra={"readOnly": True})
    geometry: GeoJSONGeometry | None = Field(
        ...,
        description="Polygon or MultiPolygon (Point for uxo_spot and axo_site), EPSG:4326",
    )
    properties: HazardPropertiesCreate
    bbox: Any = Field(None, json_schema_extra={"readOnly": True})


class HazardFeaturePatch(BaseModel):
    """A partial Feature: ``geometry`` and/or some ``properties``."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] | None = None
    id: Any = Field(None, json_schema_extra={"readOnly": True})
    geometry: GeoJSONGeometry | None = None
    properties: HazardPropertiesPatch | None = None
    bbox: Any = Field(None, json_schema_extra={"readOnly": True})


HAZARD_EXAMPLE = {
    "type": "Feature",
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [
                [36.20, 49.10],
                [36.23, 49.10],
                [36.23, 49.12],
                [36.20, 49.12],
                [36.20, 49.10],
            ]
        ],
    },
    "properties": {
        "external_id": "HALO-UA-HA-0001",
        "name": "Field north of the village",
        "classification": "SHA",
        "hazard_type": "minefield",
        "contamination": ["ap_mine", "av_mine"],
        "organisation": "HALO",
        "date_of_information": "2024-05-01",
        "benchmark": {"type": "Point", "coordinates": [36.199, 49.099]},
        "evidence": "indirect",
        "blockages": ["agricultural_crop"],
        "beneficiaries": {
            "total": 120,
            "women": 40,
            "men": 35,
            "girls": 25,
            "boys": 20,
        },
    },
}

HAZARD_PATCH_EXAMPLES = {
    "rename": {
        "summary": "A new report changes the name",
        "value": {
            "properties": {
                "name": "Field north of the school",
                "date_of_information": "2024-07-01",
            }
        },
    },
    "redraw": {
        "summary": "A re-survey redraws the perimeter",
        "value": {
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [36.20, 49.10],
                        [36.22, 49.10],
                        [36.22, 49.12],
                        [36.20, 49.12],
                        [36.20, 49.10],
                    ]
                ],
            },
            "properties": {"date_of_information": "2024-08-15"},
        },
    },
}


class LandReleaseOut(BaseModel):
    """Land-release figures of a hazard, m² on the WGS 84 ellipsoid."""

    baseline_area_m2: float
    cancelled_area_m2: float
    reduced_area_m2: float
    cleared_area_m2: float
    released_area_m2: float
    remaining_area_m2: float
    outside_area_m2: float = Field(
        description="released land outside the hazard, not counted against it"
    )
    computed_at: datetime | None = Field(
        None, description="when the current figures were computed (not with as_of)"
    )


class HazardPropertiesOut(BaseModel):
    """Properties of a hazard as stored, with server-set members."""

    id: str
    external_id: str | None
    name: str | None
    classification: Classification
    hazard_type: HazardType | None
    status: HazardStatus
    status_source: Literal["derived", "set"]
    contamination: list[Contamination]
    organisation: str
    date_of_information: date
    benchmark: dict | None
    reference_point: dict | None
    estimated_area_m2: float | None
    evidence: Evidence | None
    blockages: list[LandUse]
    beneficiaries: Any
    notes: str | None
    area_m2: float
    admin: list[str]
    version: int
    created_at: str
    updated_at: str
    is_demo: bool
    land_release: LandReleaseOut


class HazardFeatureOut(BaseModel):
    """A hazard area as a GeoJSON Feature."""

    type: Literal["Feature"]
    id: str
    geometry: dict
    properties: HazardPropertiesOut
    warnings: list[str] | None = Field(
        None,
        description="present on writes when the server repaired or adjusted the input",
    )


class HazardAsOfPropertiesOut(BaseModel):
    """Properties of a hazard as known on ``as_of``: the state recorded then (members as
    stored in that version, e.g. ``name``, ``classification``, ``contamination``), with
    the figures and status derived for that date."""

    model_config = ConfigDict(extra="allow")

    id: str
    organisation: str
    status: HazardStatus | None
    status_source: Literal["derived", "set"]
    area_m2: float | None
    admin: list[str]
    version: int
    is_demo: bool
    created_at: datetime
    as_of: date
    land_release: LandReleaseOut | None


class HazardAsOfFeatureOut(BaseModel):
    """A hazard area as known on a date (``as_of``), as a GeoJSON Feature."""

    type: Literal["Feature"]
    id: str
    geometry: dict
    properties: HazardAsOfPropertiesOut


class HazardCollection(BaseModel):
    """A page of hazard areas (as known on ``as_of`` when given)."""

    type: Literal["FeatureCollection"]
    features: list[HazardFeatureOut | HazardAsOfFeatureOut]
    numberMatched: int  # noqa: N815 - name fixed by OGC API Features
    numberReturned: int  # noqa: N815
    links: list[Link]
    as_of: date | None = Field(None, description="present when asked as of a date")


class RemainingProperties(BaseModel):
    """The hazard and its figures, m² on the WGS 84 ellipsoid."""

    id: str
    name: str | None
    classification: Classification | None
    status: HazardStatus | None
    organisation: str
    baseline_area_m2: float
    released_area_m2: float
    remaining_area_m2: float
    as_of: date | None = Field(None, description="present when asked as of a date")


class RemainingFeature(Feature[Geometry, RemainingProperties]):
    """The part of a hazard still hazardous (empty geometry when none remains)."""

    id: str


class HazardVersionOut(BaseModel):
    """One version of a hazard: what it stated and what it changed."""

    version: int
    kind: str
    date_of_information: date
    recorded_at: datetime
    author: str
    source: str
    applied: bool
    report: dict[str, Any] = Field(description="the properties as reported")
    changes: dict[str, Any] = Field(
        description="member: [before, after]; geometry: from_version, to_version"
    )
    superseded: list[Any]
    warnings: list[Any]
    submitted_geometry: dict[str, Any] | None
    stored_geometry: dict[str, Any] | None


class HazardHistory(BaseModel):
    """Every version of a hazard, in the order recorded."""

    hazard_id: str
    versions: list[HazardVersionOut]

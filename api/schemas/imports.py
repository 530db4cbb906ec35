"""Imports: the upload form's fields (request) and the job's status and report (responses)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ImportForm(BaseModel):
    """The form fields of ``POST /imports`` beside ``file`` (multipart/form-data)."""

    model_config = ConfigDict(extra="ignore")

    kind: Literal[
        "hazards", "activities", "releases", "eo_finds", "admin_areas", "context"
    ] = "hazards"
    profile: Literal["native", "imsma", "kobo", "osm"] = "native"
    mode: Literal["dry_run", "commit"] = "dry_run"
    atomic: bool = False
    layer: str | None = Field(None, description="GeoPackage layer / sheet")
    crs: str | None = Field(None, description="CRS when the file has none")
    mapping: str | None = Field(
        None, description="a profile in YAML/JSON laid over `profile`"
    )
    organisation: str | None = Field(
        None, description="organisation code for rows without one"
    )
    dayfirst: bool = Field(True, description="read 05/06/2024 as 5 June")
    context: (
        Literal["settlements", "roads", "facilities", "land_use", "security_zones"]
        | None
    ) = Field(None, description="the context layer, for kind=context")
    refuse_repairs: bool = Field(
        False,
        description="reject a row whose geometry would be repaired, instead of repairing it",
    )


class ImportLink(BaseModel):
    """Where to follow the import."""

    rel: str
    href: str


class ImportQueued(BaseModel):
    """An import accepted for processing; follow ``links`` (``self``) for its report."""

    id: str
    status: str
    links: list[ImportLink]


class ImportMessage(BaseModel):
    """A rejected row, a repair or a flag."""

    row: int | None = Field(description="row or feature number in the file")
    field: str | None
    message: str
    record_id: str | None = Field(None, description="the record the row wrote")
    location: list[float] | None = Field(None, description="lon, lat of the row")
    location_precision: Literal["generalised_0.01deg"] | None = Field(
        None, description="present when the location was generalised for the caller"
    )
    rule: str | None = Field(
        None,
        description="the gate's rule: rejected, missing_value, unknown_value, "
        "no_geometry, too_large, repair_refused, outside_programme, repaired, adjusted, duplicate, "
        "sliver, vertex_jump or review",
    )
    reference: str | None = Field(
        None,
        description="the row's reference (external id, activity, pcode) in the file",
    )
    name: str | None = Field(None, description="the row's name in the file")
    repaired_geometry: dict[str, Any] | None = Field(
        None, description="a repair: the geometry as it would be stored (GeoJSON)"
    )
    submitted_geometry: dict[str, Any] | None = Field(
        None, description="a repair: the geometry as the file gave it (GeoJSON)"
    )
    correction: str | None = Field(
        None,
        description="outside the programme: the correction that would put it inside",
    )
    corrected_geometry: dict[str, Any] | None = Field(
        None,
        description="outside the programme: where the row would lie once corrected",
    )
    geometry_precision: Literal["generalised_0.01deg"] | None = Field(
        None, description="present when the geometries were generalised for the caller"
    )
    geometry_omitted: str | None = Field(
        None, description="why the shapes of this row are not included (too large)"
    )


class RuleTally(BaseModel):
    """How many report lines one rule of the gate gave, and how many are listed."""

    severity: Literal["error", "warning", "flag"]
    rule: str = Field(description="as ImportMessage.rule")
    count: int = Field(description="lines of this rule, over every row of the file")
    listed: int = Field(description="lines listed in full in errors/warnings/flags")
    left_out: int = Field(
        description="lines counted but not listed (past SAFEGROUND_IMPORT_REPORT_PER_RULE)"
    )


class ImportReport(BaseModel):
    """An import's status, progress, counts, and every rejected row, repair and flag."""

    id: str
    status: str = Field(description="queued, running, succeeded or failed")
    progress: float = Field(description="0..1")
    stage: str | None = Field(
        None,
        description="where the import is: read, check, write, tidy, report, done "
        "(null before it starts)",
    )
    rows_done: int = Field(0, description="rows of the file read and checked so far")
    rows_total: int | None = Field(
        None, description="rows in the file, when its format tells in advance"
    )
    kind: str
    profile: str
    mode: str
    atomic: bool
    filename: str
    format: str | None
    layer: str | None
    size_bytes: int
    sha256: str | None
    counts: dict[str, int]
    rules: list[RuleTally] = Field(
        default_factory=list,
        description="report lines counted by rule, with how many are listed",
    )
    left_out: int = Field(
        0, description="report lines counted but not listed (see rules)"
    )
    stage_seconds: dict[str, float] = Field(
        default_factory=dict,
        description="seconds spent in each stage once it has run: read, map, gate, "
        "write, land_release, commit (rows: kinds not split into stages)",
    )
    errors: list[ImportMessage]
    warnings: list[ImportMessage]
    flags: list[ImportMessage]
    failure: str | None
    attempts: int
    author: str
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None

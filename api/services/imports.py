"""Imports: a file in, checked row by row at the gate, written in batches, reported in full.

The job (``run``) reads the stored upload in batches with bounded memory, maps each row through
the profile, builds its geometry (file geometry, or coordinate columns), runs the spatial gate,
then writes the batch with set-based statements:

* ``dry_run``: everything is done inside a transaction that is rolled back, so the report
  (created / updated / unchanged / rejected / flagged) is exactly what ``commit`` would do.
* ``commit``: each batch is committed on its own; a bad row is reported and the good rows stay.
* ``commit`` + ``atomic``: one transaction, committed only when no row was rejected.

Re-importing the same file changes nothing: a row whose stated values and geometry equal the
hazard's current state, with a date of information no newer, is counted as unchanged. A row
dated before what is stored is recorded in the hazard's history only (domain.md §0).
"""

import collections
import hashlib
import logging
import re
import tempfile
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, cast

import numpy as np
import orjson
import shapely
import shapely.geometry
from pydantic import ValidationError
from pyproj import CRS, Transformer
from shapely.geometry import Point, mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    CursorResult,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, distinct_on
from sqlalchemy.orm import Session

from api import audit
from api.db.models import Import, ImportChunk, ImportMessage
from api.errors import InvalidInput, NotFound, PayloadTooLarge, ProblemError
from api.ingest import coords, gate, readers, values
from api.ingest.profile import (
    Mapper,
    ProfileError,
    load_profile,
    merged,
    norm,
    parse_mapping,
)
from api.schemas.hazards import (
    HazardFeaturePatch,
    HazardPropertiesCreate,
    HazardPropertiesPatch,
)
from api.services import admin_areas, hazards, priorities
from api.services.auth import (
    Principal,
    organisation_by_code,
    require_import_scope,
    require_reader,
    require_writer,
    sees_exact_locations,
)
from api.services.filters import GENERALISED_GRID_DEG
from api.settings import Settings
from api.spatial.intake import ellipsoidal_areas
from api.vocab import POINT_HAZARD_TYPES, Role

logger = logging.getLogger(__name__)

CHUNK_BYTES = 4 << 20
SUPPORTED_KINDS = (
    "hazards",
    "activities",
    "releases",
    "eo_finds",
    "admin_areas",
    "context",
)
CONTEXT_LAYERS = ("settlements", "roads", "facilities", "land_use", "security_zones")
ANALYZE_AFTER = 5_000  # rows written by one import
ANALYZED = {
    "hazards": ("hazards", "hazard_versions", "hazard_states", "hazard_land_release"),
    "activities": ("activities", "release_polygons", "hazard_land_release"),
    "releases": ("release_polygons", "hazard_land_release"),
    "eo_finds": ("eo_finds",),
    "admin_areas": ("admin_areas", "hazards"),
    "context": (
        "context_settlements",
        "context_roads",
        "context_facilities",
        "context_land_use",
        "context_security_zones",
    ),
}
# where a running import is: reading a batch of the file, checking its rows (mapping,
# values, the gate), writing them (records, history, land release), tidying the
# statistics after a large load, writing the report; then done
IMPORT_STAGES = ("read", "check", "write", "tidy", "report", "done")
COUNT_KEYS = (
    "read",
    "created",
    "updated",
    "unchanged",
    "history_only",
    "rejected",
    "flagged",
    "skipped",
)


REVIEW_SHAPES = (
    2_000  # report lines that keep their shapes (repaired, submitted, corrected)
)
REVIEW_VERTICES = 10_000  # the largest shape kept with a report line
REVIEW_BUDGET = 200_000  # vertices of all the shapes kept with one report (a few MB)


class ImportFailed(Exception):
    """The file as a whole cannot be imported (unreadable, no CRS, too many features...)."""


# --------------------------------------------------------------------------- creating a job


def _check_params(
    kind: str, profile: str, mode: str, mapping: str | None, context: str | None = None
) -> dict | None:
    if kind == "context" and context not in CONTEXT_LAYERS:
        raise InvalidInput(
            "a context import names its layer: context=" + "|".join(CONTEXT_LAYERS),
            errors=[{"pointer": "/context", "message": f"got {context!r}"}],
        )
    if kind not in SUPPORTED_KINDS:
        raise InvalidInput(
            f"unknown kind {kind!r}",
            errors=[{"pointer": "/kind", "message": "unknown"}],
        )
    if mode not in ("dry_run", "commit"):
        raise InvalidInput(
            "mode must be dry_run or commit",
            errors=[{"pointer": "/mode", "message": f"got {mode!r}"}],
        )
    try:
        spec = merged(
            load_profile(profile), parse_mapping(mapping) if mapping else None
        )
    except ProfileError as exc:
        raise InvalidInput(
            str(exc),
            errors=[
                {"pointer": "/mapping" if mapping else "/profile", "message": str(exc)}
            ],
        ) from exc
    mapped_kind = context if kind == "context" else kind
    if mapped_kind not in (spec.get("kinds") or {}):
        raise InvalidInput(
            f"profile {profile!r} has no mapping for {mapped_kind!r}",
            errors=[
                {"pointer": "/profile", "message": f"no {mapped_kind} in {profile}"}
            ],
        )
    return parse_mapping(mapping) if mapping else None


def _check_crs(crs: str | None) -> str | None:
    if not crs:
        return None
    try:
        return CRS.from_user_input(crs).to_string()
    except Exception as exc:  # pyproj.exceptions.CRSError
        raise InvalidInput(
            f"unknown CRS {crs!r}", errors=[{"pointer": "/crs", "message": str(exc)}]
        ) from exc


def require_importer(principal: Principal | None) -> Principal:
    """The caller, if they may import: 401 when anonymous, 403 for a role that cannot.

    Needs the request's headers only, so the route calls it before reading the upload.
    """
    principal = require_reader(principal)
    if principal.role not in (Role.admin, Role.coordinator):
        from api.errors import Forbidden

        raise Forbidden(f"the {principal.role.value} role cannot import records")
    return principal


def create(
    session: Session,
    *,
    upload: BinaryIO,
    filename: str,
    kind: str,
    profile: str,
    mode: str,
    atomic: bool,
    principal: Principal | None,
    settings: Settings,
    layer: str | None = None,
    crs: str | None = None,
    mapping: str | None = None,
    organisation: str | None = None,
    dayfirst: bool = True,
    context: str | None = None,
    refuse_repairs: bool = False,
) -> Import:
    """Check the request and the file's outline, store the upload, and record the job.

    Raises 4xx problems for what can be known before reading rows: bad parameters, an
    unreadable file, a GeoPackage with several layers and none chosen, too many features.
    """
    principal = require_importer(principal)
    mapping_obj = _check_params(kind, profile, mode, mapping, context)
    require_import_scope(principal, kind, context)
    crs = _check_crs(crs)
    org = None
    if organisation:
        try:
            org = organisation_by_code(session, organisation)
        except NotFound as exc:
            raise InvalidInput(
                f"unknown organisation {organisation!r}",
                errors=[{"pointer": "/organisation", "message": "unknown"}],
            ) from exc
        require_writer(principal, org.id, org.code)
    try:
        fmt = readers.detect_format(filename)
    except readers.ReadError as exc:
        raise InvalidInput(
            str(exc), errors=[{"pointer": "/file", "message": str(exc)}]
        ) from exc
    imp = Import(
        kind=kind,
        profile=profile,
        mode=mode,
        atomic=atomic,
        options={
            "layer": layer,
            "crs": crs,
            "mapping": mapping_obj,
            "dayfirst": dayfirst,
            "context": context,
            "refuse_repairs": refuse_repairs,
        },
        filename=filename,
        file_format=fmt,
        organisation_id=org.id if org else principal.organisation_id,
        created_by=principal.user_id,
        api_key_id=principal.api_key_id,
        author=principal.name,
        status="queued",
        counts=dict.fromkeys(COUNT_KEYS, 0),
    )
    session.add(imp)
    session.flush()
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryDirectory(prefix="sg-import-") as tmp:
        path = Path(tmp) / (
            "upload." + fmt.replace("shp.zip", "zip").replace("kobo_json", "json")
        )
        with path.open("wb") as out:
            seq = 0
            while chunk := upload.read(CHUNK_BYTES):
                size += len(chunk)
                if size > settings.max_upload_bytes:
                    raise PayloadTooLarge(
                        f"the file exceeds the upload limit of {settings.max_upload_bytes} bytes"
                    )
                digest.update(chunk)
                out.write(chunk)
                session.execute(
                    insert(ImportChunk),
                    {"import_id": imp.id, "seq": seq, "data": chunk},
                )
                seq += 1
        if size == 0:
            raise InvalidInput(
                "the file is empty", errors=[{"pointer": "/file", "message": "0 bytes"}]
            )
        try:
            source = readers.open_source(
                path,
                fmt,
                workdir=Path(tmp) / "x",
                layer=layer,
                max_unpacked_bytes=settings.max_unpacked_bytes,
            )
        except (readers.ReadError, ValueError) as exc:
            raise InvalidInput(
                f"{filename}: {exc}", errors=[{"pointer": "/file", "message": str(exc)}]
            ) from exc
        if (
            source.feature_count is not None
            and source.feature_count > settings.max_import_features
        ):
            raise PayloadTooLarge(
                f"the file holds {source.feature_count} features; the limit is {settings.max_import_features}"
            )
        imp.options = {**imp.options, "layer": source.layer or layer}
    imp.size_bytes = size
    imp.sha256 = digest.hexdigest()
    session.flush()
    return imp


# --------------------------------------------------------------------------- the report


def report(
    session: Session, import_id: uuid.UUID, principal: Principal | None
) -> dict[str, Any]:
    """The job's status, progress, counts and every message, as ``GET /imports/{id}`` shows it."""
    principal = require_reader(principal)
    imp = session.get(Import, import_id)
    if imp is None or (
        principal.role != Role.admin
        and imp.organisation_id != principal.organisation_id
        and imp.created_by != principal.user_id
    ):
        raise NotFound(f"no import {import_id}")
    withhold = imp.kind in EXACT_LOCATION_KINDS and not sees_exact_locations(principal)
    location = (
        func.ST_SnapToGrid(ImportMessage.location, GENERALISED_GRID_DEG)
        if withhold
        else ImportMessage.location
    )
    messages = session.execute(
        select(
            ImportMessage.seq,
            ImportMessage.severity,
            ImportMessage.row,
            ImportMessage.field,
            ImportMessage.message,
            ImportMessage.record_id,
            func.ST_X(location),
            func.ST_Y(location),
        )
        .where(ImportMessage.import_id == import_id)
        .order_by(ImportMessage.seq)
    ).all()
    position_fields = _position_fields(imp) if withhold else set()
    review = (imp.options or {}).get("review") or {}
    labels, shapes = review.get("rows") or {}, review.get("messages") or {}
    out: dict[str, list] = {"error": [], "warning": [], "flag": []}
    for seq, sev, row, fld, msg, rid, lon, lat in messages:
        rule = _rule(sev, msg)
        if withhold:
            msg = _withheld_message(fld, msg, position_fields)
        item: dict[str, Any] = {"row": row, "field": fld, "message": msg, "rule": rule}
        for key, value in (labels.get(str(row)) or {}).items():
            item[key] = generalise_positions(value) if withhold else value
        if rid:
            item["record_id"] = str(rid)
        if lon is not None:
            item["location"] = [round(lon, 7), round(lat, 7)]
            if withhold:
                item["location_precision"] = "generalised_0.01deg"
        item.update(_review_shapes(shapes.get(str(seq)), withhold))
        out[sev].append(item)
    return {
        "id": str(imp.id),
        "status": imp.status,
        "progress": round(imp.progress, 4),
        "kind": imp.kind,
        "profile": imp.profile,
        "mode": imp.mode,
        "atomic": imp.atomic,
        "filename": imp.filename,
        "format": imp.file_format,
        "layer": (imp.options or {}).get("layer"),
        "size_bytes": imp.size_bytes,
        "sha256": imp.sha256,
        "stage": imp.stage,
        "rows_done": (imp.counts or {}).get("read", 0),
        "rows_total": imp.rows_total,
        "counts": {k: (imp.counts or {}).get(k, 0) for k in COUNT_KEYS},
        "rules": review.get("rules") or [],
        "left_out": sum(r["left_out"] for r in review.get("rules") or []),
        "errors": out["error"],
        "warnings": out["warning"],
        "flags": out["flag"],
        "failure": generalise_positions(imp.failure)
        if withhold and imp.failure
        else imp.failure,
        "attempts": imp.attempts,
        "author": imp.author,
        "created_at": imp.created_at.isoformat() if imp.created_at else None,
        "started_at": imp.started_at.isoformat() if imp.started_at else None,
        "finished_at": imp.finished_at.isoformat() if imp.finished_at else None,
    }


# Kinds whose rows are exact positions that only some readers may see (domain.md §5.2):
# their reports follow the rule of the records themselves (``auth.sees_exact_locations``).
EXACT_LOCATION_KINDS = ("eo_finds", "accidents")
WITHHELD_POSITION = (
    "the position given for this row cannot be used; its details are shown only to "
    "admins, coordinators and users with restricted access (exact find locations)"
)
# Coordinates as they can appear in a message: decimal degrees (3+ decimals), metres of
# six digits or more (UTM), MGRS references, degrees-minutes-seconds.
_MGRS = re.compile(
    r"\b\d{1,2}\s?[C-HJ-NP-X]\s?[A-HJ-NP-Z]{2}(?:\s?\d{1,5}){1,2}\b", re.I
)
_DMS = re.compile(
    r"\d{1,3}\s*[°º]\s*\d{1,2}(?:[.,]\d+)?\s*['′’]?(?:\s*\d{1,2}(?:[.,]\d+)?\s*[\"″”]?)?"
)
_METRES = re.compile(r"(?<![\d.,])-?\d{6,}(?:[.,]\d+)?")
_DEGREES = re.compile(r"(?<![\d.,])(-?\d{1,3})[.,](\d{2})\d+")


# The rule a report line stems from, by the start of its message (read before any
# translation or withholding), so that a reader can group and draw lines by rule.
RULES = {
    "error": (
        (gate.REPAIR_REFUSED, "repair_refused"),
        ("lies outside the programme", "outside_programme"),
        ("the row has no geometry", "no_geometry"),
        ("geometry encloses", "too_large"),
        ("unknown value", "unknown_value"),
    ),
    "warning": (("repaired", "repaired"),),
    "flag": (
        ("possible duplicate", "duplicate"),
        ("sliver", "sliver"),
        ("vertex jump", "vertex_jump"),
    ),
}
RULE_OTHERWISE = {"error": "rejected", "warning": "adjusted", "flag": "review"}


def _rule(severity: str, message: str) -> str:
    """The rule of a report line (see ``RULES``)."""
    for start, rule in RULES.get(severity, ()):
        if message.startswith(start):
            return rule
    if severity == "error" and message.endswith(": Field required"):
        return "missing_value"
    return RULE_OTHERWISE.get(severity, severity)


def _review_shapes(shapes: dict[str, Any] | None, withhold: bool) -> dict[str, Any]:
    """The geometries kept with one report line (see ``Book.attach``), as the reader may see
    them: exact, or snapped to the 0.01° grid for readers without exact-location rights."""
    if not shapes:
        return {}
    if not withhold:
        return dict(shapes)
    out: dict[str, Any] = {}
    for key, value in shapes.items():
        if key.endswith("_geometry"):
            geom = shapely.transform(shapely.geometry.shape(value), _to_grid)
            out[key] = _geojson(geom)
            out["geometry_precision"] = "generalised_0.01deg"
        else:
            out[key] = value
    return out


def _to_grid(xy: Any) -> Any:
    """Coordinates snapped to the generalised grid (as ``ST_SnapToGrid``)."""
    return np.round(xy / GENERALISED_GRID_DEG) * GENERALISED_GRID_DEG


def _geojson(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON of ``geom`` with coordinates rounded to 7 decimals (about 1 cm)."""
    rounded = shapely.transform(geom, lambda xy: np.round(xy, 7))
    return cast(dict[str, Any], orjson.loads(shapely.to_geojson(rounded)))


def generalise_positions(text: str) -> str:
    """``text`` with every coordinate-like number cut to 0.01° (or withheld)."""
    text = _MGRS.sub("[MGRS withheld]", text)
    text = _DMS.sub("[position withheld]", text)
    text = _METRES.sub("[withheld]", text)
    return _DEGREES.sub(r"\1.\2", text)


def _position_fields(imp: Import) -> set[str]:
    """The (normalised) names of the fields that carry a row's position in ``imp``."""
    names = {"geometry", "coordinates"}
    try:
        spec = merged(load_profile(imp.profile), (imp.options or {}).get("mapping"))
    except ProfileError:
        return names
    for key, aliases in (spec.get("coordinates") or {}).items():
        if key == "gps_accuracy":
            continue
        names.add(norm(key))
        names.update(
            norm(a) for a in ([aliases] if isinstance(aliases, str) else aliases or [])
        )
    return names


def _withheld_message(fld: str | None, message: str, position_fields: set[str]) -> str:
    """A report line as a reader without exact-location rights sees it."""
    if fld and (norm(fld) in position_fields or fld.startswith("geometry")):
        return WITHHELD_POSITION
    return generalise_positions(message)


def prepare_retry(
    session: Session, import_id: uuid.UUID, principal: Principal | None
) -> Import:
    """Put a failed import back in the queue (its report is replaced when it runs)."""
    principal = require_reader(principal)
    imp = session.get(Import, import_id, with_for_update=True)
    if imp is None:
        raise NotFound(f"no import {import_id}")
    if (
        principal.role != Role.admin
        and imp.organisation_id != principal.organisation_id
    ):
        raise NotFound(f"no import {import_id}")
    if principal.role not in (Role.admin, Role.coordinator):
        from api.errors import Forbidden

        raise Forbidden(f"the {principal.role.value} role cannot run imports")
    if imp.status != "failed":
        from api.errors import Conflict

        raise Conflict(
            f"only a failed import can be run again; this one is {imp.status}"
        )
    imp.status = "queued"
    imp.counts = dict.fromkeys(COUNT_KEYS, 0)
    imp.progress = 0
    session.flush()
    return imp


def sweep_interrupted(
    session: Session, stale_after: timedelta = timedelta(minutes=5)
) -> int:
    """Mark running imports whose worker stopped sending heartbeats as failed (re-runnable)."""
    result = session.execute(
        update(Import)
        .where(
            Import.status == "running", Import.heartbeat_at < func.now() - stale_after
        )
        .values(
            status="failed",
            finished_at=func.now(),
            failure=(
                "interrupted: the worker stopped (crash or restart) without finishing; "
                "rows of committed batches are kept; run it again with "
                "POST /api/v1/imports/{id}/retry (re-imported rows count as unchanged)"
            ),
        )
    )
    # an UPDATE through a Session gives a CursorResult; SQLAlchemy types it as Result
    return cast(CursorResult[Any], result).rowcount or 0


# --------------------------------------------------------------------------- running a job


@dataclass
class Book:
    """Where the job's progress and report go: a separate session that commits (worker), or
    the data session itself (inline runs), in which case everything is written at the end."""

    session: Session
    separate: bool
    import_id: uuid.UUID
    messages: list[
        tuple[str, int | None, str | None, str, uuid.UUID | None, str | None]
    ] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_KEYS, 0))
    # what a reader needs to review the report before a commit (kept in the import's
    # options under "review"): each reported row's reference and name, and the shapes
    # of some lines (a repair's result and the submitted shape, a corrected position)
    labels: dict[int, dict[str, str]] = field(default_factory=dict)
    shapes: dict[int, dict[str, Any]] = field(default_factory=dict)
    shape_vertices: int = 0
    # the report is bounded: every line is counted under its rule, and the first
    # ``per_rule`` lines of each rule are kept in full
    per_rule: int = 10_000
    rules: collections.Counter[tuple[str, str]] = field(
        default_factory=collections.Counter
    )
    error_rows: set[int] = field(default_factory=set)
    flag_rows: set[int] = field(default_factory=set)
    # where the run is (IMPORT_STAGES), the file's row count when known, and who else
    # follows it (the CLI's progress bar): called with (stage, rows done, rows total)
    stage: str = "read"
    rows_total: int | None = None
    on_progress: Callable[[str, int, int | None], None] | None = None

    def add(
        self,
        severity: str,
        row: int | None,
        fld: str | None,
        message: str,
        record_id=None,
        location: str | None = None,
    ) -> int:
        """Record one line of the report (``location``: EWKT of a point of the row); its
        number in the report, or -1 when its rule already has ``per_rule`` lines listed
        (the line is counted, not kept)."""
        if row is not None:
            if severity == "error":
                self.error_rows.add(row)
            elif severity == "flag":
                self.flag_rows.add(row)
        key = (severity, _rule(severity, message))
        self.rules[key] += 1
        if self.rules[key] > self.per_rule:
            return -1
        self.messages.append((severity, row, fld, message, record_id, location))
        return len(self.messages) - 1

    def tally(self) -> list[dict[str, Any]]:
        """Lines by rule: how many in all, how many listed, how many left out."""
        return [
            {
                "severity": sev,
                "rule": rule,
                "count": n,
                "listed": min(n, self.per_rule),
                "left_out": max(0, n - self.per_rule),
            }
            for (sev, rule), n in sorted(self.rules.items())
        ]

    def attach(self, seq: int, **shapes: BaseGeometry | str | None) -> None:
        """Keep geometries (``*_geometry``) and words with report line ``seq``, for the first
        ``REVIEW_SHAPES`` lines that have any; a geometry of more than ``REVIEW_VERTICES``
        vertices, or past ``REVIEW_BUDGET`` vertices in all, is left out (the line says so in
        ``geometry_omitted``)."""
        if seq < 0 or len(self.shapes) >= REVIEW_SHAPES:
            return
        kept: dict[str, Any] = {}
        for key, value in shapes.items():
            if value is None:
                continue
            if not isinstance(value, BaseGeometry):
                kept[key] = value
            elif (count := int(shapely.get_num_coordinates(value))) > REVIEW_VERTICES:
                kept["geometry_omitted"] = f"more than {REVIEW_VERTICES} vertices"
            elif self.shape_vertices + count > REVIEW_BUDGET:
                kept["geometry_omitted"] = (
                    f"the report keeps shapes of {REVIEW_BUDGET} vertices in all"
                )
            else:
                self.shape_vertices += count
                kept[key] = _geojson(value)
        self.shapes[seq] = kept

    def review(self) -> dict[str, Any]:
        """The review part of the import's options (see ``labels``)."""
        reported = {m[1] for m in self.messages if m[1] is not None}
        return {
            "rows": {str(n): v for n, v in self.labels.items() if n in reported},
            "messages": {str(k): v for k, v in self.shapes.items()},
            "rules": self.tally(),
        }

    def progress(self, fraction: float, stage: str | None = None) -> None:
        """Publish the stage, progress and counts (visible to readers when the book is
        separate; to ``on_progress`` always)."""
        if stage is not None:
            self.stage = stage
        if self.on_progress is not None:
            self.on_progress(self.stage, self.counts["read"], self.rows_total)
        if not self.separate:
            return
        self.session.execute(
            update(Import)
            .where(Import.id == self.import_id)
            .values(
                progress=min(fraction, 0.999),
                counts=dict(self.counts),
                stage=self.stage,
                rows_total=self.rows_total,
                heartbeat_at=func.now(),
            )
        )
        self.session.commit()

    def finish(self, status: str, failure: str | None = None) -> None:
        """Write the report and the final status."""
        self.session.execute(
            delete(ImportMessage).where(ImportMessage.import_id == self.import_id)
        )
        if self.messages:
            self.session.execute(
                insert(ImportMessage),
                [
                    {
                        "import_id": self.import_id,
                        "seq": i,
                        "severity": s,
                        "row": r,
                        "field": f,
                        "message": m,
                        "record_id": rid,
                        "location": at,
                    }
                    for i, (s, r, f, m, rid, at) in enumerate(self.messages)
                ],
            )
        review = literal({"review": self.review()}, JSONB)
        self.session.execute(
            update(Import)
            .where(Import.id == self.import_id)
            .values(
                options=Import.options.op("||")(review),
                status=status,
                failure=failure,
                progress=1.0 if status == "succeeded" else Import.progress,
                counts=dict(self.counts),
                stage="done",
                rows_total=self.rows_total,
                finished_at=func.now(),
                heartbeat_at=func.now(),
            )
        )
        self.session.commit()
        if self.on_progress is not None:
            self.on_progress("done", self.counts["read"], self.rows_total)


def _principal_of(session: Session, imp: Import) -> Principal:
    from api.services.auth import principal_for_import

    return principal_for_import(session, imp.created_by, imp.api_key_id)


def _spool(session: Session, import_id: uuid.UUID, path: Path) -> None:
    """Write the stored upload to ``path`` one chunk at a time."""
    seqs = session.scalars(
        select(ImportChunk.seq)
        .where(ImportChunk.import_id == import_id)
        .order_by(ImportChunk.seq)
    ).all()
    with path.open("wb") as out:
        for seq in seqs:
            out.write(
                session.execute(
                    select(ImportChunk.data).where(
                        ImportChunk.import_id == import_id, ImportChunk.seq == seq
                    )
                ).scalar_one()
            )


def start(session: Session, import_id: uuid.UUID) -> bool:
    """Claim a queued import for running; False if it is not queued (another worker has it)."""
    result = session.execute(
        update(Import)
        .where(Import.id == import_id, Import.status == "queued")
        .values(
            status="running",
            started_at=func.now(),
            heartbeat_at=func.now(),
            failure=None,
            progress=0,
            attempts=Import.attempts + 1,
        )
    )
    session.commit()
    return bool(cast(CursorResult[Any], result).rowcount)


def run(
    data: Session,
    book_session: Session,
    import_id: uuid.UUID,
    settings: Settings,
    on_progress: Callable[[str, int, int | None], None] | None = None,
) -> None:
    """Run an import job to the end; the outcome is in the ``imports`` row, never raised."""
    imp = data.get(Import, import_id)
    if imp is None:
        raise NotFound(f"no import {import_id}")
    book = Book(
        book_session,
        book_session is not data,
        import_id,
        per_rule=settings.import_report_per_rule,
        on_progress=on_progress,
    )
    try:
        principal = _principal_of(data, imp)
        audit.actor(
            data,
            name=principal.name,
            user_id=principal.user_id,
            api_key_id=principal.api_key_id,
            request=f"import {import_id} ({imp.filename})",
        )
        if imp.file_format is None:  # create() records the format it detected
            raise readers.ReadError("the import records no file format")
        with tempfile.TemporaryDirectory(prefix="sg-import-") as tmp:
            path = Path(tmp) / (
                "upload."
                + imp.file_format.replace("shp.zip", "zip").replace("kobo_json", "json")
            )
            _spool(data, import_id, path)
            source = readers.open_source(
                path,
                imp.file_format,
                workdir=Path(tmp) / "x",
                layer=(imp.options or {}).get("layer"),
                max_unpacked_bytes=settings.max_unpacked_bytes,
            )
            job = Job(data, book, imp, principal, settings, source)
            outcome = job.execute()
        book.finish(*outcome)
    except (ImportFailed, readers.ReadError, ProfileError, ValueError) as exc:
        data.rollback()
        book.add("error", None, None, str(exc))
        book.finish("failed", str(exc))
    except Exception:  # a fault of ours: logged in full, reported without internals
        data.rollback()
        logger.error("import %s failed:\n%s", import_id, traceback.format_exc())
        book.finish(
            "failed",
            "an internal error stopped the import; it is logged for the administrators",
        )


GeomFn = Callable[[BaseGeometry], BaseGeometry]


def _transformer(
    source_crs: str | None, param_crs: str | None, notes: list[str]
) -> tuple[GeomFn | None, str]:
    crs_text = source_crs or param_crs
    if (
        source_crs
        and param_crs
        and CRS.from_user_input(source_crs) != CRS.from_user_input(param_crs)
    ):
        notes.append(
            f"the file declares {source_crs}; the crs parameter ({param_crs}) is ignored"
        )
    if crs_text is None:
        return None, "unknown"
    crs = CRS.from_user_input(crs_text)
    if crs.equals(CRS.from_epsg(4326), ignore_axis_order=True) or crs.to_epsg() == 4326:
        return (lambda g: g), "EPSG:4326"
    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return (
        lambda g: shapely.transform(
            g, lambda xy: _stack(tr.transform(xy[:, 0], xy[:, 1]))
        )
    ), crs.to_string()


def _stack(pair):
    return np.column_stack(pair)


def _looks_projected(geom: BaseGeometry) -> bool:
    b = geom.bounds
    return not (
        -180 <= b[0] <= 180
        and -180 <= b[2] <= 180
        and -90 <= b[1] <= 90
        and -90 <= b[3] <= 90
    )


@dataclass
class Candidate:
    """A row that passed the gate, ready to be written."""

    row: int
    organisation_id: uuid.UUID
    organisation_code: str
    props: HazardPropertiesCreate
    geometry: BaseGeometry
    submitted: Any
    doi: date
    warnings: list[str]
    origin: dict[str, Any]


@dataclass
class _Mapped:
    """A hazard row mapped and its values checked, before the intake of its geometry:
    ``props`` and ``organisation`` are None when a value was refused (reported already);
    ``geometry`` is None when it could not be read (reported)."""

    row: readers.Row
    props: HazardPropertiesCreate | None
    organisation: tuple[uuid.UUID, str] | None
    geometry: BaseGeometry | None
    origin: dict[str, Any] | None
    doi: date | None
    warnings: list[str]
    allow_point: bool


class Job:
    """One run of one import."""

    def __init__(
        self,
        data: Session,
        book: Book,
        imp: Import,
        principal: Principal,
        settings: Settings,
        source: readers.Source,
    ) -> None:
        self.data, self.book, self.imp, self.principal, self.settings, self.source = (
            data,
            book,
            imp,
            principal,
            settings,
            source,
        )
        options = imp.options or {}
        self.dayfirst = options.get("dayfirst", True)
        self.refuse_repairs = bool(options.get("refuse_repairs", False))
        spec = merged(load_profile(imp.profile), options.get("mapping"))
        mapped_kind = options["context"] if imp.kind == "context" else imp.kind
        self.mapper = Mapper(spec, mapped_kind, source.columns)
        notes = list(source.notes)
        self.to_wgs84, self.crs_name = _transformer(
            source.crs, options.get("crs"), notes
        )
        for note in notes:
            book.add("warning", None, None, note)
        if self.mapper.ignored:
            book.add(
                "warning",
                None,
                None,
                "columns not used by profile "
                + imp.profile
                + ": "
                + ", ".join(self.mapper.ignored),
            )
        self.orgs: dict[str, tuple[uuid.UUID, str]] = {}
        self.seen_ids: dict[tuple[uuid.UUID, str], int] = {}
        self.level = gate.programme_level(data)
        if self.level is None:
            book.add(
                "warning",
                None,
                None,
                "no admin areas are loaded: the programme-extent check was skipped",
            )
        self.source_name = f"import:{imp.id}"
        self.groups: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
        self._batch_rows: dict[
            int, readers.Row
        ] = {}  # the batch being read, by row number
        # reference and name of rows reported after their batch (activities are written
        # once every row is read)
        self._held_labels: dict[int, dict[str, str]] = {}

    # -- whole run
    def execute(self) -> tuple[str, str | None]:
        """Run every batch; returns the final status and failure text."""
        imp, data = self.imp, self.data
        keep_going = imp.mode == "commit" and not imp.atomic
        outer = data.begin_nested() if not keep_going else None
        total = self.source.feature_count
        self.book.rows_total = total
        batches = iter(self.source.batches(self.settings.import_batch_size))
        while True:
            self.book.progress(self._done(), "read")
            batch = next(batches, None)
            if batch is None:
                break
            self._batch_rows = {row.number: row for row in batch}
            since = len(self.book.messages)
            self.book.counts["read"] += len(batch)
            self.book.progress(self._done(), "check")
            if self.book.counts["read"] > self.settings.max_import_features:
                raise ImportFailed(
                    f"the file holds more than {self.settings.max_import_features} features (the limit)"
                )
            {
                "hazards": self._hazards,
                "activities": self._activity_rows,
                "releases": self._activity_rows,
                "eo_finds": self._eo_finds,
                "admin_areas": self._admin_areas,
                "context": self._context,
            }[imp.kind](batch)
            self._label_rows(since)
            if keep_going:
                data.commit()
        if imp.kind == "context" and imp.mode == "commit":
            # the surroundings changed: every hazard's indicators
            priorities.refresh(data, None)
        if imp.kind in ("activities", "releases"):
            since = len(self.book.messages)
            self._write_activities()
            self._label_rows(since)
            if keep_going:
                data.commit()
        self._count_rejected()
        rejected = self.book.counts["rejected"]
        # a dry run or an atomic import: every batch ran in one savepoint
        if outer is not None:
            if imp.mode == "dry_run":
                outer.rollback()
                return "succeeded", None
            if rejected:
                outer.rollback()
                for key in ("created", "updated", "unchanged", "history_only"):
                    self.book.counts[key] = 0
                return (
                    "failed",
                    f"atomic import: {rejected} row(s) rejected, so nothing was written",
                )
            outer.commit()
        data.commit()
        if self.book.counts["created"] + self.book.counts["updated"] >= ANALYZE_AFTER:
            self.book.progress(self._done(), "tidy")
            self._tidy(ANALYZED[imp.kind])
        self.book.progress(self._done(), "report")
        return "succeeded", None

    def _done(self) -> float:
        """The fraction of the file read (a half while the count is unknown)."""
        total = self.book.rows_total
        return self.book.counts["read"] / total if total else 0.5

    def writing(self) -> None:
        """Publish that the batch's rows that passed are being written."""
        self.book.progress(self._done(), "write")

    def _tidy(self, tables: tuple[str, ...]) -> None:
        """After a large load: fresh statistics and a visibility map, as autovacuum would
        give later, so that pages and counts use the indexes at once. A worker runs
        VACUUM (ANALYZE) on its own autocommit connection; an inline run, inside its
        caller's transaction, can only ANALYZE."""
        names = ", ".join(tables)
        if self.book.separate:
            engine = self.data.get_bind().engine
            with engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as conn:
                conn.execute(text(f"VACUUM (ANALYZE) {names}"))
        else:
            self.data.execute(text(f"ANALYZE {names}"))
            self.data.commit()

    # -- per row
    LABELS = (  # what names a row, by the kind's field: a reference, then a name
        ("reference", ("external_id", "activity", "pcode")),
        ("name", ("name",)),
    )

    def _label(self, row: readers.Row) -> dict[str, str]:
        """The row's reference (external id, activity, pcode) and name, as the file gives
        them (before mapping: a row refused for its values still has them)."""
        out: dict[str, str] = {}
        for key, fields in self.LABELS:
            for name in fields:
                for col in self.mapper.candidates.get(name, ()):
                    v = row.values.get(col)
                    if v is None or (isinstance(v, str) and not v.strip()):
                        continue
                    if isinstance(v, float) and v.is_integer():
                        v = int(v)
                    out[key] = str(v).strip()[:200]
                    break
                if key in out:
                    break
        return out

    def _label_rows(self, since: int) -> None:
        """Label the rows of report lines ``since`` onwards with their reference and name."""
        for _sev, n, *_ in self.book.messages[since:]:
            if n is None or n in self.book.labels:
                continue
            row = self._batch_rows.get(n)
            label = self._label(row) if row is not None else self._held_labels.get(n)
            if label:
                self.book.labels[n] = label

    def repaired(self, seq: int, submitted: BaseGeometry | None, result: Any) -> None:
        """Keep the repaired and the submitted shape with report line ``seq`` (a repair)."""
        if submitted is not None and getattr(result, "repaired", False):
            self.book.attach(
                seq, repaired_geometry=result.geometry, submitted_geometry=submitted
            )

    def warn_intake(
        self, row: int, submitted: BaseGeometry | None, result: Any, warnings=()
    ) -> None:
        """Report the intake's warnings of a row (and ``warnings`` before them); a repair
        keeps its shapes."""
        for w in [*warnings, *result.warnings]:
            seq = self.book.add("warning", row, None, w)
            if w.startswith("repaired"):
                self.repaired(seq, submitted, result)

    def outside(
        self, rows: list[tuple[int, BaseGeometry]], bounded: bool = False
    ) -> dict[int, str]:
        """``gate.outside_programme`` for the batch, each row reported as rejected with the
        corrected position when a swap or sign flip would put it inside; with ``bounded``
        (hazards, unless a fixed bound is configured) also the rows larger than the
        top-level admin area they touch."""
        corrected: dict[int, tuple[str, BaseGeometry]] = {}
        areas = None
        if bounded and self.settings.max_hazard_area_km2 is None and rows:
            measured = ellipsoidal_areas([g for _, g in rows])
            areas = {n: float(a) for (n, _), a in zip(rows, measured, strict=True)}
        found = gate.outside_programme(self.data, rows, self.level, corrected, areas)
        for n, msg in found.items():
            seq = self.reject(n, "geometry", msg)
            if n in corrected:
                label, geom = corrected[n]
                self.book.attach(seq, correction=label, corrected_geometry=geom)
        return found

    def refuse(self, row: int, exc: "_RowProblem | gate.GateRejection") -> None:
        """Report a row refused by a typed-value problem (named by its source column) or
        by the gate (named by its coordinate pointer)."""
        if isinstance(exc, _RowProblem):
            self.reject(
                row, self.mapper.resolved.get(exc.field, exc.field), exc.message
            )
            return
        seq = self.reject(row, exc.field, exc.message)
        if isinstance(exc, gate.RepairRefused) and exc.submitted and exc.repaired:
            self.book.attach(
                seq, repaired_geometry=exc.repaired, submitted_geometry=exc.submitted
            )

    def reject(self, row: int, fld: str | None, message: str) -> int:
        """Report a rejected row (one count per row, one message per problem), with a point
        of its geometry when the file gave one (the workspace shows it on the map); the
        line's number in the report."""
        return self.book.add("error", row, fld, message, location=self._where(row))

    def _where(self, number: int) -> str | None:
        """EWKT of a point of row ``number``'s file geometry in WGS 84, or None when the row
        has none, it cannot be placed (unknown CRS) or it lies off the globe."""
        row = self._batch_rows.get(number)
        if row is None or row.geometry is None or self.to_wgs84 is None:
            return None
        try:
            if row.geometry.is_empty:
                return None
            point = self.to_wgs84(row.geometry.representative_point())
        except Exception:  # a broken geometry: the message says why; no point then
            return None
        if not isinstance(point, Point) or not (
            -180 <= point.x <= 180 and -90 <= point.y <= 90
        ):
            return None
        return f"SRID=4326;POINT({point.x!r} {point.y!r})"

    def _geometry(
        self, row: readers.Row, values_: dict[str, Any]
    ) -> tuple[BaseGeometry, dict[str, Any]]:
        """The row's geometry in WGS 84 and its origin (text as entered, CRS, GPS accuracy)."""
        c = self.mapper.coords
        origin: dict[str, Any] = {
            "row": row.number,
            "file": self.imp.filename,
            "crs": self.crs_name,
        }
        acc_col = c.get("gps_accuracy")
        if acc_col and row.values.get(acc_col) not in (None, ""):
            try:
                origin["gps_accuracy_m"] = values.parse_number(row.values[acc_col])
            except values.ValueProblem as exc:
                raise gate.GateRejection(acc_col, str(exc)) from exc
        if row.geometry is not None:
            geom = row.geometry
            if self.to_wgs84 is None:
                if _looks_projected(geom):
                    raise ImportFailed(
                        "the file has no coordinate reference system (no .prj or CRS) and its "
                        f"coordinates look projected (e.g. {geom.bounds[0]:.0f}, {geom.bounds[1]:.0f}); "
                        "import it again with crs=EPSG:<code>"
                    )
                self.book.add(
                    "warning",
                    None,
                    None,
                    "the file declares no CRS; its coordinates are in the longitude/latitude range and are read as WGS 84 (EPSG:4326)",
                )
                self.to_wgs84, self.crs_name = (lambda g: g), "EPSG:4326 (assumed)"
                origin["crs"] = self.crs_name
            if origin["crs"] != "EPSG:4326":
                origin["coordinates_text"] = shapely.to_wkt(
                    geom, rounding_precision=3 if _looks_projected(geom) else 8
                )[:4000]
            return self.to_wgs84(geom), origin
        return self._coordinate_columns(row, origin), origin

    def _coordinate_columns(
        self, row: readers.Row, origin: dict[str, Any]
    ) -> BaseGeometry:
        c, v = self.mapper.coords, row.values

        def cell(name: str) -> Any:
            col = c.get(name)
            value = v.get(col) if col else None
            return None if value in (None, "") else value

        try:
            if cell("wkt") is not None:
                origin["coordinates_text"] = str(cell("wkt"))[:4000]
                geom = coords.parse_wkt(cell("wkt"))
                return self._projected_or_wgs84(geom)
            if cell("geoshape") is not None:
                from api.ingest import kobo

                origin["coordinates_text"] = str(cell("geoshape"))[:4000]
                geom, acc = kobo.parse_geoshape(str(cell("geoshape")))
                if acc is not None:
                    origin.setdefault("gps_accuracy_m", acc)
                return geom
            if cell("geopoint") is not None:
                from api.ingest import kobo

                origin["coordinates_text"] = str(cell("geopoint"))
                geom, acc = kobo.parse_geopoint(str(cell("geopoint")))
                if acc is not None:
                    origin.setdefault("gps_accuracy_m", acc)
                return geom
            if cell("mgrs") is not None:
                origin["coordinates_text"] = str(cell("mgrs"))
                origin["crs"] = "MGRS"
                return Point(coords.parse_mgrs(cell("mgrs")))
            if cell("utm_zone") is not None:
                origin["coordinates_text"] = (
                    f"{cell('utm_zone')} {cell('easting')} {cell('northing')}"
                )
                origin["crs"] = "UTM"
                return Point(
                    coords.parse_utm(
                        cell("utm_zone"), cell("easting"), cell("northing")
                    )
                )
            if cell("dms") is not None:
                origin["coordinates_text"] = str(cell("dms"))
                return Point(coords.parse_dms_pair(str(cell("dms"))))
            if cell("lon") is not None or cell("lat") is not None:
                lon_raw, lat_raw = cell("lon"), cell("lat")
                if lon_raw is None or lat_raw is None:
                    missing = "lat" if lat_raw is None else "lon"
                    raise gate.GateRejection(
                        c.get(missing) or missing, f"{missing} is empty"
                    )
                origin["coordinates_text"] = f"{lon_raw} {lat_raw}"
                try:
                    x = coords.parse_decimal(lon_raw, "longitude")
                    y = coords.parse_decimal(lat_raw, "latitude")
                except coords.CoordinateError:
                    lon, lat = coords.parse_dms_pair(f"{lat_raw} {lon_raw}")
                    return Point(lon, lat)
                return self._projected_or_wgs84(Point(x, y))
        except coords.CoordinateError as exc:
            raise gate.GateRejection("coordinates", str(exc)) from exc
        except ValueError as exc:  # kobo parsers
            raise gate.GateRejection("coordinates", str(exc)) from exc
        raise gate.GateRejection(
            "geometry",
            "the row has no geometry and no coordinate columns (lon/lat, wkt, dms, utm, mgrs)",
        )

    def _projected_or_wgs84(self, geom: BaseGeometry) -> BaseGeometry:
        if self.to_wgs84 is not None and self.crs_name != "EPSG:4326":
            return self.to_wgs84(geom)
        if _looks_projected(geom):
            raise ImportFailed(
                f"coordinates such as {geom.bounds[0]:.0f}, {geom.bounds[1]:.0f} look projected but no CRS "
                "was given; import again with crs=EPSG:<code>"
            )
        return geom

    def _organisation(self, code: str | None) -> tuple[uuid.UUID, str]:
        if code is None:
            if self.imp.organisation_id is None:
                raise gate.GateRejection(
                    "organisation",
                    "no organisation: give the column or the organisation parameter",
                )
            org_id = self.imp.organisation_id
            code = next((c for c, (i, _) in self.orgs.items() if i == org_id), None)
            if code is None:
                from api.db.models import Organisation

                code = self.data.get_one(Organisation, org_id).code
        if code not in self.orgs:
            try:
                org = organisation_by_code(self.data, code)
            except NotFound as exc:
                raise gate.GateRejection(
                    "organisation", f"unknown organisation {code!r}"
                ) from exc
            self.orgs[code] = (org.id, org.code)
        org_id, org_code = self.orgs[code]
        try:
            require_writer(self.principal, org_id, org_code)
        except ProblemError as exc:
            raise gate.GateRejection("organisation", exc.detail) from exc
        return org_id, org_code

    def _map_hazard(self, row: readers.Row) -> "_Mapped | None":
        """Map one row and check its values and its geometry's reading, reporting every
        problem found (a missing value and a null geometry both); the intake runs later,
        over the batch. None when the row is not a hazard row at all."""
        if row.error:
            self.reject(row.number, *row.error)
            return None
        if not self.mapper.applies(row.values):
            self.book.counts["skipped"] += 1
            return None
        mapped, errors, warnings = self.mapper.map_row(row.values)
        for fld, msg in errors:
            self.reject(row.number, fld, msg)
        doi = None
        if "date_of_information" in mapped:
            try:
                doi = values.parse_date(
                    mapped.pop("date_of_information"), dayfirst=self.dayfirst
                )
            except values.ValueProblem as exc:
                errors.append(("date_of_information", str(exc)))
                self.reject(
                    row.number,
                    self.mapper.resolved.get("date_of_information"),
                    str(exc),
                )
        if doi is not None and doi > datetime.now(UTC).date() + timedelta(days=1):
            errors.append(("date_of_information", "future"))
            self.reject(
                row.number,
                self.mapper.resolved.get("date_of_information"),
                f"date_of_information {doi} is in the future",
            )
        for num in ("estimated_area_m2",):
            if num in mapped:
                try:
                    mapped[num] = values.parse_number(mapped[num])
                except values.ValueProblem as exc:
                    errors.append((num, str(exc)))
                    self.reject(row.number, self.mapper.resolved.get(num), str(exc))
        for key in ("external_id", "name", "notes", "organisation"):
            if key in mapped and not isinstance(mapped[key], str):
                mapped[key] = (
                    str(int(mapped[key]))
                    if isinstance(mapped[key], float) and mapped[key].is_integer()
                    else str(mapped[key])
                )
        props = None
        try:
            props = HazardPropertiesCreate.model_validate(
                {**mapped, "date_of_information": doi}
            )
        except ValidationError as exc:
            reported = {fld for fld, _ in errors}
            for err in exc.errors():
                name = str(err["loc"][0]) if err["loc"] else ""
                if name in reported or self.mapper.resolved.get(name) in reported:
                    continue  # reported above, in its own words
                errors.append((name, err["msg"]))
                self.reject(
                    row.number,
                    self.mapper.resolved.get(name, name),
                    f"{name}: {err['msg']}",
                )
        org: tuple[uuid.UUID, str] | None = None
        try:
            org = self._organisation(
                props.organisation if props else mapped.get("organisation")
            )
        except gate.GateRejection as exc:
            errors.append((exc.field, exc.message))
            self.refuse(row.number, exc)
        geom, origin = None, None
        try:
            geom, origin = self._geometry(row, mapped)
        except gate.GateRejection as exc:
            errors.append((exc.field, exc.message))
            self.refuse(row.number, exc)
        hazard_type = props.hazard_type if props else mapped.get("hazard_type")
        return _Mapped(
            row,
            props if not errors else None,
            org,
            geom,
            origin,
            doi,
            warnings,
            hazard_type in POINT_HAZARD_TYPES,
        )

    def _gate_hazards(self, rows: "list[_Mapped]") -> list[Candidate]:
        """The intake over the batch's geometries (vectorised where a row passes untouched,
        row by row where it is repaired or refused), then the rows that passed everything."""
        with_geom = [m for m in rows if m.geometry is not None]
        results = gate.intake_many(
            [m.geometry for m in with_geom],
            pointer="geometry",
            allow_point=[m.allow_point for m in with_geom],
            max_vertices=self.settings.max_vertices,
            max_area_m2=gate.hazard_area_bound(
                self.settings.max_hazard_area_km2, self.level
            ),
            refuse_repairs=self.refuse_repairs,
        )
        out: list[Candidate] = []
        for m, result in zip(with_geom, results, strict=True):
            if isinstance(result, gate.GateRejection):
                self.refuse(m.row.number, result)
                continue
            if m.props is None or m.organisation is None or m.origin is None:
                continue  # refused for its values, reported with them
            candidate = self._candidate(m, result)
            if candidate is not None:
                out.append(candidate)
        return out

    def _candidate(self, m: "_Mapped", result: Any) -> Candidate | None:
        row, geom, props, origin, warnings = (
            m.row,
            m.geometry,
            m.props,
            m.origin,
            m.warnings,
        )
        assert geom is not None and props is not None and origin is not None
        assert m.organisation is not None
        doi = m.doi
        if isinstance(geom, Point) and not m.allow_point:
            self.refuse(
                row.number,
                gate.GateRejection(
                    "geometry",
                    f"a point ({geom.x:.6f}, {geom.y:.6f}) is accepted only for uxo_spot and axo_site hazards; "
                    "give the area's polygon",
                ),
            )
            return None
        if doi is None:
            doi = datetime.now(UTC).date()
            warnings.append(
                f"date_of_information not given; recorded as today ({doi.isoformat()})"
            )
        kept = self.mapper.kept(row.values)
        if kept:
            origin["source_fields"] = kept
        origin["import_id"] = str(self.imp.id)
        self.warn_intake(row.number, geom, result, warnings)
        return Candidate(
            row.number,
            m.organisation[0],
            m.organisation[1],
            props,
            result.geometry,
            # as submitted, when the stored geometry differs (a repair); the file itself is
            # kept with the import, and origin names its row
            mapping(geom) if result.repaired else None,
            doi,
            [*warnings, *result.warnings],
            origin,
        )

    def _hazards(self, batch: list[readers.Row]) -> None:
        mapped = [m for m in (self._map_hazard(r) for r in batch) if m is not None]
        candidates = self._gate_hazards(mapped)
        findings = gate.shape_findings([c.geometry for c in candidates])
        for c, messages in zip(candidates, findings, strict=True):
            for message in messages:
                self.book.add("flag", c.row, "geometry", message)
        outside = self.outside([(c.row, c.geometry) for c in candidates], bounded=True)
        keep: list[Candidate] = []
        for c in candidates:
            if c.row in outside:
                continue
            ext = c.props.external_id
            if ext:
                key = (c.organisation_id, ext)
                if key in self.seen_ids:
                    self.reject(
                        c.row,
                        "external_id",
                        f"external_id {ext!r} already appears in row {self.seen_ids[key]} of this file",
                    )
                    continue
                self.seen_ids[key] = c.row
            keep.append(c)
        existing = self._existing(keep)
        new: list[Candidate] = []
        for c in keep:
            current = existing.get(c.row)
            if current is None:
                new.append(c)
            else:
                self._update(c, current)
        dups = gate.possible_duplicates(
            self.data,
            [(c.row, c.geometry, c.organisation_id, c.props.external_id) for c in new],
        )
        for n, msgs in dups.items():
            for msg in msgs:
                self.book.add("flag", n, "geometry", msg)
        self.book.counts["flagged"] = len(self.book.flag_rows)
        self._create(new)
        self.book.counts["rejected"] = len(self.book.error_rows)

    def _existing(self, cands: list[Candidate]) -> dict[int, dict[str, Any]]:
        """The current state of the hazards that rows refer to: by external id (indexed), or,
        for rows without one, an equal geometry of the same organisation."""
        out: dict[int, dict[str, Any]] = {}
        with_id = [c for c in cands if c.props.external_id]
        if with_id:
            rows = self.data.execute(
                text(
                    """
                    SELECT t.n, h.id, h.version, h.date_of_information, h.status,
                           ST_AsBinary(h.geom) AS wkb, s.state
                    FROM unnest(CAST(:ns AS int[]), CAST(:orgs AS uuid[]),
                                CAST(:exts AS text[])) AS t(n, org, ext)
                    JOIN hazards h ON h.organisation_id = t.org AND h.external_id = t.ext
                                  AND h.retired_at IS NULL
                    JOIN hazard_states s ON s.hazard_id = h.id AND s.valid_to IS NULL
                    """
                ),
                {
                    "ns": [c.row for c in with_id],
                    "orgs": [str(c.organisation_id) for c in with_id],
                    "exts": [c.props.external_id for c in with_id],
                },
            ).mappings()
            out.update({r["n"]: dict(r) for r in rows})
        without = [c for c in cands if not c.props.external_id]
        if without:
            rows = self.data.execute(
                text(
                    """
                    SELECT DISTINCT ON (t.n) t.n, h.id, h.version, h.date_of_information,
                           h.status, ST_AsBinary(h.geom) AS wkb, s.state
                    FROM unnest(CAST(:ns AS int[]), CAST(:orgs AS uuid[]),
                                CAST(:wkbs AS bytea[])) AS t(n, org, wkb)
                    JOIN hazards h ON h.geom && ST_GeomFromWKB(t.wkb, 4326)
                                  AND ST_Equals(h.geom, ST_GeomFromWKB(t.wkb, 4326))
                                  AND h.organisation_id = t.org AND h.external_id IS NULL
                                  AND h.retired_at IS NULL
                    JOIN hazard_states s ON s.hazard_id = h.id AND s.valid_to IS NULL
                    ORDER BY t.n, h.created_at
                    """
                ),
                {
                    "ns": [c.row for c in without],
                    "orgs": [str(c.organisation_id) for c in without],
                    "wkbs": [shapely.to_wkb(c.geometry) for c in without],
                },
            ).mappings()
            out.update({r["n"]: dict(r) for r in rows})
        return out

    def _stated(self, c: Candidate) -> dict[str, Any]:
        stated, _ = hazards.stated_values(
            self.data, c.props, self.principal, self.settings
        )
        stated["organisation"] = str(c.organisation_id)
        return stated

    def _update(self, c: Candidate, current: dict[str, Any]) -> None:
        stated = self._stated(c)
        state = current["state"] or {}
        derived_status = state.get("status") is None
        if derived_status and stated.get("status") == current["status"]:
            # the file repeats the status derived from activities (an export does): not a
            # statement that pins it by hand
            del stated["status"]
            c.props = c.props.model_copy(update={"status": None})
            c.props.model_fields_set.discard("status")
        same_values = all(
            _same(stated[k], state.get(k))
            for k in stated
            if k != "external_id" or stated[k]
        )
        same_geom = _same_geometry(shapely.from_wkb(current["wkb"]), c.geometry)
        if same_values and same_geom and c.doi <= current["date_of_information"]:
            self.book.counts["unchanged"] += 1
            return
        patch_props = c.props.model_dump(exclude_unset=True, exclude={"organisation"})
        patch_props["date_of_information"] = c.doi
        patch = HazardFeaturePatch(
            geometry=None if same_geom else mapping(c.geometry),
            properties=HazardPropertiesPatch(**patch_props),
        )
        if same_geom:
            patch = HazardFeaturePatch(properties=patch.properties)
        try:
            with self.data.begin_nested():
                result = hazards.update_hazard(
                    self.data,
                    hazard_id=current["id"],
                    patch=patch,
                    principal=self.principal,
                    settings=self.settings,
                    if_match="*",
                    source=self.source_name,
                    commit=False,
                    origin=c.origin,
                    import_id=self.imp.id,
                )
        except ProblemError as exc:
            self.reject(c.row, None, exc.detail)
            return
        if c.doi < current["date_of_information"]:
            self.book.counts["history_only"] += 1
            self.book.add(
                "warning",
                c.row,
                "date_of_information",
                f"dated {c.doi}, before the stored {current['date_of_information']}: kept in history; newer facts stay current",
            )
        else:
            self.book.counts["updated"] += 1
        for w in result.warnings:
            if w.startswith("recorded in history"):
                continue

    def _create(self, cands: list[Candidate]) -> None:
        if not cands:
            return
        self.writing()
        items = [
            hazards.NewHazard(
                c.organisation_id,
                self._stated(c),
                c.geometry,
                c.submitted,
                c.doi,
                c.warnings,
                c.origin,
            )
            for c in cands
        ]
        try:
            with self.data.begin_nested():
                ids = hazards.bulk_create(
                    self.data,
                    items,
                    principal=self.principal,
                    source=self.source_name,
                    import_id=self.imp.id,
                )
            self.book.counts["created"] += len(ids)
            return
        except (
            Exception
        ):  # one bad row spoils a set-based insert: isolate it row by row
            logger.info(
                "import %s: batch insert failed, retrying row by row",
                self.imp.id,
                exc_info=True,
            )
        for c, item in zip(cands, items, strict=True):
            try:
                with self.data.begin_nested():
                    hazards.bulk_create(
                        self.data,
                        [item],
                        principal=self.principal,
                        source=self.source_name,
                        import_id=self.imp.id,
                    )
                self.book.counts["created"] += 1
            except (
                Exception
            ) as exc:  # reported per row; the message names the constraint
                self.reject(
                    c.row,
                    None,
                    f"the database refused the row: {str(getattr(exc, 'orig', exc)).splitlines()[0]}",
                )

    # -- activities and releases: rows grouped by activity, written at the end
    def _count_rejected(self) -> None:
        self.book.counts["rejected"] = len(self.book.error_rows)

    def _common(self, row: readers.Row) -> dict[str, Any] | None:
        """Map a row and report its errors; None when it cannot be used."""
        if row.error:
            self.reject(row.number, *row.error)
            return None
        mapped, errors, _ = self.mapper.map_row(row.values)
        for fld, msg in errors:
            self.reject(row.number, fld, msg)
        if errors:
            return None
        for key in (
            "external_id",
            "activity",
            "release_hazard_id",
            "hazard_id",
            "organisation",
            "notes",
            "model",
        ):
            v = mapped.get(key)
            if v is not None and not isinstance(v, str):
                mapped[key] = (
                    str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
                )
        return mapped

    def _activity_rows(self, batch: list[readers.Row]) -> None:
        releases_kind = self.imp.kind == "releases"
        for row in batch:
            mapped = self._common(row)
            if mapped is None:
                continue
            try:
                _typed(
                    mapped,
                    ("start_date", "end_date", "release_date"),
                    ("clearance_depth_cm",),
                    self.dayfirst,
                )
                ref = mapped.get("activity" if releases_kind else "external_id")
                if not ref:
                    raise _RowProblem(
                        "activity" if releases_kind else "external_id",
                        "the activity's external id is required to group rows",
                    )
                org_id, org_code = self._organisation(mapped.get("organisation"))
                geom = None
                if row.geometry is not None or any(
                    self.mapper.coords.get(k)
                    and row.values.get(self.mapper.coords[k]) not in (None, "")
                    for k in ("wkt", "geoshape", "lon", "lat")
                ):
                    geom4326, _ = self._geometry(row, mapped)
                    geom = gate.intake(
                        geom4326,
                        pointer="geometry",
                        allow_point=False,
                        max_vertices=self.settings.max_vertices,
                        refuse_repairs=self.refuse_repairs,
                    )
                if (geom is None) == releases_kind and releases_kind:
                    raise _RowProblem("geometry", "a release row needs its polygon")
                if geom is not None and not mapped.get("outcome"):
                    raise _RowProblem(
                        "outcome",
                        "a release polygon needs its outcome (cancelled, reduced or cleared)",
                    )
            except (_RowProblem, gate.GateRejection) as exc:
                self.refuse(row.number, exc)
                continue
            group = self.groups.setdefault(
                (org_id, ref),
                {"org": org_code, "ref": ref, "fields": {}, "rows": [], "releases": []},
            )
            group["rows"].append(row.number)
            self._held_labels[row.number] = self._label(row)
            if not releases_kind:
                for name in (*ACTIVITY_FIELDS, "hazard_ids"):
                    if (
                        mapped.get(name) not in (None, "", [])
                        and name not in group["fields"]
                    ):
                        group["fields"][name] = mapped[name]
                    elif (
                        name in group["fields"]
                        and mapped.get(name) not in (None, "", [])
                        and mapped[name] != group["fields"][name]
                    ):
                        self.book.add(
                            "warning",
                            row.number,
                            name,
                            f"{name} differs from the activity's first row ({group['fields'][name]!r}); the first row's value is kept",
                        )
            if geom is not None:
                self.warn_intake(row.number, geom4326, geom)
                group["releases"].append(
                    {
                        "row": row.number,
                        "geometry": geom.geometry,
                        "outcome": mapped["outcome"],
                        "date": mapped.get("release_date"),
                        "hazard": mapped.get("release_hazard_id"),
                    }
                )

    def _untouched_releases(
        self, group: dict[str, Any], hazard_ids: list[uuid.UUID]
    ) -> set[int]:
        """Rows whose release polygon touches none of its hazards (one query per activity)."""
        if not group["releases"]:
            return set()
        refs = [r["hazard"] for r in group["releases"] if r["hazard"]]
        by_ref = hazards.hazard_ids_for(self.data, refs) if refs else {}
        rows, wkbs, hids = [], [], []
        for r in group["releases"]:
            targets = [by_ref[r["hazard"]]] if r["hazard"] in by_ref else hazard_ids
            if r["hazard"] and r["hazard"] not in by_ref:
                self.reject(r["row"], "hazard_id", f"no hazard {r['hazard']!r}")
                continue
            rows.append(r["row"])
            wkbs.append(shapely.to_wkb(r["geometry"]))
            hids.append([str(h) for h in targets])
        if not rows:
            return set()
        result = self.data.execute(
            text(
                """
                SELECT t.n FROM unnest(CAST(:ns AS int[]), CAST(:wkbs AS bytea[])) WITH ORDINALITY AS t(n, wkb, i)
                WHERE NOT EXISTS (
                    SELECT 1 FROM hazards h
                    WHERE h.id = ANY(CAST((CAST(:hids AS text[]))[t.i] AS uuid[]))
                      AND ST_Intersects(h.geom, ST_GeomFromWKB(t.wkb, 4326)))
                """
            ),
            {"ns": rows, "wkbs": wkbs, "hids": ["{" + ",".join(h) + "}" for h in hids]},
        )
        bad = {r[0] for r in result}
        for n in bad:
            self.reject(
                n,
                "geometry",
                "the release polygon does not touch its hazard: released land must lie in the hazard area",
            )
        return bad

    def _write_activities(self) -> None:
        from api.db.models import Activity, ReleasePolygon
        from api.schemas.activities import ActivityCreate, ActivityPatch
        from api.services import activities

        self.writing()
        for (org_id, ref), group in self.groups.items():
            existing = self.data.scalar(
                select(Activity).where(
                    Activity.organisation_id == org_id,
                    Activity.external_id == ref,
                    Activity.retired_at.is_(None),
                )
            )
            if existing is None:
                try:
                    existing = self.data.get(Activity, uuid.UUID(ref))
                except ValueError:
                    existing = None
            first = group["rows"][0]
            try:
                if self.imp.kind == "releases" and existing is None:
                    raise _RowProblem(
                        "activity",
                        f"no activity {ref!r} of {group['org']}: import the activity first",
                    )
                hazard_refs = group["fields"].get("hazard_ids") or []
                if self.imp.kind == "activities" and not hazard_refs:
                    raise _RowProblem(
                        "hazard_ids",
                        "an activity needs the hazards it addresses (hazard_ids)",
                    )
                resolved = (
                    hazards.hazard_ids_for(self.data, hazard_refs)
                    if hazard_refs
                    else {}
                )
                missing = [h for h in hazard_refs if h not in resolved]
                if missing:
                    raise _RowProblem(
                        "hazard_ids", "unknown hazard(s): " + ", ".join(missing)
                    )
                if existing is not None:
                    from api.db.models import ActivityHazard

                    linked = list(
                        self.data.scalars(
                            select(ActivityHazard.hazard_id).where(
                                ActivityHazard.activity_id == existing.id
                            )
                        )
                    )
                else:
                    linked = []
                bad = self._untouched_releases(group, list(resolved.values()) or linked)
            except (_RowProblem, ProblemError) as exc:
                fld, msg = (
                    (exc.field, exc.message)
                    if isinstance(exc, _RowProblem)
                    else (None, exc.detail)
                )
                for n in group["rows"]:
                    self.reject(n, fld, msg)
                continue
            releases = [
                r
                for r in group["releases"]
                if r["row"] not in bad and r["row"] not in self.book.error_rows
            ]
            features = [
                {
                    "type": "Feature",
                    "geometry": mapping(r["geometry"]),
                    "properties": {
                        "outcome": r["outcome"],
                        **({"date": r["date"].isoformat()} if r["date"] else {}),
                        **({"hazard_id": r["hazard"]} if r["hazard"] else {}),
                    },
                }
                for r in releases
            ]
            if existing is not None and self._activity_unchanged(
                existing, group, releases, ReleasePolygon
            ):
                self.book.counts["unchanged"] += 1
                continue
            try:
                with self.data.begin_nested():
                    # a releases row without its activity was refused above
                    if self.imp.kind == "releases" and existing is not None:
                        result = activities.update_activity(
                            self.data,
                            activity_id=existing.id,
                            body=ActivityPatch(
                                releases={
                                    "type": "FeatureCollection",
                                    "features": features,
                                }
                            ),
                            principal=self.principal,
                            settings=self.settings,
                            if_match="*",
                            commit=False,
                        )
                    else:
                        fields = group["fields"]
                        body = ActivityCreate.model_validate(
                            {
                                "external_id": ref,
                                "organisation": group["org"],
                                "hazard_ids": hazard_refs,
                                **{
                                    k: (v.isoformat() if isinstance(v, date) else v)
                                    for k, v in fields.items()
                                    if k in ACTIVITY_FIELDS
                                },
                                "releases": {
                                    "type": "FeatureCollection",
                                    "features": features,
                                },
                            }
                        )
                        result = activities.create_activity(
                            self.data,
                            body=body,
                            principal=self.principal,
                            settings=self.settings,
                            commit=False,
                        )
            except ValidationError as exc:
                for err in exc.errors():
                    name = ".".join(str(p) for p in err["loc"])
                    self.reject(first, name, f"{name}: {err['msg']}")
                continue
            except ProblemError as exc:
                self.reject(first, None, exc.detail)
                continue
            self.book.counts["created" if result.created else "updated"] += 1
            for w in result.warnings:
                self.book.add("warning", first, None, w)

    def _activity_unchanged(self, existing, group, releases, ReleasePolygon) -> bool:
        fields = group["fields"]
        if self.imp.kind == "activities":
            for name in ACTIVITY_FIELDS:
                if name in fields:
                    ours = fields[name]
                    theirs = getattr(existing, name)
                    if name == "methods":
                        ours = list(dict.fromkeys(ours))
                    if ours != theirs:
                        return False
        stored = self.data.execute(
            select(
                ReleasePolygon.outcome,
                ReleasePolygon.date,
                func.ST_AsBinary(ReleasePolygon.geom),
            )
            .ext(distinct_on(ReleasePolygon.feature_index))
            .where(
                ReleasePolygon.activity_id == existing.id,
                ReleasePolygon.retired_at.is_(None),
            )
            .order_by(ReleasePolygon.feature_index)
        ).all()
        mine = sorted(
            (r["outcome"], r["date"] or existing.end_date, _norm_wkb(r["geometry"]))
            for r in releases
        )
        theirs = sorted(
            (o, d, _norm_wkb(shapely.from_wkb(bytes(w)))) for o, d, w in stored
        )
        return mine == theirs

    # -- EO finds: points, one by one through the API's own service
    def _eo_finds(self, batch: list[readers.Row]) -> None:
        from api.db.models import EOFind
        from api.schemas.eo_finds import EOFindFeature
        from api.services import eo_finds

        ready = []
        for row in batch:
            mapped = self._common(row)
            if mapped is None:
                continue
            try:
                _typed(mapped, ("found_on",), ("quantity", "depth_cm"), self.dayfirst)
                if isinstance(mapped.get("found_on"), date):
                    mapped["found_on"] = mapped["found_on"].isoformat()
                org_id, org_code = self._organisation(mapped.get("organisation"))
                mapped["organisation"] = org_code
                geom, origin = self._geometry(row, mapped)
                point = gate.intake(
                    geom,
                    pointer="geometry",
                    allow_point=True,
                    allow_polygon=False,
                    max_vertices=10,
                    refuse_repairs=self.refuse_repairs,
                )
                feature = EOFindFeature.model_validate(
                    {
                        "type": "Feature",
                        "geometry": mapping(point.geometry),
                        "properties": mapped,
                    }
                )
            except (_RowProblem, gate.GateRejection) as exc:
                self.refuse(row.number, exc)
                continue
            except ValidationError as exc:
                for err in exc.errors():
                    name = str(err["loc"][-1]) if err["loc"] else ""
                    self.reject(
                        row.number,
                        self.mapper.resolved.get(name, name),
                        f"{name}: {err['msg']}",
                    )
                continue
            kept = self.mapper.kept(row.values)
            if kept:
                origin["source_fields"] = kept
            origin["import_id"] = str(self.imp.id)
            ready.append((row.number, feature, point, origin, org_id))
        outside = self.outside([(r[0], r[2].geometry) for r in ready])
        self.writing()
        for number, feature, point, origin, org_id in ready:
            if number in outside:
                continue
            props = feature.properties
            if props.external_id:
                current = self.data.scalar(
                    select(EOFind).where(
                        EOFind.organisation_id == org_id,
                        EOFind.external_id == props.external_id,
                        EOFind.retired_at.is_(None),
                    )
                )
                if current is not None and self._find_unchanged(
                    current, props, point.geometry
                ):
                    self.book.counts["unchanged"] += 1
                    continue
            try:
                with self.data.begin_nested():
                    _fid, created, warnings = eo_finds.create(
                        self.data,
                        feature=feature,
                        principal=self.principal,
                        commit=False,
                        origin=origin,
                        gated=True,
                    )
            except ProblemError as exc:
                errs = getattr(exc, "errors", None) or []
                self.reject(
                    number,
                    errs[0]["pointer"].rsplit("/", 1)[-1] if errs else None,
                    exc.detail,
                )
                continue
            self.book.counts["created" if created else "updated"] += 1
            for w in [*point.warnings, *warnings]:
                self.book.add("warning", number, None, w)

    def _find_unchanged(self, current, props, point: BaseGeometry) -> bool:
        from geoalchemy2.shape import to_shape

        pairs = {
            "eo_category": props.eo_category.value,
            "model": props.model,
            "quantity": props.quantity,
            "condition": props.condition.value if props.condition else None,
            "depth_cm": props.depth_cm,
            "found_on": props.found_on,
            "disposal_method": props.disposal_method.value
            if props.disposal_method
            else None,
            "notes": props.notes,
        }
        return all(getattr(current, k) == v for k, v in pairs.items()) and to_shape(
            current.geom
        ).equals(point)

    # -- context layers: programme-wide reference data, upserted by external id
    def _context(self, batch: list[readers.Row]) -> None:
        from api.db.models.context import CONTEXT_LAYERS

        layer = self.imp.options["context"]
        table = CONTEXT_LAYERS[layer].__tablename__
        spec = CONTEXT_SPECS[layer]
        good = []
        for row in batch:
            mapped = self._common(row)
            if mapped is None:
                continue
            try:
                _typed(mapped, spec.dates, spec.ints, self.dayfirst)
                for name in spec.required:
                    if mapped.get(name) in (None, ""):
                        raise _RowProblem(name, f"{name} is required for {layer}")
                submitted, _origin = self._geometry(row, mapped)
                geom = gate.intake_context(
                    submitted,
                    spec.geometry,
                    max_vertices=self.settings.max_admin_vertices,
                    refuse_repairs=self.refuse_repairs,
                )
            except (_RowProblem, gate.GateRejection) as exc:
                self.refuse(row.number, exc)
                continue
            self.warn_intake(row.number, submitted, geom)
            attrs = self.mapper.kept(row.values)
            values_ = {k: mapped.get(k) for k in spec.columns}
            ext = mapped.get("external_id") or _content_id(
                layer, geom.geometry, values_
            )
            good.append(
                (row.number, ext, mapped.get("name"), values_, attrs, geom.geometry)
            )
        outside = self.outside([(g[0], g[5]) for g in good])
        good = [g for g in good if g[0] not in outside]
        seen: dict[str, int] = {}
        unique = []
        for g in good:
            if g[1] in seen:
                self.reject(
                    g[0],
                    "external_id",
                    f"external_id {g[1]!r} already appears in row {seen[g[1]]} of this file",
                )
                continue
            seen[g[1]] = g[0]
            unique.append(g)
        self._seen_context = getattr(self, "_seen_context", {})
        for g in unique:
            if g[1] in self._seen_context:
                self.reject(
                    g[0],
                    "external_id",
                    f"external_id {g[1]!r} already appears in row {self._seen_context[g[1]]} of this file",
                )
        unique = [g for g in unique if g[1] not in self._seen_context]
        self._seen_context.update({g[1]: g[0] for g in unique})
        if unique:
            cols = list(spec.columns)
            assign = ", ".join(
                f"{c} = EXCLUDED.{c}"
                for c in ["name", *cols, "attributes", "geom", "import_id"]
            )
            changed = " OR ".join(
                [
                    f"t.{c} IS DISTINCT FROM EXCLUDED.{c}"
                    for c in ["name", *cols, "attributes"]
                ]
                + ["NOT ST_OrderingEquals(t.geom, EXCLUDED.geom)"]
            )
            rows = self.data.execute(
                text(
                    f"""
                    INSERT INTO {table} AS t (external_id, name, {", ".join(cols)}, attributes, geom, import_id)
                    SELECT u.ext, u.name, {", ".join(f"u.{c}" for c in cols)}, u.attrs,
                           ST_GeomFromWKB(u.wkb, 4326), CAST(:import_id AS uuid)
                    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS u(
                        ext text, name text, {", ".join(f"{c} {t}" for c, t in spec.sql_types.items())},
                        attrs jsonb, wkb bytea)
                    ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO UPDATE
                       SET {assign}, updated_at = now()
                     WHERE {changed}
                    RETURNING (xmax = 0) AS inserted
                    """
                ),
                {
                    "import_id": str(self.imp.id),
                    "rows": orjson.dumps(
                        [
                            {
                                "ext": ext,
                                "name": name,
                                **{c: _jsonable_value(v.get(c)) for c in cols},
                                "attrs": attrs,
                                "wkb": "\\x" + shapely.to_wkb(geom, hex=True),
                            }
                            for _n, ext, name, v, attrs, geom in unique
                        ]
                    ).decode(),
                },
            ).all()
            created = sum(1 for r in rows if r.inserted)
            self.book.counts["created"] += created
            self.book.counts["updated"] += len(rows) - created
            self.book.counts["unchanged"] += len(unique) - len(rows)
        self._count_rejected()

    # -- admin areas
    def _admin_areas(self, batch: list[readers.Row]) -> None:
        good = []
        for row in batch:
            if row.error:
                self.reject(row.number, *row.error)
                continue
            mapped, errors, _ = self.mapper.map_row(row.values)
            for fld, msg in errors:
                self.reject(row.number, fld, msg)
            pcode = mapped.get("pcode")
            if pcode is None:
                self.reject(row.number, "pcode", "pcode is empty")
                continue
            if isinstance(pcode, int | float):
                self.reject(
                    row.number,
                    self.mapper.resolved.get("pcode"),
                    f"pcode is a number ({pcode!r}) in the file: leading zeros may have been lost; store the column as text",
                )
                continue
            try:
                level = (
                    int(values.parse_number(mapped.get("level"), integer=True))
                    if mapped.get("level") is not None
                    else None
                )
            except values.ValueProblem as exc:
                self.reject(row.number, self.mapper.resolved.get("level"), str(exc))
                continue
            if level is None or not mapped.get("name"):
                self.reject(
                    row.number,
                    "level" if level is None else "name",
                    "level and name are required",
                )
                continue
            try:
                geom, _origin = self._geometry(row, mapped)
                result = gate.intake(
                    geom,
                    pointer="geometry",
                    allow_point=False,
                    max_vertices=self.settings.max_admin_vertices,
                    refuse_repairs=self.refuse_repairs,
                )
            except gate.GateRejection as exc:
                self.refuse(row.number, exc)
                continue
            self.warn_intake(row.number, geom, result)
            parent = mapped.get("parent_pcode")
            good.append(
                {
                    "n": row.number,
                    "pcode": str(pcode).strip(),
                    "name": str(mapped["name"]),
                    "level": level,
                    "parent": str(parent).strip() if parent not in (None, "") else None,
                    "wkb": shapely.to_wkb(result.geometry),
                }
            )
        if good:
            rows = self.data.execute(
                text(
                    """
                    WITH t AS (
                        SELECT * FROM unnest(CAST(:pcodes AS text[]), CAST(:names AS text[]),
                                             CAST(:levels AS int[]), CAST(:parents AS text[]),
                                             CAST(:wkbs AS bytea[])) AS u(pcode, name, level, parent, wkb)
                    ), up AS (
                        INSERT INTO admin_areas (pcode, name, level, parent_pcode, geom)
                        SELECT pcode, name, level, parent, ST_Multi(ST_GeomFromWKB(wkb, 4326)) FROM t
                        ON CONFLICT (pcode) DO UPDATE
                           SET name = EXCLUDED.name, level = EXCLUDED.level,
                               parent_pcode = EXCLUDED.parent_pcode, geom = EXCLUDED.geom
                         WHERE (admin_areas.name, admin_areas.level, admin_areas.parent_pcode)
                               IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.level, EXCLUDED.parent_pcode)
                            OR NOT ST_Equals(admin_areas.geom, EXCLUDED.geom)
                        RETURNING pcode, (xmax = 0) AS inserted
                    )
                    SELECT pcode, inserted FROM up
                    """
                ),
                {
                    k: [g[v] for g in good]
                    for k, v in (
                        ("pcodes", "pcode"),
                        ("names", "name"),
                        ("levels", "level"),
                        ("parents", "parent"),
                        ("wkbs", "wkb"),
                    )
                },
            ).all()
            created = sum(1 for r in rows if r.inserted)
            self.book.counts["created"] += created
            self.book.counts["updated"] += len(rows) - created
            self.book.counts["unchanged"] += len(good) - len(rows)
            if rows:
                admin_areas.assign_hazards(self.data, None)
        self.book.counts["rejected"] = len(self.book.error_rows)
        if self.level is None:
            self.level = gate.programme_level(self.data)


@dataclass(frozen=True)
class ContextSpec:
    """What a context layer's rows carry besides external_id and name."""

    geometry: str  # point, line or polygon
    sql_types: dict[str, str]
    required: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    ints: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """The layer's own columns."""
        return tuple(self.sql_types)


CONTEXT_SPECS = {
    "settlements": ContextSpec("point", {"population": "int"}, ints=("population",)),
    "roads": ContextSpec("line", {"road_class": "text"}),
    "facilities": ContextSpec(
        "point", {"facility_type": "text"}, required=("facility_type",)
    ),
    "land_use": ContextSpec("polygon", {"land_use": "text"}, required=("land_use",)),
    "security_zones": ContextSpec(
        "polygon",
        {"reason": "text", "valid_from": "date", "valid_to": "date"},
        dates=("valid_from", "valid_to"),
    ),
}


def _jsonable_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _content_id(layer: str, geom: BaseGeometry, values_: dict[str, Any]) -> str:
    """An id for a row that has none: the same feature re-imported gets the same id."""
    digest = hashlib.sha1(
        shapely.to_wkb(shapely.normalize(geom))
        + orjson.dumps(
            {k: _jsonable_value(v) for k, v in values_.items()},
            option=orjson.OPT_SORT_KEYS,
        )
    ).hexdigest()
    return f"sha1:{layer}:{digest[:20]}"


ACTIVITY_FIELDS = (
    "activity_type",
    "status",
    "start_date",
    "end_date",
    "methods",
    "clearance_depth_cm",
    "notes",
)


class _RowProblem(Exception):
    def __init__(self, fld: str, message: str) -> None:
        self.field, self.message = fld, message


def _typed(
    mapped: dict[str, Any],
    dates: tuple[str, ...],
    ints: tuple[str, ...],
    dayfirst: bool,
) -> None:
    """Parse date and integer fields in place; raises _RowProblem naming the field."""
    for name in dates:
        if mapped.get(name) not in (None, ""):
            try:
                mapped[name] = values.parse_date(mapped[name], dayfirst=dayfirst)
            except values.ValueProblem as exc:
                raise _RowProblem(name, str(exc)) from exc
    for name in ints:
        if mapped.get(name) not in (None, ""):
            try:
                mapped[name] = values.parse_number(mapped[name], integer=True)
            except values.ValueProblem as exc:
                raise _RowProblem(name, f"{name}: {exc}") from exc


def _norm_wkb(geom: BaseGeometry) -> bytes:
    return shapely.to_wkb(shapely.normalize(geom))


SAME_GEOMETRY_DEG = 1e-9  # about 0.1 mm: below what any survey or file format resolves


def _same_geometry(stored: BaseGeometry, row: BaseGeometry) -> bool:
    """Whether a row repeats the stored geometry: the same shape, vertex for vertex, to within
    1e-9° (files that print 15 significant digits round the last one)."""
    if stored.equals(row):
        return True
    return bool(
        shapely.equals_exact(
            shapely.normalize(stored), shapely.normalize(row), SAME_GEOMETRY_DEG
        )
    )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    return a == b

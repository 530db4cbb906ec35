"""The import's report: the lines of each row, counted by rule and bounded, and what ``GET /imports/{id}`` shows."""

import re
import uuid
from typing import Any

import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.orm import Session

from api.db.models import Import, ImportMessage
from api.errors import NotFound
from api.ingest import gate, readers
from api.ingest.profile import (
    ProfileError,
    load_profile,
    merged,
    norm,
)
from api.services.auth import (
    Principal,
    require_reader,
    sees_exact_locations,
)
from api.services.filters import GENERALISED_GRID_DEG
from api.services.imports.book import COUNT_KEYS, _geojson, _rule, _to_grid
from api.services.imports.common import _RowProblem
from api.services.imports.read import Reading
from api.vocab import Role


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
        "stage_seconds": review.get("seconds") or {},
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


class Reporting(Reading):
    """Report: the lines of a row (refused, repaired, flagged), with its reference and name and a point of it."""

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

"""The book of one run: the report's lines as they come, counted by rule and bounded, the counts and the stage, published while it runs."""

import collections
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import orjson
import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    delete,
    func,
    insert,
    literal,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from api.db.models import Import, ImportMessage
from api.ingest import gate
from api.services.filters import GENERALISED_GRID_DEG

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


def _to_grid(xy: Any) -> Any:
    """Coordinates snapped to the generalised grid (as ``ST_SnapToGrid``)."""
    return np.round(xy / GENERALISED_GRID_DEG) * GENERALISED_GRID_DEG


def _geojson(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON of ``geom`` with coordinates rounded to 7 decimals (about 1 cm)."""
    rounded = shapely.transform(geom, lambda xy: np.round(xy, 7))
    return cast(dict[str, Any], orjson.loads(shapely.to_geojson(rounded)))


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
    # seconds spent in each stage of the pipeline (read, map, gate, write, land_release,
    # commit), kept with the report
    seconds: collections.defaultdict[str, float] = field(
        default_factory=lambda: collections.defaultdict(float)
    )
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

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Count the time of the block under ``stage``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - started

    def review(self) -> dict[str, Any]:
        """The review part of the import's options (see ``labels``)."""
        reported = {m[1] for m in self.messages if m[1] is not None}
        return {
            "rows": {str(n): v for n, v in self.labels.items() if n in reported},
            "messages": {str(k): v for k, v in self.shapes.items()},
            "rules": self.tally(),
            "seconds": {k: round(v, 3) for k, v in sorted(self.seconds.items())},
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

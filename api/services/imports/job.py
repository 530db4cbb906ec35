"""One run of one import: the batches of the file through the stages, in order."""

from typing import Any

from sqlalchemy import (
    text,
)

from api.ingest import gate, readers
from api.services import priorities
from api.services.imports.activities import ActivityRows
from api.services.imports.common import ImportFailed
from api.services.imports.eo_finds import EOFindRows
from api.services.imports.gate import Candidate
from api.services.imports.layers import ProgrammeLayers

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


class Job(ActivityRows, EOFindRows, ProgrammeLayers):
    """One run of one import: its batches through read, map, gate and write, and the report."""

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
            with self.book.timed("read"):
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
            # each kind times its own stages (map, gate, write); activities and their
            # releases are grouped here and written once the whole file is read
            {
                "hazards": self._hazards,
                "eo_finds": self._eo_finds,
                "activities": self._activity_rows,
                "releases": self._activity_rows,
                "admin_areas": self._admin_areas,
                "context": self._context,
            }[imp.kind](batch)
            self._label_rows(since)
            if keep_going:
                with self.book.timed("commit"):  # with the history of land release
                    data.commit()
        if imp.kind == "context" and imp.mode == "commit":
            # the surroundings changed: every hazard's indicators
            priorities.refresh(data, None)
        if imp.kind in ("activities", "releases"):
            since = len(self.book.messages)
            with self.book.timed("write"):
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

    def _hazards(self, batch: list[readers.Row]) -> None:
        """A batch of hazard rows: mapped, gated, written, each stage timed."""
        timed = self.book.timed
        with timed("map"):
            mapped = [m for m in (self._map_hazard(r) for r in batch) if m is not None]
        with timed("gate"):
            new, updates = self._gate_batch(self._gate_hazards(mapped))
        land_release = self.book.seconds["land_release"]
        with timed("write"):  # first the rows updating stored hazards
            for c, current in updates:
                self._update(c, current)
        with timed("gate"):  # then new rows are compared with what is stored
            self._flag_duplicates(new)
        with timed("write"):
            self._create(new)
        # the land-release figures are computed within the write: counted on their own
        self.book.seconds["write"] -= self.book.seconds["land_release"] - land_release
        self.book.counts["flagged"] = len(self.book.flag_rows)
        self.book.counts["rejected"] = len(self.book.error_rows)

    def _gate_batch(
        self, candidates: list[Candidate]
    ) -> tuple[list[Candidate], list[tuple[Candidate, dict[str, Any]]]]:
        """The batch's rules beyond the intake: shape findings, programme extent and area,
        external ids repeated in the file, matches with stored hazards. Returns the new
        rows, and the rows updating a stored hazard with that hazard's current state."""
        findings = gate.shape_findings([c.geometry for c in candidates])
        for c, messages in zip(candidates, findings, strict=True):
            for message in messages:
                self.book.add("flag", c.row, "geometry", message)
        outside = self.outside(
            [(c.row, c.geometry) for c in candidates],
            areas={c.row: c.area_m2 for c in candidates},
        )
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
        updates: list[tuple[Candidate, dict[str, Any]]] = []
        for c in keep:
            current = existing.get(c.row)
            if current is None:
                new.append(c)
            else:
                updates.append((c, current))
        return new, updates

    def _flag_duplicates(self, new: list[Candidate]) -> None:
        """Flag the new rows that look like a stored hazard under another id."""
        dups = gate.possible_duplicates(
            self.data,
            [(c.row, c.geometry, c.organisation_id, c.props.external_id) for c in new],
        )
        within = gate.duplicates_within(
            [(c.row, c.geometry, c.props.external_id) for c in new]
        )
        for found in (dups, within):
            for n, msgs in found.items():
                for msg in msgs:
                    self.book.add("flag", n, "geometry", msg)

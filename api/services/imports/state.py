"""The state one run of an import carries through its stages."""

import uuid
from typing import Any

from sqlalchemy.orm import Session

from api.db.models import Import
from api.ingest import gate, readers
from api.ingest.profile import (
    Mapper,
    load_profile,
    merged,
)
from api.services.auth import (
    Principal,
)
from api.services.imports.book import Book
from api.services.imports.crs import _transformer
from api.settings import Settings


class JobState:
    """What every stage of one run of one import shares: the job, its sessions, the file, the profile's mapping, the report and where the run is."""

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
        # the rows of the batch that update stored hazards, with their current state

    def _done(self) -> float:
        """The fraction of the file read (a half while the count is unknown)."""
        total = self.book.rows_total
        return self.book.counts["read"] / total if total else 0.5

    def writing(self) -> None:
        """Publish that the batch's rows that passed are being written."""
        self.book.progress(self._done(), "write")

    # -- activities and releases: rows grouped by activity, written at the end
    def _count_rejected(self) -> None:
        self.book.counts["rejected"] = len(self.book.error_rows)

"""What the stages of an import share: its kinds, its failure, typed values of a row."""

import logging
from typing import Any

from api.db.models.imports import IMPORT_KINDS
from api.ingest import values

logger = logging.getLogger(__name__)


CHUNK_BYTES = 4 << 20


# the kinds an import takes: the ones the imports table accepts (its check constraint)
SUPPORTED_KINDS = IMPORT_KINDS


CONTEXT_LAYERS = ("settlements", "roads", "facilities", "land_use", "security_zones")


class ImportFailed(Exception):
    """The file as a whole cannot be imported (unreadable, no CRS, too many features...)."""


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

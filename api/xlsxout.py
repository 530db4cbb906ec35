"""The one XLSX writer: a single-sheet workbook streamed row by row (openpyxl write-only).

Cells hold what ``api.csvout.neutralise`` leaves: text a spreadsheet would run as a formula
starts with an apostrophe, so no cell is ever a formula. The XML of a worksheet cannot hold
most C0 control characters (openpyxl refuses them); a stored value holding one is written
with U+FFFD in its place, so the file is always built and the character's place is visible.
"""

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from api.csvout import neutralise

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cell(value: Any) -> Any:
    """One cell's value: formulas neutralised, characters XML cannot hold replaced."""
    value = neutralise(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def to_bytes(sheet: str, header: Sequence[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """A workbook with one sheet named ``sheet``: ``header``, then ``rows``."""
    workbook = Workbook(write_only=True)  # rows stream into the file, not into cells
    worksheet = workbook.create_sheet(sheet)
    worksheet.append([cell(name) for name in header])
    for row in rows:
        worksheet.append([cell(value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

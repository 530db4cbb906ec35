"""The one CSV writer: every CSV the API answers with is written here (or, for layer exports
through GDAL, with the same ``neutralise`` rule and the same BOM).

* UTF-8 starting with a byte order mark (``EF BB BF``): Excel reads the file as UTF-8 only
  with it (without it, Cyrillic turns into mojibake); Python reads it with ``utf-8-sig``,
  GDAL's CSV driver and LibreOffice skip it.
* RFC 4180: ``\\r\\n`` between records, and a field is quoted when it holds the delimiter,
  a quote, ``\\r`` or ``\\n`` (with ``\\r\\n`` as the line terminator, Python's minimal
  quoting covers both), so no value can start a record of its own.
* Formula injection (OWASP "CSV Injection"): text starting with ``=``, ``+``, ``-``, ``@``,
  tab or carriage return is prefixed with an apostrophe, which spreadsheets show and never
  run. Numbers are written as numbers: a negative number stays a number.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"


def neutralise(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def cell(value: Any) -> str | int | float | Decimal:
    """One field: empty for None, numbers as they are, dates in ISO 8601, anything else as
    neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return neutralise(value if isinstance(value, str) else str(value))


def write_rows(
    out: io.TextIOBase, header: Sequence[str], rows: Iterable[Iterable[Any]]
) -> None:
    """Write the BOM, ``header`` and ``rows`` to a UTF-8 text stream opened with
    ``newline=""``."""
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([cell(name) for name in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])


def to_text(header: Sequence[str], rows: Iterable[Iterable[Any]]) -> str:
    """The CSV text of ``header`` and ``rows``, starting with the BOM (``U+FEFF``)."""
    out = io.StringIO(newline="")
    write_rows(out, header, rows)
    return out.getvalue()

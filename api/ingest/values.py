"""Typed cell values: dates and numbers as they appear in files.

Dates: ISO 8601 (``2024-05-17``, with or without a time), ``17/05/2024``, ``17.05.2024`` and
``17-05-2024`` (day first, as written in Ukraine, Colombia and IMSMA exports; ``dayfirst=False``
reads ``05/17/2024`` instead), ``2024/05/17``, ``20240517``, ``17 May 2024``, ``May 17, 2024``,
and date cells of spreadsheets and GeoPackages. A text that fits none is refused, quoting it; a
day-first reading that is impossible (month 13) is refused rather than flipped.
"""

import re
from datetime import date, datetime
from typing import Any


class ValueProblem(ValueError):
    """A cell could not be read as the type its field needs."""


_FORMATS_DAYFIRST = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y")
_FORMATS_MONTHFIRST = ("%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y")
_FORMATS_ANY = (
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y%m%d",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%b %d %Y",
    "%d %b. %Y",
)


def parse_date(value: Any, *, dayfirst: bool = True) -> date:
    """A date from a cell: a date, a datetime, or text in one of the documented formats."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        raise ValueProblem("empty date")
    iso = re.fullmatch(
        r"(\d{4}-\d{2}-\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?", text
    )
    if iso:
        try:
            return date.fromisoformat(iso[1])
        except ValueError as exc:
            raise ValueProblem(f"{text!r} is not a real date: {exc}") from exc
    formats = (_FORMATS_DAYFIRST if dayfirst else _FORMATS_MONTHFIRST) + _FORMATS_ANY
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    order = "day/month/year" if dayfirst else "month/day/year"
    raise ValueProblem(
        f"cannot read {text!r} as a date (expected YYYY-MM-DD or {order})"
    )


def parse_number(value: Any, *, integer: bool = False) -> float | int:
    """A number from a cell; text may use a decimal comma (``12,5``)."""
    if isinstance(value, bool):
        raise ValueProblem(f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        number = value
    else:
        text = str(value).strip().replace("\u00a0", "").replace(" ", "")
        if re.fullmatch(r"[-+]?\d+,\d+", text):
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError as exc:
            raise ValueProblem(f"{str(value).strip()!r} is not a number") from exc
    if integer:
        if float(number) != int(number):
            raise ValueProblem(f"{value!r} is not a whole number")
        return int(number)
    return float(number)

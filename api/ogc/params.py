"""Query parameters of the OGC endpoints, checked as OGC API – Features asks: 400 when wrong.

Parameters arrive as text and are parsed here (not by FastAPI's validation, which would
answer 422) so that every mistake is a 400 problem+json naming the parameter.
"""

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from pygeofilter import ast

from api.errors import BadRequest

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_CRS84_NAMES = {
    CRS84,
    "https://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "[OGC:CRS84]",
    "OGC:CRS84",
}

ITEMS_PARAMETERS = frozenset(
    {
        "f",
        "limit",
        "offset",
        "cursor",
        "bbox",
        "bbox-crs",
        "datetime",
        "filter",
        "filter-lang",
        "filter-crs",
        "crs",
    }
)
ITEM_PARAMETERS = frozenset({"f", "crs"})
FORMATS = {"json": "json", "geojson": "json", "html": "html"}
JSON_TYPES = (
    "application/json",
    "application/geo+json",
    "application/schema+json",
    "application/problem+json",
)


def _bad(parameter: str, message: str) -> BadRequest:
    return BadRequest(
        f"{parameter}: {message}",
        errors=[{"parameter": parameter, "in": "query", "message": message}],
    )


def reject_unknown(names: Iterable[str], allowed: frozenset[str]) -> None:
    """400 naming any query parameter the endpoint does not know (OGC allows either)."""
    unknown = sorted(set(names) - allowed)
    if unknown:
        raise BadRequest(
            f"unknown query parameter(s) {', '.join(unknown)}; this endpoint accepts "
            f"{', '.join(sorted(allowed))}",
            errors=[
                {"parameter": name, "in": "query", "message": "unknown parameter"}
                for name in unknown
            ],
        )


def output_format(f: str | None, accept: str | None) -> str:
    """``json`` or ``html``: ``f`` when given, else the Accept header (JSON by default)."""
    if f is not None:
        if f.lower() not in FORMATS:
            raise _bad("f", f"unknown format {f!r}; use json or html")
        return FORMATS[f.lower()]
    html_q, json_q = 0.0, 0.0
    for part in (accept or "").split(","):
        media, *options = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for option in options:
            if option.startswith("q="):
                try:
                    q = float(option[2:])
                except ValueError:
                    q = 0.0
        if media in ("text/html", "application/xhtml+xml"):
            html_q = max(html_q, q)
        elif media in JSON_TYPES or media in ("*/*", "application/*"):
            json_q = max(json_q, q)
    return "html" if html_q > json_q else "json"


def limit(raw: str | None, *, default: int, maximum: int) -> int:
    """``limit``: an integer from 1, ``default`` when absent; above ``maximum`` it is the
    maximum (OGC API - Features 7.15.3: a larger limit is not an error)."""
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad("limit", f"must be an integer, got {raw!r}") from None
    if value < 1:
        raise _bad("limit", f"must be at least 1, got {value}")
    return min(value, maximum)


def offset(raw: str | None) -> int:
    """``offset``: a non-negative integer, 0 when absent."""
    if raw is None:
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise _bad("offset", f"must be an integer, got {raw!r}") from None
    if value < 0:
        raise _bad("offset", f"must not be negative, got {value}")
    return value


def crs(parameter: str, raw: str | None) -> None:
    """Only CRS84 (longitude, latitude) is offered; refuse any other CRS."""
    if raw is not None and raw.strip() not in _CRS84_NAMES:
        raise _bad(parameter, f"only {CRS84} is supported, got {raw!r}")


def filter_lang(raw: str | None) -> None:
    """Only ``cql2-text`` is understood (``cql-text``, its draft name, which GDAL 3.6 and
    older send, is taken as the same: they send only what both grammars read alike)."""
    if raw is not None and raw not in ("cql2-text", "cql-text"):
        raise _bad("filter-lang", f"only cql2-text is supported, got {raw!r}")


def _instant(parameter: str, text: str) -> date:
    """The UTC calendar day of a date or an RFC 3339 date-time."""
    try:
        if "T" in text or "t" in text:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is not None:
                moment = moment.astimezone(UTC)
            return moment.date()
        return date.fromisoformat(text)
    except ValueError:
        raise _bad(
            parameter,
            f"{text!r} is not a date (2024-05-01) or date-time (2024-05-01T12:00:00Z)",
        ) from None


def datetime_days(raw: str | None) -> tuple[date | None, date | None] | None:
    """``datetime`` as inclusive calendar days: an instant, ``a/b``, ``../b`` or ``a/..``.

    The collections' temporal properties are dates, and a date is the whole UTC day, so
    a feature matches when its day meets the instant or interval.
    """
    if raw is None:
        return None
    if "/" not in raw:
        day = _instant("datetime", raw)
        return day, day
    start_text, _, end_text = raw.partition("/")
    start = None if start_text in ("", "..") else _instant("datetime", start_text)
    end = None if end_text in ("", "..") else _instant("datetime", end_text)
    if start is not None and end is not None and start > end:
        raise _bad("datetime", f"the interval {raw!r} ends before it starts")
    return start, end


# queryable kinds a ``name=value`` query parameter may filter on (equality)
PROPERTY_FILTER_KINDS = frozenset(
    {"string", "uuid", "integer", "number", "boolean", "date", "date-time"}
)


def property_filters(
    query: Iterable[tuple[str, str]], kinds: dict[str, str]
) -> ast.Node | None:
    """``name=value`` parameters on queryables (OGC API - Features Part 1, 7.15.5) as one
    CQL2 condition: each is ``name = value``, all must hold. ``kinds`` maps each queryable
    that may be filtered so to its kind; a value that is not of that kind is a 400."""
    conditions: list[ast.Node] = []
    for name, raw in query:
        kind = kinds.get(name)
        if kind is None:
            continue
        value: Any = raw
        if kind in ("integer", "number"):
            try:
                value = int(raw) if kind == "integer" else float(raw)
            except ValueError:
                raise _bad(name, f"must be a {kind}, got {raw!r}") from None
            if isinstance(value, float) and not math.isfinite(value):
                raise _bad(name, f"must be a finite number, got {raw!r}")
        elif kind == "boolean":
            if raw.lower() not in ("true", "false"):
                raise _bad(name, f"must be true or false, got {raw!r}")
            value = raw.lower() == "true"
        conditions.append(ast.Equal(ast.Attribute(name), value))
    if not conditions:
        return None
    node = conditions[0]
    for condition in conditions[1:]:
        node = ast.And(node, condition)
    return node

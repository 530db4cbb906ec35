"""Land-release analytics: the burn-down over month ends, and counts of EO finds.

Burn-down
    For each month end in a range, the land-release figures as known on that date, optionally
    grouped like the summary (``admin1``, ``admin2``, ``organisation``, ``contamination``,
    ``method``). A point equals ``summary.summarise(as_of=date)`` for the same grouping.

    It is read from the land-release history that the database keeps current (migration
    0019, ``api.db.models.land_release_history``): per hazard, the spans ``[valid_from,
    valid_to)`` over which its figures and group keys are constant (they change only where a
    state starts or ends or a release is dated). Triggers on every table the figures depend
    on recompute the touched hazards' spans when the writing transaction commits. A point is
    the sum over the spans that contain its date, so the series is one statement over the
    spans: each span adds its figures in the month it starts and takes them off in the month
    it ends, and a running sum over the months gives every point, whatever the number of
    months. The areas are stored and summed as ``numeric``, so that what a span adds and takes
    off cancels exactly (a group with no hazards on a date shows zeros, not rounding residue).

EO finds
    Number of finds (records) and of items (sum of ``quantity``) per EO category, month found,
    admin1 area or organisation. Only counts: no location, no record leaves this module.
"""

import calendar
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from api.errors import BadRequest
from api.services import summary
from api.vocab import catalogue, label

MAX_MONTHS = 120
BURNDOWN_GROUPINGS = summary.STOCK + ("method",)
EO_GROUPINGS = ("eo_category", "month", "admin1", "organisation")
FIGURES = summary.FIGURES

# Apply this transaction's own pending writes to the history first (a no-op in a transaction
# that has written nothing: other transactions' writes were applied when they committed).
FLUSH_SQL = "SELECT sg_land_release_flush()"
# Room for the per-month aggregates of ~10^5 spans in memory rather than on disk
WORK_MEM_SQL = "SET LOCAL work_mem = '32MB'"

# Spans of the hazards that pass the filters; ``{side}`` is ``valid_from`` (the month a span
# starts, where it adds its figures) or ``valid_to`` (where it takes them off). Months before
# ``:first`` fold into ``:first``.
SPANS_FROM = """
FROM {table} s{join}
WHERE s.{side} <= CAST(:last AS date)
  AND (s.valid_to IS NULL OR s.valid_to > CAST(:first AS date))
  AND (CAST(:organisation AS text) IS NULL
       OR s.organisation_id = (SELECT id FROM organisations WHERE code = :organisation))
  AND (CAST(:admin AS text) IS NULL OR s.admin_pcodes @> ARRAY[CAST(:admin AS text)])"""

MONTH_OF = (
    "GREATEST(CAST(date_trunc('month', CAST({at} AS timestamp)) AS date), "
    "CAST(:first AS date))"
)
GROUP_KEYS = {
    None: ("'all'", ""),
    "admin1": ("s.admin1", ""),
    "admin2": ("s.admin2", ""),
    "organisation": ("o.code", " JOIN organisations o ON o.id = s.organisation_id"),
    # grouped by the list of types first (a few distinct lists), split into types after
    "contamination": ("s.contamination", ""),
}
# A hazard with several contamination types counts in each (as in the summary); none: NULL
BY_TYPE = (
    "(SELECT d.month, k.code AS key, {columns} FROM ({deltas}) d\n"
    "LEFT JOIN LATERAL unnest(CASE WHEN cardinality(d.key) = 0 THEN ARRAY[NULL::text] "
    "ELSE d.key END) AS k(code) ON true)"
)
COLUMNS = ("hazard_count",) + tuple(FIGURES)
SIDES = ("valid_from", "valid_to")


def _num(column: str) -> str:
    """The sum of an area column (``numeric``: what a span adds and takes off cancels)."""
    return f"SUM({column})"


def _deltas(
    side: str,
    key: str,
    join: str,
    values: dict[str, str],
    table: str = "land_release_segments",
) -> str:
    """Per month and group: the figures of the spans starting (or ending) that month."""
    sign = "" if side == "valid_from" else "-"
    return (
        f"SELECT {MONTH_OF.format(at='s.' + side)} AS month, {key} AS key, "
        + ", ".join(f"{sign}({values[c]}) AS {c}" for c in COLUMNS)
        + SPANS_FROM.format(table=table, join=join, side=side)
        + "\nGROUP BY 1, 2"
    )


def _stock_deltas(group_by: str | None) -> list[str]:
    key, join = GROUP_KEYS[group_by]
    values = {"hazard_count": "count(*)", **{f: _num(f"s.{f}") for f in FIGURES}}
    return [_deltas(side, key, join, values) for side in SIDES]


def _method_deltas() -> list[str]:
    """The ``method`` partition, as in the summary: per method the pieces of its releases;
    the row with key NULL holds what has not been released (hazards where some remains)."""
    parts = {
        f: _num(f"s.{f}")
        for f in ("cancelled_area_m2", "reduced_area_m2", "cleared_area_m2")
    }
    released = " + ".join(parts.values())
    by_method = {
        "hazard_count": "count(*)",
        **parts,
        "released_area_m2": released,
        "remaining_area_m2": "0",
        "baseline_area_m2": released,
    }
    remaining = _num("s.remaining_area_m2")
    not_released = {
        **dict.fromkeys(COLUMNS, "0"),
        "hazard_count": "count(*) FILTER (WHERE s.remaining_area_m2 > 0)",
        "remaining_area_m2": remaining,
        "baseline_area_m2": remaining,
    }
    methods = "land_release_segment_methods"
    return [_deltas(side, "s.method", "", by_method, methods) for side in SIDES] + [
        _deltas(side, "CAST(NULL AS text)", "", not_released) for side in SIDES
    ]


def month_ends(first: date, last: date) -> list[date]:
    """The last day of each month from ``first``'s month to ``last``'s month, inclusive."""
    out = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def burndown_sql(group_by: str | None) -> str:
    """The one statement that gives every group's figures at each month where they change:
    the running sum, over the months, of what the spans starting and ending each month add
    and take off."""
    deltas = _method_deltas() if group_by == "method" else _stock_deltas(group_by)
    source = "(\n" + "\nUNION ALL\n".join(deltas) + "\n)"
    if group_by == "contamination":
        columns = ", ".join(f"d.{c}" for c in COLUMNS)
        source = BY_TYPE.format(columns=columns, deltas=source[1:-1])
    return (
        "SELECT month, key, "
        + ", ".join(f"SUM(SUM({c})) OVER w AS {c}" for c in COLUMNS)
        + "\nFROM "
        + source
        + " d\nGROUP BY month, key\n"
        "WINDOW w AS (PARTITION BY key ORDER BY month)\n"
        "ORDER BY key NULLS LAST, month"
    )


def _shown(group_by: str | None, key: Any, row: dict[str, Any]) -> bool:
    """Whether the summary ``as_of`` would have a row for this group at this point."""
    if group_by is None or (group_by == "method" and key is None):
        return True  # the totals, and the not-yet-released row, are always there
    if group_by == "method":
        return row["released_area_m2"] > 0  # HAVING SUM(piece) > 0
    return row["hazard_count"] > 0


def burndown(
    session: Session,
    *,
    first: date,
    last: date,
    group_by: str | None = None,
    organisation: str | None = None,
    admin: str | None = None,
    language: str = "en",
) -> dict[str, Any]:
    """Figures as known on each month end from ``first`` to ``last`` (months, inclusive).

    One series per group key (one series, key ``all``, without ``group_by``); every series
    has a point for every month end, with zeros where the group had no hazards yet. A point
    equals the matching row of the summary ``as_of`` that date.
    """
    if group_by is not None and group_by not in BURNDOWN_GROUPINGS:
        raise BadRequest(
            f"group_by must be one of {', '.join(BURNDOWN_GROUPINGS)}; got {group_by!r}"
        )
    if (last.year, last.month) < (first.year, first.month):
        raise BadRequest(
            "to is before from",
            errors=[{"parameter": "to", "in": "query", "message": "before from"}],
        )
    dates = month_ends(first, last)
    if len(dates) > MAX_MONTHS:
        raise BadRequest(
            f"the range spans {len(dates)} months; at most {MAX_MONTHS} are allowed",
            errors=[
                {
                    "parameter": "to",
                    "in": "query",
                    "message": f"more than {MAX_MONTHS} months after from",
                }
            ],
        )
    session.execute(text(FLUSH_SQL))
    session.execute(text(WORK_MEM_SQL))
    rows = session.execute(
        text(burndown_sql(group_by)),
        {
            "first": dates[0].replace(day=1),
            "last": dates[-1],
            "organisation": organisation,
            "admin": admin,
        },
    ).mappings()

    # the running sums, at the months where a group changes; carried to every month end
    changes: dict[Any, dict[date, dict[str, Any]]] = {}
    for r in rows:
        changes.setdefault(r["key"], {})[r["month"]] = dict(r)
    zero: dict[str, Any] = {"hazard_count": 0, **dict.fromkeys(FIGURES, Decimal(0))}
    by_key: dict[Any, list[dict[str, Any]]] = {}
    for key, months in changes.items():
        current, points, shown = zero, [], False
        for d in dates:
            current = months.get(d.replace(day=1), current)
            visible = _shown(group_by, key, current)
            shown = shown or visible
            value = current if visible else zero
            point: dict[str, Any] = {"date": d.isoformat()}
            point.update({f: float(value[f] or 0) for f in FIGURES})
            point["hazard_count"] = int(value["hazard_count"] or 0)
            points.append(point)
        if shown:
            by_key[key] = points
    always = {None: "all", "method": None}
    if group_by in always and always[group_by] not in by_key:
        key = always[group_by]
        by_key[key] = [
            {"date": d.isoformat(), **dict.fromkeys(FIGURES, 0.0), "hazard_count": 0}
            for d in dates
        ]
    if group_by is None:
        names = {"all": catalogue(language).get("summary.all", "All hazards")}
    else:
        names = summary._labels(session, group_by, list(by_key), language)
    series = [
        {"key": key, "label": names.get(key, key), "points": by_key[key]}
        for key in sorted(by_key, key=lambda k: (k is None, k or ""))
    ]
    return {
        "group_by": group_by,
        "from": dates[0].isoformat(),
        "to": dates[-1].isoformat(),
        "series": series,
    }


EO_KEYS = {
    "eo_category": ("f.eo_category", ""),
    "month": ("to_char(f.found_on, 'YYYY-MM')", ""),
    "organisation": ("o.code", ""),
    "admin1": (
        "a.pcode",
        " LEFT JOIN LATERAL (SELECT pcode FROM admin_areas a WHERE a.level = 1"
        " AND ST_Intersects(a.geom, f.geom) ORDER BY pcode LIMIT 1) a ON true",
    ),
}

EO_SQL = """
SELECT {key} AS key, count(*) AS find_count, COALESCE(SUM(f.quantity), 0) AS item_count
FROM eo_finds f
JOIN organisations o ON o.id = f.organisation_id{join}
WHERE f.retired_at IS NULL
  AND (CAST(:first AS date) IS NULL OR f.found_on >= CAST(:first AS date))
  AND (CAST(:last AS date) IS NULL OR f.found_on <= CAST(:last AS date))
  AND (CAST(:organisation AS text) IS NULL OR o.code = :organisation)
GROUP BY 1
ORDER BY 1 NULLS LAST
"""


def _eo_labels(
    session: Session, group_by: str, keys: list, language: str
) -> dict[Any, str]:
    """Labels of EO count rows: category names, area and organisation names, months."""
    if group_by == "eo_category":
        names: dict[Any, str] = {k: label("contamination", k, language) for k in keys}
        names[None] = catalogue(language).get("summary.not_specified") or catalogue(
            "en"
        ).get("summary.not_specified", "")
        return names
    if group_by == "month":
        names = summary._labels(session, "month", keys, language)
        names[None] = catalogue(language).get("analytics.date_not_recorded") or (
            "Date not recorded"
        )
        return names
    return summary._labels(session, group_by, keys, language)


def eo_finds(
    session: Session,
    *,
    group_by: str = "eo_category",
    first: date | None = None,
    last: date | None = None,
    organisation: str | None = None,
    language: str = "en",
) -> dict[str, Any]:
    """Finds and items (sum of quantity) per group; ``first``/``last`` bound ``found_on``.

    With a date bound, finds without ``found_on`` are left out. Counts only: no locations.
    """
    if group_by not in EO_GROUPINGS:
        raise BadRequest(
            f"group_by must be one of {', '.join(EO_GROUPINGS)}; got {group_by!r}"
        )
    if first and last and last < first:
        raise BadRequest(
            "to is before from",
            errors=[{"parameter": "to", "in": "query", "message": "before from"}],
        )
    key, join = EO_KEYS[group_by]
    rows = [
        dict(r)
        for r in session.execute(
            text(EO_SQL.format(key=key, join=join)),
            {"first": first, "last": last, "organisation": organisation},
        ).mappings()
    ]
    names = _eo_labels(session, group_by, [r["key"] for r in rows], language)
    out = [
        {
            "key": r["key"],
            "label": names.get(r["key"], r["key"]),
            "find_count": int(r["find_count"]),
            "item_count": int(r["item_count"]),
        }
        for r in rows
    ]
    return {
        "group_by": group_by,
        "from": first.isoformat() if first else None,
        "to": last.isoformat() if last else None,
        "rows": out,
        "totals": {
            "find_count": sum(r["find_count"] for r in out),
            "item_count": sum(r["item_count"] for r in out),
        },
    }

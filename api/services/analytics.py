"""Land-release analytics: the burn-down over month ends, and counts of EO finds.

Burn-down
    For each month end in a range, the land-release figures as known on that date, optionally
    grouped like the summary (``admin1``, ``admin2``, ``organisation``, ``contamination``,
    ``method``). The figures for one date are, by construction, those of
    ``summary.summarise(as_of=date)``: the statement is the summary's own as-of SQL (hazard
    states valid on the date, releases dated on or before it, the land-release accounting of
    ``land_release.PIECES_SQL``), evaluated once per month end inside a ``LATERAL`` subquery
    over the list of dates, so the whole series is one statement and one round trip. The cost
    is that of one as-of summary per month end (the overlays are recomputed for each date; they
    are not stored per date).

EO finds
    Number of finds (records) and of items (sum of ``quantity``) per EO category, month found,
    admin1 area or organisation. Only counts: no location, no record leaves this module.
"""

import calendar
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from api.errors import BadRequest
from api.services import land_release, summary
from api.vocab import catalogue, label

MAX_MONTHS = 120
BURNDOWN_GROUPINGS = summary.STOCK + ("method",)
EO_GROUPINGS = ("eo_category", "month", "admin1", "organisation")
FIGURES = summary.FIGURES

# The as-of date of the summary's SQL, bound once per statement there; here a column of the
# list of month ends that the LATERAL subquery runs over.
AS_OF_PARAM = "CAST(:as_of AS date)"
AS_OF_COLUMN = "md.as_of"


def month_ends(first: date, last: date) -> list[date]:
    """The last day of each month from ``first``'s month to ``last``'s month, inclusive."""
    out = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _per_date_sql(body: str) -> str:
    """The summary's as-of statement ``head + body``, run for every date of ``:dates``."""
    inner = land_release.as_of_cte() + summary.AS_OF_HF + body
    if (
        AS_OF_PARAM not in inner
    ):  # the summary's SQL changed shape: fail loudly in tests
        raise RuntimeError("the as-of SQL no longer binds CAST(:as_of AS date)")
    inner = inner.replace(AS_OF_PARAM, AS_OF_COLUMN)
    if ":as_of" in inner:
        raise RuntimeError("the as-of SQL binds :as_of in a form the burn-down misses")
    return (
        "SELECT md.as_of AS as_of, s.*\n"
        "FROM unnest(CAST(:dates AS date[])) AS md(as_of)\n"
        "CROSS JOIN LATERAL (\n" + inner + "\n) s\n"
        "ORDER BY md.as_of"
    )


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
    if group_by is None:
        body = summary.TOTALS_SELECT.replace(
            "SELECT count(*)", "SELECT 'all' AS key, count(*)", 1
        )
    elif group_by in summary.STOCK:
        key, join = summary.STOCK_KEYS[group_by]
        body = summary.STOCK_SELECT.format(key=key, join=join)
    else:
        body = summary.PARTITION_SELECT.format(key=summary.PARTITION_KEYS[group_by])
    params = {
        "dates": dates,
        "organisation": organisation,
        "admin": admin,
        "all": True,
        "ids": [],
        "closed_below": land_release.CLOSED_BELOW_M2,
    }
    rows = session.execute(text(_per_date_sql(body)), params).mappings().all()

    by_key: dict[Any, dict[date, dict]] = {}
    for r in rows:
        by_key.setdefault(r["key"], {})[r["as_of"]] = r
    if group_by is None:
        names = {"all": catalogue(language).get("summary.all", "All hazards")}
        by_key.setdefault("all", {})
    else:
        names = summary._labels(session, group_by, list(by_key), language)
    series = []
    for key in sorted(by_key, key=lambda k: (k is None, k or "")):
        points = []
        for d in dates:
            r = by_key[key].get(d)
            point: dict[str, Any] = {"date": d.isoformat()}
            point.update({f: float(r[f] or 0) if r else 0.0 for f in FIGURES})
            point["hazard_count"] = int(r["hazard_count"]) if r else 0
            points.append(point)
        series.append({"key": key, "label": names.get(key, key), "points": points})
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
    rows = session.execute(
        text(EO_SQL.format(key=key, join=join)),
        {"first": first, "last": last, "organisation": organisation},
    ).mappings()
    rows = [dict(r) for r in rows]
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

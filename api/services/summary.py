"""The land-release summary: programme figures grouped by area, organisation, type or release.

Two kinds of grouping:

* stock groupings (``admin1``, ``admin2``, ``organisation``, ``contamination``): each row is a
  set of hazards with their summed figures, so released + remaining = baseline in every row.
  A hazard counts in the area that contains a point on its surface; with ``contamination`` a
  hazard with several contamination types appears in each of their rows (rows overlap).
* partition groupings (``method``, ``month``): every square metre of baseline falls in exactly
  one row: the release method (the activity's operational method; several methods count as
  ``combined``) or the month of the release that released it, or the row with key ``null``
  that holds what has not been released. Rows add up to the programme totals.

``as_of`` recomputes everything from the history as known on that date (slower: overlays are
computed, not read).
"""

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from api.errors import BadRequest
from api.services import land_release
from api.vocab import catalogue, label

STOCK = ("admin1", "admin2", "organisation", "contamination")
PARTITION = ("method", "month")
GROUPINGS = STOCK + PARTITION
FIGURES = (
    "cancelled_area_m2",
    "reduced_area_m2",
    "cleared_area_m2",
    "released_area_m2",
    "remaining_area_m2",
    "baseline_area_m2",
)

CURRENT_HF = """
hf AS (
    SELECT h.id AS hazard_id, h.organisation_id, h.contamination,
           h.admin_primary ->> '1' AS admin1, h.admin_primary ->> '2' AS admin2,
           f.baseline_area_m2 AS baseline, f.cancelled_area_m2 AS cancelled,
           f.reduced_area_m2 AS reduced, f.cleared_area_m2 AS cleared,
           f.released_area_m2 AS released, f.remaining_area_m2 AS remaining
    FROM hazards h
    JOIN hazard_land_release f ON f.hazard_id = h.id
    JOIN organisations o ON o.id = h.organisation_id
    WHERE h.retired_at IS NULL
      AND (CAST(:organisation AS text) IS NULL OR o.code = :organisation)
      AND (CAST(:admin AS text) IS NULL OR h.admin_pcodes @> ARRAY[CAST(:admin AS text)])
),
rp AS (
    SELECT r.hazard_id, r.outcome, r.date, r.activity_id, r.effective_area_m2 AS piece_m2
    FROM release_polygons r JOIN hf ON hf.hazard_id = r.hazard_id
    WHERE r.retired_at IS NULL
)"""

AS_OF_HF = """,
hf AS (
    SELECT hz.id AS hazard_id, hz.organisation_id,
           ARRAY(SELECT jsonb_array_elements_text(COALESCE(hz.state -> 'contamination',
                                                           '[]'::jsonb))) AS contamination,
           (SELECT a.pcode FROM admin_areas a WHERE a.level = 1
              AND ST_Intersects(a.geom, ST_PointOnSurface(hz.geom)) ORDER BY a.pcode LIMIT 1)
               AS admin1,
           (SELECT a.pcode FROM admin_areas a WHERE a.level = 2
              AND ST_Intersects(a.geom, ST_PointOnSurface(hz.geom)) ORDER BY a.pcode LIMIT 1)
               AS admin2,
           f.baseline, f.cancelled, f.reduced, f.cleared, f.released, f.remaining
    FROM hz
    JOIN figures f ON f.hazard_id = hz.id
    JOIN organisations o ON o.id = hz.organisation_id
    WHERE (CAST(:organisation AS text) IS NULL OR o.code = :organisation)
      AND (CAST(:admin AS text) IS NULL OR EXISTS (
            SELECT 1 FROM admin_areas a WHERE a.pcode = :admin AND ST_Intersects(a.geom, hz.geom)))
),
rp AS (
    SELECT p.hazard_id, p.outcome, p.date, p.activity_id, p.piece_m2
    FROM pieces p JOIN hf ON hf.hazard_id = p.hazard_id
)"""

STOCK_KEYS = {
    "admin1": ("hf.admin1", ""),
    "admin2": ("hf.admin2", ""),
    "organisation": ("o.code", " JOIN organisations o ON o.id = hf.organisation_id"),
    "contamination": (
        "k.code",
        " LEFT JOIN LATERAL unnest(CASE WHEN cardinality(hf.contamination) = 0 "
        "THEN ARRAY[NULL::text] ELSE hf.contamination END) AS k(code) ON true",
    ),
}

STOCK_SELECT = """
SELECT {key} AS key, count(*) AS hazard_count,
       SUM(hf.baseline) AS baseline_area_m2, SUM(hf.cancelled) AS cancelled_area_m2,
       SUM(hf.reduced) AS reduced_area_m2, SUM(hf.cleared) AS cleared_area_m2,
       SUM(hf.released) AS released_area_m2, SUM(hf.remaining) AS remaining_area_m2
FROM hf{join}
GROUP BY 1
ORDER BY 1 NULLS LAST
"""

PARTITION_KEYS = {
    "method": (
        "CASE WHEN a.methods IS NULL OR cardinality(a.methods) = 0 THEN 'not_recorded' "
        "WHEN cardinality(a.methods) = 1 THEN a.methods[1] ELSE 'combined' END"
    ),
    "month": "to_char(rp.date, 'YYYY-MM')",
}

PARTITION_SELECT = """
SELECT * FROM (
    SELECT {key} AS key, count(DISTINCT rp.hazard_id) AS hazard_count,
           SUM(rp.piece_m2) AS baseline_area_m2,
           COALESCE(SUM(rp.piece_m2) FILTER (WHERE rp.outcome = 'cancelled'), 0)
               AS cancelled_area_m2,
           COALESCE(SUM(rp.piece_m2) FILTER (WHERE rp.outcome = 'reduced'), 0)
               AS reduced_area_m2,
           COALESCE(SUM(rp.piece_m2) FILTER (WHERE rp.outcome = 'cleared'), 0)
               AS cleared_area_m2,
           SUM(rp.piece_m2) AS released_area_m2, 0.0 AS remaining_area_m2
    FROM rp LEFT JOIN activities a ON a.id = rp.activity_id
    GROUP BY 1
    HAVING SUM(rp.piece_m2) > 0
    UNION ALL
    SELECT NULL, count(*) FILTER (WHERE hf.remaining > 0), COALESCE(SUM(hf.remaining), 0),
           0.0, 0.0, 0.0, 0.0, COALESCE(SUM(hf.remaining), 0)
    FROM hf
) x
ORDER BY key NULLS LAST
"""

TOTALS_SELECT = """
SELECT count(*) AS hazard_count,
       COALESCE(SUM(hf.baseline), 0) AS baseline_area_m2,
       COALESCE(SUM(hf.cancelled), 0) AS cancelled_area_m2,
       COALESCE(SUM(hf.reduced), 0) AS reduced_area_m2,
       COALESCE(SUM(hf.cleared), 0) AS cleared_area_m2,
       COALESCE(SUM(hf.released), 0) AS released_area_m2,
       COALESCE(SUM(hf.remaining), 0) AS remaining_area_m2
FROM hf
"""


def _labels(
    session: Session, group_by: str, keys: list[str | None], language: str
) -> dict:
    """Human labels for the row keys, in ``language`` where a catalogue has them."""
    names: dict[str | None, str] = {}
    if group_by in ("admin1", "admin2"):
        rows = session.execute(
            text("SELECT pcode, name, names FROM admin_areas WHERE pcode = ANY(:k)"),
            {"k": [k for k in keys if k]},
        )
        for pcode, name, localised in rows:
            names[pcode] = (localised or {}).get(language) or name
    elif group_by == "organisation":
        rows = session.execute(
            text("SELECT code, name FROM organisations WHERE code = ANY(:k)"),
            {"k": [k for k in keys if k]},
        )
        names.update(dict(rows.all()))
    elif group_by == "contamination":
        names.update({k: label("contamination", k, language) for k in keys if k})
    elif group_by == "method":
        names.update({k: label("method", k, language) for k in keys if k})
        names["not_recorded"] = catalogue(language).get(
            "summary.method_not_recorded", "Method not recorded"
        )
    elif group_by == "month":
        for k in keys:
            if k:
                year, month = k.split("-")
                month_name = catalogue(language).get(
                    f"month.{int(month)}"
                ) or catalogue("en").get(f"month.{int(month)}", month)
                names[k] = f"{month_name} {year}"
    cat = catalogue(language)
    none_label = {
        "admin1": "summary.outside_admin",
        "admin2": "summary.outside_admin",
        "organisation": "summary.no_organisation",
        "contamination": "summary.not_specified",
        "method": "summary.not_released",
        "month": "summary.not_released",
    }[group_by]
    names[None] = cat.get(none_label) or catalogue("en").get(none_label, "")
    return names


def summarise(
    session: Session,
    *,
    group_by: str,
    as_of: date | None = None,
    organisation: str | None = None,
    admin: str | None = None,
    language: str = "en",
) -> dict[str, Any]:
    """Land-release figures per group, with programme totals; see the module docstring."""
    if group_by not in GROUPINGS:
        raise BadRequest(
            f"group_by must be one of {', '.join(GROUPINGS)}; got {group_by!r}"
        )
    params: dict[str, Any] = {"organisation": organisation, "admin": admin}
    if as_of is None:
        head = "WITH " + CURRENT_HF
    else:
        head = land_release.as_of_cte() + AS_OF_HF
        params.update(
            {
                "as_of": as_of,
                "all": True,
                "ids": [],
                "closed_below": land_release.CLOSED_BELOW_M2,
            }
        )
    if group_by in STOCK:
        key, join = STOCK_KEYS[group_by]
        body = STOCK_SELECT.format(key=key, join=join)
    else:
        body = PARTITION_SELECT.format(key=PARTITION_KEYS[group_by])
    rows = [dict(r) for r in session.execute(text(head + body), params).mappings()]
    totals = dict(session.execute(text(head + TOTALS_SELECT), params).mappings().one())
    names = _labels(session, group_by, [r["key"] for r in rows], language)
    out_rows = []
    for r in rows:
        row = {
            "key": r["key"],
            "label": names.get(r["key"], r["key"]),
            "hazard_count": int(r["hazard_count"]),
        }
        row.update({f: float(r[f] or 0) for f in FIGURES})
        out_rows.append(row)
    totals = {
        k: (int(v) if k == "hazard_count" else float(v)) for k, v in totals.items()
    }
    return {"group_by": group_by, "as_of": as_of, "rows": out_rows, "totals": totals}

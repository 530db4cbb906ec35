"""Land-release accounting, set-based in PostGIS.

The rule (also in the README):

* remaining = hazard − ∪(its release polygons); released = hazard ∩ ∪(its release polygons);
* each square metre is counted once: releases of one hazard are ranked cleared > reduced >
  cancelled (then by date, then id) and each counts only the part of the hazard that no
  higher-ranked release already covers (its "piece");
* released land outside the hazard counts as zero for it, and is reported as ``outside_area_m2``
  (and as a warning when the release is written);
* areas are square metres on the WGS 84 ellipsoid (``sg_area_m2``: densified to 0.0002°, with
  at most 2,000 added positions, so that any row costs bounded work, see migration 0016, and
  measured in the ellipsoidal equal-area projection EPSG:6933, never Web Mercator). Edges are
  straight lines in longitude/latitude as RFC 7946 defines them, so the measure is additive
  over overlays (``ST_Area(geography)`` reads edges as geodesics and is not);
* the pieces partition hazard ∩ ∪releases, so released = Σ pieces, and, the measure being
  additive, remaining = baseline − released is the area of hazard − ∪releases: the balance
  released + remaining = baseline holds by construction. The remaining geometry itself is
  computed when asked for (``remaining_geometry``).

Status is derived unless set: ``open``; ``worked_on`` once a linked activity has started
(ongoing, suspended or completed); ``closed`` when less than 1 m² remains and a linked activity
is completed (a spot hazard, a Point, must also be covered by a release when it has any). A
status set by hand wins, except that ``closed`` or ``handed_over`` never hides land that is
still hazardous: with 1 m² or more remaining the derived status is shown instead.

One statement computes the figures for any set of hazards: the same SQL serves the incremental
update after a write (the touched hazards) and the full recomputation (all of them).
"""

import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

CLOSED_BELOW_M2 = 1.0

# Per-release pieces and per-hazard figures for the hazards in the CTE ``hz(id, geom,
# status_set)``; ``:as_of`` (nullable) keeps only releases and activities dated by then.
PIECES_SQL = """
rel AS MATERIALIZED (  -- materialised: each intersection is computed once, not per reference
    SELECT r.id, r.hazard_id, r.activity_id, r.outcome, r.date, r.area_m2, x.inside,
           GeometryType(hz.geom) = 'POINT' AS point_hazard,
           CASE r.outcome WHEN 'cleared' THEN 3 WHEN 'reduced' THEN 2 ELSE 1 END AS strength
    FROM release_polygons r
    JOIN hz ON hz.id = r.hazard_id
    CROSS JOIN LATERAL (SELECT ST_Intersection(r.geom, hz.geom) AS inside) x
    WHERE r.retired_at IS NULL
      AND (CAST(:as_of AS date) IS NULL OR r.date <= CAST(:as_of AS date))
),
ranked AS (
    SELECT rel.*, COALESCE(sg_area_m2(inside), 0) AS inside_m2,
           ST_Union(inside) OVER (
               PARTITION BY hazard_id ORDER BY strength DESC, date, id
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
    FROM rel
),
pieces AS (
    SELECT id, hazard_id, activity_id, outcome, date, area_m2,
           CASE WHEN before IS NULL THEN inside_m2
                ELSE COALESCE(sg_area_m2(ST_Difference(inside, before)), 0) END AS piece_m2,
           -- a release covering a spot hazard (a Point) releases it: nothing lies "outside"
           point_hazard AND NOT ST_IsEmpty(inside) AS covers_spot,
           CASE WHEN point_hazard AND NOT ST_IsEmpty(inside) THEN 0
                ELSE GREATEST(area_m2 - inside_m2, 0) END AS outside_m2
    FROM ranked
),
per_hazard AS (
    SELECT hazard_id,
           COALESCE(SUM(piece_m2) FILTER (WHERE outcome = 'cancelled'), 0) AS cancelled,
           COALESCE(SUM(piece_m2) FILTER (WHERE outcome = 'reduced'), 0) AS reduced,
           COALESCE(SUM(piece_m2) FILTER (WHERE outcome = 'cleared'), 0) AS cleared,
           SUM(outside_m2) AS outside,
           bool_or(covers_spot) AS covers_spot
    FROM pieces
    GROUP BY hazard_id
),
figures AS MATERIALIZED (
    SELECT hz.id AS hazard_id, b.baseline,
           COALESCE(ph.cancelled, 0) AS cancelled,
           COALESCE(ph.reduced, 0) AS reduced,
           COALESCE(ph.cleared, 0) AS cleared,
           COALESCE(ph.cancelled + ph.reduced + ph.cleared, 0) AS released,
           GREATEST(b.baseline - COALESCE(ph.cancelled + ph.reduced + ph.cleared, 0), 0)
               AS remaining,
           COALESCE(ph.outside, 0) AS outside,
           -- a spot hazard with releases, none of which covers it, is not released by them
           GeometryType(hz.geom) = 'POINT' AND ph.hazard_id IS NOT NULL
               AND NOT ph.covers_spot AS spot_missed
    FROM hz
    CROSS JOIN LATERAL (SELECT sg_area_m2(hz.geom) AS baseline) b
    LEFT JOIN per_hazard ph ON ph.hazard_id = hz.id
),
activity_state AS (
    SELECT ah.hazard_id,
           bool_or(a.status IN ('ongoing', 'suspended', 'completed')
                   AND (CAST(:as_of AS date) IS NULL OR a.start_date IS NULL
                        OR a.start_date <= CAST(:as_of AS date))) AS started,
           bool_or(a.status = 'completed'
                   AND (CAST(:as_of AS date) IS NULL OR a.end_date IS NULL
                        OR a.end_date <= CAST(:as_of AS date))) AS completed
    FROM activity_hazards ah
    JOIN activities a ON a.id = ah.activity_id AND a.retired_at IS NULL
    JOIN hz ON hz.id = ah.hazard_id
    GROUP BY ah.hazard_id
),
derived AS (
    SELECT f.hazard_id,
           CASE WHEN COALESCE(s.completed, false) AND f.remaining < :closed_below
                     AND NOT f.spot_missed THEN 'closed'
                WHEN COALESCE(s.started, false) THEN 'worked_on'
                ELSE 'open' END AS derived_status
    FROM figures f
    LEFT JOIN activity_state s ON s.hazard_id = f.hazard_id
)
"""

EFFECTIVE_STATUS_SQL = """
CASE WHEN {status_set} IS NULL THEN d.derived_status
     WHEN {status_set} IN ('closed', 'handed_over') AND f.remaining >= :closed_below
          THEN d.derived_status
     ELSE {status_set} END"""

# The status and area of the hazards in ``effective(hazard_id, baseline, status)``, written
# where they changed (the last CTE of RECOMPUTE_SQL and NEW_HAZARDS_SQL).
STATUS_UPDATE_SQL = """
status AS (
    UPDATE hazards h
    SET status = e.status, area_m2 = e.baseline
    FROM effective e
    WHERE h.id = e.hazard_id
      AND (h.status IS DISTINCT FROM e.status OR h.area_m2 IS DISTINCT FROM e.baseline)
    RETURNING 1
)"""

RECOMPUTE_SQL = (
    """
WITH hz AS (
    SELECT id, geom, status_set FROM hazards
    WHERE retired_at IS NULL AND (CAST(:all AS boolean) OR id = ANY(CAST(:ids AS uuid[])))
),
"""
    + PIECES_SQL
    + """,
saved AS (
    INSERT INTO hazard_land_release AS t (
        hazard_id, baseline_area_m2, cancelled_area_m2, reduced_area_m2, cleared_area_m2,
        released_area_m2, remaining_area_m2, outside_area_m2, computed_at)
    SELECT hazard_id, baseline, cancelled, reduced, cleared, released, remaining, outside, now()
    FROM figures
    ON CONFLICT (hazard_id) DO UPDATE SET
        baseline_area_m2 = EXCLUDED.baseline_area_m2,
        cancelled_area_m2 = EXCLUDED.cancelled_area_m2,
        reduced_area_m2 = EXCLUDED.reduced_area_m2,
        cleared_area_m2 = EXCLUDED.cleared_area_m2,
        released_area_m2 = EXCLUDED.released_area_m2,
        remaining_area_m2 = EXCLUDED.remaining_area_m2,
        outside_area_m2 = EXCLUDED.outside_area_m2,
        computed_at = EXCLUDED.computed_at
    RETURNING 1
),
pieces_saved AS (
    UPDATE release_polygons r
    SET effective_area_m2 = p.piece_m2, outside_area_m2 = p.outside_m2
    FROM pieces p
    WHERE r.id = p.id
      AND (r.effective_area_m2 IS DISTINCT FROM p.piece_m2
           OR r.outside_area_m2 IS DISTINCT FROM p.outside_m2)
    RETURNING 1
),
effective AS (
    SELECT f.hazard_id, f.baseline, """
    + EFFECTIVE_STATUS_SQL.format(status_set="hz.status_set")
    + """ AS status
    FROM figures f
    JOIN derived d ON d.hazard_id = f.hazard_id
    JOIN hz ON hz.id = f.hazard_id
),
"""
    + STATUS_UPDATE_SQL
    + """
SELECT (SELECT count(*) FROM saved) AS hazards, (SELECT count(*) FROM status) AS status_changes,
       (SELECT count(*) FROM pieces_saved) AS pieces
"""
)


def recompute(session: Session, hazard_ids: Iterable[uuid.UUID] | None = None) -> int:
    """Recompute land-release figures and derived status of ``hazard_ids`` (None = all).

    One statement, whatever the number of hazards. Returns how many hazards were computed.
    The caller owns the transaction.
    """
    ids = None if hazard_ids is None else [str(i) for i in set(hazard_ids)]
    if ids == []:
        return 0
    if (
        ids is None
    ):  # a maintenance job over every hazard: not bound by the API's time limit
        session.execute(text("SET LOCAL statement_timeout = 0"))
    row = session.execute(
        text(RECOMPUTE_SQL),
        {
            "all": ids is None,
            "ids": ids or [],
            "as_of": None,
            "closed_below": CLOSED_BELOW_M2,
        },
    ).one()
    return int(row.hazards)


# Hazards just created have no release and no activity: nothing is released, and the derived
# status is 'open'. The same figures as RECOMPUTE_SQL gives them, without its joins; the
# baseline is the area the database measured as the row was written (trigger hazards_measure,
# migration 0022: sg_area_m2(geom)).
NEW_HAZARDS_SQL = (
    """
WITH hz AS (
    SELECT id, status_set, area_m2 AS baseline FROM hazards
    WHERE id = ANY(CAST(:ids AS uuid[])) AND retired_at IS NULL
),
saved AS (
    INSERT INTO hazard_land_release (
        hazard_id, baseline_area_m2, cancelled_area_m2, reduced_area_m2, cleared_area_m2,
        released_area_m2, remaining_area_m2, outside_area_m2, computed_at)
    SELECT id, baseline, 0, 0, 0, 0, baseline, 0, now() FROM hz
    RETURNING 1
),
effective AS (
    SELECT hz.id AS hazard_id, hz.baseline, """
    + EFFECTIVE_STATUS_SQL.format(status_set="hz.status_set")
    + """ AS status
    FROM hz
    CROSS JOIN LATERAL (SELECT hz.baseline AS remaining) f
    CROSS JOIN LATERAL (SELECT 'open' AS derived_status) d
),"""
    + STATUS_UPDATE_SQL
    + """
SELECT (SELECT count(*) FROM saved) AS hazards
"""
)


def start(session: Session, hazard_ids: Iterable[uuid.UUID]) -> int:
    """The land-release figures and status of hazards just created (``bulk_create``): none
    has a release or an activity yet, so the figures are what ``recompute`` would give
    without its joins (a test holds the two equal). Returns how many hazards."""
    ids = [str(i) for i in set(hazard_ids)]
    if not ids:
        return 0
    row = session.execute(
        text(NEW_HAZARDS_SQL), {"ids": ids, "closed_below": CLOSED_BELOW_M2}
    ).one()
    return int(row.hazards)


AS_OF_HAZARDS_CTE = """
hz AS (
    SELECT s.hazard_id AS id, s.geom, s.state ->> 'status' AS status_set, s.organisation_id,
           s.state
    FROM hazard_states s
    WHERE s.valid_from <= CAST(:as_of AS date)
      AND (s.valid_to IS NULL OR s.valid_to > CAST(:as_of AS date))
      AND NOT s.retired
      AND (CAST(:all AS boolean) OR s.hazard_id = ANY(CAST(:ids AS uuid[])))
)"""


def as_of_cte() -> str:
    """``WITH hz AS (states as of :as_of), ..., figures, derived`` for further SELECTs.

    Parameters: ``:as_of``, ``:all``, ``:ids``, ``:closed_below``.
    """
    return "WITH " + AS_OF_HAZARDS_CTE + ",\n" + PIECES_SQL


AS_OF_FIGURES_SQL = (
    as_of_cte()
    + """
SELECT f.hazard_id, f.baseline AS baseline_area_m2, f.cancelled AS cancelled_area_m2,
       f.reduced AS reduced_area_m2, f.cleared AS cleared_area_m2,
       f.released AS released_area_m2, f.remaining AS remaining_area_m2,
       f.outside AS outside_area_m2,"""
    + EFFECTIVE_STATUS_SQL.format(status_set="hz.status_set")
    + """ AS status
FROM figures f
JOIN derived d ON d.hazard_id = f.hazard_id
JOIN hz ON hz.id = f.hazard_id
"""
)


def figures_as_of(
    session: Session, as_of: date, hazard_ids: Iterable[uuid.UUID] | None = None
) -> dict[uuid.UUID, dict]:
    """Land-release figures and status as known on ``as_of`` (computed, not stored)."""
    ids = None if hazard_ids is None else [str(i) for i in set(hazard_ids)]
    if ids == []:
        return {}
    rows = session.execute(
        text(AS_OF_FIGURES_SQL),
        {
            "all": ids is None,
            "ids": ids or [],
            "as_of": as_of,
            "closed_below": CLOSED_BELOW_M2,
        },
    ).mappings()
    return {row["hazard_id"]: dict(row) for row in rows}


REMAINING_SQL = """
WITH h AS (
    SELECT geom FROM hazards
    WHERE id = :id AND retired_at IS NULL AND CAST(:as_of AS date) IS NULL
    UNION ALL
    SELECT geom FROM hazard_states
    WHERE hazard_id = :id AND CAST(:as_of AS date) IS NOT NULL AND NOT retired
      AND valid_from <= CAST(:as_of AS date)
      AND (valid_to IS NULL OR valid_to > CAST(:as_of AS date))
)
SELECT ST_AsGeoJSON(
    CASE WHEN u.released IS NULL THEN h.geom
         WHEN GeometryType(h.geom) = 'POINT' THEN ST_Difference(h.geom, u.released)
         ELSE ST_Multi(ST_CollectionExtract(ST_Difference(h.geom, u.released), 3)) END,
    9)
FROM h
LEFT JOIN LATERAL (
    SELECT ST_Union(r.geom) AS released
    FROM release_polygons r
    WHERE r.hazard_id = :id AND r.retired_at IS NULL
      AND (CAST(:as_of AS date) IS NULL OR r.date <= CAST(:as_of AS date))
) u ON true
"""


def remaining_geometry(
    session: Session, hazard_id: uuid.UUID, as_of: date | None = None
) -> str | None:
    """GeoJSON text of hazard − ∪ its releases: the land still hazardous (now or ``as_of``).

    None when the hazard is unknown (or was not known on ``as_of``).
    """
    return session.execute(
        text(REMAINING_SQL), {"id": hazard_id, "as_of": as_of}
    ).scalar_one_or_none()

"""Bounded area measure; hazards with implausible geometries flagged in the audit log.

1. ``sg_area_m2`` densifies in steps of ``GREATEST(0.0002°, perimeter / 2000)`` instead of a
   fixed 0.0002°, so at most 2,000 positions are added to measure any geometry. The meaning is
   unchanged (an area on the WGS 84 ellipsoid of a geometry whose edges are straight lines in
   longitude/latitude, measured in EPSG:6933) and so is the figure for every geometry whose
   perimeter is under 0.4° (a square of about 100 km²); beyond, the longer steps change it by
   less than 1e-9 relative for any plausible hazard (5e-10 for a one-degree square). Before, the work grew with the length of the edges: an edge spanning 340° of
   longitude became 1.7 million positions, and a few such rows (even retired: the history is
   measured for every as-of date) made the burn-down run into the statement timeout. The Python
   measure (``api.spatial.intake.ellipsoidal_area_m2``) uses the same step.

2. Rows stored before the intake refused them are **kept unchanged** (never deleted, never
   moved: which way round the globe a ring was meant to go is for a person to decide) and
   **flagged**: one ``audit_log`` row per hazard (actor ``migration 0016``, entity ``hazard``,
   action ``geometry_flagged``) whose current geometry or any state of its history has an edge
   spanning more than 180° of longitude (read as going the long way round the globe: a
   geometry crossing the antimeridian should have been split there, RFC 7946 §3.1.9) or an
   area above 10,000 km² (``MAX_HAZARD_AREA_M2``). ``after`` says why: ``reason``
   (``long_way_edge`` and/or ``implausible_area``), the widest edge's span in degrees, the
   stored area in km², and whether the hazard is retired. Find them with
   ``SELECT * FROM audit_log WHERE action = 'geometry_flagged'``; correct them with a PATCH of
   the geometry (split at the antimeridian), which the intake now checks. Their figures are
   computed with the bounded measure, so they cost what any other row costs.

The work is bounded: a row is looked at edge by edge only when its bounding box is more than
180° wide (no edge can span more otherwise); the area test reads the stored ``area_m2``.

Downgrade restores the fixed 0.0002° step; audit rows are append-only and stay.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 06:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOUNDED_AREA_FUNCTION = """
CREATE OR REPLACE FUNCTION sg_area_m2(g geometry) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT ST_Area(ST_Transform(ST_Segmentize(ST_CollectionExtract(g, 3),
       GREATEST(0.0002, ST_Perimeter(ST_CollectionExtract(g, 3)) / 2000)), 6933)) $$
"""

FIXED_STEP_AREA_FUNCTION = """
CREATE OR REPLACE FUNCTION sg_area_m2(g geometry) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT ST_Area(ST_Transform(ST_Segmentize(ST_CollectionExtract(g, 3), 0.0002), 6933)) $$
"""

# The widest edge, in degrees of longitude, of the geometries whose bounding box is wider than
# 180° (the only ones that can have an edge spanning more than 180°).
FLAG_IMPLAUSIBLE = """
WITH wide AS (
    SELECT h.id AS hazard_id, h.geom FROM hazards h
    WHERE ST_XMax(h.geom) - ST_XMin(h.geom) > 180
    UNION ALL
    SELECT s.hazard_id, s.geom FROM hazard_states s
    WHERE ST_XMax(s.geom) - ST_XMin(s.geom) > 180
),
spans AS (
    SELECT w.hazard_id,
           max(abs(ST_X(ST_EndPoint(d.geom)) - ST_X(ST_StartPoint(d.geom)))) AS span
    FROM wide w CROSS JOIN LATERAL ST_DumpSegments(w.geom) d
    GROUP BY w.hazard_id
),
flagged AS (
    SELECT h.id, h.area_m2, h.retired_at IS NOT NULL AS retired,
           COALESCE(sp.span, 0) AS span,
           COALESCE(sp.span, 0) > 180 AS long_way
    FROM hazards h
    LEFT JOIN spans sp ON sp.hazard_id = h.id
    WHERE COALESCE(sp.span, 0) > 180 OR h.area_m2 > 10000e6
)
INSERT INTO audit_log (actor, entity, entity_id, action, after)
SELECT 'migration 0016', 'hazard', f.id::text, 'geometry_flagged',
       jsonb_build_object(
           'reason', to_jsonb(array_remove(ARRAY[
               CASE WHEN f.long_way THEN 'long_way_edge' END,
               CASE WHEN f.area_m2 > 10000e6 THEN 'implausible_area' END], NULL)),
           'max_edge_span_deg', round(f.span::numeric, 6),
           'area_km2', round((f.area_m2 / 1e6)::numeric, 3),
           'retired', f.retired,
           'message', 'geometry kept unchanged; an edge spanning more than 180° of longitude '
                      'goes the long way round the globe, and a hazard over 10,000 km² is '
                      'implausible: check and correct the geometry (split it at ±180°)')
FROM flagged f
"""


def upgrade() -> None:
    op.execute(BOUNDED_AREA_FUNCTION)
    op.execute(FLAG_IMPLAUSIBLE)


def downgrade() -> None:
    op.execute(FIXED_STEP_AREA_FUNCTION)

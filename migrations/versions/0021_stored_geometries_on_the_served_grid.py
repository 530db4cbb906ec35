"""Geometries stored before the intake snapped them are put on the grid the API serves.

Since 0020 the intake rounds every position to 1e-9° (the 9 decimals ``ST_AsGeoJSON(geom, 9)``
serves) and repairs, with a warning, a polygon that the rounding makes invalid
(``api.spatial.intake.on_served_grid``). Rows stored before kept their full precision, so what
the API served was rounded on the way out, and a polygon could be served invalid (a hole
3e-10° inside its shell collapses onto it). This migration does for those rows what the intake
does, in the tables whose geometries the API serves as stored: ``hazards``, ``hazard_states``
(the history, served by the ``as_of`` views) and ``release_polygons``.

* A geometry that is not what the API serves of it (its positions printed with 9 decimals
  and read back, ``SERVED``) is replaced by that, when it is valid and not empty: nothing a
  reader saw changes (positions move by at most 5e-10°, 0.06 mm).
* When the rounding makes it invalid or empty, it is made valid on the grid by snap-rounding
  (``ST_ReducePrecision``, the intake's repair), and one ``audit_log`` row (actor
  ``migration 0021``, action ``geometry_snapped``) keeps the geometry as it was stored
  (``before``, GeoJSON with 15 decimals) and the stored one (``after``), so that nothing is
  altered silently. When even that leaves nothing, or the row breaks a rule added after it
  was stored (a constraint added ``NOT VALID`` by 0015 refuses any update of it), the row is
  kept unchanged and the audit row says so (``kept``) instead of failing the upgrade. Each row
  is written in a subtransaction of its own.
* The area of each hazard changed is measured again (``hazards.area_m2``), and its land-release
  baseline and remaining area with it (released + remaining = baseline still holds; the
  released pieces move by at most the rounding). The history of land release follows by
  itself: the triggers of 0019 note the states changed, refreshed when this commits.

Downgrade changes nothing: the positions were rounded, the audit rows keep what they were.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 05:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What the API serves of a geometry: its positions printed with 9 decimals and read back.
# A geometry stored from such positions (as the intake stores them) gives itself back, to the
# last bit; a "snap" computed as round(x / 1e-9) * 1e-9 would not (30.42 -> 30.420000000000002)
# and would rewrite every row.
SERVED = "ST_SetSRID(ST_GeomFromGeoJSON(ST_AsGeoJSON({g}, 9)), 4326)"
# Made valid on the grid by snap-rounding (the intake's repair), polygons kept polygonal.
REPAIRED = """CASE WHEN GeometryType(r.geom) = 'MULTIPOLYGON'
    THEN ST_Multi(ST_CollectionExtract(ST_ReducePrecision(r.geom, 1e-9), 3))
    ELSE ST_CollectionExtract(ST_ReducePrecision(r.geom, 1e-9), 3) END"""

# (table, key columns as the audit's entity id, the hazard it belongs to, audit entity)
TABLES = (
    ("hazards", "id::text", "id", "hazard"),
    (
        "hazard_states",
        "hazard_id::text || '@' || valid_from::text",
        "hazard_id",
        "hazard_state",
    ),
    ("release_polygons", "id::text", "hazard_id", "release_polygon"),
)


def _snap(table: str, key: str, hazard: str, entity: str) -> str:
    """One table's rows off the served grid, each in a subtransaction: a legacy row that a
    later constraint (added NOT VALID, migration 0015) refuses to update is kept unchanged
    and the audit row says why, instead of failing the whole upgrade."""
    return f"""
DO $mig$
DECLARE
    r record;
    stored geometry;
    exact boolean;
    why text;
BEGIN
    FOR r IN
        SELECT ctid AS row_id, {key} AS entity_id, {hazard} AS hazard_id, geom,
               {SERVED.format(g="geom")} AS served
        FROM {table}
        WHERE NOT ST_OrderingEquals(geom, {SERVED.format(g="geom")})
    LOOP
        why := NULL;
        exact := ST_IsValid(r.served) AND NOT ST_IsEmpty(r.served);
        IF exact THEN
            stored := r.served;
        ELSE
            stored := {SERVED.format(g=REPAIRED)};
            IF ST_IsEmpty(stored) OR NOT ST_IsValid(stored) THEN
                stored := NULL;
                why := 'rounded to the 9 decimals the API serves, the geometry is invalid '
                       'or empty and no repair keeps it: kept unchanged; check and correct it';
            END IF;
        END IF;
        IF stored IS NOT NULL THEN
            BEGIN
                UPDATE {table} SET geom = stored WHERE ctid = r.row_id;
                INSERT INTO sg_snapped_hazards VALUES (r.hazard_id) ON CONFLICT DO NOTHING;
            EXCEPTION WHEN integrity_constraint_violation THEN
                stored := NULL;
                exact := false;
                why := 'kept unchanged: the row breaks a rule added after it was stored ('
                       || SQLERRM || '); correct it, then it is rounded when written';
            END;
        END IF;
        IF NOT exact THEN
            INSERT INTO audit_log (actor, entity, entity_id, action, before, after)
            VALUES ('migration 0021', '{entity}', r.entity_id, 'geometry_snapped',
                    jsonb_build_object('geometry', ST_AsGeoJSON(r.geom, 15)::jsonb),
                    CASE WHEN stored IS NULL
                         THEN jsonb_build_object('kept', true, 'message', why)
                         ELSE jsonb_build_object(
                             'geometry', ST_AsGeoJSON(stored, 9)::jsonb,
                             'message', 'rounded to the 9 decimals the API serves, the '
                                        'geometry was invalid: made valid on that grid '
                                        '(snap-rounding)') END);
        END IF;
    END LOOP;
END
$mig$
"""


REMEASURE = """
UPDATE hazards h SET area_m2 = sg_area_m2(h.geom)
FROM sg_snapped_hazards s
WHERE h.id = s.hazard_id AND h.area_m2 IS DISTINCT FROM sg_area_m2(h.geom);

UPDATE hazard_land_release lr
SET baseline_area_m2 = h.area_m2,
    remaining_area_m2 = GREATEST(h.area_m2 - lr.released_area_m2, 0),
    computed_at = now()
FROM sg_snapped_hazards s JOIN hazards h ON h.id = s.hazard_id
WHERE lr.hazard_id = s.hazard_id AND lr.baseline_area_m2 IS DISTINCT FROM h.area_m2;

UPDATE release_polygons r SET area_m2 = sg_area_m2(r.geom)
FROM sg_snapped_hazards s
WHERE r.hazard_id = s.hazard_id AND r.area_m2 IS DISTINCT FROM sg_area_m2(r.geom);
"""


def upgrade() -> None:
    op.execute(
        "CREATE TEMPORARY TABLE sg_snapped_hazards (hazard_id uuid PRIMARY KEY) "
        "ON COMMIT DROP"
    )
    for table, key, hazard, entity in TABLES:
        op.execute(_snap(table, key, hazard, entity))
    op.execute(REMEASURE)
    op.execute("DROP TABLE sg_snapped_hazards")


def downgrade() -> None:
    """Nothing to undo: see the module docstring."""

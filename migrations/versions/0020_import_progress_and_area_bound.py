"""An import shows its stage and rows done; an admin area knows its area; the land-release
history is refreshed with plans for the hazards at hand.

``imports.stage`` (read, check, write, land_release, tidy, report, done) and
``imports.rows_total`` (the file's feature count when the reader knows it in advance; NULL
for a stream such as CSV) are published while the import runs, with ``counts.read`` as the
rows done, so that the workspace and the CLI can show where a long import is.

``admin_areas.area_m2`` (``sg_area_m2(geom)``, on the ellipsoid, set by a trigger) bounds a
hazard's area: one larger than the largest top-level admin area it touches is refused as
implausible (``api.ingest.gate.outside_programme``), without measuring a country's boundary
for every row.

Revision ID: 0020
Revises: 0019_land_release_history
Create Date: 2026-12-05 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019_land_release_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The history of land release is refreshed for the hazards a transaction touched
# (``ids``); its statements say ``ids IS NULL OR hazard_id = ANY (ids)``. PL/pgSQL caches a
# generic plan after five calls, in which that condition cannot use an index: every batch of
# an import then scanned every hazard's states and segments, and a 100,000-row import took
# twice as long as it should (each batch slower than the one before). Planned for the ids of
# each call, each statement reads only the touched hazards.
CUSTOM_PLANS = "ALTER FUNCTION sg_land_release_refresh(uuid[]) SET plan_cache_mode = force_custom_plan"

# A trigger, not a generated column: pg_restore evaluates a generated column's expression
# with an empty search_path, where sg_area_m2's unqualified PostGIS calls do not resolve;
# triggers are created after the data is restored, and the stored figures come back as data.
MEASURE = """
CREATE FUNCTION sg_admin_area_measure() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.area_m2 := sg_area_m2(NEW.geom);
    RETURN NEW;
END
$fn$;

CREATE TRIGGER admin_areas_measure
BEFORE INSERT OR UPDATE OF geom ON admin_areas
FOR EACH ROW EXECUTE FUNCTION sg_admin_area_measure();
"""


def upgrade() -> None:
    op.add_column("imports", sa.Column("stage", sa.Text()))
    op.add_column("imports", sa.Column("rows_total", sa.BigInteger()))
    op.add_column("admin_areas", sa.Column("area_m2", sa.Float()))
    op.execute(MEASURE)
    op.execute(CUSTOM_PLANS)
    op.execute("UPDATE admin_areas SET area_m2 = sg_area_m2(geom)")


def downgrade() -> None:
    op.execute("ALTER FUNCTION sg_land_release_refresh(uuid[]) RESET plan_cache_mode")
    op.execute("DROP TRIGGER admin_areas_measure ON admin_areas")
    op.execute("DROP FUNCTION sg_admin_area_measure()")
    op.drop_column("admin_areas", "area_m2")
    op.drop_column("imports", "rows_total")
    op.drop_column("imports", "stage")

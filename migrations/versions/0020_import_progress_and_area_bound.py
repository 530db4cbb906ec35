"""An import shows its stage and rows done; an admin area knows its area.

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
    op.execute("UPDATE admin_areas SET area_m2 = sg_area_m2(geom)")


def downgrade() -> None:
    op.execute("DROP TRIGGER admin_areas_measure ON admin_areas")
    op.execute("DROP FUNCTION sg_admin_area_measure()")
    op.drop_column("admin_areas", "area_m2")
    op.drop_column("imports", "rows_total")
    op.drop_column("imports", "stage")

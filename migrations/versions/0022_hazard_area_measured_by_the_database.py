"""A hazard's area is measured by the database as the row is written.

``hazards.area_m2`` is ``sg_area_m2(geom)``: the land-release recomputation has always set it
so. Written by an import, the row first carried the area the intake measured in Python for
the batch (the same definition, but not the same figure to the last bits: about 1e-7
relative apart on the benchmark's hexagons, 195 of 195), and the recomputation then rewrote
every new row to store the database's figure: a second version of each row, with its eight
indexes, for nothing (1.3 s of an inline 20,000-row import's 11.4 s, against 0.4 s now). A trigger now
sets it when a row is inserted or its geometry changes, as ``admin_areas_measure`` (0020) does
for admin areas, so the row is written once with the figure that stays.

A trigger, not a generated column, for the reason given in 0020 (``pg_restore``).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 05:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEASURE = """
CREATE FUNCTION sg_hazard_measure() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.area_m2 := sg_area_m2(NEW.geom);
    RETURN NEW;
END
$fn$;

CREATE TRIGGER hazards_measure
BEFORE INSERT OR UPDATE OF geom ON hazards
FOR EACH ROW EXECUTE FUNCTION sg_hazard_measure();
"""


def upgrade() -> None:
    op.execute(MEASURE)


def downgrade() -> None:
    op.execute("DROP TRIGGER hazards_measure ON hazards")
    op.execute("DROP FUNCTION sg_hazard_measure()")

"""GiST indexes on every geometry column; the remaining geometry is computed on demand.

The land-release figures are areas: remaining = baseline - released (an additive measure), so
the stored remaining geometry, the costliest part of a full recomputation, is dropped; the
/remaining endpoint computes it for the hazard asked for.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 22:34:04.985391
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_geospatial_index(
        "idx_hazard_land_release_remaining_geom",
        table_name="hazard_land_release",
        postgresql_using="gist",
        column_name="remaining_geom",
    )
    op.drop_geospatial_column("hazard_land_release", "remaining_geom")
    op.create_geospatial_index(
        "idx_hazard_states_geom",
        "hazard_states",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_index(
        "idx_hazard_versions_geom",
        "hazard_versions",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_index(
        "idx_hazards_benchmark",
        "hazards",
        ["benchmark"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_index(
        "idx_hazards_reference_point",
        "hazards",
        ["reference_point"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )


def downgrade() -> None:
    op.drop_geospatial_index(
        "idx_hazards_reference_point",
        table_name="hazards",
        postgresql_using="gist",
        column_name="reference_point",
    )
    op.drop_geospatial_index(
        "idx_hazards_benchmark",
        table_name="hazards",
        postgresql_using="gist",
        column_name="benchmark",
    )
    op.drop_geospatial_index(
        "idx_hazard_versions_geom",
        table_name="hazard_versions",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_index(
        "idx_hazard_states_geom",
        table_name="hazard_states",
        postgresql_using="gist",
        column_name="geom",
    )
    op.add_geospatial_column(
        "hazard_land_release",
        sa.Column(
            "remaining_geom",
            geoalchemy2.types.Geometry(
                srid=4326, dimension=2, from_text="ST_GeomFromEWKT", name="geometry"
            ),
            nullable=True,
        ),
    )
    op.create_geospatial_index(
        "idx_hazard_land_release_remaining_geom",
        "hazard_land_release",
        ["remaining_geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )

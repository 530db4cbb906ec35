"""Where a reported import row lies: import_messages.location (a point in WGS 84), so the
workspace can show refused rows on the map before the import is committed.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24 19:20:00
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_geospatial_column(
        "import_messages",
        sa.Column(
            "location",
            geoalchemy2.Geometry("POINT", srid=4326, spatial_index=False),
            nullable=True,
        ),
    )
    op.create_geospatial_index(
        "idx_import_messages_location",
        "import_messages",
        ["location"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )


def downgrade() -> None:
    op.drop_geospatial_index(
        "idx_import_messages_location",
        table_name="import_messages",
        column_name="location",
    )
    op.drop_geospatial_column("import_messages", "location")

"""An index for paging current hazards newest first (OGC items, lists, exports).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_hazards_current_by_doi",
        "hazards",
        [sa.text("date_of_information DESC"), "id"],
        unique=False,
        postgresql_where=sa.text("retired_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_hazards_current_by_doi",
        table_name="hazards",
        postgresql_where=sa.text("retired_at IS NULL"),
    )

"""Risk-education (EORE) sessions (filled in by the EORE work).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 19:00:00
"""

from collections.abc import Sequence

import geoalchemy2  # noqa: F401 (used by some revisions)
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

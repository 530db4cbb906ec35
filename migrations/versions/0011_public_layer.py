"""The public layer: publications of generalised hazards (filled in by the public-layer work).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 19:00:00
"""

from collections.abc import Sequence

import geoalchemy2  # noqa: F401 (used by some revisions)
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

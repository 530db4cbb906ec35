"""The default priority model is named "Default", not after a file of the repository.

Version 1 of the priority model, made from the defaults the first time a ranking was read,
was named "default (docs/domain.md §4.7)", and the workspace printed that name above the
ranking. It is now made as "Default" (``api.services.priorities.DEFAULT_MODEL_NAME``); this
migration renames a version 1 that the system made under the old name. A name an admin gave
is left alone. Downgrade gives the old name back.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD, NEW = "default (docs/domain.md §4.7)", "Default"
RENAME = sa.text(
    "UPDATE priority_models SET name = :to "
    "WHERE version = 1 AND author = 'system' AND name = :from_"
)


def upgrade() -> None:
    op.get_bind().execute(RENAME, {"from_": OLD, "to": NEW})


def downgrade() -> None:
    op.get_bind().execute(RENAME, {"from_": NEW, "to": OLD})

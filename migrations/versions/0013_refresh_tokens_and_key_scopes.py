"""Refresh tokens (rotated, reuse revokes the family) and named write scopes on API keys.

Keys made before scopes existed carried only ``restricted:read`` (or nothing) in
``permissions`` and could write whatever their role allowed; they keep exactly that: each
unrevoked key gets the write scopes of its role added.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 19:20:00
"""

from collections.abc import Sequence

import geoalchemy2  # noqa: F401 (used by some revisions)
import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the write scopes each role could use through a key before scopes existed (a copy: a
# migration never imports the application's current vocabulary)
ROLE_SCOPES = {
    "admin": [
        "hazards:write",
        "activities:write",
        "eo-finds:write",
        "accidents:write",
        "hazard-reports:write",
        "imports:write",
        "priorities:write",
    ],
    "coordinator": [
        "hazards:write",
        "activities:write",
        "eo-finds:write",
        "accidents:write",
        "hazard-reports:write",
        "imports:write",
        "priorities:write",
    ],
    "eore": ["hazard-reports:write"],
    "analyst": [],
}


def upgrade() -> None:
    op.create_table(
        "refresh_tokens",
        sa.Column(
            "id",
            sa.UUID(),
            server_default=sa.text("gen_random_uuid()"),
            nullable=False,
        ),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("family_id", sa.UUID(), nullable=False),
        sa.Column(
            "issued_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_refresh_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
    )
    op.create_index(
        "ix_refresh_tokens_family", "refresh_tokens", ["family_id"], unique=False
    )
    op.create_index(
        op.f("ix_refresh_tokens_user_id"), "refresh_tokens", ["user_id"], unique=False
    )
    for role, scopes in ROLE_SCOPES.items():
        if not scopes:
            continue
        op.execute(
            sa.text(
                "UPDATE api_keys SET permissions = ARRAY(SELECT DISTINCT p FROM "
                "unnest(permissions || CAST(:scopes AS text[])) AS p ORDER BY p) "
                "WHERE role = :role AND revoked_at IS NULL"
            ).bindparams(scopes=scopes, role=role)
        )


def downgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE api_keys SET permissions = ARRAY(SELECT p FROM unnest(permissions) "
            "AS p WHERE p = 'restricted:read')"
        )
    )
    op.drop_index(op.f("ix_refresh_tokens_user_id"), table_name="refresh_tokens")
    op.drop_index("ix_refresh_tokens_family", table_name="refresh_tokens")
    op.drop_table("refresh_tokens")

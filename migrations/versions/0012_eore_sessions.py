"""Risk-education (EORE) sessions: who, when, how, for whom and where; beneficiaries by
sex × age band × disability; links to the hazards and accidents that prompted them.

A session is located by a point, or, when the team judged it not safe to record one, by its
administrative area only (a CHECK enforces one or the other). See ``api/db/models/eore.py``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 19:00:00
"""

from collections.abc import Sequence

import geoalchemy2  # noqa: F401 (used by some revisions)
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGES = (
    "'understand_threat', 'recognise_devices', 'dangerous_vs_safer_areas', "
    "'risk_taking', 'report', 'safe_actions', 'help_others_safely'"
)


def upgrade() -> None:
    op.create_geospatial_table(
        "eore_sessions",
        sa.Column(
            "id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column("team", sa.Text(), nullable=True),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("delivery_method", sa.Text(), nullable=False),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("language", sa.Text(), nullable=True),
        sa.Column(
            "messages_covered",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column(
            "location_safe_to_record",
            sa.Boolean(),
            server_default=sa.text("true"),
            nullable=False,
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("admin_pcode", sa.Text(), nullable=True),
        sa.Column("settlement_id", sa.UUID(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "audience IN ('general_community', 'children', 'farmers_herders', "
            "'scrap_collectors', 'returnees_idps', 'teachers_caregivers', "
            "'humanitarian_staff', 'other')",
            name=op.f("ck_eore_sessions_audience"),
        ),
        sa.CheckConstraint(
            "delivery_method IN ('interpersonal', 'school_based', 'mass_media', "
            "'digital_media', 'printed_materials', 'integrated_services')",
            name=op.f("ck_eore_sessions_delivery_method"),
        ),
        sa.CheckConstraint(
            f"messages_covered <@ ARRAY[{MESSAGES}]::text[]",
            name=op.f("ck_eore_sessions_messages_covered"),
        ),
        sa.CheckConstraint(
            "(location_safe_to_record AND geom IS NOT NULL) OR "
            "(NOT location_safe_to_record AND geom IS NULL AND admin_pcode IS NOT NULL)",
            name=op.f("ck_eore_sessions_location"),
        ),
        sa.CheckConstraint(
            "ended_on IS NULL OR ended_on >= session_date",
            name=op.f("ck_eore_sessions_ended_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["admin_pcode"],
            ["admin_areas.pcode"],
            name=op.f("fk_eore_sessions_admin_pcode_admin_areas"),
            onupdate="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_eore_sessions_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_eore_sessions_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["context_settlements.id"],
            name=op.f("fk_eore_sessions_settlement_id_context_settlements"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eore_sessions")),
    )
    op.create_geospatial_index(
        "idx_eore_sessions_geom",
        "eore_sessions",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    for column in ("admin_pcode", "organisation_id", "session_date", "settlement_id"):
        op.create_index(
            op.f(f"ix_eore_sessions_{column}"), "eore_sessions", [column], unique=False
        )
    op.create_index(
        "uq_eore_sessions_org_external_id",
        "eore_sessions",
        ["organisation_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL AND retired_at IS NULL"),
    )
    op.create_table(
        "eore_session_beneficiaries",
        sa.Column(
            "id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("sex", sa.Text(), nullable=False),
        sa.Column("age_band", sa.Text(), nullable=False),
        sa.Column("disability", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "age_band IN ('age_5_12', 'age_13_17', 'age_18_plus', 'unknown')",
            name=op.f("ck_eore_session_beneficiaries_age_band"),
        ),
        sa.CheckConstraint(
            "disability IN ('with_disability', 'without_disability', 'unknown')",
            name=op.f("ck_eore_session_beneficiaries_disability"),
        ),
        sa.CheckConstraint(
            "sex IN ('female', 'male', 'unknown')",
            name=op.f("ck_eore_session_beneficiaries_sex"),
        ),
        sa.CheckConstraint(
            "count >= 0", name=op.f("ck_eore_session_beneficiaries_count")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["eore_sessions.id"],
            name=op.f("fk_eore_session_beneficiaries_session_id_eore_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eore_session_beneficiaries")),
        sa.UniqueConstraint(
            "session_id",
            "sex",
            "age_band",
            "disability",
            name="uq_eore_session_beneficiaries_cell",
        ),
    )
    op.create_index(
        op.f("ix_eore_session_beneficiaries_session_id"),
        "eore_session_beneficiaries",
        ["session_id"],
        unique=False,
    )
    for table, column, target in (
        ("eore_session_hazards", "hazard_id", "hazards"),
        ("eore_session_accidents", "accident_id", "accidents"),
    ):
        op.create_table(
            table,
            sa.Column("session_id", sa.UUID(), nullable=False),
            sa.Column(column, sa.UUID(), nullable=False),
            sa.ForeignKeyConstraint(
                [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
            ),
            sa.ForeignKeyConstraint(
                ["session_id"],
                ["eore_sessions.id"],
                name=op.f(f"fk_{table}_session_id_eore_sessions"),
            ),
            sa.PrimaryKeyConstraint("session_id", column, name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, column in (
        ("eore_session_accidents", "accident_id"),
        ("eore_session_hazards", "hazard_id"),
    ):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
        op.drop_table(table)
    op.drop_index(
        op.f("ix_eore_session_beneficiaries_session_id"),
        table_name="eore_session_beneficiaries",
    )
    op.drop_table("eore_session_beneficiaries")
    op.drop_index(
        "uq_eore_sessions_org_external_id",
        table_name="eore_sessions",
        postgresql_where=sa.text("external_id IS NOT NULL AND retired_at IS NULL"),
    )
    for column in ("settlement_id", "session_date", "organisation_id", "admin_pcode"):
        op.drop_index(op.f(f"ix_eore_sessions_{column}"), table_name="eore_sessions")
    op.drop_geospatial_index(
        "idx_eore_sessions_geom",
        table_name="eore_sessions",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("eore_sessions")

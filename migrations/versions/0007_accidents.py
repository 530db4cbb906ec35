"""Accidents and victims; victims' personal data in a table of its own.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 17:14:21.475352
"""

from collections.abc import Sequence

import geoalchemy2  # noqa: F401 (used by some revisions)
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_geospatial_table(
        "accidents",
        sa.Column(
            "id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("device_category", sa.Text(), nullable=True),
        sa.Column("accident_class", sa.Text(), nullable=False),
        sa.Column("killed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("injured", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("hazard_id", sa.UUID(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "is_demo", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
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
            "accident_class IN ('demining_accident', 'mine_erw_accident', 'other')",
            name=op.f("ck_accidents_accident_class"),
        ),
        sa.CheckConstraint(
            "device_category IN ('ap_mine', 'av_mine', 'cmr', 'uxo', 'axo', 'ied', 'booby_trap', 'other')",
            name=op.f("ck_accidents_device_category"),
        ),
        sa.CheckConstraint("injured >= 0", name=op.f("ck_accidents_injured")),
        sa.CheckConstraint("killed >= 0", name=op.f("ck_accidents_killed")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_accidents_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["hazard_id"], ["hazards.id"], name=op.f("fk_accidents_hazard_id_hazards")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_accidents_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accidents")),
    )
    op.create_geospatial_index(
        "idx_accidents_geom",
        "accidents",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_accidents_hazard_id"), "accidents", ["hazard_id"], unique=False
    )
    op.create_index(
        op.f("ix_accidents_occurred_on"), "accidents", ["occurred_on"], unique=False
    )
    op.create_index(
        op.f("ix_accidents_organisation_id"),
        "accidents",
        ["organisation_id"],
        unique=False,
    )
    op.create_index(
        "uq_accidents_org_external_id",
        "accidents",
        ["organisation_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL AND retired_at IS NULL"),
    )
    op.create_table(
        "victims",
        sa.Column(
            "id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("accident_id", sa.UUID(), nullable=False),
        sa.Column(
            "sex", sa.Text(), server_default=sa.text("'unknown'"), nullable=False
        ),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column(
            "age_band", sa.Text(), server_default=sa.text("'unknown'"), nullable=False
        ),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("activity_at_time", sa.Text(), nullable=True),
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
        sa.CheckConstraint(
            "age IS NULL OR age_band = CASE WHEN age < 18 THEN 'child' ELSE 'adult' END",
            name=op.f("ck_victims_age_band_matches_age"),
        ),
        sa.CheckConstraint(
            "age_band IN ('child', 'adult', 'unknown')",
            name=op.f("ck_victims_age_band"),
        ),
        sa.CheckConstraint(
            "outcome IN ('killed', 'injured')", name=op.f("ck_victims_outcome")
        ),
        sa.CheckConstraint(
            "role IN ('civilian', 'deminer', 'unknown')", name=op.f("ck_victims_role")
        ),
        sa.CheckConstraint(
            "sex IN ('female', 'male', 'unknown')", name=op.f("ck_victims_sex")
        ),
        sa.CheckConstraint(
            "age IS NULL OR (age >= 0 AND age <= 130)", name=op.f("ck_victims_age")
        ),
        sa.ForeignKeyConstraint(
            ["accident_id"],
            ["accidents.id"],
            name=op.f("fk_victims_accident_id_accidents"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_victims_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_victims")),
    )
    op.create_index(
        op.f("ix_victims_accident_id"), "victims", ["accident_id"], unique=False
    )
    op.create_table(
        "victim_personal_data",
        sa.Column("victim_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["victim_id"],
            ["victims.id"],
            name=op.f("fk_victim_personal_data_victim_id_victims"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("victim_id", name=op.f("pk_victim_personal_data")),
    )


def downgrade() -> None:
    op.drop_table("victim_personal_data")
    op.drop_index(op.f("ix_victims_accident_id"), table_name="victims")
    op.drop_table("victims")
    op.drop_index(
        "uq_accidents_org_external_id",
        table_name="accidents",
        postgresql_where=sa.text("external_id IS NOT NULL AND retired_at IS NULL"),
    )
    op.drop_index(op.f("ix_accidents_organisation_id"), table_name="accidents")
    op.drop_index(op.f("ix_accidents_occurred_on"), table_name="accidents")
    op.drop_index(op.f("ix_accidents_hazard_id"), table_name="accidents")
    op.drop_geospatial_index(
        "idx_accidents_geom",
        table_name="accidents",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("accidents")

"""Initial schema: identity, admin areas, hazards with history, activities, releases, finds.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 21:35:29.692575
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

AREA_FUNCTION = """
CREATE OR REPLACE FUNCTION sg_area_m2(g geometry) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT ST_Area(ST_Transform(ST_Segmentize(ST_CollectionExtract(g, 3), 0.0002), 6933)) $$
"""

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A no-op when the provisioning script already enabled PostGIS (it needs superuser rights).
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    # Area in m² on the WGS 84 ellipsoid of a lon/lat geometry whose edges are straight lines in
    # longitude/latitude (RFC 7946): densified to 0.0002° and measured in the ellipsoidal
    # cylindrical equal-area projection (EPSG:6933). Unlike ST_Area(geography), which reads
    # edges as geodesics, it is additive over planar overlays: pieces of a hazard add up to it.
    op.execute(AREA_FUNCTION)
    op.create_geospatial_table(
        "admin_areas",
        sa.Column(
            "id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("pcode", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "names",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("parent_pcode", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "is_demo", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("level >= 0", name=op.f("ck_admin_areas_level")),
        sa.ForeignKeyConstraint(
            ["parent_pcode"],
            ["admin_areas.pcode"],
            name=op.f("fk_admin_areas_parent_pcode_admin_areas"),
            onupdate="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_areas")),
        sa.UniqueConstraint("pcode", name=op.f("uq_admin_areas_pcode")),
    )
    op.create_geospatial_index(
        "idx_admin_areas_geom",
        "admin_areas",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_admin_areas_level"), "admin_areas", ["level"], unique=False
    )
    op.create_table(
        "organisations",
        sa.Column(
            "id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column(
            "is_demo", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "type IN ('nmaa', 'ngo_international', 'ngo_national', 'commercial', 'military', 'un', 'other')",
            name=op.f("ck_organisations_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("code", name=op.f("uq_organisations_code")),
    )
    op.create_table(
        "users",
        sa.Column(
            "id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("organisation_id", sa.UUID(), nullable=True),
        sa.Column(
            "restricted", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "active", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column(
            "token_version", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column(
            "is_demo", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'coordinator', 'eore', 'analyst')",
            name=op.f("ck_users_role"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_users_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index(
        "uq_users_username_lower",
        "users",
        [sa.literal_column("lower(username)")],
        unique=True,
    )
    op.create_table(
        "activities",
        sa.Column(
            "id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column("activity_type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column(
            "methods",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("clearance_depth_cm", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
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
            "activity_type IN ('non_technical_survey', 'technical_survey', 'clearance', 'eod_spot_task', 'battle_area_clearance')",
            name=op.f("ck_activities_activity_type"),
        ),
        sa.CheckConstraint(
            "methods <@ ARRAY['manual', 'mechanical', 'animal', 'combined']::text[]",
            name=op.f("ck_activities_methods"),
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'ongoing', 'suspended', 'completed', 'cancelled')",
            name=op.f("ck_activities_status"),
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name=op.f("ck_activities_dates"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_activities_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_activities_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    op.create_index(
        op.f("ix_activities_organisation_id"),
        "activities",
        ["organisation_id"],
        unique=False,
    )
    op.create_index(
        "uq_activities_org_external_id",
        "activities",
        ["organisation_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "api_keys",
        sa.Column(
            "id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column("key_prefix", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column(
            "role", sa.Text(), server_default=sa.text("'coordinator'"), nullable=False
        ),
        sa.Column(
            "permissions",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'coordinator', 'eore', 'analyst')",
            name=op.f("ck_api_keys_role"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_api_keys_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_api_keys_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_geospatial_table(
        "hazards",
        sa.Column(
            "id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("classification", sa.Text(), nullable=False),
        sa.Column("hazard_type", sa.Text(), nullable=True),
        sa.Column(
            "status", sa.Text(), server_default=sa.text("'open'"), nullable=False
        ),
        sa.Column("status_set", sa.Text(), nullable=True),
        sa.Column(
            "contamination",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("date_of_information", sa.Date(), nullable=False),
        sa.Column(
            "benchmark",
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
        sa.Column(
            "reference_point",
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
        sa.Column("estimated_area_m2", sa.Float(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column(
            "blockages",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column(
            "beneficiaries", postgresql.JSONB(astext_type=sa.Text()), nullable=True
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column(
            "admin_pcodes",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column(
            "admin_primary",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
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
            "GeometryType(geom) IN ('MULTIPOLYGON', 'POINT')",
            name=op.f("ck_hazards_geom_kind"),
        ),
        sa.CheckConstraint(
            "classification IN ('SHA', 'CHA')", name=op.f("ck_hazards_classification")
        ),
        sa.CheckConstraint(
            "contamination <@ ARRAY['ap_mine', 'av_mine', 'cmr', 'uxo', 'axo', 'ied', 'booby_trap', 'other']::text[]",
            name=op.f("ck_hazards_contamination"),
        ),
        sa.CheckConstraint(
            "hazard_type IN ('minefield', 'cmr_strike_area', 'battle_area', 'ied_area', 'uxo_spot', 'axo_site', 'building', 'road_route', 'underwater')",
            name=op.f("ck_hazards_hazard_type"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'worked_on', 'suspended', 'closed', 'handed_over')",
            name=op.f("ck_hazards_status"),
        ),
        sa.CheckConstraint(
            "status_set IN ('open', 'worked_on', 'suspended', 'closed', 'handed_over')",
            name=op.f("ck_hazards_status_set"),
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_hazards_geom_valid")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_hazards_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_hazards_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazards")),
    )
    op.create_geospatial_index(
        "idx_hazards_geom",
        "hazards",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "ix_hazards_admin_pcodes",
        "hazards",
        ["admin_pcodes"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_hazards_contamination",
        "hazards",
        ["contamination"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        op.f("ix_hazards_organisation_id"), "hazards", ["organisation_id"], unique=False
    )
    op.create_index(
        "uq_hazards_org_external_id",
        "hazards",
        ["organisation_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "activity_hazards",
        sa.Column("activity_id", sa.UUID(), nullable=False),
        sa.Column("hazard_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_hazards_activity_id_activities"),
        ),
        sa.ForeignKeyConstraint(
            ["hazard_id"],
            ["hazards.id"],
            name=op.f("fk_activity_hazards_hazard_id_hazards"),
        ),
        sa.PrimaryKeyConstraint(
            "activity_id", "hazard_id", name=op.f("pk_activity_hazards")
        ),
    )
    op.create_index(
        op.f("ix_activity_hazards_hazard_id"),
        "activity_hazards",
        ["hazard_id"],
        unique=False,
    )
    op.create_geospatial_table(
        "eo_finds",
        sa.Column(
            "id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column("activity_id", sa.UUID(), nullable=True),
        sa.Column("hazard_id", sa.UUID(), nullable=True),
        sa.Column("eo_category", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column(
            "quantity", sa.Integer(), server_default=sa.text("1"), nullable=False
        ),
        sa.Column("condition", sa.Text(), nullable=True),
        sa.Column("depth_cm", sa.Integer(), nullable=True),
        sa.Column("found_on", sa.Date(), nullable=True),
        sa.Column("disposal_method", sa.Text(), nullable=True),
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
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "condition IN ('intact', 'damaged', 'deteriorated', 'partially_functioned', 'armed', 'unknown')",
            name=op.f("ck_eo_finds_condition"),
        ),
        sa.CheckConstraint(
            "disposal_method IN ('in_situ_demolition', 'moved_and_destroyed', 'central_demolition', 'render_safe', 'handed_to_authority', 'not_disposed')",
            name=op.f("ck_eo_finds_disposal_method"),
        ),
        sa.CheckConstraint(
            "eo_category IN ('ap_mine', 'av_mine', 'cmr', 'uxo', 'axo', 'ied', 'booby_trap', 'other')",
            name=op.f("ck_eo_finds_eo_category"),
        ),
        sa.CheckConstraint(
            "activity_id IS NOT NULL OR hazard_id IS NOT NULL",
            name=op.f("ck_eo_finds_linked"),
        ),
        sa.CheckConstraint(
            "depth_cm IS NULL OR depth_cm >= 0", name=op.f("ck_eo_finds_depth")
        ),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_eo_finds_quantity")),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_eo_finds_activity_id_activities"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_eo_finds_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["hazard_id"], ["hazards.id"], name=op.f("fk_eo_finds_hazard_id_hazards")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_eo_finds_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eo_finds")),
    )
    op.create_geospatial_index(
        "idx_eo_finds_geom",
        "eo_finds",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_eo_finds_activity_id"), "eo_finds", ["activity_id"], unique=False
    )
    op.create_index(
        op.f("ix_eo_finds_hazard_id"), "eo_finds", ["hazard_id"], unique=False
    )
    op.create_index(
        "uq_eo_finds_org_external_id",
        "eo_finds",
        ["organisation_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_geospatial_table(
        "hazard_land_release",
        sa.Column("hazard_id", sa.UUID(), nullable=False),
        sa.Column("baseline_area_m2", sa.Float(), nullable=False),
        sa.Column("cancelled_area_m2", sa.Float(), nullable=False),
        sa.Column("reduced_area_m2", sa.Float(), nullable=False),
        sa.Column("cleared_area_m2", sa.Float(), nullable=False),
        sa.Column("released_area_m2", sa.Float(), nullable=False),
        sa.Column("remaining_area_m2", sa.Float(), nullable=False),
        sa.Column("outside_area_m2", sa.Float(), nullable=False),
        sa.Column(
            "remaining_geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["hazard_id"],
            ["hazards.id"],
            name=op.f("fk_hazard_land_release_hazard_id_hazards"),
        ),
        sa.PrimaryKeyConstraint("hazard_id", name=op.f("pk_hazard_land_release")),
    )
    op.create_geospatial_index(
        "idx_hazard_land_release_remaining_geom",
        "hazard_land_release",
        ["remaining_geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "hazard_states",
        sa.Column("hazard_id", sa.UUID(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column(
            "retired", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["hazard_id"],
            ["hazards.id"],
            name=op.f("fk_hazard_states_hazard_id_hazards"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_hazard_states_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint(
            "hazard_id", "valid_from", name=op.f("pk_hazard_states")
        ),
    )
    op.create_index(
        "ix_hazard_states_valid",
        "hazard_states",
        ["valid_from", "valid_to"],
        unique=False,
    )
    op.create_geospatial_table(
        "hazard_versions",
        sa.Column(
            "id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("hazard_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("date_of_information", sa.Date(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("author_user_id", sa.UUID(), nullable=True),
        sa.Column("author_api_key_id", sa.UUID(), nullable=True),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), server_default=sa.text("'api'"), nullable=False),
        sa.Column("report", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "submitted_geometry", postgresql.JSONB(astext_type=sa.Text()), nullable=True
        ),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column(
            "warnings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "changes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "superseded",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('create', 'update', 'retire')",
            name=op.f("ck_hazard_versions_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["author_api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_hazard_versions_author_api_key_id_api_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_hazard_versions_author_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["hazard_id"],
            ["hazards.id"],
            name=op.f("fk_hazard_versions_hazard_id_hazards"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_versions")),
        sa.UniqueConstraint(
            "hazard_id", "version", name="uq_hazard_versions_hazard_version"
        ),
    )
    op.create_geospatial_table(
        "release_polygons",
        sa.Column(
            "id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False
        ),
        sa.Column("activity_id", sa.UUID(), nullable=False),
        sa.Column("hazard_id", sa.UUID(), nullable=False),
        sa.Column("feature_index", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("effective_area_m2", sa.Float(), nullable=True),
        sa.Column("outside_area_m2", sa.Float(), nullable=True),
        sa.Column(
            "properties",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "submitted_geometry", postgresql.JSONB(astext_type=sa.Text()), nullable=True
        ),
        sa.Column(
            "warnings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('cleared', 'reduced', 'cancelled')",
            name=op.f("ck_release_polygons_outcome"),
        ),
        sa.CheckConstraint(
            "ST_IsValid(geom)", name=op.f("ck_release_polygons_geom_valid")
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_release_polygons_activity_id_activities"),
        ),
        sa.ForeignKeyConstraint(
            ["hazard_id"],
            ["hazards.id"],
            name=op.f("fk_release_polygons_hazard_id_hazards"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_polygons")),
    )
    op.create_geospatial_index(
        "idx_release_polygons_geom",
        "release_polygons",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_release_polygons_activity_id"),
        "release_polygons",
        ["activity_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_release_polygons_hazard_id"),
        "release_polygons",
        ["hazard_id"],
        unique=False,
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS sg_area_m2(geometry)")
    op.drop_index(op.f("ix_release_polygons_hazard_id"), table_name="release_polygons")
    op.drop_index(
        op.f("ix_release_polygons_activity_id"), table_name="release_polygons"
    )
    op.drop_geospatial_index(
        "idx_release_polygons_geom",
        table_name="release_polygons",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("release_polygons")
    op.drop_geospatial_table("hazard_versions")
    op.drop_index("ix_hazard_states_valid", table_name="hazard_states")
    op.drop_geospatial_table("hazard_states")
    op.drop_geospatial_index(
        "idx_hazard_land_release_remaining_geom",
        table_name="hazard_land_release",
        postgresql_using="gist",
        column_name="remaining_geom",
    )
    op.drop_geospatial_table("hazard_land_release")
    op.drop_index(
        "uq_eo_finds_org_external_id",
        table_name="eo_finds",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_eo_finds_hazard_id"), table_name="eo_finds")
    op.drop_index(op.f("ix_eo_finds_activity_id"), table_name="eo_finds")
    op.drop_geospatial_index(
        "idx_eo_finds_geom",
        table_name="eo_finds",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("eo_finds")
    op.drop_index(op.f("ix_activity_hazards_hazard_id"), table_name="activity_hazards")
    op.drop_table("activity_hazards")
    op.drop_index(
        "uq_hazards_org_external_id",
        table_name="hazards",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_hazards_organisation_id"), table_name="hazards")
    op.drop_index(
        "ix_hazards_contamination", table_name="hazards", postgresql_using="gin"
    )
    op.drop_index(
        "ix_hazards_admin_pcodes", table_name="hazards", postgresql_using="gin"
    )
    op.drop_geospatial_index(
        "idx_hazards_geom",
        table_name="hazards",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("hazards")
    op.drop_table("api_keys")
    op.drop_index(
        "uq_activities_org_external_id",
        table_name="activities",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_activities_organisation_id"), table_name="activities")
    op.drop_table("activities")
    op.drop_index("uq_users_username_lower", table_name="users")
    op.drop_table("users")
    op.drop_table("organisations")
    op.drop_index(op.f("ix_admin_areas_level"), table_name="admin_areas")
    op.drop_geospatial_index(
        "idx_admin_areas_geom",
        table_name="admin_areas",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("admin_areas")

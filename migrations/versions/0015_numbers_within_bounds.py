"""Numbers within their domain's bounds: CHECK constraints matching the write schemas.

A write once stored a 20-digit ``beneficiaries`` (JSONB keeps any number) and from then on
every list of hazards answered 500: the JSON encoder refuses integers past 64 bits. The API
now refuses such numbers (422 naming the field, ``api/schemas``); these constraints hold the
same bounds in the database, whatever writes (imports, scripts, psql):

* people and items: ``accidents.killed``/``injured``, ``eo_finds.quantity``,
  ``hazards.beneficiaries`` (a number, or an object whose numbers are) 0..10,000,000;
  ``eore_session_beneficiaries.count`` 0..1,000,000;
* depths: ``eo_finds.depth_cm``, ``activities.clearance_depth_cm`` 0..10,000 cm;
* ``hazards.estimated_area_m2`` 0..1e12 m², ``hazard_reports.gps_accuracy_m`` 0..100,000 m
  (a bound also refuses NaN and infinity: PostgreSQL orders NaN above every number).

Rows stored before are **kept unchanged** and, where one breaks a bound, **flagged**: one
``audit_log`` row per row and rule (actor ``migration 0015``, entity the table, action
``value_out_of_bounds``, ``after`` naming the rule). A constraint is added ``NOT VALID`` (new
and updated rows are checked) and validated at once when no stored row breaks it; a flagged
table keeps it unvalidated until a person corrects the rows (then ``ALTER TABLE …
VALIDATE CONSTRAINT …``). The API serves such a row anyway (``api/responses.py`` writes an
integer past 64 bits exactly, as number text).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 05:45:00
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_COUNT = 10_000_000
MAX_EORE_COUNT = 1_000_000
MAX_DEPTH_CM = 10_000
MAX_ESTIMATED_AREA_M2 = "1e12"
MAX_GPS_ACCURACY_M = 100_000

BENEFICIARIES_RULE = (
    "beneficiaries IS NULL OR jsonb_typeof(beneficiaries) = 'null' "
    "OR (jsonb_typeof(beneficiaries) = 'number' "
    f"AND beneficiaries::numeric BETWEEN 0 AND {MAX_COUNT}) "
    "OR (jsonb_typeof(beneficiaries) = 'object' AND NOT jsonb_path_exists(beneficiaries, "
    f"'$.* ? (@.type() == \"number\" && (@ < 0 || @ > {MAX_COUNT}))'))"
)

# (table, constraint name as in the models, rule); names follow ck_<table>_<name>
RULES: list[tuple[str, str, str]] = [
    ("accidents", "killed_max", f"killed <= {MAX_COUNT}"),
    ("accidents", "injured_max", f"injured <= {MAX_COUNT}"),
    (
        "activities",
        "clearance_depth",
        "clearance_depth_cm IS NULL OR "
        f"(clearance_depth_cm >= 0 AND clearance_depth_cm <= {MAX_DEPTH_CM})",
    ),
    ("eo_finds", "quantity_max", f"quantity <= {MAX_COUNT}"),
    ("eo_finds", "depth_max", f"depth_cm IS NULL OR depth_cm <= {MAX_DEPTH_CM}"),
    ("eore_session_beneficiaries", "count_max", f"count <= {MAX_EORE_COUNT}"),
    (
        "hazard_reports",
        "gps_accuracy_max",
        f"gps_accuracy_m IS NULL OR gps_accuracy_m <= {MAX_GPS_ACCURACY_M}",
    ),
    (
        "hazards",
        "estimated_area",
        "estimated_area_m2 IS NULL OR "
        f"(estimated_area_m2 >= 0 AND estimated_area_m2 <= {MAX_ESTIMATED_AREA_M2})",
    ),
    ("hazards", "beneficiaries", BENEFICIARIES_RULE),
]

FLAG = """
INSERT INTO audit_log (actor, entity, entity_id, action, after)
SELECT 'migration 0015', '{table}', t.id::text, 'value_out_of_bounds',
       jsonb_build_object(
           'constraint', '{constraint}',
           'rule', '{rule_text}',
           'message', 'value kept unchanged; it is outside the bounds the API accepts: '
                      'correct it, then validate the constraint')
FROM {table} t
WHERE NOT COALESCE(({rule}), true)
"""


def upgrade() -> None:
    conn = op.get_bind()
    for table, name, rule in RULES:
        constraint = f"ck_{table}_{name}"
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {constraint} CHECK ({rule}) NOT VALID"
        )
        flagged = conn.execute(
            text(
                FLAG.format(
                    table=table,
                    constraint=constraint,
                    rule=rule,
                    rule_text=rule.replace("'", "''"),
                )
            )
        ).rowcount
        if not flagged:
            op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {constraint}")


def downgrade() -> None:
    for table, name, _ in reversed(RULES):
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS ck_{table}_{name}")

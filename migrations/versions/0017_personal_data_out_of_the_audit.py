"""Personal data out of the audit log: values written in clear before are now "(changed)".

The audit listener copied a hazard report's ``raw_submission`` (the form as sent, with the
informant's name and phone) and victims' attributes (sex, exact age, role, outcome, activity)
in clear. ``api.audit.PERSONAL`` now declares every personal column; this migration replaces
the values of those columns in the ``before`` and ``after`` of existing ``audit_log`` rows of
those tables by ``"(changed)"`` (null stays null: that a value was absent is not personal).
The rest of each row (who, when, which record, the other columns) is kept.

The log is append-only (trigger ``audit_log_append_only``, migration 0010): the trigger is
disabled for these updates only, inside this migration's transaction, and enabled again
before it commits, so no other writer ever sees it off (``ALTER TABLE`` holds the table's
lock until then). One ``audit_log`` row (actor ``migration 0017``, action
``personal_data_redacted``) says how many rows of which table were redacted, when any were.

Downgrade changes nothing: the values are gone, by design.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 07:00:00
"""

import json
from collections.abc import Sequence

import geoalchemy2  # noqa: F401 (used by some revisions)
import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANGED = "(changed)"
# A copy of api.audit.PERSONAL as of this revision (a migration never imports the
# application's current code; tests/test_audit_personal_data.py checks they agree).
# None: every column but the row's key is personal.
PERSONAL: dict[str, list[str] | None] = {
    "hazard_report_contacts": None,
    "victim_personal_data": None,
    "hazard_reports": ["raw_submission"],
    "victims": ["sex", "age", "role", "outcome", "activity_at_time"],
}
KEYS: dict[str, list[str]] = {
    "hazard_report_contacts": ["report_id", "seq"],
    "victim_personal_data": ["victim_id"],
}

REDACT = """
CREATE FUNCTION pg_temp.sg_redact(j jsonb, personal text[], keep text[])
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN j IS NULL OR jsonb_typeof(j) <> 'object' THEN j ELSE COALESCE((
        SELECT jsonb_object_agg(e.key, CASE
            WHEN e.value <> 'null'::jsonb
             AND (e.key = ANY(personal) OR (personal IS NULL AND NOT e.key = ANY(keep)))
            THEN to_jsonb(CAST(:changed AS text))
            ELSE e.value END)
        FROM jsonb_each(j) AS e), j) END
$$
"""

UPDATE = """
WITH redacted AS (
    SELECT id,
           pg_temp.sg_redact(before, CAST(:personal AS text[]), CAST(:keep AS text[])) AS b,
           pg_temp.sg_redact(after, CAST(:personal AS text[]), CAST(:keep AS text[])) AS a
    FROM audit_log
    WHERE entity = :entity
)
UPDATE audit_log AS l SET before = r.b, after = r.a
FROM redacted AS r
WHERE l.id = r.id
  AND (r.b IS DISTINCT FROM l.before OR r.a IS DISTINCT FROM l.after)
"""


def upgrade() -> None:
    bind = op.get_bind()
    # a literal, not a parameter: the body of a function takes none
    bind.exec_driver_sql(REDACT.replace(":changed", "'" + CHANGED + "'"))
    bind.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    counts: dict[str, int] = {}
    for entity, personal in PERSONAL.items():
        result = bind.execute(
            sa.text(UPDATE),
            {"entity": entity, "personal": personal, "keep": KEYS.get(entity, [])},
        )
        if result.rowcount:
            counts[entity] = result.rowcount
    bind.execute(sa.text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
    bind.exec_driver_sql("DROP FUNCTION pg_temp.sg_redact(jsonb, text[], text[])")
    if counts:
        bind.execute(
            sa.text(
                "INSERT INTO audit_log (actor, entity, action, after) VALUES "
                "('migration 0017', 'audit_log', 'personal_data_redacted', "
                "CAST(:after AS jsonb))"
            ),
            {
                "after": json.dumps(
                    {
                        "rows": sum(counts.values()),
                        "by_entity": counts,
                        "message": "personal values of earlier audit rows replaced by "
                        f"{CHANGED!r}; the rest of each row is kept",
                    }
                )
            },
        )


def downgrade() -> None:
    pass  # the redacted values are gone, by design; nothing to restore

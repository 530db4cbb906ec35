"""The audit log never holds personal data in clear (issue 20, item 4).

Writes go through the API with a unique marker in every personal field of every resource
that has one: hazard reports (POST, a changed re-send, the Kobo webhook), their informants'
contacts, victims and victims' personal data (POST and PATCH). The whole audit table, read
as JSON text, must not contain the marker anywhere, while the writes are there, logged as
"(changed)". Before, a report's raw submission was copied with the informant's name and
phone in clear. Also: migration 0017 redacts the rows written before.
"""

import importlib.util
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from api import audit
from api.db import migrate
from api.db.base import Base
from api.services import auth
from api.settings import Settings
from api.vocab import Role
from tests.helpers import throwaway_database

CHANGED = audit.CHANGED
MIGRATIONS = Path(__file__).parent.parent / "migrations/versions"


def _migration():
    path = next(MIGRATIONS.glob("0017_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0017", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _audit_text(session) -> str:
    """Every row of audit_log, every column, as JSON text."""
    rows = session.execute(text("SELECT row_to_json(a)::text FROM audit_log a"))
    return "\n".join(r[0] for r in rows).lower()


def _entries(session, entity: str) -> list[dict]:
    rows = session.execute(
        text(
            "SELECT action, before, after FROM audit_log WHERE entity = :e ORDER BY id"
        ),
        {"e": entity},
    )
    return [{"action": r.action, "before": r.before, "after": r.after} for r in rows]


def _contact(marker: str, n: int) -> dict:
    return {
        "name": f"{marker}-name-{n}",
        "phone": f"+380 {marker}-phone-{n}",
        "email": f"{marker}-mail-{n}@example.org",
        "role": f"{marker}-role-{n}",
        "consent_to_contact": True,
        "notes": f"{marker}-notes-{n}",
    }


def _report(marker: str, external_id: str, description: str) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [36.2051, 49.1032]},
        "properties": {
            "source": "hotline",
            "external_id": external_id,
            "reported_on": "2024-05-17",
            "description": description,
            "contamination": ["uxo"],
            "contacts": [_contact(marker, 1), _contact(marker, 2)],
        },
    }


def _kobo(marker: str) -> dict:
    return {
        "_uuid": str(uuid.uuid4()),
        "today": "2024-05-17",
        "report/description": "Children found a metal object near the stream",
        "report/contamination": "uxo",
        "report/hazard_location": "49.1032 36.2051 152.0 4.5",
        "informant/informant_name": f"{marker}-kobo-name",
        "informant/informant_phone": f"+380 {marker}-kobo-phone",
        "informant/informant_email": f"{marker}-kobo@example.org",
        "informant/informant_role": f"{marker}-kobo-role",
        "informant/consent_to_contact": "yes",
        "informant/home_village": f"{marker}-kobo-unmapped-field",
    }


def _personal(marker: str, tag: str, born: str) -> dict:
    return {
        "name": f"{marker}-{tag}-victim-name",
        "date_of_birth": born,
        "address": f"{marker}-{tag}-victim-address",
        "phone": f"+380 {marker}-{tag}-victim-phone",
        "email": f"{marker}-{tag}-victim@example.org",
    }


def test_personal_fields_written_through_the_api_never_reach_the_audit(
    client, session, actors
):
    marker = "pdm" + uuid.uuid4().hex  # lower case: the sweep ignores case
    coordinator = actors.coordinator_a.headers

    # a hazard report sent through the API, then re-sent changed (an update of the row)
    external_id = "hotline-" + uuid.uuid4().hex
    r = client.post(
        "/api/v1/hazard-reports",
        json=_report(marker, external_id, "metal object by the road"),
        headers=coordinator,
    )
    assert r.status_code == 201, r.text
    report_id = r.json()["id"]
    r = client.post(
        "/api/v1/hazard-reports",
        json=_report(marker + "-b", external_id, "two metal objects by the road"),
        headers=coordinator,
    )
    assert r.status_code == 200 and r.json()["id"] == report_id, r.text

    # a Kobo submission through the webhook, with an organisation's key
    key, _ = auth.create_api_key(
        session,
        organisation_code=actors.org_a,
        name="kobo-audit",
        role=Role.coordinator,
        permissions=["hazard-reports:write"],
    )
    r = client.post(
        "/api/v1/integrations/kobo", json=_kobo(marker), headers={"X-API-Key": key}
    )
    assert r.status_code == 201, r.text
    kobo_id = r.json()["id"]

    # an accident, a victim with personal data, then both changed
    r = client.post(
        "/api/v1/accidents",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [36.2113, 49.0871]},
            "properties": {
                "organisation": actors.org_a,
                "occurred_on": "2024-06-14",
                "accident_class": "mine_erw_accident",
                "device_category": "av_mine",
                "killed": 1,
                "injured": 1,
            },
        },
        headers=coordinator,
    )
    assert r.status_code == 201, r.text
    accident_id = r.json()["id"]
    r = client.post(
        f"/api/v1/accidents/{accident_id}/victims",
        json={
            "sex": "male",
            "age": 47,
            "role": "civilian",
            "outcome": "injured",
            "activity_at_time": f"{marker}-activity",
            "personal": _personal(marker, "first", "1977-03-02"),
        },
        headers=coordinator,
    )
    assert r.status_code == 201, r.text
    victim_id = r.json()["id"]
    r = client.patch(
        f"/api/v1/accidents/{accident_id}/victims/{victim_id}",
        json={
            "outcome": "killed",
            "activity_at_time": f"{marker}-activity-corrected",
            "personal": _personal(marker, "second", "1977-03-02"),
        },
        headers={**coordinator, "If-Match": r.headers["ETag"]},
    )
    assert r.status_code == 200, r.text

    # the whole table, every column, as JSON text: no marker anywhere
    logged = _audit_text(session)
    assert marker not in logged
    # the writes are there, their personal values as "(changed)"
    reports = {
        e["after"]["id"]: e["after"]
        for e in _entries(session, "hazard_reports")
        if e["action"] == "insert"
    }
    assert reports[report_id]["raw_submission"] == CHANGED
    assert reports[kobo_id]["raw_submission"] == CHANGED
    assert any(
        e["action"] == "update" and e["after"].get("raw_submission") == CHANGED
        for e in _entries(session, "hazard_reports")
    )
    contacts = [e["after"] for e in _entries(session, "hazard_report_contacts")]
    assert len(contacts) >= 5  # 2 on POST, 2 on the re-send, 1 from Kobo
    for contact in contacts:
        assert {contact[c] for c in ("name", "phone", "role")} == {CHANGED}
        assert contact["report_id"] in (report_id, kobo_id)  # the key stays
    people = _entries(session, "victim_personal_data")
    assert people[0]["action"] == "insert"
    assert people[0]["after"]["name"] == people[0]["after"]["phone"] == CHANGED
    for e in people:
        for values in (e["before"] or {}, e["after"] or {}):
            assert {v for k, v in values.items() if k != "victim_id"} <= {CHANGED}
    victims = _entries(session, "victims")
    inserted = next(e["after"] for e in victims if e["action"] == "insert")
    for column in ("sex", "age", "role", "outcome", "activity_at_time"):
        assert inserted[column] == CHANGED, column
    assert inserted["age_band"] == "adult"  # the band a reader without restricted sees
    changed = next(e for e in victims if e["action"] == "update")
    assert changed["before"]["outcome"] == changed["after"]["outcome"] == CHANGED
    # exact dates of birth and ages are not in the log either
    assert "1977-03-02" not in logged and '"age": 47' not in logged


def test_every_declared_personal_column_exists_and_is_audited():
    """A renamed column would silently be copied again: the declaration names real ones."""
    tables = Base.metadata.tables
    for table, columns in audit.PERSONAL.items():
        assert table in audit.AUDITED and table in tables, table
        if columns is audit.EVERY_COLUMN:
            continue
        assert columns <= set(tables[table].columns.keys()), table
    # the informants' and victims' tables are personal whole, but for their keys
    for table in ("hazard_report_contacts", "victim_personal_data"):
        for column in tables[table].columns:
            assert audit.is_personal(table, column.name, column.primary_key) is not (
                column.primary_key
            ), (table, column.name)


def test_the_migration_holds_the_same_declaration():
    """Migration 0017 carries a copy (migrations never import the application)."""
    migration = _migration()
    declared = {
        table: (None if columns is audit.EVERY_COLUMN else set(columns))
        for table, columns in audit.PERSONAL.items()
    }
    copied = {
        table: (None if spec is None else set(spec))
        for table, spec in migration.PERSONAL.items()
    }
    assert copied == declared


@pytest.mark.slow
def test_migration_0017_redacts_rows_written_before():
    """A database at 0016 holding an audit row with an informant in clear: after the
    upgrade the values read "(changed)", the rest of the row is kept, and the log is
    append-only again."""
    marker = "pdm" + uuid.uuid4().hex
    raw = {"informant/informant_name": f"{marker}-name", "_id": 1}
    with throwaway_database("sg_audit_pd") as url:
        migrate.upgrade(url, "0016")
        engine = create_engine(Settings(database_url=url).database_url)
        try:
            with Session(engine) as s:
                rows = [
                    # what the old listener wrote for a report
                    (
                        "hazard_reports",
                        "insert",
                        None,
                        {"id": "r1", "source": "kobo", "raw_submission": raw},
                    ),
                    (
                        "hazard_reports",
                        "update",
                        {"raw_submission": raw, "description": "old text"},
                        {"raw_submission": {"_id": 2}, "description": "new text"},
                    ),
                    # contacts and victims' data were already "(changed)", but a value
                    # in clear there is redacted too (a row of an older version)
                    (
                        "hazard_report_contacts",
                        "insert",
                        None,
                        {"report_id": "r1", "seq": 1, "phone": f"{marker}-phone"},
                    ),
                    (
                        "victims",
                        "insert",
                        None,
                        {"id": "v1", "age": 47, "sex": "male", "age_band": "adult"},
                    ),
                    (
                        "victims",
                        "update",
                        {"outcome": "injured", "age": None},
                        {"outcome": "killed", "age": None},
                    ),
                    # other tables are untouched
                    ("hazards", "insert", None, {"name": f"{marker}-hazard"}),
                ]
                for entity, action, before, after in rows:
                    s.execute(
                        text(
                            "INSERT INTO audit_log (actor, entity, entity_id, action, "
                            "before, after) VALUES ('tester', :e, 'x', :a, "
                            "CAST(:b AS jsonb), CAST(:f AS jsonb))"
                        ),
                        {
                            "e": entity,
                            "a": action,
                            "b": json.dumps(before) if before is not None else None,
                            "f": json.dumps(after) if after is not None else None,
                        },
                    )
                s.commit()
            migrate.upgrade(url, "0017")
            with engine.connect() as conn:
                got = {
                    (r.entity, r.action): (r.before, r.after, r.actor)
                    for r in conn.execute(
                        text(
                            "SELECT entity, action, before, after, actor FROM audit_log "
                            "WHERE actor = 'tester'"
                        )
                    )
                }
                everything = "\n".join(
                    r[0]
                    for r in conn.execute(
                        text(
                            "SELECT row_to_json(a)::text FROM audit_log a "
                            "WHERE entity <> 'hazards'"
                        )
                    )
                )
                noted = conn.execute(
                    text(
                        "SELECT after FROM audit_log WHERE actor = 'migration 0017' "
                        "AND action = 'personal_data_redacted'"
                    )
                ).scalar_one()
                # the trigger is back: the log is append-only again
                trigger = conn.execute(
                    text(
                        "SELECT tgenabled FROM pg_trigger "
                        "WHERE tgname = 'audit_log_append_only'"
                    )
                ).scalar_one()
            assert marker not in everything
            assert got[("hazard_reports", "insert")][1] == {
                "id": "r1",
                "source": "kobo",
                "raw_submission": CHANGED,
            }
            before, after, actor = got[("hazard_reports", "update")]
            assert before == {"raw_submission": CHANGED, "description": "old text"}
            assert after == {"raw_submission": CHANGED, "description": "new text"}
            assert actor == "tester"
            assert got[("hazard_report_contacts", "insert")][1] == {
                "report_id": "r1",
                "seq": 1,
                "phone": CHANGED,
            }
            assert got[("victims", "insert")][1] == {
                "id": "v1",
                "age": CHANGED,
                "sex": CHANGED,
                "age_band": "adult",
            }
            before, after, _ = got[("victims", "update")]
            assert before == {"outcome": CHANGED, "age": None}  # null stays null
            assert after == {"outcome": CHANGED, "age": None}
            assert got[("hazards", "insert")][1] == {"name": f"{marker}-hazard"}
            assert noted["rows"] == 5
            assert trigger == "O"  # enabled
            with engine.connect() as conn:
                refused = None
                try:
                    conn.execute(text("UPDATE audit_log SET actor = 'x'"))
                except Exception as exc:  # noqa: BLE001 (the database's refusal)
                    refused = str(exc)
                assert refused and "append-only" in refused
            # down and up again: the redaction is not undone (nothing to restore)
            migrate.downgrade(url, "0016")
            migrate.upgrade(url, "0017")
        finally:
            engine.dispose()

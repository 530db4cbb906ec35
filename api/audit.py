"""Auditing writes: who, when, from which client, and what changed (before and after).

A session listener turns every insert, update and delete of an audited model into a row of
``audit_log`` in the same transaction (so a rolled-back write leaves no audit row, and a
committed one always has its row). Who and from where come from ``session.info["audit"]``,
set by the request's principal dependency, the import worker and the CLI. Secrets are never
copied (password and key hashes); personal data (``PERSONAL``: informants' contacts, hazard
reports' raw submissions, victims' personal data and attributes) is recorded as "changed"
without its values; geometries as "changed" (their versions are kept by the records' own
history). Migration 0017 redacted the rows written before ``PERSONAL`` covered all of it.

Set-based writes of hazards (imports' COPY, with their own versions), context layers and
admin areas are audited by their import job row (who, file, counts), which the listener
records like any other write; EO finds written with COPY get their rows from ``inserted``,
the same rows as an ORM insert.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Table, event, insert, inspect
from sqlalchemy.orm import Session

from api.db.models.audit import AuditEntry

# tables whose writes are audited; derived tables (states, figures, scores) and logs are not
AUDITED = {
    "organisations", "users", "api_keys", "admin_areas", "hazards", "activities",
    "activity_hazards", "release_polygons", "eo_finds", "imports", "hazard_reports",
    "hazard_report_contacts", "accidents", "victims", "victim_personal_data",
    "priority_models", "priority_overrides", "priority_flags",
    "eore_sessions", "eore_session_beneficiaries", "eore_session_hazards",
    "eore_session_accidents",
}  # fmt: skip
SECRET_COLUMNS = {"password_hash", "key_hash", "token_version"}
EVERY_COLUMN = frozenset({"*"})  # every column but the row's primary key
# Personal data, per table: the columns whose values are never copied (written "(changed)").
# The one list the audit reads; migration 0017 holds a copy for the rows written before it.
# Tables of people (informants, victims' identities) are personal whole, so a column added
# to them later is covered without a change here. Not personal: free-text notes of
# accidents and EORE sessions (their schemas forbid names there), users' names (accounts;
# users have no e-mail), accident and session locations (geometries are never copied).
PERSONAL: dict[str, frozenset[str]] = {
    "hazard_report_contacts": EVERY_COLUMN,  # informants: name, phone, e-mail, role...
    "victim_personal_data": EVERY_COLUMN,  # name, date of birth, address, phone, e-mail
    # the form as sent, informant and all
    "hazard_reports": frozenset({"raw_submission"}),
    # every victim field but counts is personal (domain.md 1.8); the age band is kept,
    # it is what a reader without restricted:read may see
    "victims": frozenset({"sex", "age", "role", "outcome", "activity_at_time"}),
}
CHANGED = "(changed)"


def actor(session: Session, **who: Any) -> None:
    """Say who is writing through ``session`` (``name``, ``user_id``, ``api_key_id``,
    ``client``, ``request``)."""
    session.info["audit"] = {**session.info.get("audit", {}), **who}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, WKBElement):
        return CHANGED
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(
        value, "compile"
    ):  # a SQL expression such as func.now(): set by the server
        return "(set by the database)"
    return str(value)


def is_personal(table: str, column: str, primary_key: bool = False) -> bool:
    """Whether ``table.column`` holds personal data (``PERSONAL``): never copied."""
    declared = PERSONAL.get(table, frozenset())
    return column in declared or (declared is EVERY_COLUMN and not primary_key)


def _value(table: str, column: Any, value: Any) -> Any:
    if column.name in SECRET_COLUMNS:
        return None
    if value is not None and (
        is_personal(table, column.name, column.primary_key)
        or isinstance(column.type, Geometry)
    ):
        return CHANGED
    return _jsonable(value)


def _row(obj: Any, action: str) -> dict[str, Any] | None:
    table = obj.__table__.name
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        column = attr.columns[0]
        if column.name in SECRET_COLUMNS and action != "delete":
            continue
        history = state.attrs[key].history
        if action == "insert":
            value = getattr(obj, key, None)
            if value is not None:
                after[column.name] = _value(table, column, value)
        elif action == "delete":
            before[column.name] = _value(table, column, state.attrs[key].loaded_value)
        elif history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if _jsonable(old) == _jsonable(new):
                continue
            before[column.name] = _value(table, column, old)
            after[column.name] = _value(table, column, new)
    if action == "update" and not after:
        return None
    # an inserted row's identity is not registered yet in after_flush: read its key values
    pk = state.identity or state.mapper.primary_key_from_instance(obj)
    if pk and all(v is None for v in pk):
        pk = None
    return {
        "entity": table,
        "entity_id": ",".join(str(v) for v in pk) if pk else None,
        "action": action,
        "before": before or None,
        "after": after or None,
    }


@event.listens_for(Session, "after_flush")
def _audit(session: Session, flush_context: Any) -> None:
    rows = []
    for objs, action in (
        (session.new, "insert"),
        (session.dirty, "update"),
        (session.deleted, "delete"),
    ):
        for obj in objs:
            table = getattr(getattr(obj, "__table__", None), "name", None)
            if table not in AUDITED:
                continue
            if action == "update" and not session.is_modified(
                obj, include_collections=False
            ):
                continue
            row = _row(obj, action)
            if row is not None:
                rows.append(row)
    _write(session, rows)


def inserted(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Audit rows written set-based (COPY) into an audited ``table``: each gets the row an
    ORM insert of the same values gets (values by column, under the same rules: secrets
    left out, personal data and geometries as "changed"), in one statement."""
    if table.name not in AUDITED:
        raise ValueError(f"{table.name} is not audited")
    (pk,) = table.primary_key.columns
    entries = [
        {
            "entity": table.name,
            "entity_id": str(row[pk.name]),
            "action": "insert",
            "before": None,
            "after": {
                column.name: _value(table.name, column, row[column.name])
                for column in table.columns
                if row.get(column.name) is not None
                and column.name not in SECRET_COLUMNS
            }
            or None,
        }
        for row in rows
    ]
    _write(session, entries)


def _write(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    who = session.info.get("audit", {})
    for row in rows:
        row.update(
            actor=who.get("name") or "system",
            actor_user_id=who.get("user_id"),
            api_key_id=who.get("api_key_id"),
            client=who.get("client"),
            request=who.get("request"),
        )
    session.connection().execute(insert(AuditEntry), rows)

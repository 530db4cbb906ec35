"""Reading the audit log: every write, newest first (admins only).

The log itself is written by ``api/audit.py`` and is append-only (the database refuses
updates and deletes); this module only reads it.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api import paging
from api.db.models import AuditEntry
from api.errors import Forbidden
from api.services.auth import Principal, require_reader
from api.vocab import Role


@dataclass(frozen=True)
class AuditQuery:
    """The filters of ``GET /audit``; every member but the page is optional."""

    entity: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    since: date | None = None
    until: date | None = None
    limit: int = 100
    offset: int = 0
    after: str | None = None  # a cursor from a next link (api/paging.py)


ORDER = paging.Keyset("audit", (paging.Key("audit_log.id", "id", "int", desc=True),))


def _entry(e: AuditEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.at.isoformat(),
        "actor": e.actor,
        "actor_user_id": str(e.actor_user_id) if e.actor_user_id else None,
        "api_key_id": str(e.api_key_id) if e.api_key_id else None,
        "client": e.client,
        "request": e.request,
        "entity": e.entity,
        "entity_id": e.entity_id,
        "action": e.action,
        "before": e.before,
        "after": e.after,
    }


def entries(
    session: Session, *, principal: Principal | None, query: AuditQuery
) -> paging.PageItems:
    """A page of the audit log, newest first, for admins (403 for anyone else)."""
    principal = require_reader(principal)
    if principal.role != Role.admin:
        raise Forbidden("the audit log is for admins")
    window = ORDER.window(after=query.after, limit=query.limit, offset=query.offset)
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(query.limit + 1)
    condition, bound = ORDER.condition(window.after)
    if condition:
        stmt = stmt.where(text(condition).bindparams(**bound))
    elif query.offset:
        stmt = stmt.offset(query.offset)
    for column, value in (
        (AuditEntry.entity, query.entity),
        (AuditEntry.entity_id, query.entity_id),
        (AuditEntry.actor, query.actor),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if query.since is not None:
        stmt = stmt.where(AuditEntry.at >= query.since)
    if query.until is not None:
        stmt = stmt.where(AuditEntry.at < query.until + timedelta(days=1))
    rows = list(session.scalars(stmt))
    return window.items([_entry(e) for e in rows], [{"id": e.id} for e in rows])

"""The audit log (admins only)."""

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from api.db.models import AuditEntry
from api.deps import PrincipalDep, SessionDep
from api.errors import Forbidden, problem_responses
from api.responses import JSONOut
from api.schemas.system import AuditLog
from api.services.auth import require_reader
from api.vocab import Role

router = APIRouter(tags=["audit"])


@router.get(
    "/audit",
    response_model=AuditLog,
    summary="Every write: who, when, from where, what changed (admins)",
    responses=problem_responses(401, 403),
)
def audit_log(
    session: SessionDep,
    principal: PrincipalDep,
    entity: Annotated[str | None, Query(description="table, e.g. hazards")] = None,
    entity_id: str | None = None,
    actor: Annotated[
        str | None, Query(description="user name, api-key:NAME, cli:...")
    ] = None,
    since: Annotated[date | None, Query(alias="from")] = None,
    until: Annotated[date | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
):
    """Newest first; the log is append-only (the database refuses updates and deletes)."""
    principal = require_reader(principal)
    if principal.role != Role.admin:
        raise Forbidden("the audit log is for admins")
    query = (
        select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    )
    for column, value in (
        (AuditEntry.entity, entity),
        (AuditEntry.entity_id, entity_id),
        (AuditEntry.actor, actor),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until + timedelta(days=1))
    return JSONOut(
        {
            "items": [
                {
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
                for e in session.scalars(query)
            ]
        }
    )

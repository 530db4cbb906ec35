"""The audit log (admins only)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import PrincipalDep, SessionDep
from api.errors import problem_responses
from api.responses import JSONOut, page_links
from api.schemas.system import AuditLog
from api.services import audit_log as audit_log_service
from api.services.audit_log import AuditQuery

router = APIRouter(tags=["audit"])


@router.get(
    "/audit",
    response_model=AuditLog,
    summary="Every write: who, when, from where, what changed (admins)",
    responses=problem_responses(401, 403),
)
def audit_log(
    request: Request,
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
    cursor: Annotated[
        str | None, Query(description="the opaque value of a next link")
    ] = None,
):
    """Newest first; the log is append-only (the database refuses updates and deletes).
    The ``next`` link (while more remain) carries a cursor."""
    items = audit_log_service.entries(
        session,
        principal=principal,
        query=AuditQuery(
            entity=entity,
            entity_id=entity_id,
            actor=actor,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
            after=cursor,
        ),
    )
    links = page_links(request, items, limit=limit, offset=offset)
    return JSONOut({"items": items, "links": links})

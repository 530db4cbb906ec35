"""Liveness and readiness."""

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.errors import ServiceUnavailable, problem_responses
from api.responses import JSONOut
from api.schemas.system import Health

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=Health,
    response_class=JSONOut,
    responses=problem_responses(503),
    summary="Health of the service and its database",
)
def health(request: Request):
    """``{"status": "ok", "database": "ok", "postgis": version}``; 503 while the DB is down."""
    try:
        with request.app.state.engine.connect() as conn:
            version = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    except DBAPIError as exc:
        raise ServiceUnavailable(
            "the database cannot be reached",
            database="unreachable",
            headers={"Retry-After": "5"},
        ) from exc
    return JSONOut({"status": "ok", "database": "ok", "postgis": version})

"""How the routers of versioned records answer: one shape for every read and write.

A record read or written is answered with its body, the ``warnings`` the intake produced
(only when there are any, in the language of ``Accept-Language`` or ``lang`` as problems and
import reports are) and its ETag (``api/services/versioned.py``); a retired record
with 204 and no body. Hazards, activities, accidents, victims, EORE sessions and hazard
reports all answer so.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Response
from sqlalchemy.orm import Session

from api.deps import IfMatchDep, LanguageDep, PrincipalDep, SessionDep
from api.errors import problem_responses
from api.messages import DEFAULT_LANGUAGE, translate_all
from api.responses import GeoJSONOut, JSONOut
from api.services.auth import Principal
from api.services.versioned import etag

# what the item routes of a versioned record may answer besides success
READ_PROBLEMS = problem_responses(401, 404, 422)
CHANGE_PROBLEMS = problem_responses(401, 403, 404, 412, 422, 428)
RETIRE_PROBLEMS = problem_responses(401, 403, 404, 412, 428)


@dataclass(frozen=True)
class Change:
    """What every change of a versioned record needs: the session, the caller, If-Match,
    and the language its warnings are answered in."""

    session: Session
    principal: Principal | None
    if_match: str | None
    language: str = DEFAULT_LANGUAGE


def get_change(
    session: SessionDep,
    principal: PrincipalDep,
    language: LanguageDep,
    if_match: IfMatchDep = None,
) -> Change:
    """The session, the caller, the ``If-Match`` header and the language of a change."""
    return Change(session, principal, if_match, language)


ChangeDep = Annotated[Change, Depends(get_change)]


def versioned(
    body: dict[str, Any],
    *,
    status: int = 200,
    warnings: list[str] | None = None,
    version: int | None = None,
    out: type[JSONOut] = GeoJSONOut,
    language: str = DEFAULT_LANGUAGE,
) -> JSONOut:
    """``body`` with ``warnings`` (when any, in ``language``) and the ETag of ``version``.

    ``version`` defaults to the body's own: ``properties.version`` of a Feature, else
    ``version``.
    """
    if warnings:
        body["warnings"] = translate_all(warnings, language)
    if version is None:
        version = body.get("properties", body)["version"]
    return out(body, status_code=status, headers={"ETag": etag(version)})


def retired() -> Response:
    """The answer to a retirement: 204, no body."""
    return Response(status_code=204)

"""Land-release activities with their release polygons."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from sqlalchemy.orm import Session

from api.deps import (
    LanguageDep,
    PageDep,
    PrincipalDep,
    ReaderDep,
    SessionDep,
    SettingsDep,
)
from api.errors import problem_responses
from api.responses import JSONOut, page_links
from api.routers.versioned import (
    CHANGE_PROBLEMS,
    RETIRE_PROBLEMS,
    ChangeDep,
    retired,
    versioned,
)
from api.schemas.activities import (
    ACTIVITY_EXAMPLE,
    ActivityCreate,
    ActivityList,
    ActivityOut,
    ActivityPatch,
)
from api.services import activities
from api.vocab import ActivityStatus, ActivityType

router = APIRouter(prefix="/activities", tags=["activities"])


def _written(
    session: Session,
    result: activities.ActivityWriteResult,
    status: int,
    language: str,
) -> JSONOut:
    return versioned(
        activities.get_activity(session, result.id),
        status=status,
        warnings=result.warnings,
        version=result.version,
        out=JSONOut,
        language=language,
    )


@router.post(
    "",
    status_code=201,
    response_model=ActivityOut,
    response_class=JSONOut,
    responses={
        200: {
            "description": "the activity with this external_id was replaced",
            "model": ActivityOut,
        },
        **problem_responses(401, 403, 409, 422),
    },
)
def create_activity(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    language: LanguageDep,
    body: Annotated[
        ActivityCreate,
        Body(
            openapi_examples={
                "clearance": {
                    "summary": "A clearance task with two releases",
                    "value": ACTIVITY_EXAMPLE,
                }
            }
        ),
    ],
):
    """Record an activity and the land it cancelled, reduced or cleared.

    The hazards' figures and derived status are updated at once. Sending the same
    ``external_id`` again replaces the activity (200); the previous releases stay in the
    database as retired.
    """
    result = activities.create_activity(
        session, body=body, principal=principal, settings=settings
    )
    return _written(session, result, 201 if result.created else 200, language)


@router.get(
    "",
    response_model=ActivityList,
    response_class=JSONOut,
    responses=problem_responses(400, 401, 422),
)
def list_activities(
    request: Request,
    session: SessionDep,
    principal: ReaderDep,
    page: PageDep,
    organisation: Annotated[str | None, Query(description="organisation code")] = None,
    activity_type: ActivityType | None = None,
    status: ActivityStatus | None = None,
    hazard: Annotated[uuid.UUID | None, Query(description="linked hazard id")] = None,
    updated_since: datetime | None = None,
):
    """Activities with their releases, most recent start first."""
    items, matched = activities.search(
        session,
        filters={
            "organisation": organisation,
            "activity_type": activity_type.value if activity_type else None,
            "status": status.value if status else None,
            "hazard": str(hazard) if hazard else None,
            "updated_since": updated_since,
        },
        limit=page.limit,
        offset=page.offset,
        after=page.cursor,
    )
    return JSONOut(
        {
            "activities": items,
            "numberMatched": matched,
            "numberReturned": len(items),
            "links": page_links(
                request, items, limit=page.limit, offset=page.offset, matched=matched
            ),
        }
    )


@router.get(
    "/{activity_id}",
    response_model=ActivityOut,
    response_class=JSONOut,
    responses=problem_responses(401, 404),
)
def get_activity(activity_id: uuid.UUID, session: SessionDep, principal: ReaderDep):
    """One activity with its releases."""
    return versioned(activities.get_activity(session, activity_id), out=JSONOut)


@router.patch(
    "/{activity_id}",
    response_model=ActivityOut,
    response_class=JSONOut,
    responses=CHANGE_PROBLEMS,
)
def update_activity(
    activity_id: uuid.UUID,
    change: ChangeDep,
    settings: SettingsDep,
    body: Annotated[
        ActivityPatch,
        Body(
            openapi_examples={
                "complete": {
                    "summary": "Mark the task completed",
                    "value": {"status": "completed", "end_date": "2024-06-20"},
                }
            }
        ),
    ],
):
    """Change an activity (If-Match required); sent ``releases`` replace the earlier ones."""
    result = activities.update_activity(
        change.session,
        activity_id=activity_id,
        body=body,
        principal=change.principal,
        settings=settings,
        if_match=change.if_match,
    )
    return _written(change.session, result, 200, change.language)


@router.delete(
    "/{activity_id}",
    status_code=204,
    responses=RETIRE_PROBLEMS,
)
def retire_activity(activity_id: uuid.UUID, change: ChangeDep):
    """Retire an activity recorded in error; its releases stop counting."""
    activities.retire_activity(
        change.session,
        activity_id=activity_id,
        principal=change.principal,
        if_match=change.if_match,
    )
    return retired()

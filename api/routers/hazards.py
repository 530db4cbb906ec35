"""Hazard areas: create, list, read, change (as new versions), retire, history, remaining."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from sqlalchemy.orm import Session

from api.deps import (
    AsOfDep,
    BBoxDep,
    LanguageDep,
    PageDep,
    PrincipalDep,
    ReaderDep,
    SessionDep,
    SettingsDep,
)
from api.errors import problem_responses
from api.responses import GeoJSONOut, JSONOut, feature_collection
from api.routers.versioned import (
    CHANGE_PROBLEMS,
    READ_PROBLEMS,
    RETIRE_PROBLEMS,
    ChangeDep,
    retired,
    versioned,
)
from api.schemas.hazards import (
    HAZARD_EXAMPLE,
    HAZARD_PATCH_EXAMPLES,
    HazardAsOfFeatureOut,
    HazardCollection,
    HazardFeatureCreate,
    HazardFeatureOut,
    HazardFeaturePatch,
    HazardHistory,
    RemainingFeature,
)
from api.services import hazard_queries, hazards
from api.vocab import Classification, HazardStatus, HazardType

router = APIRouter(prefix="/hazards", tags=["hazards"])


def _written(
    session: Session, result: hazards.WriteResult, status: int, language: str
) -> JSONOut:
    return versioned(
        hazard_queries.get_feature(session, result.id),
        status=status,
        warnings=result.warnings,
        version=result.version,
        language=language,
    )


@router.post(
    "",
    status_code=201,
    response_model=HazardFeatureOut,
    response_class=GeoJSONOut,
    responses={
        200: {
            "description": "an existing record with this external_id was updated",
            "model": HazardFeatureOut,
        },
        **problem_responses(401, 403, 409, 412, 422),
    },
)
def create_hazard(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    language: LanguageDep,
    feature: Annotated[
        HazardFeatureCreate,
        Body(
            openapi_examples={
                "minefield": {
                    "summary": "A suspected minefield",
                    "value": HAZARD_EXAMPLE,
                }
            }
        ),
    ],
):
    """Create a hazard area from a GeoJSON Feature.

    The geometry passes the intake rules (see the README): invalid geometries are repaired
    where they can be, and ``warnings`` says what was changed. It then meets the import
    gate's rules: outside the programme's country (touching none of its top-level admin
    areas) it is refused with a 422 whose ``correction`` and ``corrected_geometry`` say where
    a latitude/longitude swap or a sign flip would put it; slivers, vertex jumps and possible
    duplicates of other hazards come back in ``warnings``. Sending a Feature whose
    ``external_id`` the organisation already used records a new version of that hazard
    (200) instead of a duplicate.
    """
    result = hazards.create_hazard(
        session, feature=feature, principal=principal, settings=settings
    )
    return _written(session, result, 201 if result.created else 200, language)


@router.get(
    "",
    response_model=HazardCollection,
    response_class=GeoJSONOut,
    responses=problem_responses(400, 401, 422),
)
def list_hazards(
    request: Request,
    session: SessionDep,
    principal: ReaderDep,
    page: PageDep,
    bbox: BBoxDep,
    as_of: AsOfDep = None,
    classification: Classification | None = None,
    status: HazardStatus | None = None,
    hazard_type: HazardType | None = None,
    organisation: Annotated[str | None, Query(description="organisation code")] = None,
    admin: Annotated[
        str | None, Query(description="P-code of an area, any level")
    ] = None,
    updated_since: Annotated[
        datetime | None, Query(description="ISO 8601 timestamp")
    ] = None,
):
    """Hazard areas as a FeatureCollection, newest information first, with paging links."""
    filters = hazard_queries.HazardFilters(
        bbox=bbox,
        classification=classification.value if classification else None,
        status=status.value if status else None,
        hazard_type=hazard_type.value if hazard_type else None,
        organisation=organisation,
        admin=admin,
        updated_since=updated_since,
    )
    features, matched = hazard_queries.search(
        session,
        filters,
        limit=page.limit,
        offset=page.offset,
        as_of=as_of,
        after=page.cursor,
    )
    extra = {"as_of": as_of} if as_of else {}
    return GeoJSONOut(
        feature_collection(
            request,
            features,
            matched=matched,
            limit=page.limit,
            offset=page.offset,
            **extra,
        )
    )


@router.get(
    "/{hazard_id}",
    response_model=HazardFeatureOut | HazardAsOfFeatureOut,
    response_class=GeoJSONOut,
    responses=READ_PROBLEMS,
)
def get_hazard(
    hazard_id: uuid.UUID,
    session: SessionDep,
    principal: ReaderDep,
    as_of: AsOfDep = None,
):
    """One hazard with its ``land_release`` figures; ``as_of`` gives what was known then."""
    feature = hazard_queries.get_feature(session, hazard_id, as_of)
    if as_of:  # what was known then is no version one could change
        return GeoJSONOut(feature)
    return versioned(feature)


@router.patch(
    "/{hazard_id}",
    response_model=HazardFeatureOut,
    response_class=GeoJSONOut,
    responses=CHANGE_PROBLEMS,
)
def update_hazard(
    hazard_id: uuid.UUID,
    change: ChangeDep,
    settings: SettingsDep,
    patch: Annotated[HazardFeaturePatch, Body(openapi_examples=HAZARD_PATCH_EXAMPLES)],
):
    """Record a new version from a partial Feature (``geometry`` and/or ``properties``).

    Requires ``If-Match`` with the ETag read (412 when someone changed the hazard since).
    A report whose ``date_of_information`` is older than the current one is kept in history
    but does not overwrite newer facts; ``warnings`` names the fields it did not change.
    """
    result = hazards.update_hazard(
        change.session,
        hazard_id=hazard_id,
        patch=patch,
        principal=change.principal,
        settings=settings,
        if_match=change.if_match,
    )
    return _written(change.session, result, 200, change.language)


@router.delete(
    "/{hazard_id}",
    status_code=204,
    responses=RETIRE_PROBLEMS,
)
def retire_hazard(
    hazard_id: uuid.UUID,
    change: ChangeDep,
    reason: Annotated[str | None, Query(max_length=500, examples=["duplicate"])] = None,
):
    """Retire a hazard recorded in error or twice. Nothing is deleted: history keeps it."""
    hazards.retire_hazard(
        change.session,
        hazard_id=hazard_id,
        principal=change.principal,
        if_match=change.if_match,
        reason=reason,
    )
    return retired()


@router.get(
    "/{hazard_id}/history",
    response_model=HazardHistory,
    response_class=JSONOut,
    responses=problem_responses(401, 404, 422),
)
def hazard_history(hazard_id: uuid.UUID, session: SessionDep, principal: ReaderDep):
    """Every version: date of information, author, what it stated and what it changed."""
    return JSONOut(hazard_queries.history(session, hazard_id))


@router.get(
    "/{hazard_id}/remaining",
    response_model=RemainingFeature,
    response_class=GeoJSONOut,
    responses=problem_responses(401, 404, 422),
)
def hazard_remaining(
    hazard_id: uuid.UUID,
    session: SessionDep,
    principal: ReaderDep,
    as_of: AsOfDep = None,
):
    """The part of the hazard still hazardous (hazard minus its released land)."""
    return GeoJSONOut(hazard_queries.remaining_feature(session, hazard_id, as_of))

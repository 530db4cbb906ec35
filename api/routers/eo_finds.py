"""Explosive-ordnance finds."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request

from api.deps import (
    BBoxDep,
    LanguageDep,
    PageDep,
    PrincipalDep,
    ReaderDep,
    SessionDep,
)
from api.errors import problem_responses
from api.messages import translate_all
from api.responses import GeoJSONOut, feature_collection
from api.schemas.eo_finds import (
    EO_FIND_EXAMPLE,
    EOFindCollection,
    EOFindFeature,
    EOFindFeatureOut,
)
from api.services import eo_finds
from api.services.auth import require_reader
from api.vocab import Contamination

router = APIRouter(prefix="/eo-finds", tags=["eo finds"])


@router.post(
    "",
    status_code=201,
    response_model=EOFindFeatureOut,
    response_class=GeoJSONOut,
    responses={
        200: {
            "description": "the find with this external_id was updated",
            "model": EOFindFeatureOut,
        },
        **problem_responses(401, 403, 409, 422),
    },
)
def create_eo_find(
    session: SessionDep,
    principal: PrincipalDep,
    language: LanguageDep,
    feature: Annotated[
        EOFindFeature,
        Body(
            openapi_examples={
                "pmn2": {
                    "summary": "An anti-personnel mine found armed",
                    "value": EO_FIND_EXAMPLE,
                }
            }
        ),
    ],
):
    """Record an item found, located where it was found (not where it was destroyed)."""
    find_id, created, warnings = eo_finds.create(
        session, feature=feature, principal=principal
    )
    body = eo_finds.get(session, principal=require_reader(principal), find_id=find_id)
    if warnings:
        body["warnings"] = translate_all(warnings, language)
    return GeoJSONOut(body, status_code=201 if created else 200)


@router.get(
    "",
    response_model=EOFindCollection,
    response_class=GeoJSONOut,
    responses=problem_responses(400, 401, 422),
)
def list_eo_finds(
    request: Request,
    session: SessionDep,
    principal: ReaderDep,
    page: PageDep,
    bbox: BBoxDep,
    organisation: Annotated[str | None, Query(description="organisation code")] = None,
    eo_category: Contamination | None = None,
    activity_id: uuid.UUID | None = None,
    hazard_id: uuid.UUID | None = None,
):
    """Finds as Point Features. Exact locations need the admin or coordinator role or
    ``restricted:read``; other callers get positions generalised to 0.01°."""
    features, matched = eo_finds.search(
        session,
        principal=principal,
        filters={
            "bbox": list(bbox) if bbox else None,
            "organisation": organisation,
            "eo_category": eo_category.value if eo_category else None,
            "activity_id": str(activity_id) if activity_id else None,
            "hazard_id": str(hazard_id) if hazard_id else None,
        },
        limit=page.limit,
        offset=page.offset,
        after=page.cursor,
    )
    return GeoJSONOut(
        feature_collection(
            request, features, matched=matched, limit=page.limit, offset=page.offset
        )
    )


@router.get(
    "/{find_id}",
    response_model=EOFindFeatureOut,
    response_class=GeoJSONOut,
    responses=problem_responses(401, 404),
)
def get_eo_find(find_id: uuid.UUID, session: SessionDep, principal: ReaderDep):
    """One find."""
    return GeoJSONOut(eo_finds.get(session, principal=principal, find_id=find_id))

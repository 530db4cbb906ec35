"""Risk-education (EORE) sessions, the planning view, and the community risk sheet."""

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api import csvout
from api.deps import (
    BBoxDep,
    LanguageDep,
    PageDep,
    PrincipalDep,
    ReaderDep,
    SessionDep,
    SettingsDep,
)
from api.errors import problem_responses
from api.responses import (
    GeoJSONOut,
    JSONOut,
    feature_collection,
    page_links,
)
from api.routers.versioned import (
    CHANGE_PROBLEMS,
    READ_PROBLEMS,
    RETIRE_PROBLEMS,
    ChangeDep,
    retired,
    versioned,
)
from api.schemas.eore import (
    EORE_SESSION_EXAMPLE,
    EORE_SESSION_PATCH_EXAMPLE,
    EORE_SESSION_WITHHELD_EXAMPLE,
    EorePlanning,
    EoreSessionCollection,
    EoreSessionFeature,
    EoreSessionFeatureOut,
    EoreSessionPatch,
)
from api.services import eore, eore_sheet
from api.services.auth import Principal, require_reader
from api.vocab import DEFAULT_LANGUAGE, EoreAudience, EoreDeliveryMethod

router = APIRouter(prefix="/eore-sessions", tags=["risk education"])

FromQuery = Annotated[
    date | None, Query(alias="from", description="sessions on or after this date")
]
ToQuery = Annotated[
    date | None, Query(alias="to", description="sessions on or before this date")
]


def _session_out(
    session: Session,
    principal: Principal | None,
    session_id: uuid.UUID,
    status: int,
    warnings: list[str] | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> JSONOut:
    feature = eore.get_session(
        session, principal=require_reader(principal), session_id=session_id
    )
    return versioned(feature, status=status, warnings=warnings, language=language)


@router.post(
    "",
    status_code=201,
    response_model=EoreSessionFeatureOut,
    response_class=GeoJSONOut,
    responses={
        200: {
            "description": "the session with this external_id was updated",
            "model": EoreSessionFeatureOut,
        },
        **problem_responses(401, 403, 409, 422),
    },
)
def create_eore_session(
    session: SessionDep,
    principal: PrincipalDep,
    language: LanguageDep,
    feature: Annotated[
        EoreSessionFeature,
        Body(
            openapi_examples={
                "school": {
                    "summary": "A school session, located by a point",
                    "value": EORE_SESSION_EXAMPLE,
                },
                "not_safe_to_record": {
                    "summary": "Not safe to record the location: its area only",
                    "value": EORE_SESSION_WITHHELD_EXAMPLE,
                },
            }
        ),
    ],
):
    """Record a risk-education session with its beneficiaries.

    EORE staff and coordinators record for their own organisation, admins for any. Send a
    Point, or, when it was not safe to record the location, ``geometry: null`` with
    ``location_safe_to_record: false`` and ``admin`` (a P-code): no point is stored then.
    ``beneficiaries`` lists people reached per sex × age band × disability cell; each cell
    once. Re-sending an ``external_id`` updates that session (200).
    """
    session_id, created, warnings = eore.create_session(
        session, feature=feature, principal=principal
    )
    return _session_out(
        session, principal, session_id, 201 if created else 200, warnings, language
    )


@router.get(
    "",
    response_model=EoreSessionCollection,
    response_class=GeoJSONOut,
    responses=problem_responses(400, 401, 422),
)
def list_eore_sessions(
    request: Request,
    session: SessionDep,
    principal: ReaderDep,
    page: PageDep,
    bbox: BBoxDep,
    organisation: Annotated[str | None, Query(description="organisation code")] = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    delivery_method: EoreDeliveryMethod | None = None,
    audience: EoreAudience | None = None,
    admin: Annotated[
        str | None,
        Query(description="P-code of an administrative area (any level)"),
    ] = None,
    hazard_id: Annotated[
        uuid.UUID | None, Query(description="sessions linked to this hazard")
    ] = None,
    settlement_id: Annotated[
        uuid.UUID | None, Query(description="sessions that reached this settlement")
    ] = None,
):
    """Risk-education sessions as Point Features, most recent first.

    Sessions whose location was not safe to record have ``geometry`` null and are matched
    by ``admin`` but never by ``bbox``.
    """
    features, matched = eore.search_sessions(
        session,
        principal=principal,
        filters=eore.SessionFilters(
            bbox=bbox,
            organisation=organisation,
            date_from=date_from,
            date_to=date_to,
            delivery_method=delivery_method.value if delivery_method else None,
            audience=audience.value if audience else None,
            admin=admin,
            hazard_id=hazard_id,
            settlement_id=settlement_id,
        ),
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
    "/planning",
    response_model=EorePlanning,
    response_class=JSONOut,
    responses={
        200: {
            "content": {
                "application/json": {},
                "text/csv": {"schema": {"type": "string"}},
            },
            "description": "settlements where risk education is due, largest first",
        },
        **problem_responses(400, 401, 422),
    },
)
def eore_planning(
    request: Request,
    session: SessionDep,
    principal: ReaderDep,
    page: PageDep,
    distance_m: Annotated[
        int,
        Query(
            ge=100,
            le=50_000,
            description="a settlement is exposed when an open hazard or a recent "
            "accident lies this close (metres, on the ellipsoid)",
        ),
    ] = 5000,
    accident_months: Annotated[
        int, Query(ge=1, le=120, description="accidents of the last N months count")
    ] = 12,
    eore_months: Annotated[
        int,
        Query(ge=1, le=120, description="sessions of the last M months reach it"),
    ] = 6,
    reach_m: Annotated[
        int,
        Query(
            ge=0,
            le=50_000,
            description="a session with a point this close reaches the settlement",
        ),
    ] = 2000,
    admin: Annotated[
        str | None, Query(description="only settlements in this area (P-code)")
    ] = None,
    min_population: Annotated[int | None, Query(ge=0)] = None,
    f: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
):
    """Settlements where risk education is due, ranked by exposed population.

    A settlement is listed when an open hazard (not closed or handed over) or an accident
    of the last ``accident_months`` lies within ``distance_m`` of it, and no session of the
    last ``eore_months`` reached it: none named it, none with a point lay within
    ``reach_m``, none whose location was not safe to record lay in an administrative area
    containing it, and none was linked to a hazard or accident that exposes it. Largest
    population first (unknown last). ``f=csv`` for a spreadsheet.

    Accident locations are restricted: callers who may not see them exactly (without the
    admin or coordinator role or ``restricted:read``) get ``nearest_accident_band`` but no
    ``nearest_accident_m``, and every accident figure is computed from the accident's point
    snapped to the 0.01° grid, as ``/accidents`` shows it to them.
    """
    rows, matched, applied = eore.planning(
        session,
        principal=principal,
        params=eore.PlanningParameters(
            distance_m=distance_m,
            accident_months=accident_months,
            eore_months=eore_months,
            reach_m=reach_m,
            admin=admin,
            min_population=min_population,
        ),
        limit=page.limit,
        offset=page.offset,
        after=page.cursor,
    )
    if f == "csv":
        columns = eore.PLANNING_COLUMNS
        return Response(
            csvout.to_text(columns, ([row[c] for c in columns] for row in rows)),
            media_type=csvout.MEDIA_TYPE,
            headers={
                "Content-Disposition": 'attachment; filename="eore-planning.csv"',
                "X-Total-Count": str(matched),
            },
        )
    return JSONOut(
        {
            "parameters": applied,
            "items": rows,
            "numberMatched": matched,
            "numberReturned": len(rows),
            "links": page_links(
                request, rows, limit=page.limit, offset=page.offset, matched=matched
            ),
        }
    )


@router.get(
    "/community-sheet",
    response_class=HTMLResponse,
    responses={
        200: {
            "content": {"text/html": {"schema": {"type": "string"}}},
            "description": "a printable A4 page",
        },
        **problem_responses(401, 403, 404, 422),
    },
)
def community_sheet(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    language: LanguageDep,
    settlement: Annotated[
        uuid.UUID, Query(description="id of the settlement (context layer)")
    ],
    radius_m: Annotated[
        int,
        Query(
            ge=500,
            le=20_000,
            description="the map reaches this far from the settlement",
        ),
    ] = 3000,
):
    """A printable community risk sheet (one A4 page, HTML) for EORE staff to hand out.

    In the language asked for (``lang=uk`` or ``lang=en``, else Accept-Language): the key
    safety messages, the hotline, and a map of the dangerous areas around the settlement
    taken from the latest **public** publication only (never operational data); without a
    publication the sheet says that no public map has been published yet. No script and
    nothing loaded from elsewhere: print it from the browser.
    """
    html = eore_sheet.community_sheet(
        session,
        principal=principal,
        settlement_id=settlement,
        language=language,
        hotline=settings.public_hotline,
        radius_m=radius_m,
    )
    return HTMLResponse(html, headers={"Cache-Control": "private, no-store"})


@router.get(
    "/{session_id}",
    response_model=EoreSessionFeatureOut,
    response_class=GeoJSONOut,
    responses=READ_PROBLEMS,
)
def get_eore_session(session_id: uuid.UUID, session: SessionDep, principal: ReaderDep):
    """One session, with its ETag (``geometry`` null when not safe to record)."""
    return _session_out(session, principal, session_id, 200)


@router.patch(
    "/{session_id}",
    response_model=EoreSessionFeatureOut,
    response_class=GeoJSONOut,
    responses=CHANGE_PROBLEMS,
)
def update_eore_session(
    session_id: uuid.UUID,
    change: ChangeDep,
    patch: Annotated[
        EoreSessionPatch,
        Body(
            openapi_examples={
                "beneficiaries": {
                    "summary": "Correct the beneficiary counts",
                    "value": EORE_SESSION_PATCH_EXAMPLE,
                }
            }
        ),
    ],
):
    """Change a session: a partial Feature (``geometry`` and/or ``properties``).

    Requires ``If-Match`` with the ETag read (412 when it changed since). Lists
    (``beneficiaries``, ``hazard_ids``, ``accident_ids``, ``messages_covered``) are
    replaced. Setting ``location_safe_to_record`` to false removes the stored point.
    """
    warnings = eore.update_session(
        change.session,
        session_id=session_id,
        patch=patch,
        principal=change.principal,
        if_match=change.if_match,
    )
    return _session_out(
        change.session, change.principal, session_id, 200, warnings, change.language
    )


@router.delete(
    "/{session_id}",
    status_code=204,
    responses=RETIRE_PROBLEMS,
)
def retire_eore_session(session_id: uuid.UUID, change: ChangeDep):
    """Retire a session recorded in error or twice (needs ``If-Match``). Nothing is deleted."""
    eore.retire_session(
        change.session,
        session_id=session_id,
        principal=change.principal,
        if_match=change.if_match,
    )
    return retired()

"""Accidents, their victims, and casualty figures.

Victims' personal data is returned only to callers with ``restricted:read``, and only by
``GET /accidents/{id}/victims/{victim_id}``.
"""

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from sqlalchemy.orm import Session

from api.deps import (
    BBoxDep,
    LanguageDep,
    PageDep,
    PrincipalDep,
    ReaderDep,
    SessionDep,
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
from api.schemas.accidents import (
    ACCIDENT_EXAMPLE,
    ACCIDENT_PATCH_EXAMPLE,
    VICTIM_EXAMPLE,
    VICTIM_PATCH_EXAMPLE,
    AccidentCollection,
    AccidentFeature,
    AccidentFeatureOut,
    AccidentPatch,
    CasualtyFigures,
    VictimCreate,
    VictimList,
    VictimOut,
    VictimPatch,
)
from api.services import accidents
from api.services.accidents import AccidentFilters
from api.services.auth import Principal, require_reader
from api.vocab import DEFAULT_LANGUAGE, AccidentClass

router = APIRouter(tags=["accidents"])

OrganisationQuery = Annotated[str | None, Query(description="organisation code")]
FromQuery = Annotated[
    date | None, Query(alias="from", description="accidents on or after this date")
]
ToQuery = Annotated[
    date | None, Query(alias="to", description="accidents on or before this date")
]


def _accident_out(
    session: Session,
    principal: Principal | None,
    accident_id: uuid.UUID,
    status: int,
    warnings: list[str] | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> JSONOut:
    feature = accidents.get_accident(
        session, principal=require_reader(principal), accident_id=accident_id
    )
    return versioned(feature, status=status, warnings=warnings, language=language)


def _victim_out(
    session: Session,
    principal: Principal | None,
    accident_id: uuid.UUID,
    victim_id: uuid.UUID,
    status: int,
    with_personal: bool,
) -> JSONOut:
    victim = accidents.get_victim(
        session,
        principal=require_reader(principal),
        accident_id=accident_id,
        victim_id=victim_id,
        with_personal=with_personal,
        writer=not with_personal,
    )
    return versioned(victim, status=status, out=JSONOut)


# --- accidents -------------------------------------------------------------------------------


@router.post(
    "/accidents",
    status_code=201,
    response_model=AccidentFeatureOut,
    response_class=GeoJSONOut,
    responses={
        200: {
            "description": "the accident with this external_id was updated",
            "model": AccidentFeatureOut,
        },
        **problem_responses(401, 403, 409, 422),
    },
)
def create_accident(
    session: SessionDep,
    principal: PrincipalDep,
    language: LanguageDep,
    feature: Annotated[
        AccidentFeature,
        Body(
            openapi_examples={
                "av_mine": {
                    "summary": "A tractor hit an anti-vehicle mine",
                    "value": ACCIDENT_EXAMPLE,
                }
            }
        ),
    ],
):
    """Record an accident where it happened, with the reported numbers killed and injured.

    Coordinators record for their own organisation, admins for any. ``killed`` and
    ``injured`` are the reported totals; victims recorded later may not outnumber them.
    Re-sending an ``external_id`` updates that accident (200).
    """
    warnings: list[str] = []
    accident_id, created = accidents.create_accident(
        session, feature=feature, principal=principal, warnings=warnings
    )
    return _accident_out(
        session, principal, accident_id, 201 if created else 200, warnings, language
    )


@router.get(
    "/accidents",
    response_model=AccidentCollection,
    response_class=GeoJSONOut,
    responses=problem_responses(400, 401, 422),
)
def list_accidents(
    request: Request,
    session: SessionDep,
    principal: ReaderDep,
    page: PageDep,
    bbox: BBoxDep,
    organisation: OrganisationQuery = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    accident_class: AccidentClass | None = None,
):
    """Accidents as Point Features, most recent first.

    Exact locations need the admin or coordinator role or ``restricted:read``; other callers
    get positions generalised to 0.01°. Never carries victims' personal data.
    """
    features, matched = accidents.search_accidents(
        session,
        principal=principal,
        filters=AccidentFilters(
            bbox=bbox,
            organisation=organisation,
            date_from=date_from,
            date_to=date_to,
            accident_class=accident_class.value if accident_class else None,
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
    "/accidents/{accident_id}",
    response_model=AccidentFeatureOut,
    response_class=GeoJSONOut,
    responses=READ_PROBLEMS,
)
def get_accident(accident_id: uuid.UUID, session: SessionDep, principal: ReaderDep):
    """One accident, with the number of victims recorded, and its ETag."""
    return _accident_out(session, principal, accident_id, 200)


@router.patch(
    "/accidents/{accident_id}",
    response_model=AccidentFeatureOut,
    response_class=GeoJSONOut,
    responses=CHANGE_PROBLEMS,
)
def update_accident(
    accident_id: uuid.UUID,
    change: ChangeDep,
    patch: Annotated[
        AccidentPatch,
        Body(
            openapi_examples={
                "injured": {
                    "summary": "One more person injured",
                    "value": ACCIDENT_PATCH_EXAMPLE,
                }
            }
        ),
    ],
):
    """Change an accident: a partial Feature (``geometry`` and/or ``properties``).

    Requires ``If-Match`` with the ETag read (412 when it changed since). Lowering
    ``killed`` or ``injured`` below the victims recorded with that outcome is refused (422).
    """
    warnings: list[str] = []
    accidents.update_accident(
        change.session,
        accident_id=accident_id,
        patch=patch,
        principal=change.principal,
        if_match=change.if_match,
        warnings=warnings,
    )
    return _accident_out(
        change.session,
        change.principal,
        accident_id,
        200,
        warnings,
        change.language,
    )


@router.delete(
    "/accidents/{accident_id}",
    status_code=204,
    responses=RETIRE_PROBLEMS,
)
def retire_accident(accident_id: uuid.UUID, change: ChangeDep):
    """Retire an accident recorded in error or twice (needs ``If-Match``). Nothing is deleted."""
    accidents.retire_accident(
        change.session,
        accident_id=accident_id,
        principal=change.principal,
        if_match=change.if_match,
    )
    return retired()


# --- victims ---------------------------------------------------------------------------------


@router.post(
    "/accidents/{accident_id}/victims",
    status_code=201,
    response_model=VictimOut,
    response_class=JSONOut,
    responses=problem_responses(401, 403, 404, 422),
)
def create_victim(
    accident_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    body: Annotated[
        VictimCreate,
        Body(
            openapi_examples={
                "injured_farmer": {
                    "summary": "An injured farmer, with personal data",
                    "value": VICTIM_EXAMPLE,
                }
            }
        ),
    ],
):
    """Record a person killed or injured, by coordinators of the accident's organisation.

    ``personal`` (name, date of birth, address, phone, email) is stored apart and returned
    only by ``GET .../victims/{victim_id}`` to callers with ``restricted:read``; the response
    to this request says only ``has_personal_data``. ``age_band`` is derived from ``age``, or
    from the date of birth at the accident date (under 18: child).
    """
    victim_id = accidents.create_victim(
        session, accident_id=accident_id, body=body, principal=principal
    )
    return _victim_out(session, principal, accident_id, victim_id, 201, False)


@router.get(
    "/accidents/{accident_id}/victims",
    response_model=VictimList,
    response_class=JSONOut,
    responses=problem_responses(401, 404, 422),
)
def list_victims(accident_id: uuid.UUID, session: SessionDep, principal: ReaderDep):
    """The victims of an accident; never with personal data."""
    victims = accidents.list_victims(
        session, principal=principal, accident_id=accident_id
    )
    return JSONOut({"victims": victims, "numberReturned": len(victims)})


@router.get(
    "/accidents/{accident_id}/victims/{victim_id}",
    response_model=VictimOut,
    response_class=JSONOut,
    responses=READ_PROBLEMS,
)
def get_victim(
    accident_id: uuid.UUID,
    victim_id: uuid.UUID,
    session: SessionDep,
    principal: ReaderDep,
):
    """One victim; with ``restricted:read`` also ``personal`` (null when none recorded)."""
    return _victim_out(session, principal, accident_id, victim_id, 200, True)


@router.patch(
    "/accidents/{accident_id}/victims/{victim_id}",
    response_model=VictimOut,
    response_class=JSONOut,
    responses=CHANGE_PROBLEMS,
)
def update_victim(
    accident_id: uuid.UUID,
    victim_id: uuid.UUID,
    change: ChangeDep,
    patch: Annotated[
        VictimPatch,
        Body(
            openapi_examples={
                "died": {
                    "summary": "An injured victim died later",
                    "value": VICTIM_PATCH_EXAMPLE,
                }
            }
        ),
    ],
):
    """Change a victim (needs ``If-Match``); ``personal`` replaces the personal data."""
    accidents.update_victim(
        change.session,
        accident_id=accident_id,
        victim_id=victim_id,
        patch=patch,
        principal=change.principal,
        if_match=change.if_match,
    )
    return _victim_out(
        change.session, change.principal, accident_id, victim_id, 200, False
    )


# --- casualty figures ------------------------------------------------------------------------


@router.get(
    "/analytics/casualties",
    response_model=CasualtyFigures,
    response_class=JSONOut,
    responses=problem_responses(400, 401, 422),
)
def casualty_figures(
    session: SessionDep,
    principal: ReaderDep,
    language: LanguageDep,
    group_by: Annotated[
        str | None,
        Query(
            description="comma-separated: sex, age_band, role, outcome (default all four)",
            examples=["sex,age_band,outcome"],
        ),
    ] = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    organisation: OrganisationQuery = None,
    admin: Annotated[
        str | None, Query(description="P-code of an administrative area, any level")
    ] = None,
    accident_class: AccidentClass | None = None,
):
    """Casualties (people killed and injured) disaggregated by sex, age band, role, outcome.

    Victims are counted as recorded. People in an accident's ``killed``/``injured`` totals
    who are not recorded as victims are counted with sex, age band and role ``unknown``, so
    the cells add up to the accidents' totals.

    Callers without ``restricted:read`` ask for a calendar month, quarter or year
    (``from`` its first day, ``to`` its last) or all time (neither), without ``admin``;
    anything else is refused with 400. For them a slice (one month x organisation x
    accident class x outcome) holding a sex x age band x role combination of 1 to 4 people
    is tainted, and every count by sex, age band or role that includes any part of a
    tainted slice is withheld (``count`` null, ``suppressed`` true), zeros too; counts by
    outcome only and the total (the accidents' own totals) are shown. No combination of
    answers, nor the accidents' totals, determines a withheld count.
    """
    return JSONOut(
        accidents.casualties(
            session,
            principal=principal,
            group_by=accidents.parse_group_by(group_by),
            filters=AccidentFilters(
                organisation=organisation,
                date_from=date_from,
                date_to=date_to,
                accident_class=accident_class.value if accident_class else None,
                admin=admin,
            ),
            language=language,
        )
    )

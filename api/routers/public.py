"""The public layer: publications (admins), and what anyone may read without signing in.

Everything anonymous here reads the latest *publication* (``api.services.public``), never the
operational tables: generalised hazard areas, released land, coverage, counts of five or
more, a point check and CAP/Atom warnings. Coordinates sent to ``/check`` are neither stored
nor logged (the access log redacts the query string, see ``api.privacy``) and the answer is
``Cache-Control: no-store``.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.deps import (
    BBoxDep,
    LanguageDep,
    PrincipalDep,
    SessionDep,
    SettingsDep,
)
from api.errors import problem_responses
from api.responses import GeoJSONOut, JSONOut, page_links
from api.schemas.public import (
    CheckResult,
    Publication,
    PublicationList,
    PublicCounts,
    PublicHazards,
    PublicReleased,
)
from api.services import public, public_feeds
from api.services.auth import require_admin, require_programme_admin

router = APIRouter(prefix="/public", tags=["public warnings"])

PUBLIC_CACHE = "public, max-age=60"
AdminAreaQuery = Annotated[
    str | None,
    Query(description="only areas touching this administrative area (P-code or id)"),
]


@router.post(
    "/publications",
    status_code=201,
    response_model=Publication,
    summary="Build the public layer from current data and publish it (admins)",
    responses=problem_responses(401, 403),
)
def create_publication(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> JSONOut:
    """Generalise the current open, worked-on and suspended hazards (buffered outward on the
    ellipsoid, unioned, simplified while still covering every hazard), add completed
    releases, survey coverage and counts of five or more, and publish them. Returns the
    publication record: who, when, the parameters and the counts."""
    admin = require_programme_admin(principal, "publishing the public layer")
    record = public.publish(session, principal=admin, settings=settings)
    return JSONOut(
        record,
        status_code=201,
        headers={"Location": f"/api/v1/public/publications/{record['id']}"},
    )


@router.get(
    "/publications",
    response_model=PublicationList,
    summary="Publications, newest first (admins)",
    responses=problem_responses(401, 403),
)
def list_publications(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    cursor: Annotated[
        str | None, Query(description="the opaque value of a next link")
    ] = None,
) -> JSONOut:
    """Every publication with who published it, when, its parameters and counts; the
    ``next`` link (while more remain) carries a cursor."""
    require_admin(principal)
    items = public.list_publications(session, limit=limit, offset=offset, after=cursor)
    links = page_links(request, items, limit=limit, offset=offset)
    return JSONOut({"items": items, "links": links})


def _area(session, admin_area: str | None) -> str | None:
    return public.resolve_admin_area(session, admin_area)[0] if admin_area else None


@router.get(
    "/hazards",
    response_model=PublicHazards,
    response_class=GeoJSONOut,
    summary="The published hazard areas (generalised; anyone)",
    responses=problem_responses(400, 404),
)
def public_hazards(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    language: LanguageDep,
    bbox: BBoxDep,
    admin_area: AdminAreaQuery = None,
) -> GeoJSONOut:
    """The hazard areas of the latest publication as a GeoJSON FeatureCollection: public
    fields only (classification, hazard type, status, marking, last update, what to do),
    labels in the language of ``Accept-Language`` (or ``lang``). Empty before the first
    publication."""
    result = public.public_hazards(session, bbox=bbox, pcode=_area(session, admin_area))
    features = [public.hazard_feature(row, language) for row in result.rows]
    return GeoJSONOut(
        _collection(request, settings, features, result.publication),
        headers={"Cache-Control": PUBLIC_CACHE},
    )


def _collection(request: Request, settings, features: list, publication) -> dict:
    self_url = public_feeds.public_url(
        request, settings, request.scope["route"].name, query=True
    )
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": len(features),
        "numberReturned": len(features),
        "links": [{"href": self_url, "rel": "self", "type": "application/geo+json"}],
        "publication": public.publication_summary(publication),
    }


@router.get(
    "/released",
    response_model=PublicReleased,
    response_class=GeoJSONOut,
    summary="Published released land, with its date and residual risk (anyone)",
    responses=problem_responses(400),
)
def public_released(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    language: LanguageDep,
    bbox: BBoxDep,
) -> GeoJSONOut:
    """Land released by completed activities in the latest publication: outcome, the date
    it was completed and a residual-risk note (released land is never risk-free)."""
    publication, rows = public.public_released(session, bbox=bbox)
    features = [public.released_feature(row, language) for row in rows]
    return GeoJSONOut(
        _collection(request, settings, features, publication),
        headers={"Cache-Control": PUBLIC_CACHE},
    )


@router.get(
    "/counts",
    response_model=PublicCounts,
    summary="EO finds and accidents per administrative area, 5 or more (anyone)",
)
def public_counts(session: SessionDep) -> JSONOut:
    """Counts of the latest publication by smallest administrative area: ``kind``
    (``eo_finds`` or ``accidents``), the area and ``count``. Areas with fewer than five are
    not published at all, so no victim or find can be singled out."""
    publication, rows = public.public_counts(session)
    return JSONOut(
        {"publication": public.publication_summary(publication), "items": rows},
        headers={"Cache-Control": PUBLIC_CACHE},
    )


@router.get(
    "/check",
    response_model=CheckResult,
    summary="Is this point inside or near a published hazard area? (anyone)",
    responses=problem_responses(422),
)
def check(
    session: SessionDep,
    settings: SettingsDep,
    language: LanguageDep,
    lon: Annotated[float, Query(ge=-180, le=180, description="longitude, WGS 84")],
    lat: Annotated[float, Query(ge=-90, le=90, description="latitude, WGS 84")],
) -> JSONOut:
    """``status`` is ``inside`` (within a published hazard area), ``near`` (within
    ``near_m``, on the ellipsoid), ``clear`` (neither, where the programme has recorded
    survey or clearance work) or ``no_data`` (neither, and no recorded work there, or
    nothing published: unknown, **never** "safe"). ``nearest_m`` is the distance to the
    nearest published area. ``advice`` says what to do and not to do, with the hotline,
    in the language of ``Accept-Language``. The point is not stored or logged."""
    result = public.check_point(session, lon=lon, lat=lat, settings=settings)
    return JSONOut(
        {
            "status": result.status,
            "nearest_m": result.nearest_m,
            "near_m": settings.public_near_m,
            "message": public.check_message(result.status, language),
            "advice": public.advice(result.status, language, settings),
            "language": language,
            "publication": public.publication_summary(result.publication),
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "/alerts.cap",
    response_class=Response,
    summary="Warnings of the latest publication as CAP 1.2 (anyone)",
    responses={
        200: {"content": {public_feeds.CAP_MEDIA_TYPE: {}}},
        **problem_responses(404),
    },
)
def alerts_cap(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    admin_area: AdminAreaQuery = None,
) -> Response:
    """One CAP 1.2 message with an ``<info>`` per new or enlarged public hazard area (and
    language): its polygon, severity, urgency and certainty (mapping in the README)."""
    result = public.public_hazards(
        session, pcode=_area(session, admin_area), changed_only=True
    )
    body = public_feeds.publication_alert(
        result.publication,
        result.rows,
        settings=settings,
        web=public_feeds.public_url(request, settings, "public_hazards"),
    )
    return Response(
        body,
        media_type=public_feeds.CAP_MEDIA_TYPE,
        headers={"Cache-Control": PUBLIC_CACHE},
    )


@router.get(
    "/alerts/{area_id}.cap",
    response_class=Response,
    summary="One public hazard area's CAP 1.2 alert (anyone)",
    responses={
        200: {"content": {public_feeds.CAP_MEDIA_TYPE: {}}},
        **problem_responses(404, 422),
    },
)
def area_alert(
    request: Request, session: SessionDep, settings: SettingsDep, area_id: uuid.UUID
) -> Response:
    """The CAP alert announcing one new or enlarged public hazard area."""
    publication, row = public.announced_area(session, area_id)
    body = public_feeds.area_alert(
        publication,
        row,
        settings=settings,
        web=public_feeds.public_url(request, settings, "public_hazards"),
    )
    return Response(
        body,
        media_type=public_feeds.CAP_MEDIA_TYPE,
        headers={"Cache-Control": PUBLIC_CACHE},
    )


@router.get(
    "/alerts.atom",
    response_class=Response,
    summary="Warnings of the latest publication as an Atom feed (anyone)",
    responses={
        200: {"content": {public_feeds.ATOM_MEDIA_TYPE: {}}},
        **problem_responses(404),
    },
)
def alerts_atom(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    language: LanguageDep,
    admin_area: AdminAreaQuery = None,
) -> Response:
    """An entry per new or enlarged public hazard area, linking to its CAP alert."""
    result = public.public_hazards(
        session, pcode=_area(session, admin_area), changed_only=True
    )
    cap_url = public_feeds.public_url(
        request, settings, "area_alert", area_id="AREA"
    ).replace("AREA", "{id}")
    body = public_feeds.atom_feed(
        result.publication,
        result.rows,
        language=language,
        self_url=public_feeds.public_url(request, settings, "alerts_atom", query=True),
        cap_url=cap_url,
    )
    return Response(
        body,
        media_type=public_feeds.ATOM_MEDIA_TYPE,
        headers={"Cache-Control": PUBLIC_CACHE},
    )

"""OGC API – Features (Part 1 core, GeoJSON, HTML; Part 3 CQL2-text filtering) at ``/ogc``.

Operational collections need a signed-in caller (401 otherwise); the public layer's
collections (``public-hazards``, ``public-released``: the latest publication) are listed and
served to anyone once a publication exists. Each collection holds one geometry type. JSON or
HTML is chosen by ``f=json|html``, else by the Accept header. The items endpoints answer
400 to query parameters they do not know (OGC API – Features permits either), so that a
misspelt ``filter`` or ``bbox`` never silently returns everything.
"""

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import HTMLResponse
from pygeofilter import ast

from api.deps import BBoxDep, PrincipalDep, SessionDep, SettingsDep
from api.errors import BadRequest, NotFound, problem_responses
from api.ogc import collections, cql2, documents, html, params, queries
from api.ogc.collections import Collection
from api.responses import GeoJSONOut, JSONOut
from api.schemas.ogc import (
    CollectionInfo,
    Collections,
    Conformance,
    LandingPage,
    OGCFeatureCollection,
    OGCFeatureOut,
    OpenAPIDocument,
    Queryables,
)
from api.services import public
from api.services.auth import Principal, require_reader

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])

FormatQuery = Annotated[
    str | None, Query(description="json or html (default: from the Accept header)")
]
AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]
CollectionId = Annotated[
    str,
    Path(
        alias="collectionId",
        description=(
            "collection id: hazards, hazard-points, remaining, remaining-points, "
            "releases, admin-areas, public-hazards, public-released"
        ),
    ),
]

SCHEMA_JSON = "application/schema+json"


def _collection(collection_id: str, principal: Principal | None) -> Collection:
    coll = collections.REGISTRY.get(collection_id)
    if coll is None:
        raise NotFound(f"no collection {collection_id!r}")
    if not coll.public:
        require_reader(principal)
    return coll


def _html(template: str, request: Request, **context) -> HTMLResponse:
    urls = {
        "home": request.url_for(documents.LANDING),
        "collections_url": request.url_for(documents.COLLECTIONS),
        "conformance_url": request.url_for(documents.CONFORMANCE),
    }
    return HTMLResponse(html.render(template, **urls, **context))


@router.get(
    "",
    name=documents.LANDING,
    response_model=LandingPage,
    response_class=JSONOut,
    responses={200: {"content": {"text/html": {}}}},
)
def ogc_landing_page(
    request: Request, f: FormatQuery = None, accept: AcceptHeader = None
):
    """Landing page: links to the API definition, the conformance classes and the data."""
    fmt = params.output_format(f, accept)
    doc = documents.landing_page(request, fmt)
    if fmt == "html":
        return _html("landing.html", request, title=doc["title"], doc=doc)
    return JSONOut(doc)


@router.get(
    "/api",
    name=documents.API,
    response_model=OpenAPIDocument,
    response_class=JSONOut,
    responses=problem_responses(),
)
def ogc_api(request: Request, session: SessionDep, principal: PrincipalDep):
    """The OpenAPI description of this OGC API, its paths relative to ``/ogc`` (the
    landing page's ``service-desc``), with the property filters of each collection."""
    described = collections.visible(
        principal is not None, public.latest_publication(session) is not None
    )
    return JSONOut(documents.api_description(request, request.app.openapi(), described))


@router.get(
    "/conformance",
    name=documents.CONFORMANCE,
    response_model=Conformance,
    response_class=JSONOut,
    responses={200: {"content": {"text/html": {}}}},
)
def ogc_conformance(
    request: Request, f: FormatQuery = None, accept: AcceptHeader = None
):
    """The conformance classes implemented (Features core, GeoJSON, HTML, CQL2 text)."""
    fmt = params.output_format(f, accept)
    doc = documents.conformance(request, fmt)
    if fmt == "html":
        return _html("conformance.html", request, title="Conformance", doc=doc)
    return JSONOut(doc)


@router.get(
    "/collections",
    name=documents.COLLECTIONS,
    response_model=Collections,
    response_class=JSONOut,
    responses={200: {"content": {"text/html": {}}}, **problem_responses(401)},
)
def ogc_collections(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    f: FormatQuery = None,
    accept: AcceptHeader = None,
):
    """The collections the caller may read: none for anonymous callers."""
    fmt = params.output_format(f, accept)
    described = [
        documents.collection(request, coll, queries.extent(session, coll))
        for coll in collections.visible(
            principal is not None, public.latest_publication(session) is not None
        )
    ]
    doc = documents.collections(request, fmt, described)
    if fmt == "html":
        return _html("collections.html", request, title="Collections", doc=doc)
    return JSONOut(doc)


@router.get(
    "/collections/{collectionId}",
    name=documents.COLLECTION,
    response_model=CollectionInfo,
    response_class=JSONOut,
    responses={200: {"content": {"text/html": {}}}, **problem_responses(401, 404)},
)
def ogc_collection(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    collection_id: CollectionId,
    f: FormatQuery = None,
    accept: AcceptHeader = None,
):
    """One collection: its extent (from the data), CRS and links."""
    coll = _collection(collection_id, principal)
    fmt = params.output_format(f, accept)
    doc = documents.collection(request, coll, queries.extent(session, coll))
    if fmt == "html":
        return _html(
            "collection.html",
            request,
            title=coll.title,
            doc=doc,
            queryables=documents.queryables(request, coll),
            items_html=request.url_for(
                documents.ITEMS, collectionId=coll.id
            ).include_query_params(f="html"),
            items_json=request.url_for(documents.ITEMS, collectionId=coll.id),
            queryables_url=request.url_for(documents.QUERYABLES, collectionId=coll.id),
        )
    return JSONOut(doc)


@router.get(
    "/collections/{collectionId}/queryables",
    name=documents.QUERYABLES,
    response_model=Queryables,
    response_class=JSONOut,
    responses={
        200: {
            "content": {
                SCHEMA_JSON: {"schema": {"$ref": "#/components/schemas/Queryables"}},
                "text/html": {},
            }
        },
        **problem_responses(401, 404),
    },
)
def ogc_queryables(
    request: Request,
    principal: PrincipalDep,
    collection_id: CollectionId,
    f: FormatQuery = None,
    accept: AcceptHeader = None,
):
    """The properties a ``filter`` may name, as a JSON Schema."""
    coll = _collection(collection_id, principal)
    doc = documents.queryables(request, coll)
    if params.output_format(f, accept) == "html":
        return _html(
            "queryables.html",
            request,
            title=f"Queryables of {coll.title}",
            doc=doc,
            collection_url=request.url_for(documents.COLLECTION, collectionId=coll.id),
        )
    return JSONOut(doc, media_type=SCHEMA_JSON)


@router.get(
    "/collections/{collectionId}/items",
    name=documents.ITEMS,
    response_model=OGCFeatureCollection,
    response_class=GeoJSONOut,
    responses={200: {"content": {"text/html": {}}}, **problem_responses(400, 401, 404)},
)
def ogc_items(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    collection_id: CollectionId,
    bbox: BBoxDep,
    limit: Annotated[
        str | None,
        Query(
            description="page size, 1 to the configured maximum (10,000); default 100"
        ),
    ] = None,
    offset: Annotated[str | None, Query(description="features to skip")] = None,
    cursor: Annotated[
        str | None,
        Query(description="where the page starts: the opaque value of a next link"),
    ] = None,
    datetime: Annotated[
        str | None,
        Query(
            description=(
                "date or date-time, or an interval a/b, ../b, a/..; hazards and "
                "remaining: date_of_information; releases: the release date"
            ),
            examples=["2024-01-01/..", "2024-05-01"],
        ),
    ] = None,
    filter: Annotated[
        str | None,
        Query(
            description="CQL2 text over the collection's queryables",
            examples=["classification = 'CHA' AND remaining_area_m2 > 1000"],
        ),
    ] = None,
    filter_lang: Annotated[
        str | None, Query(alias="filter-lang", description="cql2-text (the default)")
    ] = None,
    filter_crs: Annotated[
        str | None, Query(alias="filter-crs", description="CRS84 only")
    ] = None,
    bbox_crs: Annotated[
        str | None, Query(alias="bbox-crs", description="CRS84 only")
    ] = None,
    crs: Annotated[str | None, Query(description="CRS84 only")] = None,
    f: FormatQuery = None,
    accept: AcceptHeader = None,
):
    """Features of a collection as GeoJSON, with ``numberMatched`` and a ``next`` link.

    Filters combine: ``bbox`` (CRS84), ``datetime`` and ``filter`` (CQL2 text; see the
    collection's queryables). Unknown query parameters are answered with 400.
    """
    coll = _collection(collection_id, principal)
    kinds = coll.property_filter_kinds()
    params.reject_unknown(
        request.query_params.keys(), params.ITEMS_PARAMETERS | kinds.keys()
    )
    fmt = params.output_format(f, accept)
    page_size = params.limit(
        limit, default=settings.default_limit, maximum=settings.max_limit
    )
    skip = params.offset(offset)
    for name, value in (
        ("filter-crs", filter_crs),
        ("bbox-crs", bbox_crs),
        ("crs", crs),
    ):
        params.crs(name, value)
    params.filter_lang(filter_lang)
    days = params.datetime_days(datetime)
    if days is not None and coll.temporal is None:
        raise BadRequest(
            f"datetime: collection {coll.id!r} has no temporal property",
            errors=[
                {"parameter": "datetime", "in": "query", "message": "not temporal"}
            ],
        )
    conditions = [
        node
        for node in (
            cql2.parse(filter) if filter is not None else None,
            params.property_filters(request.query_params.multi_items(), kinds),
        )
        if node is not None
    ]
    selection = queries.ItemsFilter(
        bbox=bbox,
        dates=days,
        cql=conditions[0]
        if len(conditions) == 1
        else (ast.And(*conditions) if conditions else None),
    )
    features, matched = queries.items(
        session, coll, selection, limit=page_size, offset=skip, after=cursor
    )
    doc = documents.feature_collection(
        request, coll, fmt, features, matched=matched, limit=page_size, offset=skip
    )
    if fmt == "html":
        return _html(
            "items.html",
            request,
            title=f"{coll.title}: items",
            doc=doc,
            offset=features.start,
            collection_title=coll.title,
            collection_url=request.url_for(documents.COLLECTION, collectionId=coll.id),
            item_base=request.url_for(documents.ITEMS, collectionId=coll.id),
            columns=[p.name for p in coll.properties if p.kind != "geojson"][:12],
        )
    return GeoJSONOut(doc, headers={"OGC-NumberMatched": str(matched)})


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    name=documents.ITEM,
    response_model=OGCFeatureOut,
    response_class=GeoJSONOut,
    responses={200: {"content": {"text/html": {}}}, **problem_responses(400, 401, 404)},
)
def ogc_item(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    collection_id: CollectionId,
    feature_id: Annotated[str, Path(alias="featureId")],
    crs: Annotated[str | None, Query(description="CRS84 only")] = None,
    f: FormatQuery = None,
    accept: AcceptHeader = None,
):
    """One feature as GeoJSON."""
    coll = _collection(collection_id, principal)
    params.reject_unknown(request.query_params.keys(), params.ITEM_PARAMETERS)
    params.crs("crs", crs)
    fmt = params.output_format(f, accept)
    doc = documents.feature(request, coll, fmt, queries.item(session, coll, feature_id))
    if fmt == "html":
        return _html(
            "item.html",
            request,
            title=f"{coll.title}: {feature_id}",
            doc=doc,
            collection_title=coll.title,
            collection_url=request.url_for(documents.COLLECTION, collectionId=coll.id),
            items_url=request.url_for(
                documents.ITEMS, collectionId=coll.id
            ).include_query_params(f="html"),
        )
    return GeoJSONOut(doc)


def describe_parameters(app, settings) -> None:
    """Type the items parameters in the OpenAPI document as clients read them.

    The route takes them as text so that a bad value is a 400 naming the parameter (OGC
    API - Features), but GDAL's OAPIF driver reads the API description to page by the
    server's maximum (``limit``'s ``maximum``) and to push filters down (``filter-lang``'s
    ``enum``: GDAL 3.6 looks for ``cql-text``, the draft name of the same grammar, and
    newer versions for ``cql2-text``): without them it filters on the client.
    """
    typed = {
        "limit": {
            "type": "integer",
            "minimum": 1,
            "maximum": settings.max_limit,
            "default": settings.default_limit,
        },
        "offset": {"type": "integer", "minimum": 0, "default": 0},
        "filter-lang": {
            "type": "string",
            "enum": ["cql2-text", "cql-text"],
            "default": "cql2-text",
        },
        "filter-crs": {"type": "string", "enum": [params.CRS84]},
        "bbox-crs": {"type": "string", "enum": [params.CRS84]},
        "crs": {"type": "string", "enum": [params.CRS84]},
    }
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            for path, item in schema.get("paths", {}).items():
                if path.startswith("/ogc/collections/{collectionId}/items"):
                    for parameter in item.get("get", {}).get("parameters", []):
                        if parameter.get("name") in typed:
                            parameter["schema"] = dict(typed[parameter["name"]])
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi

"""The JSON documents of the OGC API: landing page, conformance, collections, queryables.

The HTML pages render these same documents, so both formats always say the same thing.
"""

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from api.ogc.collections import Collection
from api.ogc.params import CRS84
from api.responses import page_links

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"

# Route names (the router registers its endpoints under these).
LANDING = "ogc_landing_page"
CONFORMANCE = "ogc_conformance"
COLLECTIONS = "ogc_collections"
COLLECTION = "ogc_collection"
QUERYABLES = "ogc_queryables"
ITEMS = "ogc_items"
ITEM = "ogc_item"
API = "ogc_api"

_FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf"
_FILTER = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf"
CONFORMS_TO = [
    f"{_FEATURES}/core",
    f"{_FEATURES}/geojson",
    f"{_FEATURES}/html",
    f"{_FILTER}/queryables",
    f"{_FILTER}/filter",
    f"{_FILTER}/features-filter",
    f"{_CQL2}/cql2-text",
    f"{_CQL2}/basic-cql2",
    f"{_CQL2}/advanced-comparison-operators",
    f"{_CQL2}/case-insensitive-comparison",
    f"{_CQL2}/basic-spatial-functions",
    f"{_CQL2}/basic-spatial-functions-plus",
    f"{_CQL2}/spatial-functions",
    f"{_CQL2}/array-functions",
    f"{_CQL2}/property-property",
]

_SCHEMA_TYPES = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "date-time": {"type": "string", "format": "date-time"},
    "uuid": {"type": "string", "format": "uuid"},
}


def link(href: Any, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    """One OGC link object."""
    out = {"href": str(href), "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def _self_and_alternate(request: Request, fmt: str, json_type: str = JSON) -> list:
    """``self`` in the format served, ``alternate`` in the other one."""
    as_json = str(request.url.include_query_params(f="json"))
    as_html = str(request.url.include_query_params(f="html"))
    if fmt == "html":
        return [
            link(as_html, "self", HTML, "This document"),
            link(as_json, "alternate", json_type, "This document as JSON"),
        ]
    return [
        link(request.url, "self", json_type, "This document"),
        link(as_html, "alternate", HTML, "This document as HTML"),
    ]


def landing_page(request: Request, fmt: str) -> dict[str, Any]:
    """The landing page: what this is and where the API description and data are."""
    app = request.app
    base = str(request.base_url).rstrip("/")
    version = app.openapi_version.rsplit(".", 1)[0]
    links = [
        *_self_and_alternate(request, fmt),
        link(
            request.url_for(API),
            "service-desc",
            f"application/vnd.oai.openapi+json;version={version}",
            "The API definition (OpenAPI), paths from this landing page",
        ),
    ]
    if app.docs_url:
        links.append(
            link(base + app.docs_url, "service-doc", HTML, "API documentation")
        )
    links += [
        link(request.url_for(CONFORMANCE), "conformance", JSON, "Conformance"),
        link(request.url_for(COLLECTIONS), "data", JSON, "Collections"),
    ]
    return {
        "title": "Safeground OGC API – Features",
        "description": (
            "Hazard areas, remaining hazardous land, released land and administrative "
            "areas of the mine-action programme: restricted operational data, seen once "
            "signed in (bearer token, X-API-Key, or HTTP Basic with the user apikey and "
            "a key as password). The latest public layer is open to anyone."
        ),
        "links": links,
    }


def conformance(request: Request, fmt: str) -> dict[str, Any]:
    """The conformance classes this implementation meets."""
    return {"conformsTo": CONFORMS_TO, "links": _self_and_alternate(request, fmt)}


def collection(
    request: Request, coll: Collection, extent: dict | None
) -> dict[str, Any]:
    """The description of one collection, with its links."""
    url = request.url_for(COLLECTION, collectionId=coll.id)
    items = request.url_for(ITEMS, collectionId=coll.id)
    out: dict[str, Any] = {
        "id": coll.id,
        "title": coll.title,
        "description": coll.description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
    }
    if extent:
        out["extent"] = extent
    out["links"] = [
        link(url, "self", JSON, coll.title),
        link(url.include_query_params(f="html"), "alternate", HTML, coll.title),
        link(items, "items", GEOJSON, f"{coll.title} (GeoJSON)"),
        link(
            items.include_query_params(f="html"), "items", HTML, f"{coll.title} (HTML)"
        ),
        link(
            request.url_for(QUERYABLES, collectionId=coll.id),
            QUERYABLES_REL,
            SCHEMA_JSON,
            "Queryables",
        ),
    ]
    return out


def collections(request: Request, fmt: str, described: list[dict]) -> dict[str, Any]:
    """The collections list (only those the caller may see)."""
    return {"links": _self_and_alternate(request, fmt), "collections": described}


def queryables(request: Request, coll: Collection) -> dict[str, Any]:
    """The queryables of a collection as a JSON Schema."""
    properties: dict[str, Any] = {
        "geometry": {
            "title": "Footprint",
            "format": coll.geometry,
            "x-ogc-role": "primary-geometry",
        }
    }
    for prop in coll.queryables():
        if prop.kind == "array":
            items: dict[str, Any] = {"type": "string"}
            if prop.enum:
                items["enum"] = list(prop.enum)
            schema: dict[str, Any] = {"type": "array", "items": items}
        else:
            schema = dict(_SCHEMA_TYPES[prop.kind])
            if prop.enum:
                schema["enum"] = list(prop.enum)
        properties[prop.name] = {"title": prop.title, **schema}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": str(request.url_for(QUERYABLES, collectionId=coll.id)),
        "type": "object",
        "title": coll.title,
        "description": f"Properties of {coll.title} usable in a CQL2 filter",
        "properties": properties,
        "additionalProperties": False,
    }


def feature_collection(
    request: Request,
    coll: Collection,
    fmt: str,
    features: list[dict],
    *,
    matched: int,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """A page of features with ``numberMatched``, ``timeStamp`` and paging links."""
    links = page_links(request, features, limit=limit, offset=offset, matched=matched)
    alternate = "json" if fmt == "html" else "html"
    links.append(
        link(
            request.url.include_query_params(f=alternate),
            "alternate",
            GEOJSON if alternate == "json" else HTML,
            f"This page as {alternate.upper()}",
        )
    )
    links.append(
        link(request.url_for(COLLECTION, collectionId=coll.id), "collection", JSON)
    )
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": datetime.now(UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
        "links": links,
    }


def feature(
    request: Request, coll: Collection, fmt: str, feat: dict[str, Any]
) -> dict[str, Any]:
    """One feature with its links (self, alternate, collection)."""
    return {
        **feat,
        "links": [
            *_self_and_alternate(request, fmt, GEOJSON),
            link(request.url_for(COLLECTION, collectionId=coll.id), "collection", JSON),
        ],
    }


def api_description(
    request: Request, openapi: dict[str, Any], described: list[Collection]
) -> dict[str, Any]:
    """The OpenAPI description of this OGC API, with paths from its landing page.

    Clients resolve ``/collections/{collectionId}/items`` against the landing page (GDAL's
    OAPIF driver reads this document to learn ``filter-lang`` and the queryables it may
    filter on), so the ``/ogc`` prefix of the whole application's document is dropped
    here and given as the server URL. Each collection the caller may see also gets its own
    items path listing its ``name=value`` property filters.
    """
    prefix = "/ogc"
    doc = {k: v for k, v in openapi.items() if k != "paths"}
    doc["servers"] = [{"url": str(request.url_for(LANDING))}]
    paths = {
        path[len(prefix) :] or "/": item
        for path, item in openapi.get("paths", {}).items()
        if path == prefix or path.startswith(prefix + "/")
    }
    items = paths.get("/collections/{collectionId}/items", {}).get("get")
    if items is not None:
        shared = [
            p for p in items.get("parameters", []) if p.get("name") != "collectionId"
        ]
        for coll in described:
            filters = [
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "description": f"features whose {name} equals this value",
                    "schema": dict(_SCHEMA_TYPES[kind]),
                }
                for name, kind in coll.property_filter_kinds().items()
            ]
            operation = {
                **items,
                "operationId": f"items_{coll.id.replace('-', '_')}",
                "summary": f"{coll.title}: features",
                "parameters": shared + filters,
            }
            paths[f"/collections/{coll.id}/items"] = {"get": operation}
    doc["paths"] = paths
    return doc

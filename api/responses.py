"""JSON responses serialised with orjson (UUIDs, dates and pre-rendered GeoJSON fragments)."""

from typing import Any

import orjson
from fastapi.responses import JSONResponse
from starlette.requests import Request


class JSONOut(JSONResponse):
    """application/json rendered by orjson."""

    def render(self, content: Any) -> bytes:
        """Serialise ``content``; ``orjson.Fragment`` values are embedded as they are."""
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class GeoJSONOut(JSONOut):
    """application/geo+json rendered by orjson."""

    media_type = "application/geo+json"


def page_links(
    request: Request, *, limit: int, offset: int, matched: int
) -> list[dict]:
    """``self``, ``next`` and ``prev`` links for a page of a collection."""

    def url(new_offset: int) -> str:
        return str(request.url.include_query_params(limit=limit, offset=new_offset))

    links = [{"href": str(request.url), "rel": "self", "type": "application/geo+json"}]
    if offset + limit < matched:
        links.append(
            {"href": url(offset + limit), "rel": "next", "type": "application/geo+json"}
        )
    if offset > 0:
        links.append(
            {
                "href": url(max(offset - limit, 0)),
                "rel": "prev",
                "type": "application/geo+json",
            }
        )
    return links


def feature_collection(
    request: Request,
    features: list[dict],
    *,
    matched: int,
    limit: int,
    offset: int,
    **extra,
) -> dict[str, Any]:
    """A FeatureCollection page with OGC paging members."""
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": matched,
        "numberReturned": len(features),
        "links": page_links(request, limit=limit, offset=offset, matched=matched),
        **extra,
    }

"""JSON responses serialised with orjson (UUIDs, dates and pre-rendered GeoJSON fragments)."""

from typing import Any

import orjson
from fastapi.responses import JSONResponse
from starlette.requests import Request

from api.paging import PageItems

ORJSON_INTEGERS = range(-(2**63), 2**64)  # what orjson writes; past it, it raises


def _exact_integers(content: Any) -> Any:
    """``content`` with integers orjson refuses written as JSON number text (Fragments)."""
    if isinstance(content, bool):
        return content
    if isinstance(content, int):
        return content if content in ORJSON_INTEGERS else orjson.Fragment(str(content))
    if isinstance(content, dict):
        return {k: _exact_integers(v) for k, v in content.items()}
    if isinstance(content, list | tuple):
        return [_exact_integers(v) for v in content]
    return content


class JSONOut(JSONResponse):
    """application/json rendered by orjson."""

    def render(self, content: Any) -> bytes:
        """Serialise ``content``; ``orjson.Fragment`` values are embedded as they are.

        Rendering cannot fail for a value the database holds: an integer past 64 bits (a
        JSONB number stored before the write bounds existed) is written exactly, as JSON
        number text; NaN and infinity become null (orjson's rule).
        """
        try:
            return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
        except orjson.JSONEncodeError:
            safe = _exact_integers(content)
            return orjson.dumps(safe, option=orjson.OPT_NON_STR_KEYS)


class GeoJSONOut(JSONOut):
    """application/geo+json rendered by orjson."""

    media_type = "application/geo+json"


def page_links(
    request: Request,
    items: list,
    *,
    limit: int,
    offset: int,
    matched: int = 0,
) -> list[dict]:
    """``self``, ``next`` and ``prev`` links for the page ``items`` of a collection.

    When ``items`` is a keyset page (``PageItems``, see api/paging.py) ``next`` is the same
    query with its cursor and without ``offset``, when more remain; otherwise it is
    offset-based (up to ``matched``). ``prev`` is
    offset-based, on pages requested by ``offset`` only (a page reached by cursor has none:
    go back by following the links again from the first page).
    """

    def url(new_offset: int) -> str:
        return str(request.url.include_query_params(limit=limit, offset=new_offset))

    keyset = isinstance(items, PageItems)
    next_cursor = next_cursor_of(items)
    links = [{"href": str(request.url), "rel": "self", "type": "application/geo+json"}]
    if next_cursor is not None:
        href = request.url.remove_query_params("offset").include_query_params(
            limit=limit, cursor=next_cursor
        )
        links.append({"href": str(href), "rel": "next", "type": "application/geo+json"})
    elif not keyset and offset + limit < matched:
        links.append(
            {"href": url(offset + limit), "rel": "next", "type": "application/geo+json"}
        )
    if offset > 0 and "cursor" not in request.query_params:
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
    """A FeatureCollection page with OGC paging members; a ``PageItems`` page (from a
    keyset query) brings the cursor of its ``next`` link."""
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": matched,
        "numberReturned": len(features),
        "links": page_links(
            request, features, limit=limit, offset=offset, matched=matched
        ),
        **extra,
    }


def next_cursor_of(items: list) -> str | None:
    """The cursor of the page after ``items`` when it is a keyset page, else None."""
    return items.next_cursor if isinstance(items, PageItems) else None

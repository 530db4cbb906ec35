"""Administrative areas (read; they are loaded through imports or the demo)."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request

from api.deps import BBoxDep, PageDep, ReaderDep, SessionDep
from api.errors import problem_responses
from api.paging import PageItems
from api.responses import GeoJSONOut, feature_collection, next_cursor_of
from api.schemas.geography import AdminAreaCollection
from api.services import admin_areas

router = APIRouter(prefix="/admin-areas", tags=["admin areas"])


@router.get(
    "",
    response_model=AdminAreaCollection,
    response_class=GeoJSONOut,
    responses=problem_responses(400, 401, 422),
)
def list_admin_areas(
    request: Request,
    session: SessionDep,
    principal: ReaderDep,
    page: PageDep,
    bbox: BBoxDep,
    level: Annotated[int | None, Query(ge=0)] = None,
    parent: Annotated[str | None, Query(description="parent P-code")] = None,
    simplify: Annotated[
        float,
        Query(ge=0, le=1, description="simplification tolerance in degrees (0 = none)"),
    ] = 0.0,
):
    """Administrative units with ``pcode``, ``name``, ``level`` and ``parent_pcode``."""
    rows, matched = admin_areas.search(
        session,
        level=level,
        parent=parent,
        bbox=bbox,
        simplify=simplify,
        limit=page.limit,
        offset=page.offset,
        after=page.cursor,
    )
    features = PageItems(
        [
            {
                "type": "Feature",
                "id": r["pcode"],
                "geometry": orjson.Fragment(r["geometry"]),
                "properties": {
                    k: r[k]
                    for k in (
                        "id",
                        "pcode",
                        "name",
                        "names",
                        "level",
                        "parent_pcode",
                        "is_demo",
                    )
                },
            }
            for r in rows
        ]
    )
    features.next_cursor = next_cursor_of(rows)
    return GeoJSONOut(
        feature_collection(
            request, features, matched=matched, limit=page.limit, offset=page.offset
        )
    )

"""Reading a collection: one page of features, one feature, the extent.

A page is the filtered, ordered, limited rows in an inner query (an index scan for the
default order), with the output geometry computed in the outer query for the page's rows only
(the remaining geometry of ``remaining`` is costly: never computed for rows that are not
returned). ``numberMatched`` is a second, narrow ``count(*)`` statement, skipped on the last
page, where it is the offset plus the rows returned. (A ``count(*) OVER ()`` in the page query
would make PostgreSQL build and sort every matching row, geometry included, before the limit:
365 ms instead of a few at 100,000 hazards, see scripts/bench/import.py.)
"""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from pygeofilter import ast
from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.orm import Session

from api import paging
from api.errors import NotFound
from api.ogc import cql2
from api.ogc.collections import Collection


@dataclass(frozen=True)
class ItemsFilter:
    """What selects the features of an items request; every member is optional.

    ``dates`` are inclusive bounds (either may be None) on the collection's temporal
    property; ``cql`` is a parsed CQL2 filter.
    """

    bbox: tuple[float, float, float, float] | None = None
    dates: tuple[date | None, date | None] | None = None
    cql: ast.Node | None = None


def _conditions(
    collection: Collection, src, selection: ItemsFilter
) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if selection.bbox is not None:
        out.append(
            func.ST_Intersects(src.c.geom, func.ST_MakeEnvelope(*selection.bbox, 4326))
        )
    if selection.dates is not None and collection.temporal:
        start, end = selection.dates
        column = src.c[collection.temporal]
        if start is not None:
            out.append(column >= start)
        if end is not None:
            out.append(column <= end)
    if selection.cql is not None:
        out.append(cql2.to_sql(selection.cql, collection.fields(src)))
    return out


def _page_statement(collection: Collection, inner):
    """The outer SELECT: properties and output geometry of the rows of ``inner``."""
    page = inner.subquery("page")
    from_, geometry = collection.page_geometry(page)
    columns = [page.c[p.name] for p in collection.properties]
    if "number_matched" in page.c:
        columns.append(page.c.number_matched)
    return (
        select(*columns, geometry.label("geometry"))
        .select_from(from_)
        .order_by(*collection.ordering(page))
    )


def _feature(collection: Collection, row) -> dict[str, Any]:
    properties = {}
    for prop in collection.properties:
        value = row[prop.name]
        if prop.kind == "geojson" and value is not None:
            value = orjson.Fragment(value)
        properties[prop.name] = value
    geometry = row["geometry"]
    return {
        "type": "Feature",
        "id": row[collection.id_property],
        "geometry": orjson.Fragment(geometry) if geometry is not None else None,
        "properties": properties,
    }


def items(
    session: Session,
    collection: Collection,
    selection: ItemsFilter,
    *,
    limit: int,
    offset: int,
    after: str | None = None,
) -> tuple[paging.PageItems, int]:
    """A page of features and how many match in all; the page starts at ``offset`` or
    ``after`` a cursor (api/paging.py), and knows the cursor of the next."""
    keyset = collection.keyset()
    window = keyset.window(after=after, limit=limit, offset=offset)
    src = collection.source()
    conditions = _conditions(collection, src, selection)
    inner = select(src).where(*conditions)
    keyset_condition, bound = keyset.condition(window.after)
    if keyset_condition:
        inner = inner.where(text(keyset_condition).bindparams(**bound))
    inner = inner.order_by(*collection.ordering(src)).limit(limit + 1)
    if window.after is None and offset:
        inner = inner.offset(offset)
    rows = session.execute(_page_statement(collection, inner)).mappings().all()
    page = window.items([_feature(collection, r) for r in rows], rows)
    if window.after is None and rows and len(rows) <= limit:
        return page, offset + len(rows)  # the last page: the count is known
    if not rows and window.after is None and offset == 0:
        return page, 0
    if conditions:
        counted = select(func.count()).select_from(src).where(*conditions)
    else:  # no filter: count the base rows only, which an index can answer
        counted = collection.unfiltered_count()
    matched = session.execute(counted).scalar_one()
    return page, int(matched)


def item(session: Session, collection: Collection, feature_id: str) -> dict[str, Any]:
    """One feature by id; NotFound when there is none."""
    missing = NotFound(f"no feature {feature_id!r} in collection {collection.id!r}")
    key: Any = feature_id
    if collection.id_kind == "uuid":
        try:
            key = uuid.UUID(feature_id)
        except ValueError:
            raise missing from None
    src = collection.source()
    inner = select(src).where(src.c[collection.id_property] == key)
    row = session.execute(_page_statement(collection, inner)).mappings().first()
    if row is None:
        raise missing
    return _feature(collection, row)


def extent(session: Session, collection: Collection) -> dict[str, Any] | None:
    """The collection's spatial extent (CRS84 bbox) and temporal interval, from the data."""
    src = collection.source()
    box = func.ST_Extent(src.c.geom)
    columns = [
        func.ST_XMin(box).label("min_x"),
        func.ST_YMin(box).label("min_y"),
        func.ST_XMax(box).label("max_x"),
        func.ST_YMax(box).label("max_y"),
    ]
    if collection.temporal:
        columns += [
            func.min(src.c[collection.temporal]).label("start"),
            func.max(src.c[collection.temporal]).label("end"),
        ]
    row = session.execute(select(*columns)).mappings().one()
    if row["min_x"] is None:
        return None
    out: dict[str, Any] = {
        "spatial": {
            "bbox": [[row["min_x"], row["min_y"], row["max_x"], row["max_y"]]],
            "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        }
    }
    if collection.temporal:
        out["temporal"] = {
            "interval": [
                [
                    f"{row['start'].isoformat()}T00:00:00Z",
                    f"{row['end'].isoformat()}T23:59:59Z",
                ]
            ],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return out

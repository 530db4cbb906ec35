"""Mapbox vector tiles (MVT) of the map layers, built by PostGIS in one statement per tile.

A layer is the SELECT of an OGC collection (``api.ogc.collections``) restricted to the
attributes a map needs (no restricted field), with its footprint in EPSG:4326. A tile is

* the index filter ``geom && ST_Transform(ST_TileEnvelope(z, x, y, margin), 4326)`` (the
  margin is the MVT buffer, so features just outside the tile still draw their edges),
* the geometry in Web Mercator, clipped and quantised to the tile grid by ``ST_AsMVTGeom``
  (which also drops the vertices that snap together: at low zooms a hazard keeps a handful
  of vertices). No ``ST_SimplifyPreserveTopology`` before it: measured at 50,000 hazards it
  made z6-z10 tiles 40-100 % slower for a 4 % smaller tile (scripts/bench/tiles.py),
* ``ST_AsMVT`` over those rows.

A hazard is never dropped: when its polygon collapses at a low zoom (smaller than a tile
pixel), the tile carries a point at ``ST_PointOnSurface`` instead.

The ETag of a tile is a fingerprint of the rows it shows: how many current rows meet the
tile envelope (with its margin) and a sum of hashes of each row's id and of what it draws
(version, status, remaining area...). One small aggregate over the same index filter, run
before the tile is built, so a matching ``If-None-Match`` costs no tile. A write changes the
fingerprint of exactly the tiles its rows meet (before or after the write), and no other.
"""

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import morecantile
from sqlalchemy import Select, Text, cast, func, literal_column, select
from sqlalchemy.orm import Session

from api.db.models import (
    EOFind,
    Hazard,
    HazardLandRelease,
    PublicHazard,
    PublicReleased,
)
from api.db.models.context import CONTEXT_LAYERS
from api.ogc.collections import ADMIN_AREAS, HAZARDS, RELEASES, Collection
from api.services.public import latest_publication_id

EXTENT = 4096  # MVT coordinate grid per tile side
BUFFER = 64  # grid units drawn outside the tile (line and fill edges)
MAX_ZOOM = 22
TILE_FORMAT_VERSION = (
    "2"  # bump when the SQL changes what a tile shows: every ETag changes
)
OVERVIEW_BELOW = 10  # public layers: merged features below zoom 10 (a tile of ~40 km)
OVERVIEW_EXTENT = 512  # grid of a merged tile: 2 units a pixel of a 256-px tile
OVERVIEW_MIN_UNITS = 1.5  # half-side, in tile grid units, of a collapsed area's square

WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")


@dataclass(frozen=True)
class Layer:
    """A map layer: the collection it reads, its MVT attributes and its ETag fingerprint."""

    name: str
    base: Any  # callable(columns) -> Select of current rows
    attributes: tuple[tuple[str, Any], ...]  # (attribute name, SQL)
    footprint: Any  # geometry column in EPSG:4326
    fingerprint: tuple[Any, ...]  # SQL of what a feature draws, hashed into the ETag
    restricted: bool = True  # operational data: signed-in callers only
    # below this zoom a tile merges its features by these attributes (see tile_statement)
    overview_below: int = 0
    overview_by: tuple[str, ...] = ()


def _from_collection(collection: Collection, names: tuple[str, ...]) -> tuple:
    by_name = {p.name: p.sql for p in collection.properties}
    out = []
    for name in names:
        sql = by_name[name]
        out.append((name, sql))
    return tuple(out)


def _text(sql: Any) -> Any:
    return cast(sql, Text)


_HAZARD_ATTRS = _from_collection(
    HAZARDS,
    ("external_id", "name", "classification", "hazard_type", "status", "organisation"),
)

LAYERS: dict[str, Layer] = {
    "hazards": Layer(
        name="hazards",
        base=HAZARDS.base,
        attributes=(
            ("id", _text(Hazard.id)),
            *_HAZARD_ATTRS,
            # MVT attributes are scalars: the contamination list as "ap_mine,uxo"
            ("contamination", func.array_to_string(Hazard.contamination, ",")),
            # the map filters by area: every P-code it lies in, as "UA05,UA0502"
            ("admin", func.array_to_string(Hazard.admin_pcodes, ",")),
            ("remaining_area_m2", HazardLandRelease.remaining_area_m2),
        ),
        footprint=HAZARDS.footprint,
        fingerprint=(
            Hazard.id,
            Hazard.version,
            Hazard.updated_at,
            Hazard.status,
            HazardLandRelease.remaining_area_m2,
            func.array_to_string(
                Hazard.admin_pcodes, ","
            ),  # set again by admin imports
        ),
    ),
    "releases": Layer(
        name="releases",
        base=RELEASES.base,
        attributes=(
            ("id", _text(RELEASES.properties[0].sql)),
            *_from_collection(RELEASES, ("outcome",)),
            ("date", _text(dict(_from_collection(RELEASES, ("date",)))["date"])),
            *(
                (name, _text(sql))
                for name, sql in _from_collection(
                    RELEASES, ("hazard_id", "activity_id")
                )
            ),
            *_from_collection(RELEASES, ("activity_type",)),
        ),
        footprint=RELEASES.footprint,
        fingerprint=tuple(
            sql
            for _, sql in _from_collection(
                RELEASES, ("id", "outcome", "date", "hazard_id", "activity_id")
            )
        ),
    ),
    "admin-areas": Layer(
        name="admin-areas",
        base=ADMIN_AREAS.base,
        attributes=_from_collection(ADMIN_AREAS, ("pcode", "name", "level")),
        footprint=ADMIN_AREAS.footprint,
        fingerprint=(
            *(sql for _, sql in _from_collection(ADMIN_AREAS, ("pcode", "name"))),
            func.md5(func.ST_AsBinary(ADMIN_AREAS.footprint)),
        ),
    ),
    "eo-finds": Layer(
        name="eo-finds",
        base=lambda columns: (
            select(*columns).select_from(EOFind).where(EOFind.retired_at.is_(None))
        ),
        attributes=(
            ("id", _text(EOFind.id)),
            ("eo_category", EOFind.eo_category),
            ("quantity", EOFind.quantity),
            ("condition", EOFind.condition),
            ("found_on", _text(EOFind.found_on)),
            ("hazard_id", _text(EOFind.hazard_id)),
            ("activity_id", _text(EOFind.activity_id)),
        ),
        footprint=EOFind.geom,
        fingerprint=(
            EOFind.id,
            EOFind.eo_category,
            EOFind.quantity,
            EOFind.condition,
            EOFind.found_on,
            func.ST_AsText(EOFind.geom),
        ),
    ),
    # the public layers: the latest publication only (api.services.public), for anyone
    "public-hazards": Layer(
        name="public-hazards",
        base=lambda columns: (
            select(*columns)
            .select_from(PublicHazard)
            .where(PublicHazard.publication_id == latest_publication_id())
        ),
        attributes=(
            ("id", _text(PublicHazard.id)),
            ("classification", PublicHazard.classification),
            ("hazard_type", PublicHazard.hazard_type),
            ("status", PublicHazard.status),
            ("marking", PublicHazard.marking),
            ("last_update", _text(PublicHazard.last_update)),
        ),
        footprint=PublicHazard.geom,
        fingerprint=(PublicHazard.id,),  # rows are never updated: a new id per change
        restricted=False,
        overview_below=OVERVIEW_BELOW,
        overview_by=("classification", "status"),
    ),
    "public-released": Layer(
        name="public-released",
        base=lambda columns: (
            select(*columns)
            .select_from(PublicReleased)
            .where(PublicReleased.publication_id == latest_publication_id())
        ),
        attributes=(
            ("id", _text(PublicReleased.id)),
            ("outcome", PublicReleased.outcome),
            ("completed_on", _text(PublicReleased.completed_on)),
            ("residual_risk", PublicReleased.residual_risk["en"].astext),
        ),
        footprint=PublicReleased.geom,
        fingerprint=(PublicReleased.id,),
        restricted=False,
        overview_below=OVERVIEW_BELOW,
        overview_by=("outcome",),
    ),
}


def _context_layer(kind: str, attributes: tuple[str, ...]) -> Layer:
    """A context layer (api.db.models.context) for the workspace: signed-in readers only."""
    model = CONTEXT_LAYERS[kind]
    return Layer(
        name=f"context-{kind.replace('_', '-')}",
        base=lambda columns: select(*columns).select_from(model),
        attributes=(
            ("id", _text(model.id)),
            ("name", model.name),
            *((a, getattr(model, a)) for a in attributes),
        ),
        footprint=model.geom,
        fingerprint=(
            model.id,
            model.updated_at,
            func.md5(func.ST_AsBinary(model.geom)),
        ),
    )


# what coordinators weigh when they plan (security zones are left off the map: sensitive)
for _kind, _attrs in (
    ("settlements", ("population",)),
    ("roads", ("road_class",)),
    ("facilities", ("facility_type",)),
    ("land_use", ("land_use",)),
):
    _layer = _context_layer(_kind, _attrs)
    LAYERS[_layer.name] = _layer


def valid_tile(z: int, x: int, y: int) -> bool:
    """Whether z/x/y is a Web Mercator (WebMercatorQuad) tile with 0 <= z <= MAX_ZOOM."""
    if not 0 <= z <= MAX_ZOOM:
        return False
    extrema = WEB_MERCATOR.minmax(z)
    return (
        extrema["x"]["min"] <= x <= extrema["x"]["max"]
        and extrema["y"]["min"] <= y <= extrema["y"]["max"]
    )


def _filter_box(z: int, x: int, y: int):
    """The tile envelope with the buffer margin, in EPSG:4326 (for the GiST index)."""
    margin = func.ST_TileEnvelope(
        z, x, y, literal_column(f"margin => {BUFFER / EXTENT!r}")
    )
    return func.ST_Transform(margin, 4326)


def _in_tile(layer: Layer, z: int, x: int, y: int):
    return layer.footprint.op("&&")(_filter_box(z, x, y))


def tile_statement(layer: Layer, z: int, x: int, y: int) -> Select:
    """SELECT ST_AsMVT(...) of the layer's rows meeting tile z/x/y (one statement)."""
    if z < layer.overview_below:
        return overview_statement(layer, z, x, y)
    envelope = func.ST_TileEnvelope(z, x, y)
    mercator = func.ST_Transform(layer.footprint, 3857)
    geom = func.coalesce(
        func.ST_AsMVTGeom(mercator, envelope, EXTENT, BUFFER, True),
        # a feature smaller than one tile pixel collapses: keep it as a point
        func.ST_AsMVTGeom(
            func.ST_PointOnSurface(mercator), envelope, EXTENT, BUFFER, True
        ),
    )
    columns = [sql.label(name) for name, sql in layer.attributes]
    rows = (
        layer.base([*columns, geom.label("geom")])
        .where(_in_tile(layer, z, x, y))
        # OFFSET 0 keeps this a subquery: flattened, PostgreSQL would compute ST_AsMVTGeom
        # twice a row (once for the IS NOT NULL filter, once for the output)
        .offset(0)
        .subquery("mvt_rows")
    )
    features = select(rows).where(rows.c.geom.is_not(None)).subquery("t")
    return _mvt(features, layer.name, EXTENT)


def _mvt(features, name: str, extent: int) -> Select:
    """ST_AsMVT over the subquery ``t`` of features (an empty tile is b"")."""
    return select(
        func.coalesce(func.ST_AsMVT(literal_column("t"), name, extent, "geom"), b"")
    ).select_from(features)


def overview_statement(layer: Layer, z: int, x: int, y: int) -> Select:
    """A low-zoom tile of a public layer: its areas, clipped and snapped to the tile grid,
    merged into one MultiPolygon per value of ``layer.overview_by`` (e.g. classification
    and status). Tens of thousands of small areas in a national view become a few features,
    so the public map loads in a few hundred kB. Nothing disappears: an area smaller than
    the grid becomes a square of 2 x OVERVIEW_MIN_UNITS units (of OVERVIEW_EXTENT a side)."""
    envelope = func.ST_TileEnvelope(z, x, y)
    mercator = func.ST_Transform(layer.footprint, 3857)
    extent, buffer = OVERVIEW_EXTENT, BUFFER * OVERVIEW_EXTENT // EXTENT
    unit = 2 * 20037508.342789244 / (2**z) / extent  # metres per grid unit
    square = func.ST_Expand(func.ST_PointOnSurface(mercator), OVERVIEW_MIN_UNITS * unit)
    geom = func.coalesce(
        func.ST_AsMVTGeom(mercator, envelope, extent, buffer, True),
        func.ST_AsMVTGeom(square, envelope, extent, buffer, True),
    )
    attrs = dict(layer.attributes)
    columns = [attrs[name].label(name) for name in layer.overview_by]
    rows = (
        layer.base([*columns, geom.label("geom")])
        .where(_in_tile(layer, z, x, y))
        .offset(0)
        .subquery("mvt_rows")
    )
    keys = [rows.c[name] for name in layer.overview_by]
    # ST_Union re-orients rings (exterior clockwise in y-up terms): put them back the way
    # ST_AsMVTGeom leaves them, exterior rings positive in tile coordinates (MVT 2.1 4.3.4.4),
    # or strict clients (QGIS, GDAL) read every ring as a hole and draw nothing
    merged = func.ST_ForcePolygonCCW(
        func.ST_CollectionExtract(func.ST_Union(rows.c.geom), 3)
    )
    features = (
        select(*keys, merged.label("geom"))
        .where(rows.c.geom.is_not(None))
        .group_by(*keys)
        .subquery("t")
    )
    return _mvt(features, layer.name, extent)


def fingerprint_statement(layer: Layer, z: int, x: int, y: int) -> Select:
    """count(*) and a sum of per-row hashes of the layer's rows meeting the tile."""
    parts = [func.coalesce(_text(p), "") for p in layer.fingerprint]
    row_hash = func.hashtextextended(func.concat_ws("|", *parts), 0)
    rows = layer.base([row_hash.label("h")]).where(_in_tile(layer, z, x, y))
    sub = rows.subquery("f")
    return select(
        func.count().label("n"), func.coalesce(func.sum(sub.c.h), 0).label("h")
    ).select_from(sub)


def _etag(layer: Layer, z: int, x: int, y: int, count: int, total: Any) -> str:
    digest = hashlib.blake2b(
        f"{TILE_FORMAT_VERSION}|{layer.name}|{z}/{x}/{y}|{count}|{total}".encode(),
        digest_size=12,
    ).hexdigest()
    return f'"{digest}"'


def etag(session: Session, layer: Layer, z: int, x: int, y: int) -> str:
    """A strong ETag for tile z/x/y of ``layer``, from the rows it shows."""
    count, total = session.execute(fingerprint_statement(layer, z, x, y)).one()
    return _etag(layer, z, x, y, count, total)


def tile_and_etag(
    session: Session, layer: Layer, z: int, x: int, y: int
) -> tuple[bytes, str]:
    """The tile and its ETag in one statement (for a request without If-None-Match)."""
    fp = fingerprint_statement(layer, z, x, y).subquery("fp")
    mvt = tile_statement(layer, z, x, y).scalar_subquery()
    count, total, data = session.execute(select(fp.c.n, fp.c.h, mvt)).one()
    return bytes(data or b""), _etag(layer, z, x, y, count, total)


# A publication never changes: its tiles are kept in memory, keyed by publication, so a public
# tile costs one indexed lookup of the latest publication once built.
_PUBLISHED: OrderedDict[tuple, tuple[bytes, str]] = OrderedDict()
PUBLISHED_CACHE_BYTES = 64 * 1024 * 1024
_published_bytes = 0
_published_lock = threading.Lock()


def published_tile(
    session: Session, layer: Layer, z: int, x: int, y: int
) -> tuple[bytes, str]:
    """Tile z/x/y of a public layer and its ETag (the latest publication's id and the tile),
    from the in-memory cache when this publication's tile was built before."""
    global _published_bytes
    pub = session.scalar(select(latest_publication_id()))
    key = (layer.name, str(pub), z, x, y)
    with _published_lock:
        hit = _PUBLISHED.get(key)
        if hit is not None:
            _PUBLISHED.move_to_end(key)
            return hit
    data = bytes(session.execute(tile_statement(layer, z, x, y)).scalar_one() or b"")
    entry = (data, _etag(layer, z, x, y, 0, f"publication {pub}"))
    with _published_lock:
        if key not in _PUBLISHED:
            _PUBLISHED[key] = entry
            _published_bytes += len(data)
        while _published_bytes > PUBLISHED_CACHE_BYTES and _PUBLISHED:
            _, (old, _) = _PUBLISHED.popitem(last=False)
            _published_bytes -= len(old)
    return entry


def tile(session: Session, layer: Layer, z: int, x: int, y: int) -> bytes:
    """The MVT bytes of tile z/x/y of ``layer`` (empty when no feature meets it)."""
    data = session.execute(tile_statement(layer, z, x, y)).scalar_one()
    return bytes(data or b"")

"""Mapbox vector tiles of the map layers: ``GET /tiles/{layer}/{z}/{x}/{y}.mvt``.

Web Mercator XYZ tiles (WebMercatorQuad, z 0–22). ``public-hazards`` and ``public-released``
show the latest publication of the public layer to anyone. A publication never changes, so
a tile asked for with ``?v=`` the latest publication's tile version (``public_tiles`` of
``/map-config.json``: the publication's id and the tile format) is ``Cache-Control: public,
max-age=31536000, immutable``; without it, or with an older version (a page opened before
the last publication), the latest publication's tile is ``public, max-age=60``, so a new
publication reaches every cache within a minute. The other layers are operational data:
anonymous callers get 401;
``eo-finds`` shows exact find locations and is for callers who may see them (403 otherwise).
A tile with no feature is an empty 200 body (``Content-Length: 0``).

Caching: each tile has a strong ETag computed from the rows it shows (see
``api.services.tiles``); ``If-None-Match`` with it answers 304 without building the tile.
Restricted layers are ``Cache-Control: private, max-age=0, must-revalidate``: a browser keeps
the tile but asks again each time, so a write shows at once on exactly the tiles it touches.
"""

import gzip
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import PrincipalDep, SessionDep
from api.errors import BadRequest, Forbidden, NotFound, problem_responses
from api.services import tiles
from api.services.auth import require_reader, sees_exact_locations
from api.services.public import latest_publication_id

router = APIRouter(prefix="/tiles", tags=["map tiles"])

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
PRIVATE_CACHE = "private, max-age=0, must-revalidate"
# public layers: a new publication reaches every cache within a minute
PUBLIC_CACHE = "public, max-age=60"
# a public tile asked for with its publication's version: that URL never shows anything else
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"


def public_tiles_version(session: Session) -> str | None:
    """The version naming the latest publication's public tiles (``?v=``), or None before
    the first publication; it changes with the publication and with the tile format."""
    pub = session.scalar(select(latest_publication_id()))
    return None if pub is None else f"{pub}.{tiles.TILE_FORMAT_VERSION}"


def _coordinate(name: str, value: str) -> int:
    if not value.isdigit():
        raise BadRequest(f"{name} must be a non-negative integer, not {value!r}")
    return int(value)


def _matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {
        c.strip().removeprefix("W/").replace(GZIP_TAG, '"')
        for c in if_none_match.split(",")
    }
    return "*" in candidates or tag in candidates


GZIP_TAG = '-gzip"'  # the gzipped representation's ETag: the tile's, with this suffix


def _gzip_wanted(accept_encoding: str | None) -> bool:
    for part in (accept_encoding or "").split(","):
        coding, _, q = part.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return q.strip().replace(" ", "") not in ("q=0", "q=0.0", "q=0.00")
    return False


@router.get(
    "/{layer}/{z}/{x}/{y}.mvt",
    response_class=Response,
    responses={
        200: {
            "content": {MVT_MEDIA_TYPE: {}},
            "description": "The tile (an empty body when no feature meets it)",
        },
        304: {"description": "Not modified (If-None-Match matches the ETag)"},
        **problem_responses(400, 401, 403, 404),
    },
)
def get_tile(
    session: SessionDep,
    principal: PrincipalDep,
    layer: Annotated[
        str,
        Path(
            description="hazards, releases, admin-areas, eo-finds, public-hazards "
            "or public-released"
        ),
    ],
    z: Annotated[str, Path(description="zoom, 0–22")],
    x: Annotated[str, Path(description="column, 0 to 2^z − 1")],
    y: Annotated[str, Path(description="row from the north, 0 to 2^z − 1")],
    v: Annotated[
        str | None,
        Query(
            max_length=100,
            description="public layers: the latest publication's tile version "
            "(public_tiles of /map-config.json); the tile is then cacheable for a year",
        ),
    ] = None,
    if_none_match: Annotated[str | None, Header()] = None,
    accept_encoding: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """A Mapbox vector tile of one map layer, with an ETag for conditional requests."""
    spec = tiles.LAYERS.get(layer)
    if spec is None:
        raise NotFound(f"no tile layer {layer!r}; layers: {', '.join(tiles.LAYERS)}")
    if spec.restricted:
        reader = require_reader(principal)
        if layer == "eo-finds" and not sees_exact_locations(reader):
            raise Forbidden(
                "the eo-finds layer shows exact find locations: admins, coordinators "
                "and users with restricted access only"
            )
    zoom, col, row = _coordinate("z", z), _coordinate("x", x), _coordinate("y", y)
    if not tiles.valid_tile(zoom, col, row):
        raise BadRequest(
            f"no tile {zoom}/{col}/{row}: z is 0–{tiles.MAX_ZOOM} and x, y are "
            f"0–{2 ** min(zoom, tiles.MAX_ZOOM) - 1}"
        )
    cache = PRIVATE_CACHE
    if not spec.restricted:  # a publication: immutable, built once and kept in memory
        # the version is read first: publications only move forward, so the tile is of
        # that publication (or, in a race with a new one, newer), never older than its URL
        current = public_tiles_version(session) if v else None
        body, tag = tiles.published_tile(session, spec, zoom, col, row)
        cache = IMMUTABLE_CACHE if v and v == current else PUBLIC_CACHE
    elif (
        if_none_match
    ):  # a revalidation: the fingerprint first, the tile only if changed
        tag = tiles.etag(session, spec, zoom, col, row)
        body = None
    else:  # a first request: tile and fingerprint in one statement
        body, tag = tiles.tile_and_etag(session, spec, zoom, col, row)
    headers = {
        "ETag": tag,
        "Cache-Control": cache,
        "Vary": "Authorization, X-API-Key, Accept-Encoding",
    }
    gzipped = _gzip_wanted(accept_encoding)
    if gzipped:  # one tag per representation (RFC 9110 §8.8.3)
        headers["ETag"] = tag[:-1] + GZIP_TAG
    if _matches(if_none_match, tag):
        return Response(status_code=304, headers=headers)
    if body is None:
        body = tiles.tile(session, spec, zoom, col, row)
    if gzipped:  # MVT compresses 2-4x; every body, so one tag means one representation
        body = gzip.compress(body, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=MVT_MEDIA_TYPE, headers=headers)

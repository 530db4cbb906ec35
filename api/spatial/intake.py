"""Geometry intake: the one gate every geometry passes before it is stored.

Rules (also in the README):

* Accepted types: Polygon and MultiPolygon (stored as MultiPolygon); Point only where the
  caller allows it (``uxo_spot`` and ``axo_site`` hazards, EO finds, benchmarks).
* Rejected, with a JSON pointer to the offending member: null or empty geometry, a type that is
  not allowed, malformed coordinate arrays, non-numeric, NaN or infinite coordinates, longitude
  outside ±180 or latitude outside ±90, rings with fewer than 4 positions or not closed, zero
  area (under 0.01 m²), more vertices than the configured limit.
* Rejected as implausible (cost and meaning): an edge spanning more than 180° of longitude (a
  straight line in longitude/latitude goes the long way round the globe: a geometry crossing the
  antimeridian must be split there, RFC 7946 §3.1.9), a polygon reaching a pole (latitude
  ±90: touching, covering or around it), an edge joining nearly antipodal positions (more than
  179° apart on the globe: no great circle, no distance), and, where the caller sets a bound
  (``max_area_m2``; hazards: ``api.ingest.gate.hazard_area_bound``), an area above it.
* Repaired, with a warning saying what and where: self-intersections, bow-ties, spikes and other
  OGC invalidity (``shapely.make_valid``, keeping only the polygonal parts; a warning gives the
  validity reason, the location and any area difference); Z and M values (dropped).
* Never stored: an invalid geometry. The geometry as submitted is kept in history by the caller.

Coordinates are WGS 84 longitude/latitude (EPSG:4326) as in RFC 7946. Pure functions: no
database, no HTTP.
"""

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import GeometryCollection, MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

# Lon/lat -> ellipsoidal cylindrical equal-area (EPSG:6933), as sg_area_m2 does in PostGIS.
_TO_EQUAL_AREA = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)
DENSIFY_DEG = 0.0002
# At most this many positions are added when densifying a geometry to measure it: a geometry
# whose perimeter exceeds DENSIFY_DEG x MAX_DENSIFIED_POINTS (0.4°, a square of about 100 km²)
# is densified in proportionally longer steps. The figure of a plausible hazard changes by less
# than 1e-9 relative (a one-degree square: 5e-10, under 5 m² of 9,000 km²; the densification
# follows the curvature of the edges in EPSG:6933, which is slight); the cost is bounded, so a
# row with edges spanning the globe costs what a 100 km² hazard costs. ``sg_area_m2`` in the
# database uses the same step (migration 0016).
MAX_DENSIFIED_POINTS = 2_000
# Without the programme's admin areas, hazards larger than this are refused as implausible: a
# hazard polygon is a field, a forest edge, a stretch of road, usually well under a few km²
# (demo hazards are at most 0.6 km²). A larger figure is a coordinate error (an edge read the
# long way round the globe, swapped or mistyped coordinates), not a hazard. With admin areas
# the bound is the largest top-level admin area the hazard touches (api.ingest.gate), and
# SAFEGROUND_MAX_HAZARD_AREA_KM2 sets a fixed one. Only hazards (API, reports, imports) are
# bounded: admin areas, context layers and release polygons are not.
NO_PROGRAMME_MAX_AREA_M2 = 1_000e6
POLYGONAL = ("Polygon", "MultiPolygon")
# Positions are stored on the grid the API serves them on (9 decimals of a degree, about
# 0.1 mm: ``api.ogc.collections.GEOJSON_PRECISION``), so that the geometry served is the one
# stored and is valid: rounding a valid polygon at output can collapse a ring or make two
# touch; rounding it at intake shows that before it is stored, and it is repaired there.
GRID_DEG = 1e-9  # 9 decimals, as the repair message says
DEFAULT_MAX_VERTICES = 100_000
MIN_AREA_M2 = (
    0.01  # below one square decimetre a polygon is degenerate (collinear positions)
)


@dataclass
class IntakeProblem(Exception):
    """A geometry was rejected; ``errors`` are ``{"pointer", "message"}`` items."""

    errors: list[dict[str, str]]

    def __str__(self) -> str:
        return "; ".join(f"{e['pointer']}: {e['message']}" for e in self.errors)


@dataclass
class IntakeResult:
    """A geometry accepted by the intake, with what was changed on the way."""

    geometry: BaseGeometry
    warnings: list[str] = field(default_factory=list)
    # the ellipsoidal area of ``geometry`` when the intake measured it (the batch intake
    # does), so that the writer need not measure it again
    area_m2: float | None = None

    @property
    def repaired(self) -> bool:
        """Whether the stored geometry differs from the submitted one beyond Z values."""
        return any(w.startswith("repaired") for w in self.warnings)


def densify_step(geom: BaseGeometry) -> float:
    """The densification step, in degrees, used to measure ``geom`` (see MAX_DENSIFIED_POINTS).

    ``GREATEST(0.0002, ST_Perimeter(g) / 2000)`` in ``sg_area_m2``.
    """
    return max(DENSIFY_DEG, shapely.length(geom) / MAX_DENSIFIED_POINTS)


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygonal parts of ``geom`` as one geometry (``ST_CollectionExtract(g, 3)``)."""
    if not isinstance(geom, GeometryCollection):
        return geom
    polys: list[Polygon] = []
    for part in geom.geoms:
        if part.geom_type in POLYGONAL:
            polys.extend(shapely.get_parts(part))
        elif isinstance(part, GeometryCollection):
            inner = _polygonal(part)
            if not inner.is_empty:
                polys.extend(shapely.get_parts(inner))
    return MultiPolygon(polys)


def ellipsoidal_area_m2(geom: BaseGeometry) -> float:
    """Area in m² on the WGS 84 ellipsoid of a lon/lat geometry (0 for points and lines; a
    collection counts its polygonal parts).

    Edges are straight lines in longitude/latitude (RFC 7946): the geometry is densified to
    0.0002° (in longer steps for a perimeter over 0.4°, so that at most MAX_DENSIFIED_POINTS
    positions are added) and measured in the ellipsoidal equal-area projection EPSG:6933,
    exactly as the database function ``sg_area_m2`` does, so Python and SQL figures agree.
    """
    geom = _polygonal(geom)
    if geom.is_empty or geom.geom_type not in POLYGONAL:
        return 0.0
    dense = shapely.segmentize(geom, densify_step(geom))
    projected = shapely.transform(
        dense, lambda xy: np.column_stack(_TO_EQUAL_AREA.transform(xy[:, 0], xy[:, 1]))
    )
    return projected.area


def ellipsoidal_areas(geoms: list[BaseGeometry]) -> np.ndarray:
    """``ellipsoidal_area_m2`` of many geometries at once (one projection call in all)."""
    arr = np.array(geoms, dtype=object)
    polygonal = np.isin(shapely.get_type_id(arr), (3, 6))
    out = np.zeros(len(arr))
    if polygonal.any():
        parts = arr[polygonal]
        steps = np.maximum(DENSIFY_DEG, shapely.length(parts) / MAX_DENSIFIED_POINTS)
        dense = shapely.segmentize(parts, steps)
        projected = shapely.transform(
            dense,
            lambda xy: np.column_stack(_TO_EQUAL_AREA.transform(xy[:, 0], xy[:, 1])),
        )
        out[polygonal] = shapely.area(projected)
    return out


def long_way_edge(geom: BaseGeometry) -> tuple[list[int], tuple, tuple] | None:
    """The first edge of ``geom`` spanning more than 180° of longitude, or None.

    Returns the path of its end position in the GeoJSON coordinates (``[polygon, ring,
    position]`` for a MultiPolygon, ``[ring, position]`` for a Polygon) and both ends.
    """
    for prefix, xy in _rings(geom):
        span = np.abs(np.diff(xy[:, 0]))
        if len(span) and span.max() > 180.0:
            k = int(np.argmax(span > 180.0))
            return [*prefix, k + 1], tuple(xy[k]), tuple(xy[k + 1])
    return None


# Two positions more than this far apart on the globe (in degrees of arc) are "nearly
# antipodal": no single great circle joins exactly antipodal positions, and near them the one
# PostGIS computes is unstable (its geography functions, used for every distance, fail with
# "Antipodal edge detected" or answer nonsense). An edge of a plausible geometry is a few
# kilometres; 179° of arc is 19,900 km.
MAX_EDGE_ARC_DEG = 179.0
_COS_MAX_EDGE_ARC = math.cos(math.radians(MAX_EDGE_ARC_DEG))


def _rings(geom: BaseGeometry) -> Iterator[tuple[list[int], np.ndarray]]:
    """``(path prefix, coordinates)`` of every ring of a Polygon or MultiPolygon, the prefix
    being ``[polygon, ring]`` for a MultiPolygon and ``[ring]`` for a Polygon; none for
    other types."""
    polygons: list[Polygon]
    if isinstance(geom, Polygon):
        polygons, multi = [geom], False
    elif isinstance(geom, MultiPolygon):
        polygons, multi = list(geom.geoms), True
    else:
        return
    for i, poly in enumerate(polygons):
        for r, ring in enumerate([poly.exterior, *poly.interiors]):
            yield ([i, r] if multi else [r]), shapely.get_coordinates(ring)


def pole_or_antipodal(geom: BaseGeometry) -> tuple[str, list[int], tuple, tuple] | None:
    """The first position of a polygon at a pole, or the first edge joining nearly antipodal
    positions (more than MAX_EDGE_ARC_DEG apart on the globe); None when there is neither.

    Returns ``("pole", path, position, position)`` or ``("antipodal", path, start, end)``, the
    path (as in ``long_way_edge``) naming the position, or the end of the edge.
    """
    for prefix, xy in _rings(geom):
        at_pole = np.abs(xy[:, 1]) >= 90.0
        if at_pole.any():
            k = int(np.argmax(at_pole))
            return "pole", [*prefix, k], tuple(xy[k]), tuple(xy[k])
        lon, lat = np.radians(xy[:, 0]), np.radians(xy[:, 1])
        cos_arc = np.sin(lat[:-1]) * np.sin(lat[1:]) + np.cos(lat[:-1]) * np.cos(
            lat[1:]
        ) * np.cos(np.diff(lon))
        far = cos_arc < _COS_MAX_EDGE_ARC
        if far.any():
            k = int(np.argmax(far))
            return "antipodal", [*prefix, k + 1], tuple(xy[k]), tuple(xy[k + 1])
    return None


def check_plausible(
    geom: BaseGeometry, pointer: str, max_area_m2: float | None = None
) -> float | None:
    """Refuse an edge read the long way round the globe and, with ``max_area_m2``, an area
    above it. Cheap: the area is measured with at most MAX_DENSIFIED_POINTS added positions.

    Returns the area when it was measured (``max_area_m2`` given), else None.
    """
    edge = long_way_edge(geom)
    if edge is not None:
        path, (x0, y0), (x1, y1) = edge
        raise _reject(
            pointer + "/coordinates" + "".join(f"/{p}" for p in path),
            f"the edge from ({_fmt(x0)}, {_fmt(y0)}) to ({_fmt(x1)}, {_fmt(y1)}) spans "
            f"{_fmt(abs(x1 - x0))}° of longitude: as a straight line in longitude/latitude "
            "(RFC 7946) it goes the long way round the globe, not across the antimeridian; "
            "split a geometry that crosses the antimeridian at ±180° (RFC 7946 §3.1.9)",
        )
    found = pole_or_antipodal(geom)
    if found is not None:
        kind, path, (x0, y0), (x1, y1) = found
        where = pointer + "/coordinates" + "".join(f"/{p}" for p in path)
        if kind == "pole":
            raise _reject(
                where,
                f"the polygon reaches the {'north' if y0 > 0 else 'south'} pole at "
                f"({_fmt(x0)}, {_fmt(y0)}): at latitude ±90° every longitude is one point, "
                "so a polygon touching, covering or around a pole has no single shape on "
                "the globe and no distance to it can be computed; check the coordinates "
                "(latitude and longitude swapped?)",
            )
        raise _reject(
            where,
            f"the edge from ({_fmt(x0)}, {_fmt(y0)}) to ({_fmt(x1)}, {_fmt(y1)}) joins "
            f"positions more than {MAX_EDGE_ARC_DEG:g}° apart on the globe (nearly "
            "antipodal): no single great circle joins them, so no distance to the polygon "
            "can be computed; a polygon covering the globe or half of it is not a record "
            "of this programme: check the coordinates",
        )
    if max_area_m2 is None:
        return None
    area = ellipsoidal_area_m2(geom)
    if area > max_area_m2:
        raise _reject(
            pointer,
            f"geometry encloses {area / 1e6:,.0f} km², more than the {max_area_m2 / 1e6:,.0f} "
            "km² accepted for a hazard: check the coordinates (swapped, mistyped, or an edge "
            "across the antimeridian)",
        )
    return area


def _reject(pointer: str, message: str) -> IntakeProblem:
    return IntakeProblem([{"pointer": pointer, "message": message}])


def _fmt(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".")


class _Checker:
    """Walks the raw GeoJSON coordinates, collecting errors and counting vertices."""

    def __init__(self, pointer: str, max_vertices: int) -> None:
        self.pointer = pointer
        self.max_vertices = max_vertices
        self.errors: list[dict[str, str]] = []
        self.vertices = 0
        self.dropped_dimensions = False

    def error(self, path: list[int | str], message: str) -> None:
        if len(self.errors) < 20:  # enough to fix a file; never an unbounded list
            ptr = self.pointer + "/coordinates" + "".join(f"/{p}" for p in path)
            self.errors.append({"pointer": ptr, "message": message})

    def position(self, pos: Any, path: list[int | str]) -> tuple[float, float] | None:
        if not isinstance(pos, list | tuple) or len(pos) < 2:
            self.error(
                path, "a position must be an array of at least 2 numbers [lon, lat]"
            )
            return None
        values = []
        for i, v in enumerate(pos):
            if isinstance(v, bool) or not isinstance(v, int | float):
                self.error([*path, i], f"coordinate must be a number, got {v!r}")
                return None
            if not math.isfinite(v):
                self.error([*path, i], f"coordinate must be finite, got {v}")
                return None
            values.append(float(v))
        if len(values) > 2:
            self.dropped_dimensions = True
        lon, lat = values[0], values[1]
        if not -180.0 <= lon <= 180.0:
            self.error([*path, 0], f"longitude {lon} is outside -180..180")
            return None
        if not -90.0 <= lat <= 90.0:
            self.error([*path, 1], f"latitude {lat} is outside -90..90")
            return None
        self.vertices += 1
        return lon, lat

    def ring(
        self, ring: Any, path: list[int | str]
    ) -> list[tuple[float, float]] | None:
        if not isinstance(ring, list | tuple):
            self.error(path, "a linear ring must be an array of positions")
            return None
        read = [self.position(p, [*path, i]) for i, p in enumerate(ring)]
        points = [p for p in read if p is not None]
        if len(points) < len(read):
            return None
        if len(points) < 4:
            self.error(
                path, f"a linear ring needs at least 4 positions, got {len(points)}"
            )
            return None
        if points[0] != points[-1]:
            self.error(
                path,
                "linear ring is not closed: first position "
                f"({_fmt(points[0][0])}, {_fmt(points[0][1])}) differs from last "
                f"({_fmt(points[-1][0])}, {_fmt(points[-1][1])})",
            )
            return None
        return points

    def polygon(self, rings: Any, path: list[int | str]) -> Polygon | None:
        if not isinstance(rings, list | tuple) or not rings:
            self.error(path, "a polygon must be a non-empty array of linear rings")
            return None
        parsed = [self.ring(r, [*path, i]) for i, r in enumerate(rings)]
        if any(r is None for r in parsed):
            return None
        return Polygon(parsed[0], parsed[1:])


def _parse(obj: Any, pointer: str, allowed: tuple[str, ...], max_vertices: int):
    if obj is None:
        raise _reject(pointer, "geometry is null; a hazard needs a geometry")
    if not isinstance(obj, dict):
        raise _reject(pointer, "geometry must be a GeoJSON geometry object")
    gtype = obj.get("type")
    if gtype not in allowed:
        raise _reject(
            pointer + "/type",
            f"geometry type {gtype!r} is not accepted here; expected {' or '.join(allowed)}",
        )
    coords = obj.get("coordinates")
    if coords is None:
        raise _reject(pointer + "/coordinates", "coordinates are missing")
    check = _Checker(pointer, max_vertices)
    geom: BaseGeometry | None
    if gtype == "Point":
        pos = check.position(coords, [])
        geom = Point(pos) if pos else None
    elif gtype == "Polygon":
        if coords == []:
            raise _reject(pointer + "/coordinates", "geometry is empty")
        geom = check.polygon(coords, [])
    else:
        if not isinstance(coords, list | tuple) or not coords:
            raise _reject(pointer + "/coordinates", "geometry is empty")
        polys = [check.polygon(p, [i]) for i, p in enumerate(coords)]
        geom = None if any(p is None for p in polys) else MultiPolygon(polys)
    if check.errors:
        raise IntakeProblem(check.errors)
    if check.vertices > max_vertices:
        raise _reject(
            pointer + "/coordinates",
            f"geometry has {check.vertices} vertices; the limit is {max_vertices}",
        )
    assert geom is not None
    return geom, check.dropped_dimensions


def _polygonal_part(geom: BaseGeometry) -> MultiPolygon:
    """Keep only the polygons of ``geom`` (e.g. the output of make_valid)."""
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    polys: list[Polygon] = []
    for part in getattr(geom, "geoms", []):
        if isinstance(part, Polygon):
            polys.append(part)
        elif isinstance(part, MultiPolygon):
            polys.extend(part.geoms)
    return MultiPolygon(polys)


_REASON = re.compile(r"^(?P<what>[^\[]+)\[(?P<x>\S+) (?P<y>\S+)\]$")


def _location_hint(reason: str) -> str:
    """'Self-intersection[30.005 50.005]' -> 'self-intersection at (30.005, 50.005)'."""
    m = _REASON.match(reason.strip())
    if not m:
        return reason
    what = m["what"].strip()
    return (
        f"{what[0].lower()}{what[1:]} at ({_fmt(float(m['x']))}, {_fmt(float(m['y']))})"
    )


def intake_geometry(
    obj: Any,
    *,
    pointer: str = "/geometry",
    allow_point: bool = False,
    allow_polygon: bool = True,
    max_vertices: int = DEFAULT_MAX_VERTICES,
    max_area_m2: float | None = None,
) -> IntakeResult:
    """Validate and, where documented, repair a GeoJSON geometry in EPSG:4326.

    Args:
        obj: the GeoJSON geometry as parsed from JSON (a dict, or None).
        pointer: JSON pointer of ``obj`` in the request, used in error messages.
        allow_point: whether a Point is accepted.
        allow_polygon: whether Polygon/MultiPolygon are accepted.
        max_vertices: limit on the number of positions.
        max_area_m2: a larger area is refused as implausible (``gate.hazard_area_bound`` for
            hazards); None: no bound. An edge spanning more than 180° of longitude is always
            refused.

    Returns:
        The geometry to store (MultiPolygon or Point, 2D, valid) and the warnings.

    Raises:
        IntakeProblem: the geometry is rejected; ``errors`` point at the offending members.
    """
    allowed = (*POLYGONAL,) if allow_polygon else ()
    if allow_point:
        allowed = (*allowed, "Point")
    geom, dropped = _parse(obj, pointer, allowed, max_vertices)
    warnings: list[str] = []
    if dropped:
        warnings.append(
            f"{pointer}: Z/M values dropped; only longitude and latitude are stored"
        )
    if geom.geom_type == "Point":
        return IntakeResult(on_served_grid(geom, pointer, warnings), warnings)

    if geom.is_empty:
        raise _reject(pointer, "geometry is empty")
    check_plausible(geom, pointer)
    if not geom.is_valid:
        reason = _location_hint(explain_validity(geom))
        geom = _repaired(shapely.make_valid(geom), pointer, reason, warnings)
    else:
        geom = _polygonal_part(geom)
    geom = on_served_grid(geom, pointer, warnings)
    if ellipsoidal_area_m2(geom) < MIN_AREA_M2:
        raise _reject(
            pointer, "geometry has zero area: its positions enclose no surface"
        )
    if not geom.is_valid:  # pragma: no cover - make_valid guarantees validity
        raise _reject(
            pointer, "geometry could not be repaired: " + explain_validity(geom)
        )
    check_plausible(geom, pointer, max_area_m2)
    return IntakeResult(geom, warnings)


_M_PER_DEG_LAT = (
    110_574.0  # the smallest length of a degree of latitude (at the equator)
)
_M_PER_DEG_LON = 111_320.0  # a degree of longitude at the equator


def surely_not_degenerate(geom: BaseGeometry) -> bool:
    """A cheap bound: True when the area certainly exceeds 100 x MIN_AREA_M2.

    The planar area in square degrees times the smallest scale over the geometry's latitudes
    is a lower bound of the area in m² (to within 1 %, hence the factor 100 of margin); when it
    is not conclusive the caller measures on the ellipsoid.
    """
    minx, miny, maxx, maxy = geom.bounds
    coslat = math.cos(math.radians(min(89.9, max(abs(miny), abs(maxy)))))
    return (
        geom.area * _M_PER_DEG_LAT * _M_PER_DEG_LON * coslat * 0.99 > 100 * MIN_AREA_M2
    )


def _repaired(
    made_valid: BaseGeometry, pointer: str, reason: str, warnings: list[str]
) -> MultiPolygon:
    """The polygons of ``made_valid`` (a repair's output), with the repair and ``reason``
    reported in ``warnings``; rejected when nothing of an area is left."""
    repaired = _polygonal_part(made_valid)
    if repaired.is_empty or ellipsoidal_area_m2(repaired) < MIN_AREA_M2:
        raise _reject(
            pointer, "geometry has zero area: its positions enclose no surface"
        )
    warnings.append(
        f"repaired {pointer}: {reason}; made valid as {len(repaired.geoms)} "
        f"polygon(s) of {ellipsoidal_area_m2(repaired):.1f} m² in all"
    )
    return repaired


def on_served_grid(
    geom: BaseGeometry, pointer: str, warnings: list[str]
) -> BaseGeometry:
    """``geom`` with its positions rounded to ``GRID_DEG``, valid after the rounding.

    A polygon that rounding makes invalid is made valid on the grid (GEOS snap-rounding) and
    the repair reported in ``warnings``, as any other repair is.
    """
    snapped = shapely.set_precision(geom, GRID_DEG, mode="pointwise")
    if geom.geom_type == "Point" or snapped.is_valid:
        return snapped
    return _repaired(
        shapely.set_precision(geom, GRID_DEG),
        pointer,
        "rounded to the 9 decimals the API serves",
        warnings,
    )


def intake_shape(
    geom: BaseGeometry | None,
    *,
    pointer: str,
    allow_point: bool = False,
    allow_polygon: bool = True,
    max_vertices: int = DEFAULT_MAX_VERTICES,
    max_area_m2: float | None = None,
) -> IntakeResult:
    """The intake's rules for a geometry already read into Shapely (files, not JSON).

    Same outcome as ``intake_geometry(mapping(geom))`` (tests check it), without the round trip
    through GeoJSON: type, coordinates (finite, in range), vertex limit, edges spanning more
    than 180° of longitude, zero area, repairs, ``max_area_m2``.
    """
    allowed = (*POLYGONAL,) if allow_polygon else ()
    if allow_point:
        allowed = (*allowed, "Point")
    if geom is None or geom.is_empty:
        raise _reject(pointer, "geometry is empty")
    if geom.geom_type not in allowed:
        raise _reject(
            pointer + "/type",
            f"geometry type {geom.geom_type!r} is not accepted here; expected {' or '.join(allowed)}",
        )
    if isinstance(geom, MultiPolygon):
        for i, part in enumerate(geom.geoms):
            if part.is_empty:  # as intake_geometry refuses "[]" among the polygons
                raise _reject(
                    pointer + f"/coordinates/{i}",
                    "a polygon must be a non-empty array of linear rings",
                )
    coords = shapely.get_coordinates(geom)
    if len(coords) > max_vertices:
        raise _reject(
            pointer + "/coordinates",
            f"geometry has {len(coords)} vertices; the limit is {max_vertices}",
        )
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        i = int(np.argmax(bad))
        raise _reject(pointer + f"/coordinates/{i}", f"coordinate {i} is not finite")
    for axis, limit, name in ((0, 180.0, "longitude"), (1, 90.0, "latitude")):
        out = np.abs(coords[:, axis]) > limit
        if out.any():
            i = int(np.argmax(out))
            raise _reject(
                pointer + f"/coordinates/{i}",
                f"{name} {coords[i, axis]:g} is outside -{limit:g}..{limit:g}",
            )
    for prefix, xy in _rings(geom):
        if len(xy) < 4:
            raise _reject(
                pointer + "/coordinates" + "".join(f"/{p}" for p in prefix),
                f"a linear ring needs at least 4 positions, got {len(xy)}",
            )
    warnings: list[str] = []
    if shapely.has_z(geom) or shapely.has_m(geom):
        warnings.append(
            f"{pointer}: Z/M values dropped; only longitude and latitude are stored"
        )
        geom = shapely.force_2d(geom)
    if geom.geom_type == "Point":
        return IntakeResult(on_served_grid(geom, pointer, warnings), warnings)
    check_plausible(geom, pointer)
    if not geom.is_valid:
        reason = _location_hint(explain_validity(geom))
        repaired = _repaired(shapely.make_valid(geom), pointer, reason, warnings)
        stored = on_served_grid(repaired, pointer, warnings)
        check_plausible(stored, pointer, max_area_m2)
        return IntakeResult(stored, warnings)
    geom = on_served_grid(_polygonal_part(geom), pointer, warnings)
    if not surely_not_degenerate(geom) and ellipsoidal_area_m2(geom) < MIN_AREA_M2:
        raise _reject(
            pointer, "geometry has zero area: its positions enclose no surface"
        )
    check_plausible(geom, pointer, max_area_m2)
    return IntakeResult(geom, warnings)


def intake_point(obj: Any, *, pointer: str) -> Point:
    """Validate a GeoJSON Point (benchmark, reference point, find location)."""
    result = intake_geometry(
        obj, pointer=pointer, allow_point=True, allow_polygon=False
    )
    return result.geometry  # type: ignore[return-value]


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON mapping of a shapely geometry."""
    return shapely.geometry.mapping(geom)


def from_geojson(obj: dict[str, Any]) -> BaseGeometry:
    """Shapely geometry from a GeoJSON mapping that already passed the intake."""
    return shape(obj)


def _implausible_positions(geoms: np.ndarray) -> np.ndarray:
    """For polygonal ``geoms``, True where some position or edge might break a rule of
    ``check_plausible`` or the coordinate checks of ``intake_shape``: a position that is not
    finite, out of range or at a pole, a ring of fewer than 4 positions, an edge spanning
    more than 180° of longitude or joining nearly antipodal positions. Vectorised over every
    ring of every geometry; the rows it marks take the exact, per-row path."""
    bad = np.zeros(len(geoms), dtype=bool)
    if not len(geoms):
        return bad
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    bad[part_owner[shapely.is_empty(parts)]] = True
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    ring_owner = part_owner[ring_part]
    bad[ring_owner[shapely.get_num_coordinates(rings) < 4]] = True
    xy, coord_ring = shapely.get_coordinates(rings, return_index=True)
    coord_owner = ring_owner[coord_ring]
    finite = np.isfinite(xy).all(axis=1)
    wrong = (
        ~finite
        | ~(np.abs(xy[:, 0]) <= 180.0)
        | ~(np.abs(xy[:, 1]) < 90.0)  # a pole, as pole_or_antipodal says
    )
    bad[coord_owner[wrong]] = True
    same_ring = coord_ring[1:] == coord_ring[:-1]
    with np.errstate(invalid="ignore"):
        span = np.abs(np.diff(xy[:, 0])) > 180.0
        lon, lat = np.radians(xy[:, 0]), np.radians(xy[:, 1])
        cos_arc = np.sin(lat[:-1]) * np.sin(lat[1:]) + np.cos(lat[:-1]) * np.cos(
            lat[1:]
        ) * np.cos(np.diff(lon))
        far = cos_arc < _COS_MAX_EDGE_ARC
    bad[coord_owner[1:][same_ring & (span | far)]] = True
    return bad


def intake_shapes(
    geoms: Sequence[BaseGeometry | None],
    *,
    max_vertices: int = DEFAULT_MAX_VERTICES,
    max_area_m2: float | None = None,
) -> list[IntakeResult | None]:
    """``intake_shape`` of many polygonal geometries at once, for the rows it leaves as they
    are: a valid Polygon or MultiPolygon, 2D, within the vertex limit, plausible (see
    ``_implausible_positions``), still valid on the served grid and with an area between
    MIN_AREA_M2 and ``max_area_m2``. Those get exactly what ``intake_shape`` returns (the
    MultiPolygon on the grid, no warning; a test compares the two); every other row gets
    None and is passed, by the caller, through ``intake_shape`` one by one, for its repair
    or its rejection with the exact message and place.

    One call of each vectorised GEOS/numpy operation over the batch instead of about twenty
    per row: the import of a file of plain polygons costs a fraction of the per-row path.
    """
    out: list[IntakeResult | None] = [None] * len(geoms)
    if not geoms:
        return out
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    ok = np.isin(shapely.get_type_id(arr), (3, 6))
    ok[ok] = (
        ~shapely.is_empty(arr[ok])
        & ~shapely.has_z(arr[ok])
        & ~shapely.has_m(arr[ok])
        & (shapely.get_num_coordinates(arr[ok]) <= max_vertices)
    )
    ok[ok] = shapely.is_valid(arr[ok])
    ok[ok] = ~_implausible_positions(arr[ok])
    idx = np.nonzero(ok)[0]
    if not len(idx):
        return out
    parts, owner = shapely.get_parts(arr[idx], return_index=True)
    multi = shapely.multipolygons(parts, indices=owner)
    snapped: np.ndarray = np.asarray(
        shapely.set_precision(multi, GRID_DEG, mode="pointwise"), dtype=object
    )
    keep = shapely.is_valid(snapped) & ~_implausible_positions(snapped)
    areas = ellipsoidal_areas(list(snapped))
    keep &= areas >= MIN_AREA_M2
    if max_area_m2 is not None:
        keep &= areas <= max_area_m2
    for k in np.nonzero(keep)[0]:
        out[int(idx[k])] = IntakeResult(snapped[k], [], float(areas[k]))
    return out

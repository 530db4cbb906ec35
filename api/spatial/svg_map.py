"""A small printable map: lon/lat geometries drawn as SVG paths around a centre point.

Pure geometry, no database and no HTTP. The projection is a local equirectangular one on the
WGS 84 ellipsoid (metres per degree of latitude and of longitude at the centre's latitude),
good to well under 1 % over the few kilometres a community sheet shows.
"""

import math
from dataclasses import dataclass, field

from shapely import affinity
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

WGS84_A = 6_378_137.0
WGS84_E2 = 0.006_694_379_990_14
NICE_LENGTHS_M = (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000)


def metres_per_degree(lat: float) -> tuple[float, float]:
    """Metres per degree of longitude and of latitude at ``lat`` (degrees), WGS 84."""
    phi = math.radians(lat)
    w = math.sqrt(1 - WGS84_E2 * math.sin(phi) ** 2)
    prime_vertical = WGS84_A / w
    meridional = WGS84_A * (1 - WGS84_E2) / w**3
    return (
        math.radians(1) * prime_vertical * math.cos(phi),
        math.radians(1) * meridional,
    )


@dataclass
class SvgMap:
    """What a template needs to draw the map (SVG user units, origin top left)."""

    size: int
    half_width_m: float
    paths: list[str] = field(default_factory=list)
    centre: tuple[float, float] = (0.0, 0.0)
    scale_px: float = 0.0
    scale_m: int = 0


def _ring(coords, fmt) -> str:
    points = list(coords)
    if len(points) < 3:
        return ""
    head, *rest = points[:-1] if points[0] == points[-1] else points
    return "M" + fmt(head) + "".join("L" + fmt(p) for p in rest) + "Z"


def _path(geom: BaseGeometry) -> str:
    def fmt(p) -> str:
        return f"{p[0]:.1f} {p[1]:.1f}"

    polygons: list[Polygon]
    if isinstance(geom, Polygon):
        polygons = [geom]
    elif isinstance(geom, MultiPolygon):
        polygons = list(geom.geoms)
    else:  # collections from clipping: keep their polygonal parts
        return "".join(
            _path(g)
            for g in getattr(geom, "geoms", [])
            if isinstance(g, Polygon | MultiPolygon)
        )
    parts = []
    for poly in polygons:
        parts.append(_ring(poly.exterior.coords, fmt))
        parts.extend(_ring(hole.coords, fmt) for hole in poly.interiors)
    return "".join(p for p in parts if p)


def _line_path(geom: BaseGeometry) -> str:
    def fmt(p) -> str:
        return f"{p[0]:.1f} {p[1]:.1f}"

    if isinstance(geom, LineString):
        points = list(geom.coords)
        if len(points) < 2:
            return ""
        return "M" + fmt(points[0]) + "".join("L" + fmt(p) for p in points[1:])
    return "".join(_line_path(g) for g in getattr(geom, "geoms", []))


def _to_map(geom: BaseGeometry, centre: tuple[float, float], k: float, size: int):
    """``geom`` in map units: x east of the left edge, y south of the top edge (SVG's y
    points down), ``k`` map units per metre, the map's centre at ``centre`` (lon, lat)."""
    lon0, lat0 = centre
    m_lon, m_lat = metres_per_degree(lat0)
    return affinity.affine_transform(
        geom,
        [
            m_lon * k,
            0,
            0,
            -m_lat * k,
            size / 2 - lon0 * m_lon * k,
            size / 2 + lat0 * m_lat * k,
        ],
    )


def project_shapes(
    geoms: list[BaseGeometry],
    *,
    centre: tuple[float, float],
    half_width_m: float,
    size: int = 600,
) -> list[str]:
    """SVG path data of lines and polygons (EPSG:4326) on the same map as :func:`project`
    (roads, water, a settlement's outline), clipped to it; points and empty ones left out.
    Polygons are closed paths, lines open ones."""
    k = size / (2 * half_width_m)
    frame = box(0, 0, size, size)
    paths = []
    for geom in geoms:
        if geom.is_empty:
            continue
        clipped = _to_map(geom, centre, k, size).intersection(frame)
        if clipped.is_empty:
            continue
        if isinstance(clipped, LineString | MultiLineString):
            d = _line_path(clipped)
        else:
            d = _path(clipped) or _line_path(clipped)
        if d:
            paths.append(d)
    return paths


def project(
    geoms: list[BaseGeometry],
    *,
    centre: tuple[float, float],
    half_width_m: float,
    size: int = 600,
) -> SvgMap:
    """Project lon/lat (EPSG:4326) polygons onto a ``size``-unit square map.

    Args:
        geoms: polygons in EPSG:4326 (lon, lat); other kinds are ignored.
        centre: (lon, lat) of the map centre (the settlement), EPSG:4326.
        half_width_m: metres from the centre to each edge of the square map.
        size: width and height of the map in SVG user units.

    Returns:
        The SVG path data of each geometry clipped to the map (empty ones left out), the
        centre in map units, and a scale bar (length in map units and in metres).
    """
    if half_width_m <= 0:
        raise ValueError(f"half_width_m must be positive, got {half_width_m}")
    k = size / (2 * half_width_m)  # map units per metre
    frame = box(0, 0, size, size)
    paths = []
    for geom in geoms:
        if geom.is_empty or not isinstance(geom, Polygon | MultiPolygon):
            continue
        clipped = _to_map(geom, centre, k, size).intersection(frame)
        if clipped.is_empty:
            continue
        d = _path(clipped)
        if d:
            paths.append(d)
    target = 2 * half_width_m / 4  # a bar no longer than a quarter of the map
    scale_m = max((n for n in NICE_LENGTHS_M if n <= target), default=NICE_LENGTHS_M[0])
    return SvgMap(
        size=size,
        half_width_m=half_width_m,
        paths=paths,
        centre=(size / 2, size / 2),
        scale_px=scale_m * k,
        scale_m=scale_m,
    )

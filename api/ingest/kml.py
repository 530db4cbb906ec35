"""KML read with a safe XML parser (defusedxml): no DTDs, no entities, no external resources.

Each Placemark is a row: ``name``, ``description`` and its ExtendedData (``Data``/``SimpleData``)
are the columns; Point, LineString, Polygon and MultiGeometry are read (LineStrings are refused
later by the gate for kinds that need areas). Coordinates are ``lon,lat[,alt]`` in WGS 84, as
the KML standard fixes.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiPolygon,
    Point,
    Polygon,
)
from shapely.geometry.base import BaseGeometry


class KMLError(ValueError):
    """The KML could not be read safely."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _coords(text: str | None) -> list[tuple[float, float]]:
    out = []
    for token in (text or "").split():
        parts = token.split(",")
        if len(parts) < 2:
            raise KMLError(f"coordinate {token!r} is not lon,lat[,alt]")
        try:
            out.append((float(parts[0]), float(parts[1])))
        except ValueError as exc:
            raise KMLError(f"coordinate {token!r} is not numeric") from exc
    return out


def _ring(elem) -> list[tuple[float, float]]:
    for sub in elem.iter():
        if _local(sub.tag) == "coordinates":
            return _coords(sub.text)
    return []


def _geometry(elem) -> BaseGeometry | None:
    kind = _local(elem.tag)
    if kind == "Point":
        pts = _ring(elem)
        return Point(pts[0]) if pts else None
    if kind == "LineString":
        return LineString(_ring(elem))
    if kind == "Polygon":
        outer, inner = [], []
        for sub in elem:
            name = _local(sub.tag)
            if name == "outerBoundaryIs":
                outer = _ring(sub)
            elif name == "innerBoundaryIs":
                inner.append(_ring(sub))
        return Polygon(outer, inner) if outer else None
    if kind == "MultiGeometry":
        parts = [g for g in (_geometry(s) for s in elem) if g is not None]
        polygons = [p for p in parts if isinstance(p, Polygon)]
        if parts and len(polygons) == len(parts):
            return MultiPolygon(polygons)
        return GeometryCollection(parts)
    return None


GEOMETRY_TAGS = {"Point", "LineString", "Polygon", "MultiGeometry"}


def placemarks(path: Path) -> Iterator[tuple[dict[str, Any], BaseGeometry | None]]:
    """Yield ``(columns, geometry)`` for each Placemark, streaming through the file."""
    try:
        for _event, elem in SafeET.iterparse(
            str(path), events=("end",), forbid_dtd=True
        ):
            if _local(elem.tag) != "Placemark":
                continue
            values: dict[str, Any] = {}
            geom = None
            for child in elem:
                name = _local(child.tag)
                if name in ("name", "description"):
                    values[name] = (child.text or "").strip()
                elif name == "ExtendedData":
                    for data in child.iter():
                        dname = _local(data.tag)
                        if dname == "Data":
                            value = next(
                                (v.text for v in data if _local(v.tag) == "value"), None
                            )
                            values[data.get("name")] = (value or "").strip()
                        elif dname == "SimpleData":
                            values[data.get("name")] = (data.text or "").strip()
                elif name in GEOMETRY_TAGS:
                    geom = _geometry(child)
            elem.clear()
            yield values, geom
    except DefusedXmlException as exc:
        raise KMLError(
            "the KML declares a DTD or entities, which are refused (they can read files "
            f"or expand without bound): {type(exc).__name__}"
        ) from exc
    except SafeET.ParseError as exc:
        raise KMLError(f"the KML is not well-formed XML: {exc}") from exc

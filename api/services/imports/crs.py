"""Coordinate reference systems: from the file's (or the one given) to WGS 84."""

from collections.abc import Callable

import numpy as np
import shapely
import shapely.geometry
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

GeomFn = Callable[[BaseGeometry], BaseGeometry]


def _transformer(
    source_crs: str | None, param_crs: str | None, notes: list[str]
) -> tuple[GeomFn | None, str]:
    crs_text = source_crs or param_crs
    if (
        source_crs
        and param_crs
        and CRS.from_user_input(source_crs) != CRS.from_user_input(param_crs)
    ):
        notes.append(
            f"the file declares {source_crs}; the crs parameter ({param_crs}) is ignored"
        )
    if crs_text is None:
        return None, "unknown"
    crs = CRS.from_user_input(crs_text)
    if crs.equals(CRS.from_epsg(4326), ignore_axis_order=True) or crs.to_epsg() == 4326:
        return (lambda g: g), "EPSG:4326"
    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return (
        lambda g: shapely.transform(
            g, lambda xy: _stack(tr.transform(xy[:, 0], xy[:, 1]))
        )
    ), crs.to_string()


def _stack(pair):
    return np.column_stack(pair)


def _looks_projected(geom: BaseGeometry) -> bool:
    b = geom.bounds
    return not (
        -180 <= b[0] <= 180
        and -180 <= b[2] <= 180
        and -90 <= b[1] <= 90
        and -90 <= b[3] <= 90
    )

"""Optional filters of list queries as SQL fragments, and the point a caller may see.

A list runs one statement whatever filters were asked: each fragment is true when its
parameter is NULL (not asked), so a ``WHERE`` chains them with ``AND``. The fragments bind
named parameters; build their values with the helpers here (``bbox_param``,
``location_params``).

Exact locations of EO finds, accidents and hazard reports are restricted: callers without the
right see each point snapped to a 0.01° grid (about 1 km). Whatever such a caller asks is
answered from the snapped point, never the exact one (``seen_bbox_sql``), so narrowing a box
again and again finds the grid point and nothing finer.
"""

from typing import Any

import orjson

GENERALISED_GRID_DEG = 0.01

# The ``:bbox`` array (min lon, min lat, max lon, max lat) as a WGS 84 box.
ENVELOPE_SQL = (
    "ST_MakeEnvelope((CAST(:bbox AS float8[]))[1], (CAST(:bbox AS float8[]))[2], "
    "(CAST(:bbox AS float8[]))[3], (CAST(:bbox AS float8[]))[4], 4326)"
)


def bbox_param(bbox: tuple[float, float, float, float] | None) -> list[float] | None:
    """The value ``:bbox`` binds: the box as a list of floats, or None when none was asked.

    Floats all: the driver refuses to send a list mixing ints and floats as an array.
    """
    return [float(v) for v in bbox] if bbox else None


def bbox_sql(column: str) -> str:
    """SQL: ``:bbox`` is unset, or the bounding box of the geometry in ``column`` meets it.

    ``&&`` compares bounding boxes, as OGC API Features' ``bbox`` does, and uses the GiST
    index of ``column``. A NULL geometry never matches a box.
    """
    return f"(CAST(:bbox AS float8[]) IS NULL OR {column} && {ENVELOPE_SQL})"


def seen_point_sql(column: str) -> str:
    """SQL: the point in ``column`` as the caller sees it: exact, or snapped to the grid.

    Binds ``:exact`` and ``:grid`` (``location_params``).
    """
    return (
        f"(CASE WHEN CAST(:exact AS boolean) THEN {column} "
        f"ELSE ST_SnapToGrid({column}, :grid) END)"
    )


def seen_bbox_sql(column: str, seen: str | None = None) -> str:
    """SQL: ``:bbox`` is unset or holds the geometry ``seen`` (default: ``column`` as seen).

    The test is on what the caller sees; the GiST index of ``column`` narrows the rows first
    with the box widened by ``:pad`` (a grid step for snapped points, else 0). Binds
    ``location_params`` besides ``:bbox``.
    """
    seen = seen or seen_point_sql(column)
    return (
        f"(CAST(:bbox AS float8[]) IS NULL OR ({column} && "
        f"ST_Expand({ENVELOPE_SQL}, CAST(:pad AS float8)) AND {seen} && {ENVELOPE_SQL}))"
    )


def location_params(exact: bool) -> dict[str, Any]:
    """The parameters ``seen_point_sql`` and ``seen_bbox_sql`` bind."""
    return {
        "exact": exact,
        "grid": GENERALISED_GRID_DEG,
        "pad": 0.0 if exact else GENERALISED_GRID_DEG,
    }


def point_feature(row: dict[str, Any], exact: bool) -> dict[str, Any]:
    """A row read with ``seen_point_sql`` as a Feature, saying how exact its point is."""
    props = {k: row[k] for k in row if k != "geometry"}
    props["location_precision"] = "exact" if exact else "generalised_0.01deg"
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": orjson.Fragment(row["geometry"]),
        "properties": props,
    }

"""The spatial quality gate of imports, shared with the API's geometry intake.

Per row, in order:

1. **Intake** (``api.spatial.intake``, the same rules as ``POST /hazards``): rejected or repaired,
   with the reason and place; an import that refuses repairs (``refuse_repairs``) rejects the
   row instead of repairing it, with the repair's message.
2. **Shape findings**, flagged for review (never dropped, never changed):
   * a *sliver*: a polygon part less than ``SLIVER_WIDTH_M`` wide on average (2·area/perimeter),
     the mark of a digitising slip or an overlay remnant;
   * a *vertex jump*: two consecutive vertices more than ``JUMP_M`` apart, the mark of one
     mistyped coordinate.
3. **Programme extent** (set-based, one query per batch): a geometry that touches none of the
   programme's top-level admin areas is rejected; when swapping latitude and longitude, or
   flipping the sign of either, would put it inside, the message says so (and the corrected
   geometry is handed back, to be shown). Nothing is moved automatically.
4. **Possible duplicates** (set-based): the same geometry as, or at least 95% overlap with, an
   existing hazard under another id is flagged for review with that hazard's id; never merged.

Overlap ratios are computed in degrees: a ratio of areas is unaffected by the projection at
the scale of a hazard (the cosine of latitude is constant across it to 1e-4).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import LineString, MultiLineString
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.spatial.intake import (
    NO_PROGRAMME_MAX_AREA_M2,
    IntakeProblem,
    IntakeResult,
    ellipsoidal_area_m2,
    intake_shape,
    intake_shapes,
)

GEOD = Geod(ellps="WGS84")
SLIVER_WIDTH_M = 0.5
JUMP_M = 5_000.0
DUPLICATE_OVERLAP = 0.95


@dataclass
class GateRejection(Exception):
    """A row's geometry was refused; ``field`` is the coordinate pointer, ``message`` why."""

    field: str
    message: str


@dataclass
class RepairRefused(GateRejection):
    """A geometry refused because it would have been repaired: both shapes, to show them."""

    submitted: BaseGeometry | None = None
    repaired: BaseGeometry | None = None


def intake(
    geom: BaseGeometry | None,
    *,
    pointer: str,
    allow_point: bool,
    allow_polygon: bool = True,
    max_vertices: int,
    max_area_m2: float | None = None,
    refuse_repairs: bool = False,
) -> IntakeResult:
    """Run the API's intake on a shapely geometry in EPSG:4326.

    ``max_area_m2``: a larger area is refused as implausible (``hazard_area_bound`` for
    hazards); an edge spanning more than 180° of longitude is always refused.
    ``refuse_repairs``: a geometry the intake would repair is refused instead, with the
    repair's message as the reason (see :func:`refuse_repair`).
    """
    if geom is None or geom.is_empty:
        raise GateRejection(pointer, "the row has no geometry")
    try:
        result = intake_shape(
            geom,
            pointer=pointer,
            allow_point=allow_point,
            allow_polygon=allow_polygon,
            max_vertices=max_vertices,
            max_area_m2=max_area_m2,
        )
    except IntakeProblem as exc:
        first = exc.errors[0]
        more = f" (and {len(exc.errors) - 1} more)" if len(exc.errors) > 1 else ""
        raise GateRejection(first["pointer"], first["message"] + more) from exc
    if refuse_repairs:
        refuse_repair(result, pointer, geom)
    return result


REPAIR_REFUSED = "refused instead of repaired (this import takes no repairs): "


def refuse_repair(
    result: IntakeResult, pointer: str, submitted: BaseGeometry | None = None
) -> None:
    """Raise ``RepairRefused`` when ``result`` holds a repair: the message is the repair's
    own (``"repaired geometry: ..."``) after ``REPAIR_REFUSED``, so the reader learns what
    would have been changed."""
    repairs = [w for w in result.warnings if w.startswith("repaired")]
    if repairs:
        raise RepairRefused(
            pointer, REPAIR_REFUSED + "; ".join(repairs), submitted, result.geometry
        )


def _rank_in_group(group: np.ndarray) -> np.ndarray:
    """For a sorted array of group ids, each element's position within its group."""
    if not len(group):
        return group
    starts = np.r_[0, np.nonzero(group[1:] != group[:-1])[0] + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, len(group)]))
    return np.arange(len(group)) - first


def shape_findings(geoms: list[BaseGeometry]) -> list[list[str]]:
    """Slivers and vertex jumps of stored geometries, as review messages per geometry.

    Vectorised over the batch: every part, ring and edge at once (GEOS), one geodesic
    computation for every edge (pyproj); only the messages are built one by one.
    """
    out: list[list[str]] = [[] for _ in geoms]
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    multi = np.nonzero(shapely.get_type_id(arr) == 6)[0]
    if not len(multi):
        return out
    parts, local = shapely.get_parts(arr[multi], return_index=True)
    part_owner, part_no = multi[local], _rank_in_group(local)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    ring_no = _rank_in_group(ring_part)
    xy, coord_ring = shapely.get_coordinates(rings, return_index=True)
    edge = np.nonzero(coord_ring[1:] == coord_ring[:-1])[
        0
    ]  # edge k: xy[k] -> xy[k + 1]
    edge_ring = coord_ring[edge]
    _, _, dist = GEOD.inv(xy[edge, 0], xy[edge, 1], xy[edge + 1, 0], xy[edge + 1, 1])
    dist = np.asarray(dist)
    perimeter = np.bincount(ring_part[edge_ring], weights=dist, minlength=len(parts))
    jumps = np.nonzero(dist > JUMP_M)[0]
    if len(jumps):
        ring_first = np.searchsorted(coord_ring, np.arange(len(rings)))
        per_ring = _rank_in_group(edge_ring[jumps])
        for e in jumps[per_ring < 3]:  # three per ring at most
            r = edge_ring[e]
            k, p = int(edge[e]), ring_part[r]
            j = k - int(ring_first[r])
            (x0, y0), (x1, y1) = xy[k], xy[k + 1]
            out[int(part_owner[p])].append(
                f"vertex jump: polygon {int(part_no[p])} ring {int(ring_no[r])} vertices "
                f"{j}->{j + 1} are {dist[e] / 1000:.1f} km apart (from {x0:.6f}, {y0:.6f} "
                f"to {x1:.6f}, {y1:.6f}); check for a mistyped coordinate"
            )
    # a sliver is thin: test cheaply, then measure the area on the ellipsoid
    with np.errstate(divide="ignore", invalid="ignore"):
        thin = (perimeter > 0) & (
            2 * shapely.area(parts) * 111_320.0 * 110_574.0 / perimeter
            < 10 * SLIVER_WIDTH_M
        )
    for p in np.nonzero(thin)[0]:
        area = abs(GEOD.geometry_area_perimeter(parts[p])[0])
        width = 2 * area / perimeter[p]
        if width < SLIVER_WIDTH_M:
            out[int(part_owner[p])].append(
                f"sliver: polygon {int(part_no[p])} is {width:.2f} m wide on average "
                f"({area:.1f} m²); check the digitising"
            )
    return out


# the corrections tried on a row outside the programme: its message's words, by code
CORRECTIONS = {
    "swap_lon_lat": "latitude and longitude look swapped",
    "flip_lon_sign": "the longitude's sign looks flipped",
    "flip_lat_sign": "the latitude's sign looks flipped",
}


def _swaps(geom: BaseGeometry) -> dict[str, BaseGeometry]:
    out = {}
    for label, fn in (
        ("swap_lon_lat", lambda xy: xy[:, ::-1]),
        ("flip_lon_sign", lambda xy: xy * np.array([-1.0, 1.0])),
        ("flip_lat_sign", lambda xy: xy * np.array([1.0, -1.0])),
    ):
        candidate = shapely.transform(geom, fn)
        b = candidate.bounds
        if b[0] >= -180 and b[2] <= 180 and b[1] >= -90 and b[3] <= 90:
            out[label] = candidate
    return out


def hazard_area_bound(fixed_km2: float | None, level: int | None) -> float | None:
    """The intake's bound on a hazard's area, in m²: the configured one
    (``max_hazard_area_km2``) when set; else none when the programme's admin areas are
    loaded (``level``), as the extent check then refuses a hazard larger than the largest
    top-level admin area it touches; else ``NO_PROGRAMME_MAX_AREA_M2``."""
    if fixed_km2 is not None:
        return fixed_km2 * 1e6
    return None if level is not None else NO_PROGRAMME_MAX_AREA_M2


def programme_level(session: Session) -> int | None:
    """The level of the programme's top admin areas (None when none are loaded)."""
    return session.execute(text("SELECT min(level) FROM admin_areas")).scalar()


def outside_programme(
    session: Session,
    rows: list[tuple[int, BaseGeometry]],
    level: int | None,
    corrected: dict[int, tuple[str, BaseGeometry]] | None = None,
    areas: dict[int, float] | None = None,
) -> dict[int, str]:
    """Rows whose geometry touches no admin area of the programme, with a hint when one fits,
    and, for the rows of ``areas`` (row -> area in m²), those larger than the largest of the
    programme's top-level admin areas they touch (refused as implausible).

    ``corrected``, when given, receives for each row outside that a correction would put
    inside the correction's code (a key of ``CORRECTIONS``) and the corrected geometry (e.g.
    with latitude and longitude swapped back), so that a reader can see where the row would
    lie. Nothing is moved.
    """
    if level is None or not rows:
        return {}
    sql = text(
        """
        SELECT t.n, m.area_m2, m.name, t.area
        FROM unnest(CAST(:ns AS int[]), CAST(:wkbs AS bytea[]),
                    CAST(:areas AS float8[])) AS t(n, wkb, area)
        LEFT JOIN LATERAL (
            SELECT a.area_m2, a.name FROM admin_areas a
            WHERE a.level = :level
              AND ST_Intersects(a.geom, ST_GeomFromWKB(t.wkb, 4326))
            ORDER BY a.area_m2 DESC LIMIT 1
        ) m ON true
        WHERE m.area_m2 IS NULL OR t.area > m.area_m2
        """
    )
    too_large: dict[int, str] = {}

    def outside(
        items: list[tuple[int, BaseGeometry]], sizes: dict[int, float] | None = None
    ) -> set[int]:
        if not items:
            return set()
        result = session.execute(
            sql,
            {
                "ns": [n for n, _ in items],
                "wkbs": [shapely.to_wkb(g) for _, g in items],
                "areas": [(sizes or {}).get(n) for n, _ in items],
                "level": level,
            },
        )
        out = set()
        for n, limit, name, area in result:
            if limit is None:
                out.add(n)
            else:
                too_large[n] = (
                    f"geometry encloses {area / 1e6:,.0f} km², more than the "
                    f"{limit / 1e6:,.0f} km² of {name}, the largest of the programme's "
                    "top-level admin areas it touches: check the coordinates (swapped, "
                    "mistyped, or an edge across the antimeridian)"
                )
        return out

    out = outside(rows, areas)
    if not out:
        return dict(too_large)
    by_n = dict(rows)
    messages = dict.fromkeys(
        out, "lies outside the programme's country (it touches no admin area)"
    )
    messages.update(too_large)
    too_large.clear()
    candidates: list[tuple[int, BaseGeometry]] = []
    labels: dict[tuple[int, int], str] = {}
    for n in out:
        for k, (label, geom) in enumerate(_swaps(by_n[n]).items()):
            key = n * 4 + k
            candidates.append((key, geom))
            labels[(n, k)] = label
    still_out = outside(candidates)
    candidates_by_key = dict(candidates)
    for n in out:
        for k in range(3):
            key = n * 4 + k
            if (n, k) in labels and key not in still_out:
                words = CORRECTIONS[labels[(n, k)]]
                messages[n] += f"; {words}: corrected, it would lie inside"
                if corrected is not None:
                    corrected[n] = (labels[(n, k)], candidates_by_key[key])
                break
    return messages


def possible_duplicates(
    session: Session,
    rows: list[tuple[int, BaseGeometry, Any, str | None]],
    own: Any = None,
) -> dict[int, list[str]]:
    """Rows whose geometry equals, or overlaps ≥ 95%, an existing hazard under another id.

    ``rows`` are ``(row, geometry, organisation_id, external_id)``; the hazard that a row
    updates (same organisation and external id, or the id ``own`` of a hazard being
    edited) is not its duplicate.
    """
    if not rows:
        return {}
    result = session.execute(
        text(
            """
            WITH t AS (
                SELECT n, ST_GeomFromWKB(wkb, 4326) AS g, org, ext
                FROM unnest(CAST(:ns AS int[]), CAST(:wkbs AS bytea[]),
                            CAST(:orgs AS uuid[]), CAST(:exts AS text[])) AS u(n, wkb, org, ext)
            )
            SELECT t.n, h.id, h.external_id,
                   ST_Equals(h.geom, t.g) AS same,
                   CASE WHEN GeometryType(t.g) = 'POINT' OR GeometryType(h.geom) = 'POINT'
                        THEN 0
                        ELSE ST_Area(ST_Intersection(h.geom, t.g))
                             / NULLIF(LEAST(ST_Area(h.geom), ST_Area(t.g)), 0) END AS ratio
            FROM t JOIN hazards h
              ON h.geom && t.g AND ST_Intersects(h.geom, t.g) AND h.retired_at IS NULL
             AND NOT (h.organisation_id = t.org AND h.external_id IS NOT DISTINCT FROM t.ext
                      AND t.ext IS NOT NULL)
             AND h.id IS DISTINCT FROM CAST(:own AS uuid)
            """
        ),
        {
            "own": str(own) if own is not None else None,
            "ns": [r[0] for r in rows],
            "wkbs": [shapely.to_wkb(r[1]) for r in rows],
            "orgs": [str(r[2]) for r in rows],
            "exts": [r[3] for r in rows],
        },
    )
    out: dict[int, list[str]] = {}
    for n, hid, ext, same, ratio in result:
        if same or (ratio is not None and ratio >= DUPLICATE_OVERLAP):
            what = "the same geometry as" if same else f"{ratio:.0%} overlap with"
            label = f"{hid}" + (f" ({ext})" if ext else "")
            out.setdefault(n, []).append(
                f"possible duplicate: {what} hazard {label}; review before merging"
            )
    return out


def duplicates_within(
    rows: list[tuple[int, BaseGeometry, str | None]],
) -> dict[int, list[str]]:
    """Rows of one batch whose geometry equals, or overlaps at least 95% of, an earlier row's
    (``rows`` are ``(row, geometry, external id)``), flagged like a stored duplicate: the later
    row names the earlier one. Rows sharing an external id are one record's repetition (the
    file reports them), not duplicates. Set-based: one STRtree query for the batch."""
    if len(rows) < 2:
        return {}
    geoms = np.empty(len(rows), dtype=object)
    geoms[:] = [g for _, g, _ in rows]
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    later = left > right  # each pair once, the later row flagged
    left, right = left[later], right[later]
    if not len(left):
        return {}
    a, b = geoms[left], geoms[right]
    same = shapely.equals(a, b)
    polygonal = (shapely.get_dimensions(a) == 2) & (shapely.get_dimensions(b) == 2)
    ratio = np.zeros(len(left))
    if polygonal.any():
        inter = shapely.area(shapely.intersection(a[polygonal], b[polygonal]))
        smaller = np.minimum(shapely.area(a[polygonal]), shapely.area(b[polygonal]))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio[polygonal] = np.where(smaller > 0, inter / smaller, 0.0)
    out: dict[int, list[str]] = {}
    for k in np.nonzero(same | (ratio >= DUPLICATE_OVERLAP))[0]:
        (n, _, ext), (m, _, other_ext) = rows[left[k]], rows[right[k]]
        if ext is not None and ext == other_ext:
            continue
        what = "the same geometry as" if same[k] else f"{ratio[k]:.0%} overlap with"
        ref = " (" + other_ext + ")" if other_ext else ""
        out.setdefault(n, []).append(
            f"possible duplicate: {what} row {m}{ref} of this file; review before merging"
        )
    return out


def _same_position(
    session: Session, table: str, ids: list[Any]
) -> list[tuple[Any, Any, str | None]]:
    """(new id, other id, other's external id) for the new points ``ids`` of ``table``
    (``eo_finds`` or ``accidents``, already written, in order) lying exactly where another
    point of the table lies: a stored one, or one earlier in ``ids``. One query.

    Each lateral subquery is fenced (``OFFSET 0``) so that every point is looked up in the
    GiST index: left to join freely, the planner, with no statistics yet for rows written in
    the same transaction, compared each point of a batch with every stored one (1.2 s for
    one batch of 1,000 against 5,000 stored, growing with the table)."""
    if not ids:
        return []
    order = {str(f): k for k, f in enumerate(ids)}
    rows = session.execute(
        text(
            f"""
            SELECT t.f, m.id, m.external_id
            FROM unnest(CAST(:fs AS uuid[])) WITH ORDINALITY AS t(f, k)
            CROSS JOIN LATERAL (
                SELECT n.geom FROM {table} n WHERE n.id = t.f OFFSET 0) n
            CROSS JOIN LATERAL (
                SELECT o.id, o.external_id FROM {table} o
                WHERE o.geom && n.geom AND ST_Equals(o.geom, n.geom)
                  AND o.id <> t.f AND o.retired_at IS NULL
                OFFSET 0) m
            ORDER BY t.k
            """
        ),
        {"fs": [str(f) for f in ids]},
    ).all()
    out = []
    for f, other, ext in rows:
        k_other = order.get(str(other))
        if k_other is None or k_other < order[str(f)]:  # stored, or earlier in the list
            out.append((k_other if k_other is not None else -1, f, other, ext))
    # by row, then stored points first, then earlier rows in order
    out.sort(key=lambda r: (order[str(r[1])], r[0]))
    return [(f, other, ext) for _, f, other, ext in out]


def same_position_finds(session: Session, find_ids: list[Any]) -> dict[Any, list[str]]:
    """New EO finds (``find_ids``, in file order, already written) at exactly the position
    of another find: a stored one, or one earlier in the list. Flagged, never merged: two
    items can lie together, but the same position twice is often one item reported twice.
    One query (GiST), by find id."""
    out: dict[Any, list[str]] = {}
    for fid, other, ext in _same_position(session, "eo_finds", find_ids):
        ref = " (" + ext + ")" if ext else ""
        out.setdefault(fid, []).append(
            f"possible duplicate: the same position as EO find {other}{ref}; "
            "review before merging"
        )
    return out


def same_position_accidents(session: Session, accident_id: Any) -> list[str]:
    """An accident (written) at exactly the position of another recorded accident: often
    one event reported twice (by two organisations, or from a hospital and a field
    report). Flagged for review, never merged: two accidents can happen at one place."""
    out = []
    for _, other, ext in _same_position(session, "accidents", [accident_id]):
        ref = " (" + ext + ")" if ext else ""
        out.append(
            f"possible duplicate: the same position as accident {other}{ref}; "
            "review before merging"
        )
    return out


RELEASE_TOUCHES_NONE = "the release polygon does not touch its hazard: released land must lie in the hazard area"


def releases_touching(
    session: Session, releases: list[tuple[Any, BaseGeometry, list[Any]]]
) -> dict[Any, set[str]]:
    """For each release (key, polygon, ids of the hazards it may release), the ids of those
    hazards its polygon touches; a key missing from the answer touches none of them and is
    refused (``RELEASE_TOUCHES_NONE``: released land must lie in a hazard area, and one
    touching its hazard lies in the programme's extent as the hazard does). One query
    (GiST) for all the releases of a request or of a file's activity."""
    if not releases:
        return {}
    rows = session.execute(
        text(
            """
            SELECT t.k, h.id
            FROM unnest(CAST(:wkbs AS bytea[]), CAST(:hids AS text[]))
                 WITH ORDINALITY AS t(wkb, hids, k)
            JOIN hazards h ON h.id = ANY(CAST(t.hids AS uuid[]))
                          AND ST_Intersects(h.geom, ST_GeomFromWKB(t.wkb, 4326))
            """
        ),
        {
            "wkbs": [shapely.to_wkb(g) for _, g, _ in releases],
            "hids": ["{" + ",".join(str(h) for h in hs) + "}" for _, _, hs in releases],
        },
    )
    out: dict[Any, set[str]] = {}
    for k, hid in rows:
        out.setdefault(releases[k - 1][0], set()).add(str(hid))
    return out


@dataclass
class OutsideProgramme(GateRejection):
    """A geometry touching none of the programme's admin areas; ``correction`` (a key of
    ``CORRECTIONS``) and ``corrected`` when a swap or sign flip would put it inside."""

    correction: str | None = None
    corrected: BaseGeometry | None = None


def single_write(
    session: Session,
    geom: BaseGeometry,
    *,
    pointer: str,
    hazard: tuple[Any, str | None, Any] | None = None,
    area_bound: bool = False,
    level: int | None,
    area_m2: float | None = None,
) -> list[str]:
    """The gate's checks beyond the intake for one record written through the API (as a
    file row gets them in its batch): the programme extent (raises ``OutsideProgramme``),
    and with ``area_bound`` an area larger than the top-level admin area it touches (the
    same); for a hazard (``hazard`` = its organisation id, external id and own id when
    edited), the shape findings and possible duplicates, returned as warnings to pass on.
    ``level``: ``programme_level``; ``area_m2``: the area when the intake measured it."""
    corrected: dict[int, tuple[str, BaseGeometry]] = {}
    areas = None
    if area_bound:
        areas = {0: ellipsoidal_area_m2(geom) if area_m2 is None else area_m2}
    outside = outside_programme(session, [(0, geom)], level, corrected, areas)
    if outside:
        label, fixed = corrected.get(0, (None, None))
        raise OutsideProgramme(pointer, outside[0], label, fixed)
    if hazard is None:
        return []
    org_id, external_id, own = hazard
    findings = shape_findings([geom])[0]
    dups = possible_duplicates(session, [(0, geom, org_id, external_id)], own=own)
    return [*findings, *dups.get(0, [])]


def intake_context(
    geom: BaseGeometry | None,
    kind: str,
    *,
    max_vertices: int,
    refuse_repairs: bool = False,
):
    """The intake for a context feature: ``point``, ``line`` or ``polygon`` (see module doc).

    Lines (roads and tracks) are stored as MultiLineString: coordinates finite and in range,
    Z dropped, each line with at least two distinct positions.
    """
    if kind == "point":
        return intake(
            geom,
            pointer="geometry",
            allow_point=True,
            allow_polygon=False,
            max_vertices=max_vertices,
            refuse_repairs=refuse_repairs,
        )
    if kind == "polygon":
        return intake(
            geom,
            pointer="geometry",
            allow_point=False,
            max_vertices=max_vertices,
            refuse_repairs=refuse_repairs,
        )
    if geom is None or geom.is_empty:
        raise GateRejection("geometry", "the row has no geometry")
    if not isinstance(geom, LineString | MultiLineString):
        raise GateRejection(
            "geometry/type",
            f"geometry type {geom.geom_type!r} is not accepted here; expected LineString or MultiLineString",
        )
    coords = shapely.get_coordinates(geom)
    if len(coords) > max_vertices:
        raise GateRejection(
            "geometry/coordinates",
            f"geometry has {len(coords)} vertices; the limit is {max_vertices}",
        )
    if (
        not np.isfinite(coords).all()
        or (np.abs(coords[:, 0]) > 180).any()
        or (np.abs(coords[:, 1]) > 90).any()
    ):
        raise GateRejection(
            "geometry/coordinates",
            "coordinates must be finite longitudes (-180..180) and latitudes (-90..90)",
        )
    warnings = []
    if shapely.has_z(geom):
        warnings.append(
            "geometry: Z/M values dropped; only longitude and latitude are stored"
        )
        geom = shapely.force_2d(geom)
    lines = [geom] if isinstance(geom, LineString) else list(geom.geoms)
    for i, line in enumerate(lines):
        if len({tuple(c) for c in line.coords}) < 2:
            raise GateRejection(
                f"geometry/coordinates/{i}",
                "a line needs at least two distinct positions",
            )
    return IntakeResult(MultiLineString(lines), warnings)


def intake_many(
    geoms: Sequence[BaseGeometry | None],
    *,
    pointer: str,
    allow_point: list[bool],
    max_vertices: int,
    max_area_m2: float | None = None,
    refuse_repairs: bool = False,
) -> list[IntakeResult | GateRejection]:
    """``intake`` of a batch: the rows that pass untouched are decided at once
    (``intake_shapes``, vectorised), the others one by one, for their repair or their
    rejection with the exact message. Each row's outcome: its result, or the rejection."""
    fast = intake_shapes(geoms, max_vertices=max_vertices, max_area_m2=max_area_m2)
    out: list[IntakeResult | GateRejection] = []
    for geom, done, point_ok in zip(geoms, fast, allow_point, strict=True):
        if done is not None:
            out.append(done)
            continue
        try:
            out.append(
                intake(
                    geom,
                    pointer=pointer,
                    allow_point=point_ok,
                    max_vertices=max_vertices,
                    max_area_m2=max_area_m2,
                    refuse_repairs=refuse_repairs,
                )
            )
        except GateRejection as exc:
            out.append(exc)
    return out

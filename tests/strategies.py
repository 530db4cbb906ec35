"""Hypothesis strategies for polygons in EPSG:4326, of the kinds field data brings.

``polygons()`` draws one of: ``valid`` (boxes and triangles), ``bowtie`` (self-intersecting,
which the intake repairs), ``holed`` (a hole inside, or a hole poking out of its shell, which
is invalid), ``huge`` (several degrees across), ``tiny`` (about a square metre or less, down
to no area at all), ``sliver`` (long and a few centimetres wide) and ``many`` (a circle of
hundreds to thousands of vertices). Each is drawn at a latitude within ±60° so areas stay in
the equal-area projection's comfortable range. ``kinds=`` restricts the choice.
"""

import math

from hypothesis import strategies as st
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

KINDS = ("valid", "bowtie", "holed", "huge", "tiny", "sliver", "many")

lons = st.floats(-170.0, 160.0, allow_nan=False).map(lambda v: round(v, 6))
lats = st.floats(-60.0, 50.0, allow_nan=False).map(lambda v: round(v, 6))
sizes = st.floats(0.0005, 0.05, allow_nan=False)


@st.composite
def polygons(draw, kinds: tuple[str, ...] = KINDS) -> tuple[str, BaseGeometry]:
    """A ``(kind, polygon)`` pair; the polygon may be invalid on purpose (see the module)."""
    kind = draw(st.sampled_from(kinds))
    x, y = draw(lons), draw(lats)
    w, h = draw(sizes), draw(sizes)
    if kind == "valid":
        if draw(st.booleans()):
            return kind, box(x, y, x + w, y + h)
        return kind, Polygon([(x, y), (x + w, y + h / 3), (x + w / 3, y + h)])
    if kind == "bowtie":
        return kind, Polygon([(x, y), (x + w, y + h), (x + w, y), (x, y + h)])
    if kind == "holed":
        outer = box(x, y, x + w, y + h)
        if draw(st.booleans()):  # a proper hole
            hole = box(x + w / 4, y + h / 4, x + w / 2, y + h / 2)
        else:  # a hole crossing the shell: invalid, repaired
            hole = box(x + w / 2, y + h / 4, x + w * 1.5, y + h / 2)
        return kind, Polygon(outer.exterior.coords, [hole.exterior.coords])
    if kind == "huge":
        span = draw(st.floats(2.0, 9.0))
        return kind, box(x, y, x + span, y + span)
    if kind == "tiny":
        side = draw(st.sampled_from([0.0, 1e-9, 1e-7, 5e-6, 2e-5]))
        return kind, box(x, y, x + side, y + side)
    if kind == "sliver":
        width = draw(st.sampled_from([1e-8, 1e-7, 5e-7]))
        return kind, box(x, y, x + w, y + width)
    n = draw(st.integers(300, 5_000))
    r = draw(sizes) / 2
    ring = [
        (
            x + r * math.cos(2 * math.pi * i / n),
            y + r * math.sin(2 * math.pi * i / n) * 0.7,
        )
        for i in range(n)
    ]
    return "many", Polygon(ring)


@st.composite
def hazard_and_releases(draw, max_releases: int = 3):
    """A valid hazard box near (x, y) and release polygons of any kind overlapping it."""
    x, y = draw(lons), draw(lats)
    w, h = draw(sizes), draw(sizes)
    hazard = box(x, y, x + w, y + h)
    releases = []
    for _ in range(draw(st.integers(0, max_releases))):
        fx = draw(st.floats(-0.2, 0.9))
        fy = draw(st.floats(-0.2, 0.9))
        fw = draw(st.floats(0.05, 1.3))
        fh = draw(st.floats(0.05, 1.3))
        rx, ry = x + fx * w, y + fy * h
        shape = draw(st.sampled_from(["box", "bowtie", "holed"]))
        if shape == "box":
            geom = box(rx, ry, rx + fw * w, ry + fh * h)
        elif shape == "bowtie":
            geom = Polygon(
                [
                    (rx, ry),
                    (rx + fw * w, ry + fh * h),
                    (rx + fw * w, ry),
                    (rx, ry + fh * h),
                ]
            )
        else:
            outer = box(rx, ry, rx + fw * w, ry + fh * h)
            hole = box(
                rx + fw * w / 4, ry + fh * h / 4, rx + fw * w / 2, ry + fh * h / 2
            )
            geom = Polygon(outer.exterior.coords, [hole.exterior.coords])
        outcome = draw(st.sampled_from(["cancelled", "reduced", "cleared"]))
        releases.append((geom, outcome))
    return hazard, releases

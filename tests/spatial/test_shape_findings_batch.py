"""The vectorised shape findings give, message for message, what the per-ring loop gave.

``reference`` is the loop that ``api.ingest.gate.shape_findings`` replaced (one ring at a
time), kept here as the oracle; both run over batches with slivers, vertex jumps (more than
three in a ring, in holes and in later parts), points and plain polygons.
"""

import numpy as np
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, Polygon, box

from api.ingest.gate import JUMP_M, SLIVER_WIDTH_M, shape_findings

GEOD = Geod(ellps="WGS84")


def reference(geoms):
    out = [[] for _ in geoms]
    parts = []
    for k, geom in enumerate(geoms):
        if isinstance(geom, MultiPolygon):
            for i, part in enumerate(geom.geoms):
                parts.append((k, i, part))
    if not parts:
        return out
    rings = []
    for k, i, part in parts:
        for r, ring in enumerate([part.exterior, *part.interiors]):
            rings.append((k, i, r, np.asarray(ring.coords)[:, :2]))
    starts = np.concatenate([xy[:-1] for *_, xy in rings])
    ends = np.concatenate([xy[1:] for *_, xy in rings])
    _, _, dist = GEOD.inv(starts[:, 0], starts[:, 1], ends[:, 0], ends[:, 1])
    offset = 0
    perimeters = {}
    for k, i, r, xy in rings:
        d = dist[offset : offset + len(xy) - 1]
        offset += len(xy) - 1
        perimeters[(k, i)] = perimeters.get((k, i), 0.0) + float(d.sum())
        for j in np.nonzero(d > JUMP_M)[0][:3]:
            out[k].append(
                f"vertex jump: polygon {i} ring {r} vertices {j}->{j + 1} are "
                f"{d[j] / 1000:.1f} km apart (from {xy[j][0]:.6f}, {xy[j][1]:.6f} "
                f"to {xy[j + 1][0]:.6f}, {xy[j + 1][1]:.6f}); check for a mistyped coordinate"
            )
    for k, i, part in parts:
        perimeter = perimeters[(k, i)]
        if (
            perimeter > 0
            and 2 * part.area * 111_320.0 * 110_574.0 / perimeter < 10 * SLIVER_WIDTH_M
        ):
            area = abs(GEOD.geometry_area_perimeter(part)[0])
            if 2 * area / perimeter < SLIVER_WIDTH_M:
                out[k].append(
                    f"sliver: polygon {i} is {2 * area / perimeter:.2f} m wide on average "
                    f"({area:.1f} m²); check the digitising"
                )
    return out


def _star(x, y, n, far):
    """A ring of n positions, every other one ``far`` degrees out: n/2 vertex jumps."""
    pts = []
    for k in range(n):
        a = 2 * np.pi * k / n
        r = far if k % 2 else 0.001
        pts.append((x + r * np.cos(a), y + r * np.sin(a)))
    return Polygon(pts)


def test_the_batch_gives_what_the_loop_gave():
    rng = np.random.default_rng(3)
    geoms = [
        MultiPolygon([box(30.5, 50.9, 30.51, 50.900001)]),  # sliver
        MultiPolygon([box(30.5, 50.95, 30.6, 50.951)]),  # two edges of about 7 km
        MultiPolygon([_star(31, 49, 12, 0.2)]),  # six jumps in a ring: three reported
        Point(30, 50),
        MultiPolygon(
            [
                box(30, 50, 30.01, 50.01),
                Polygon(
                    [(32, 48), (32.3, 48), (32.3, 48.3), (32, 48.3)],
                    [[(32.01, 48.01), (32.2, 48.01), (32.2, 48.011), (32.01, 48.011)]],
                ),
                box(33, 47, 33.2, 47.0000005),  # a second sliver, in part 2
            ]
        ),
    ]
    for _ in range(200):
        x, y = 30 + rng.random() * 5, 46 + rng.random() * 4
        w, h = rng.random() * 0.1, 10 ** rng.uniform(-8, -2)
        geoms.append(MultiPolygon([box(x, y, x + w, y + h)]))
    got, want = shape_findings(geoms), reference(geoms)
    assert got == want
    assert any(m.startswith("sliver") for ms in got for m in ms)
    assert sum(m.startswith("vertex jump") for m in got[2]) == 3
    kinds = [
        m.split(":")[0] for m in got[4]
    ]  # jumps of parts 1 and 2, then part 2's sliver
    assert kinds[-1] == "sliver" and set(kinds[:-1]) == {"vertex jump"}
    assert any(m.startswith("vertex jump: polygon 1 ring 1") for m in got[4])


def test_no_polygons_no_findings():
    assert shape_findings([Point(0, 0)]) == [[]]
    assert shape_findings([]) == []

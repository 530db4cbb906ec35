"""The batch intake (``intake_shapes``, vectorised) decides exactly as the per-row intake.

It takes the rows that pass untouched and must give them what ``intake_shape`` gives (the
MultiPolygon on the served grid, no warning); every row that the per-row intake would repair,
warn about or refuse must be left to it (None). A mixed batch of every kind of geometry the
gate knows checks both directions, and that the plain rows really are decided in the batch.
"""

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from api.ingest import gate
from api.spatial.intake import (
    GRID_DEG,
    NO_PROGRAMME_MAX_AREA_M2,
    IntakeProblem,
    intake_shape,
    intake_shapes,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:invalid value encountered:RuntimeWarning"  # the NaN fixture
)


def _hexagon(x: float, y: float, r: float) -> Polygon:
    return Polygon(
        [
            (x + r * math.cos(a), y + r * math.sin(a))
            for a in np.linspace(0, 2 * math.pi, 7)[:-1]
        ]
    )


PLAIN = {
    "square": box(30.0, 50.0, 30.01, 50.01),
    "hexagon": _hexagon(31.2, 48.3, 0.003),
    "multi": MultiPolygon([box(30, 50, 30.01, 50.01), box(30.1, 50, 30.11, 50.01)]),
    "with_hole": Polygon(
        [(30, 50), (30.1, 50), (30.1, 50.1), (30, 50.1)],
        [[(30.02, 50.02), (30.05, 50.02), (30.05, 50.05), (30.02, 50.05)]],
    ),
    "at_antimeridian": box(179.9, -17.0, 180.0, -16.9),
    "near_pole": box(10.0, 89.0, 10.01, 89.01),
    "off_grid": box(30.0000000001234, 50.0, 30.0100000004321, 50.01),
}

OTHER = {
    "bowtie": Polygon([(30, 50), (30.01, 50.01), (30.01, 50), (30, 50.01)]),
    "long_way": Polygon([(-179.5, 10), (179.5, 10), (179.5, 10.5), (-179.5, 10.5)]),
    "pole": Polygon([(-180, 89.99), (0, 89.99), (180, 89.99), (180, 90), (-180, 90)]),
    "huge": box(20.0, 40.0, 22.0, 42.0),  # about 37,000 km²
    "zero_area": Polygon([(30, 50), (30.01, 50), (30.02, 50), (30, 50)]),
    "tiny": box(30.0, 50.0, 30.0 + 1e-8, 50.0 + 1e-8),
    "z": Polygon([(30, 50, 1), (30.01, 50, 1), (30.01, 50.01, 1), (30, 50.01, 1)]),
    "point": Point(30.0, 50.0),
    "empty": Polygon(),
    "none": None,
    "out_of_range": box(190.0, 50.0, 190.01, 50.01),
    "nan": Polygon([(30, 50), (math.nan, 50), (30.01, 50.01), (30, 50.01)]),
    # valid as submitted, invalid on the served grid: the hole's side, 3e-10° inside the
    # shell's, lies on it once rounded to 9 decimals and cuts the interior in two
    "rounding_collapses": Polygon(
        [(30.0, 50.0), (30.001, 50.0), (30.001, 50.001), (30.0, 50.001)],
        [
            [
                (30 + 3e-10, 50.0002),
                (30.0005, 50.0002),
                (30.0005, 50.0008),
                (30 + 3e-10, 50.0008),
            ]
        ],
    ),
}


def _per_row(geom):
    try:
        return intake_shape(
            geom, pointer="geometry", max_area_m2=NO_PROGRAMME_MAX_AREA_M2
        )
    except IntakeProblem as exc:
        return exc


def test_every_plain_row_is_decided_in_the_batch_as_the_per_row_intake_decides():
    names = [*PLAIN, *OTHER]
    geoms = [{**PLAIN, **OTHER}[n] for n in names]
    batch = intake_shapes(geoms, max_area_m2=NO_PROGRAMME_MAX_AREA_M2)
    for name, geom, fast in zip(names, geoms, batch, strict=True):
        slow = _per_row(geom)
        if name in PLAIN:
            assert fast is not None, f"{name}: left to the per-row path"
            assert not isinstance(slow, IntakeProblem), name
            assert slow.warnings == [] and fast.warnings == []
            assert fast.geometry.geom_type == "MultiPolygon"
            assert shapely.equals_exact(fast.geometry, slow.geometry, tolerance=0), name
            assert shapely.equals_exact(
                fast.geometry,
                shapely.set_precision(fast.geometry, GRID_DEG, mode="pointwise"),
                tolerance=0,
            )
        else:
            assert fast is None, f"{name}: decided in the batch, {fast}"
            assert isinstance(slow, IntakeProblem) or slow.warnings or name == "point"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_batches_agree_with_the_per_row_intake(seed):
    rng = np.random.default_rng(seed)
    geoms = []
    for _ in range(300):
        x, y, r = 30 + rng.random() * 5, 46 + rng.random() * 4, rng.random() * 0.01
        pts = [(x + rng.normal() * r, y + rng.normal() * r) for _ in range(5)]
        geoms.append(Polygon(pts))  # often self-intersecting: repaired per row
    batch = intake_shapes(geoms, max_area_m2=NO_PROGRAMME_MAX_AREA_M2)
    decided = 0
    for geom, fast in zip(geoms, batch, strict=True):
        slow = _per_row(geom)
        if fast is None:
            assert isinstance(slow, IntakeProblem) or slow.warnings
            continue
        decided += 1
        assert not isinstance(slow, IntakeProblem) and not slow.warnings
        assert shapely.equals_exact(fast.geometry, slow.geometry, tolerance=0)
    assert 0 < decided < len(geoms)


def test_intake_many_gives_each_row_its_result_or_its_rejection():
    geoms = [PLAIN["square"], OTHER["bowtie"], OTHER["long_way"], Point(30, 50)]
    out = gate.intake_many(
        geoms,
        pointer="geometry",
        allow_point=[False, False, False, True],
        max_vertices=1000,
        max_area_m2=NO_PROGRAMME_MAX_AREA_M2,
    )
    assert out[0].warnings == []
    assert out[1].repaired and "self-intersection" in out[1].warnings[0].lower()
    assert isinstance(out[2], gate.GateRejection)
    assert "long way round" in out[2].message
    assert out[3].geometry.geom_type == "Point"
    refused = gate.intake_many(
        geoms[:2],
        pointer="geometry",
        allow_point=[False, False],
        max_vertices=1000,
        refuse_repairs=True,
    )
    assert not isinstance(refused[0], gate.GateRejection)
    assert isinstance(refused[1], gate.RepairRefused)

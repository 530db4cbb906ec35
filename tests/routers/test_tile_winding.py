"""Vector tiles follow the MVT 2.1 winding rule at every zoom, for every polygon layer.

MVT 2.1 (4.3.4.4): an exterior ring has a positive area by the surveyor's formula in tile
coordinates (y down), an interior ring a negative one. Forgiving JavaScript decoders draw a
polygon whatever its winding; QGIS and GDAL follow the rule and drop a polygon whose rings are
all holes, so a national public map drawn with the wrong winding shows nothing. The geometry
commands are decoded here from the protocol buffer itself (mapbox-vector-tile's decoder
re-orients rings), and GDAL's own MVT driver reads the same tiles where gdal-bin is installed
(``make test`` installs it; see tests/test_real_clients_gdal.py for the OGC side).
"""

import shutil
import subprocess

import morecantile
import pytest
from mapbox_vector_tile.Mapbox import vector_tile_pb2
from shapely.geometry import Polygon, box

from tests.factories import activity_body, hazard_feature, make_admin_area, release

TMS = morecantile.tms.get("WebMercatorQuad")
LON, LAT = 36.4107, 48.7007  # somewhere no other test draws
ZOOMS = range(5, 15)
POLYGON = 3  # GeomType in vector_tile.proto


def tile_path(layer: str, z: int) -> str:
    t = TMS.tile(LON + 0.006, LAT + 0.006, z)
    return f"/tiles/{layer}/{t.z}/{t.x}/{t.y}.mvt"


def zigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def polygon_rings(commands: list[int]) -> list[list[tuple[int, int]]]:
    """The rings of one POLYGON feature, in tile coordinates, as the commands draw them."""
    rings, ring, x, y, i = [], [], 0, 0, 0
    while i < len(commands):
        cmd, count = commands[i] & 0x7, commands[i] >> 3
        i += 1
        if cmd == 7:  # ClosePath
            rings.append(ring)
            ring = []
            continue
        for _ in range(count):
            x += zigzag(commands[i])
            y += zigzag(commands[i + 1])
            i += 2
            if cmd == 1:  # MoveTo starts a ring
                ring = [(x, y)]
            else:
                ring.append((x, y))
    return rings


def surveyor_area(ring: list[tuple[int, int]]) -> float:
    pts = [*ring, ring[0]]
    return (
        sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(pts[:-1], pts[1:], strict=True))
        / 2
    )


def polygon_windings(content: bytes) -> dict[str, list[list[float]]]:
    """Per layer, the signed areas of the rings of each polygon feature."""
    tile = vector_tile_pb2.tile()
    tile.ParseFromString(content)
    out: dict[str, list[list[float]]] = {}
    for layer in tile.layers:
        for feature in layer.features:
            if feature.type == POLYGON:
                rings = polygon_rings(list(feature.geometry))
                out.setdefault(layer.name, []).append([surveyor_area(r) for r in rings])
    return out


@pytest.fixture
def drawn(client, session, actors):
    """Overlapping hazards (merged in low-zoom public tiles), one with a hole, a partial
    clearance, an administrative area and a publication."""
    shapes = [
        box(LON, LAT, LON + 0.01, LAT + 0.01),
        box(LON + 0.005, LAT + 0.005, LON + 0.015, LAT + 0.015),
        Polygon(
            box(LON + 0.02, LAT, LON + 0.04, LAT + 0.02).exterior.coords,
            [box(LON + 0.025, LAT + 0.005, LON + 0.035, LAT + 0.015).exterior.coords],
        ),
    ]
    ids = []
    for i, shape in enumerate(shapes):
        r = client.post(
            "/api/v1/hazards",
            json=hazard_feature(
                shape, actors.org_a, classification="CHA" if i else "SHA"
            ),
            headers=actors.coordinator_a.headers,
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    cleared = release(box(LON, LAT, LON + 0.004, LAT + 0.004), "cleared")
    r = client.post(
        "/api/v1/activities",
        json=activity_body(actors.org_a, [ids[0]], [cleared]),
        headers=actors.coordinator_a.headers,
    )
    assert r.status_code == 201, r.text
    make_admin_area(
        session, "ZZ9901", box(LON - 0.1, LAT - 0.1, LON + 0.1, LAT + 0.1), level=1
    )
    pub = client.post("/api/v1/public/publications", headers=actors.admin.headers)
    assert pub.status_code == 201, pub.text
    return ids


POLYGON_LAYERS = [
    "hazards",
    "releases",
    "admin-areas",
    "public-hazards",
    "public-released",
]


@pytest.mark.parametrize("layer", POLYGON_LAYERS)
def test_every_polygon_starts_with_an_exterior_ring_at_every_zoom(
    client, actors, drawn, layer
):
    seen = 0
    for z in ZOOMS:
        r = client.get(tile_path(layer, z), headers=actors.admin.headers)
        assert r.status_code == 200, (z, r.text)
        for areas in polygon_windings(r.content).get(layer, []):
            seen += 1
            assert areas and areas[0] > 0, (
                f"{layer} z{z}: the first ring is wound as a hole ({areas})"
            )
            # every later ring is either a hole of that polygon or a new exterior ring
            assert all(a != 0 for a in areas), (layer, z, areas)
    # (a small release is below one tile unit at zoom 5, and is not drawn there)
    assert seen >= len(ZOOMS) - 1, f"{layer}: too few polygons to check ({seen})"


def test_holes_are_wound_the_other_way(client, actors, drawn):
    """The hazard with a hole keeps it as a negative ring in a detailed tile."""
    t = TMS.tile(LON + 0.03, LAT + 0.01, 14)  # the hole's centre
    r = client.get(f"/tiles/hazards/14/{t.x}/{t.y}.mvt", headers=actors.admin.headers)
    windings = polygon_windings(r.content)["hazards"]
    assert any(len(a) >= 2 and a[0] > 0 and a[1] < 0 for a in windings), windings


def test_gdal_mvt_driver_reads_every_merged_public_polygon(client, drawn, tmp_path):
    """GDAL (gdal-bin, installed by scripts/bootstrap.sh) reads a z6 public tile and finds
    the merged areas as polygons with a positive area."""
    ogrinfo = shutil.which("ogrinfo")
    assert ogrinfo, "gdal-bin is not installed: run scripts/bootstrap.sh (make install)"
    t = TMS.tile(LON + 0.006, LAT + 0.006, 6)
    r = client.get(f"/tiles/public-hazards/6/{t.x}/{t.y}.mvt")
    assert r.status_code == 200 and r.content
    # GDAL's MVT driver reads a single tile from a file named z/x/y.pbf
    path = tmp_path / "6" / str(t.x)
    path.mkdir(parents=True)
    (path / f"{t.y}.pbf").write_bytes(r.content)
    out = subprocess.run(
        [ogrinfo, "-ro", "-al", "-geom=SUMMARY", str(path / f"{t.y}.pbf")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "Layer name: public-hazards" in out, out
    merged = len(polygon_windings(r.content)["public-hazards"])
    assert f"Feature Count: {merged}" in out, out
    assert out.count("POLYGON :") == merged, out

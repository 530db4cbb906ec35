"""GDAL's OGC API - Features driver (``ogrinfo``/``ogr2ogr`` of Debian's gdal-bin, which
scripts/bootstrap.sh installs) reads our collections as a GIS desk would."""

import json
import os
import re
import shutil
import subprocess

import pytest

from tests.helpers import CLIENT_ARTIFACTS as ARTIFACTS

pytestmark = pytest.mark.clients


def gdal(served, *args: str, debug: bool = False) -> subprocess.CompletedProcess:
    tool = shutil.which(args[0])
    assert tool, f"{args[0]} is missing: install gdal-bin (scripts/bootstrap.sh does)"
    env = {
        **os.environ,
        # HTTP Basic with the key as the password of the user "apikey"
        "GDAL_HTTP_AUTH": "BASIC",
        "GDAL_HTTP_USERPWD": f"apikey:{served['key']}",
        "CPL_DEBUG": "ON" if debug else "OFF",
        "CPL_CURL_VERBOSE": "NO",
    }
    p = subprocess.run(
        [tool, *args[1:]], env=env, capture_output=True, text=True, timeout=300
    )
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def numbers(served, cid: str, **params) -> int:
    r = served["api"].get(
        f"{served['base']}/ogc/collections/{cid}/items",
        params={"limit": 1, **params},
        headers={"X-API-Key": served["key"]},
    )
    assert r.status_code == 200, r.text
    return r.json()["numberMatched"]


def test_gdal_lists_every_collection_with_one_geometry_type(served):
    out = gdal(served, "ogrinfo", "-ro", "-q", f"OAPIF:{served['base']}/ogc").stdout
    (ARTIFACTS / "ogrinfo-collections.txt").write_text(out)
    layers = dict(re.findall(r"^\d+: (\S+) .*\(([^()]*)\)$", out, re.M))
    assert layers["hazards"] == "Multi Polygon", out
    assert layers["remaining"] == "Multi Polygon", out
    assert layers["hazard-points"] == "Point", out
    assert layers["remaining-points"] == "Point", out
    assert layers["public-hazards"] == "Multi Polygon", out


@pytest.mark.parametrize(
    ("cid", "geometry"), [("hazards", "MultiPolygon"), ("hazard-points", "Point")]
)
def test_gdal_reads_every_hazard_with_its_geometry_type(
    served, tmp_path, cid, geometry
):
    out = tmp_path / f"{cid}.geojson"
    gdal(
        served, "ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{served['base']}/ogc", cid
    )
    features = json.loads(out.read_text())["features"]
    assert len(features) == numbers(served, cid) > 0
    assert {f["geometry"]["type"] for f in features} == {geometry}


def test_every_hazard_is_in_one_collection(served):
    listed = served["api"].get(
        "/hazards", params={"limit": 1}, headers={"X-API-Key": served["key"]}
    )
    assert listed.status_code == 200, listed.text
    total = listed.json()["numberMatched"]
    assert numbers(served, "hazards") + numbers(served, "hazard-points") == total


def test_gdal_pushes_an_attribute_filter_down_as_cql2(served):
    """GDAL 3.6 sends ``filter-lang=cql-text`` (CQL2's draft name) once the API
    description lists it; it filtered every page on the client before. (It pages by its
    PAGE_SIZE open option, 10 by default: GDAL 3.7 and later read the maximum ``limit``
    from the same description.)"""
    p = gdal(
        served,
        "ogrinfo",
        "-ro",
        "-al",
        "-so",
        "-where",
        "classification = 'CHA'",
        f"OAPIF:{served['base']}/ogc",
        "hazards",
        debug=True,
    )
    (ARTIFACTS / "ogrinfo-cql2.log").write_text(p.stdout + p.stderr)
    requests = re.findall(r"/ogc/collections/hazards/items\?\S+", p.stderr)
    assert requests and all("filter=" in r for r in requests[1:]), p.stderr
    assert "evaluated on client side" not in p.stderr
    count = int(re.search(r"Feature Count: (\d+)", p.stdout).group(1))
    assert count == numbers(served, "hazards", filter="classification = 'CHA'") > 0


def test_gdal_reads_the_public_layer_without_credentials(served, tmp_path):
    tool = shutil.which("ogr2ogr")
    assert tool, "ogr2ogr is missing: install gdal-bin (scripts/bootstrap.sh does)"
    out = tmp_path / "public.geojson"
    p = subprocess.run(
        [
            tool,
            "-f",
            "GeoJSON",
            str(out),
            f"OAPIF:{served['base']}/ogc",
            "public-hazards",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    features = json.loads(out.read_text())["features"]
    assert len(features) == numbers(served, "public-hazards") > 0
    assert not any("name" in f["properties"] for f in features)


def test_gdal_pushes_a_spatial_filter_down_as_bbox(served):
    first = served["api"].get(
        "/hazards", params={"limit": 1}, headers={"X-API-Key": served["key"]}
    )
    lon, lat = first.json()["features"][0]["geometry"]["coordinates"][0][0][0]
    box = [lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05]
    p = gdal(
        served,
        "ogrinfo",
        "-ro",
        "-al",
        "-so",
        "-spat",
        *map(str, box),
        f"OAPIF:{served['base']}/ogc",
        "hazards",
        debug=True,
    )
    requests = re.findall(r"/ogc/collections/hazards/items\?\S+", p.stderr)
    assert any("bbox=" in r for r in requests), p.stderr
    count = int(re.search(r"Feature Count: (\d+)", p.stdout).group(1))
    assert count == numbers(served, "hazards", bbox=",".join(map(str, box))) > 0


def test_gdal_follows_cursor_next_links(served, tmp_path):
    out = tmp_path / "hazards.geojson"
    p = gdal(
        served,
        "ogr2ogr",
        "-oo",
        "PAGE_SIZE=7",
        "-f",
        "GeoJSON",
        str(out),
        f"OAPIF:{served['base']}/ogc",
        "hazards",
        debug=True,
    )
    pages = re.findall(r"/ogc/collections/hazards/items\?\S+", p.stderr)
    assert len([r for r in pages if "cursor=" in r]) >= 2, p.stderr
    assert not any("offset=" in r for r in pages), p.stderr
    ids = [f["properties"]["id"] for f in json.loads(out.read_text())["features"]]
    assert len(ids) == len(set(ids)) == numbers(served, "hazards") > 7

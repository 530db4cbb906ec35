"""GDAL follows our cursor ``next`` links page after page and reads every feature once."""

import json
import re

import pytest

from tests.clients.test_gdal_ogc import gdal, numbers

pytestmark = pytest.mark.clients


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

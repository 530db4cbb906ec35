"""QGIS 3.22 (Debian's python3-qgis, installed by scripts/bootstrap.sh) reads our OGC API
with HTTP Basic authentication and draws the public layer's low-zoom tiles.

QGIS runs in Debian's own interpreter (``/usr/bin/python3``), headless, in a subprocess:
``tests/clients/qgis_client.py`` does what a desk user does and prints what it saw. Nothing
is skipped: without python3-qgis the test fails and says how to install it.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import CLIENT_ARTIFACTS as ARTIFACTS

QGIS_PYTHON = "/usr/bin/python3"
CLIENT = Path(__file__).with_name("qgis_client.py")

pytestmark = pytest.mark.clients


@pytest.fixture(scope="module")
def qgis_saw(served, tmp_path_factory):
    probe = subprocess.run(
        [QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True, text=True
    )
    assert probe.returncode == 0, (
        "QGIS's Python API is missing: install Debian's python3-qgis "
        f"(scripts/bootstrap.sh does). {probe.stderr[-300:]}"
    )
    public = served["api"].get("/public/hazards").json()["features"]
    assert public, "the demo publishes a public layer"
    first = public[0]["geometry"]["coordinates"][0][0][0]
    home = tmp_path_factory.mktemp("qgis-home")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "QT_QPA_PLATFORM": "offscreen",
        "QGIS_AUTH_DB_DIR_PATH": str(home),
        "XDG_RUNTIME_DIR": str(home),
        "LANG": "C.UTF-8",
    }
    p = subprocess.run(
        [
            QGIS_PYTHON,
            str(CLIENT),
            served["base"],
            served["key"],
            str(ARTIFACTS),
            "--lon",
            str(first[0]),
            "--lat",
            str(first[1]),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    (ARTIFACTS / "qgis.log").write_text(p.stdout + "\n" + p.stderr)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def count(served, cid: str) -> int:
    r = served["api"].get(
        f"{served['base']}/ogc/collections/{cid}/items",
        params={"limit": 1},
        headers={"X-API-Key": served["key"]},
    )
    assert r.status_code == 200, r.text
    return r.json()["numberMatched"]


def test_qgis_is_the_debian_release_we_document(qgis_saw):
    assert qgis_saw["qgis"].startswith("3.22"), qgis_saw["qgis"]
    assert qgis_saw["authcfg_stored"]


@pytest.mark.parametrize(
    ("cid", "geometry"), [("hazards", "MultiPolygon"), ("hazard-points", "Point")]
)
def test_qgis_loads_every_hazard_with_basic_authentication(
    qgis_saw, served, cid, geometry
):
    layer = qgis_saw["layers"][cid]
    assert layer["valid"], layer
    assert layer["count"] == count(served, cid) > 0, layer
    assert set(layer["types"]) == {geometry}, layer


def test_qgis_draws_the_public_layer_at_zoom_6(qgis_saw):
    """QGIS follows the MVT winding rule: with every ring wound as a hole it drew nothing."""
    assert qgis_saw["tiles_valid"]
    assert qgis_saw["coloured_pixels"] > 0, qgis_saw

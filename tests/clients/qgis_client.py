"""What a QGIS 3.22 desk does with Safeground, run headless by Debian's own Python.

Not a test module: ``test_qgis.py`` runs it with ``/usr/bin/python3`` (python3-qgis is built
for Debian's interpreter) and ``QT_QPA_PLATFORM=offscreen``, and reads the JSON it prints.

    python3 qgis_client.py BASE_URL API_KEY OUT_DIR

1. Stores an HTTP Basic authentication configuration (user ``apikey``, the key as password)
   in a fresh authentication database, as a user does in Settings > Authentication.
2. Loads the OGC API - Features collections ``hazards`` and ``hazard-points`` through the
   OAPIF provider with it, and counts the features and their geometry types.
3. Loads the public layer's vector tiles anonymously and renders the z6 tile that holds
   ``--lon/--lat`` to a PNG, counting the pixels that are not the background.
"""

import argparse
import faulthandler
import json
import math
import os
import sys
from pathlib import Path

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsAuthMethodConfig,
    QgsCoordinateReferenceSystem,
    QgsFeatureRequest,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

HALF_WORLD = 20037508.342789244


def tile_bounds(lon: float, lat: float, z: int) -> QgsRectangle:
    """The Web Mercator bounds of the z/x/y tile holding lon/lat."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    size = 2 * HALF_WORLD / n
    return QgsRectangle(
        -HALF_WORLD + x * size,
        HALF_WORLD - (y + 1) * size,
        -HALF_WORLD + (x + 1) * size,
        HALF_WORLD - y * size,
    )


def main() -> int:
    """Run the three steps and print their results as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("key")
    parser.add_argument("out", type=Path)
    parser.add_argument("--lon", type=float, required=True)
    parser.add_argument("--lat", type=float, required=True)
    args = parser.parse_args()
    faulthandler.enable()  # a crash inside QGIS names the Python line it came from

    app = QgsApplication([], False)
    QgsApplication.setPrefixPath("/usr", True)
    app.initQgis()
    result: dict = {"qgis": Qgis.QGIS_VERSION}

    auth = QgsApplication.authManager()
    auth.setMasterPassword("safeground-test", True)
    config = QgsAuthMethodConfig()
    config.setName("safeground")
    config.setMethod("Basic")
    config.setConfig("username", "apikey")
    config.setConfig("password", args.key)
    stored = auth.storeAuthenticationConfig(config)
    if isinstance(stored, tuple):  # (ok, config) in some bindings
        stored, config = stored
    result["authcfg_stored"] = bool(stored)

    layers = {}
    for typename in ("hazards", "hazard-points"):
        uri = (
            f"url='{args.base}/ogc' typename='{typename}' "
            f"authcfg={config.id()} pagingEnabled='true'"
        )
        layer = QgsVectorLayer(uri, typename, "OAPIF")
        info = {"valid": layer.isValid()}
        if layer.isValid():
            types, count = {}, 0
            for feature in layer.getFeatures(QgsFeatureRequest()):
                count += 1
                name = QgsWkbTypes.displayString(feature.geometry().wkbType())
                types[name] = types.get(name, 0) + 1
            info.update(
                count=count,
                types=types,
                layer_type=QgsWkbTypes.displayString(layer.wkbType()),
            )
        layers[typename] = info
    result["layers"] = layers

    url = f"{args.base}/tiles/public-hazards/{{z}}/{{x}}/{{y}}.mvt"
    tiles = QgsVectorTileLayer(f"type=xyz&url={url}&zmin=0&zmax=14", "public")
    result["tiles_valid"] = tiles.isValid()
    settings = QgsMapSettings()
    settings.setLayers([tiles])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    settings.setExtent(tile_bounds(args.lon, args.lat, 6))
    settings.setOutputSize(QSize(256, 256))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    args.out.mkdir(parents=True, exist_ok=True)
    image.save(str(args.out / "qgis-public-z6.png"))
    white = QColor(255, 255, 255).rgb()
    result["coloured_pixels"] = sum(
        1
        for x in range(image.width())
        for y in range(image.height())
        if image.pixel(x, y) != white
    )
    result["zoom_rendered"] = 6
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    # QGIS 3.22 may crash tearing down a headless application that made network requests;
    # what it saw is written, so leave without the teardown
    os._exit(0)


if __name__ == "__main__":
    main()

"""Builders of import fixtures: every file the import tests use is written here, in tmp dirs."""

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import box, mapping

# Around 30.5 E, 50.45 N (Kyiv region): a 100 m grid of small squares.
X0, Y0, STEP = 30.50, 50.45, 0.002


def square(i: int, size: float = 0.001):
    """The i-th small square of the grid (about 70 m x 110 m)."""
    x = X0 + (i % 100) * STEP
    y = Y0 + (i // 100) * STEP
    return box(x, y, x + size, y + size)


def hazard_props(i: int, org: str, **extra: Any) -> dict[str, Any]:
    """Native properties of the i-th test hazard."""
    return {
        "external_id": f"IMP-{i:05d}",
        "name": f"Field {i}",
        "classification": "SHA",
        "hazard_type": "minefield",
        "contamination": "ap_mine,av_mine",
        "organisation": org,
        "date_of_information": "2024-05-17",
        **extra,
    }


def geojson_bytes(features: list[dict]) -> bytes:
    """A FeatureCollection."""
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def feature(geom, props: dict) -> dict:
    """A GeoJSON Feature (geometry may be a dict, for broken geometries)."""
    return {
        "type": "Feature",
        "geometry": geom if isinstance(geom, dict) or geom is None else mapping(geom),
        "properties": props,
    }


def hazards_gdf(n: int, org: str, crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """n hazards as a GeoDataFrame (contamination comma-joined, as in CSV/shapefile)."""
    rows = [hazard_props(i, org) for i in range(n)]
    gdf = gpd.GeoDataFrame(
        rows, geometry=[square(i) for i in range(n)], crs="EPSG:4326"
    )
    return gdf.to_crs(crs) if crs != "EPSG:4326" else gdf


def write_gpkg(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> bytes:
    """A GeoPackage with the given layers."""
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    return path.read_bytes()


def shapefile_zip(
    tmp: Path,
    gdf: gpd.GeoDataFrame,
    *,
    drop: tuple[str, ...] = (),
    name: str = "hazards",
) -> bytes:
    """A zipped shapefile (UTF-8 .cpg), optionally without some of its parts."""
    folder = tmp / f"shp-{name}"
    folder.mkdir(exist_ok=True)
    gdf.to_file(folder / f"{name}.shp", driver="ESRI Shapefile", encoding="UTF-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() not in drop:
                zf.write(f, f.name)
    return buf.getvalue()


def kml_bytes(placemarks: list[tuple[str, dict, str]]) -> bytes:
    """KML with placemarks (name, extended data, geometry KML)."""
    body = []
    for name, data, geom in placemarks:
        ext = "".join(
            f'<Data name="{k}"><value>{v}</value></Data>' for k, v in data.items()
        )
        body.append(
            f"<Placemark><name>{name}</name><ExtendedData>{ext}</ExtendedData>{geom}</Placemark>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        + "".join(body)
        + "</Document></kml>"
    ).encode()


def kml_polygon(geom) -> str:
    """A shapely polygon as KML."""
    coords = " ".join(f"{x},{y},0" for x, y in geom.exterior.coords)
    return f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{coords}</coordinates></LinearRing></outerBoundaryIs></Polygon>"


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    """A one-sheet workbook; strings starting with '=' become formulas."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "hazards"
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def zip_bytes(
    members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    """A zip with the given members (names are written as given, even ../ ones)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buf.getvalue()

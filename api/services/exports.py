"""Layer exports as files: GeoJSON, GeoPackage, zipped Shapefile, KML and CSV.

Each layer is read with ONE set-based SQL statement, held as a GeoDataFrame (EPSG:4326),
written into a temporary directory (by pyogrio; GeoJSON by us, see ``write_geojson``) and
handed to the router, which streams the file and deletes the directory afterwards. Nothing is
queried per row.

Columns are our own field names (docs/api.md); ``profile="imsma"`` renames them to the FIRST
column name that ``api/ingest/profiles/imsma.yaml`` lists for the field, so an IMSMA import
(or our importer with that profile) recognises them. Values stay our codes.

Format rules:

* list fields (``contamination``, ``blockages``, ``admin``) are JSON arrays in GeoJSON and
  comma-joined text elsewhere, null when empty;
* GeoPackage (version 1.2) and Shapefile type their fields as their readers expect: dates
  as Date fields, our integers as (32-bit) Integer, areas as Real; GeoJSON, CSV and KML,
  which have no date type, carry dates as ISO 8601 text (``2024-05-17``);
* GeoJSON is RFC 7946 (lon/lat, exterior rings counter-clockwise); coordinates are exact in
  GeoJSON and CSV (the shortest text that reads back as the stored double) and in GeoPackage
  and Shapefile (binary), so an export imported back finds the very same geometry; KML has
  GDAL's 15 significant digits;
* Shapefile field names have at most 10 characters (``SHAPEFILE_NAMES``; the zip carries the
  mapping as ``fields.csv``); a Shapefile holds one geometry type, so hazards are split into
  ``hazards_polygons.shp`` and ``hazards_points.shp``; text longer than 254 bytes is cut;
* CSV is UTF-8 starting with a BOM (as every CSV we serve, ``api.csvout``); it has the
  geometry as WKT in ``wkt`` (plus ``lon``/``lat`` for point layers); any text
  cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
  apostrophe so spreadsheets do not run it as a formula. Numbers stay numbers.

Exact EO find locations are restricted (docs/domain.md §5.2): exporting ``eo-finds`` needs
what reading them exactly needs (``auth.sees_exact_locations``: coordinators, admins or
``restricted:read``).
"""

import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import pyogrio
import shapely
import yaml
from sqlalchemy import text
from sqlalchemy.orm import Session

from api import csvout
from api.csvout import neutralise
from api.errors import BadRequest, Forbidden, NotFound
from api.services.auth import RESTRICTED_READ, Principal, sees_exact_locations
from api.services.filters import bbox_sql
from api.services.hazard_queries import CURRENT_FILTER, HazardFilters

PROFILES_DIR = Path(__file__).resolve().parents[1] / "ingest" / "profiles"
PROFILES = ("native", "imsma")
# GDAL's GPKG creation option VERSION: 1.4 (GDAL 3.12's default) makes GDAL 3.6 warn.
GPKG_VERSION = "1.2"
# GEOS writes the shortest text that reads back exactly, up to this many decimals.
WKT_DECIMALS = 30


# --- Layers ------------------------------------------------------------------------------

# Column kinds: how each column is typed in the files.
UUID, TEXT, INT, FLOAT, DATE, LIST = "uuid", "text", "int", "float", "date", "list"

HAZARDS_SQL = (
    """
SELECT h.id, h.external_id, h.name, h.classification, h.hazard_type, h.status,
       CASE WHEN h.status_set IS NULL THEN 'derived' ELSE 'set' END AS status_source,
       h.contamination, o.code AS organisation, h.date_of_information, h.estimated_area_m2,
       h.evidence, h.blockages, h.notes, h.area_m2, h.version, h.admin_pcodes AS admin,
       f.baseline_area_m2, f.cancelled_area_m2, f.reduced_area_m2, f.cleared_area_m2,
       f.released_area_m2, f.remaining_area_m2,
       ST_AsBinary(h.geom) AS geom
FROM hazards h
JOIN organisations o ON o.id = h.organisation_id
LEFT JOIN hazard_land_release f ON f.hazard_id = h.id
"""
    + CURRENT_FILTER
    + " ORDER BY h.date_of_information DESC, h.id"
)

RELEASES_SQL = f"""
SELECT r.id, r.outcome, r.date, r.activity_id, a.external_id AS activity_external_id,
       r.hazard_id, h.external_id AS hazard_external_id, o.code AS organisation,
       r.area_m2, r.effective_area_m2 AS counted_area_m2,
       ST_AsBinary(r.geom) AS geom
FROM release_polygons r
JOIN activities a ON a.id = r.activity_id
JOIN hazards h ON h.id = r.hazard_id
JOIN organisations o ON o.id = a.organisation_id
WHERE r.retired_at IS NULL AND a.retired_at IS NULL AND h.retired_at IS NULL
  AND {bbox_sql("r.geom")}
  AND (CAST(:organisation AS text) IS NULL OR o.code = :organisation)
  AND (CAST(:admin AS text) IS NULL OR h.admin_pcodes @> ARRAY[CAST(:admin AS text)])
ORDER BY r.date, r.activity_id, r.feature_index, r.hazard_id
"""

EO_FINDS_SQL = f"""
SELECT f.id, f.external_id, o.code AS organisation, f.activity_id, f.hazard_id,
       f.eo_category, f.model, f.quantity, f.condition, f.depth_cm, f.found_on,
       f.disposal_method, f.notes,
       ST_AsBinary(f.geom) AS geom
FROM eo_finds f
JOIN organisations o ON o.id = f.organisation_id
WHERE f.retired_at IS NULL
  AND {bbox_sql("f.geom")}
  AND (CAST(:organisation AS text) IS NULL OR o.code = :organisation)
  AND (CAST(:admin AS text) IS NULL OR EXISTS (
        SELECT 1 FROM admin_areas a
         WHERE a.pcode = CAST(:admin AS text) AND ST_Intersects(a.geom, f.geom)))
ORDER BY f.found_on DESC NULLS LAST, f.id
"""

ADMIN_AREAS_SQL = f"""
SELECT a.pcode, a.name, a.level, a.parent_pcode,
       ST_AsBinary(a.geom) AS geom
FROM admin_areas a
WHERE {bbox_sql("a.geom")}
ORDER BY a.level, a.pcode
"""


@dataclass(frozen=True)
class Layer:
    """An exportable layer: its query, its typed columns and its geometry."""

    name: str
    kind: str  # the import kind in the profiles (``kinds.<kind>``)
    sql: str
    columns: tuple[tuple[str, str], ...]
    geometry_type: str  # "Unknown" when Points and MultiPolygons mix
    key: str | None  # the column written as the GeoJSON Feature ``id``
    filters: frozenset[str]
    restricted: bool = False

    @property
    def is_point(self) -> bool:
        """Whether every feature is a Point."""
        return self.geometry_type == "Point"


LAND_RELEASE_COLUMNS = tuple(
    (f"{k}_area_m2", FLOAT)
    for k in ("baseline", "cancelled", "reduced", "cleared", "released", "remaining")
)

LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (
        Layer(
            name="hazards",
            kind="hazards",
            sql=HAZARDS_SQL,
            columns=(
                ("id", UUID),
                ("external_id", TEXT),
                ("name", TEXT),
                ("classification", TEXT),
                ("hazard_type", TEXT),
                ("status", TEXT),
                (
                    "status_source",
                    TEXT,
                ),  # as in the API: derived from activities, or set
                ("contamination", LIST),
                ("organisation", TEXT),
                ("date_of_information", DATE),
                ("estimated_area_m2", FLOAT),
                ("evidence", TEXT),
                ("blockages", LIST),
                ("notes", TEXT),
                ("area_m2", FLOAT),
                ("version", INT),
                ("admin", LIST),
                *LAND_RELEASE_COLUMNS,
            ),
            geometry_type="Unknown",
            key="id",
            filters=frozenset(
                {
                    "bbox",
                    "organisation",
                    "admin",
                    "classification",
                    "status",
                    "hazard_type",
                }
            ),
        ),
        Layer(
            name="releases",
            kind="releases",
            sql=RELEASES_SQL,
            columns=(
                ("id", UUID),
                ("outcome", TEXT),
                ("date", DATE),
                ("activity_id", UUID),
                ("activity_external_id", TEXT),
                ("hazard_id", UUID),
                ("hazard_external_id", TEXT),
                ("organisation", TEXT),
                ("area_m2", FLOAT),
                ("counted_area_m2", FLOAT),
            ),
            geometry_type="MultiPolygon",
            key="id",
            filters=frozenset({"bbox", "organisation", "admin"}),
        ),
        Layer(
            name="eo-finds",
            kind="eo_finds",
            sql=EO_FINDS_SQL,
            columns=(
                ("id", UUID),
                ("external_id", TEXT),
                ("organisation", TEXT),
                ("activity_id", UUID),
                ("hazard_id", UUID),
                ("eo_category", TEXT),
                ("model", TEXT),
                ("quantity", INT),
                ("condition", TEXT),
                ("depth_cm", INT),
                ("found_on", DATE),
                ("disposal_method", TEXT),
                ("notes", TEXT),
            ),
            geometry_type="Point",
            key="id",
            filters=frozenset({"bbox", "organisation", "admin"}),
            restricted=True,
        ),
        Layer(
            name="admin-areas",
            kind="admin_areas",
            sql=ADMIN_AREAS_SQL,
            columns=(
                ("pcode", TEXT),
                ("name", TEXT),
                ("level", INT),
                ("parent_pcode", TEXT),
            ),
            geometry_type="MultiPolygon",
            key=None,  # GDAL would read a Feature id as an extra ``id`` column
            filters=frozenset({"bbox"}),
        ),
    )
}


# --- Formats -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    """A file format: its suffix and media type."""

    suffix: str
    media_type: str


FORMATS: dict[str, Format] = {
    f.suffix: f
    for f in (
        Format("geojson", "application/geo+json"),
        Format("gpkg", "application/geopackage+sqlite3"),
        Format("shp.zip", "application/zip"),
        Format("kml", "application/vnd.google-earth.kml+xml"),
        Format("csv", "text/csv; charset=utf-8"),
    )
}

# Shapefile (dBASE) field names have at most 10 characters. Every longer name we write, with
# either profile, has its short name here; the zip carries the mapping as fields.csv.
SHAPEFILE_NAMES: dict[str, str] = {
    # native names
    "external_id": "ext_id",
    "classification": "class",
    "hazard_type": "haz_type",
    "status_source": "status_src",
    "contamination": "contam",
    "organisation": "org",
    "date_of_information": "doi",
    "estimated_area_m2": "est_area",
    "baseline_area_m2": "base_m2",
    "cancelled_area_m2": "cancel_m2",
    "reduced_area_m2": "reduce_m2",
    "cleared_area_m2": "clear_m2",
    "released_area_m2": "release_m2",
    "remaining_area_m2": "remain_m2",
    "activity_id": "act_id",
    "activity_external_id": "act_ext_id",
    "hazard_id": "haz_id",
    "hazard_external_id": "haz_ext_id",
    "counted_area_m2": "counted_m2",
    "eo_category": "eo_cat",
    "disposal_method": "disposal",
    "parent_pcode": "parent",
    # imsma profile names
    "hazard_name": "haz_name",
    "hazard_type_status": "haz_class",
    "hazard_status": "haz_status",
    "device_classification": "device_cls",
    "organisation_code": "org_code",
    "estimated_area": "est_area",
    "evidence_type": "evid_type",
    "ordnance_category": "ord_cat",
    "ordnance_model": "ord_model",
    "hazard_imsma_id": "haz_imsma",
}

SHAPEFILE_README = """Safeground shapefile export

* Coordinates: WGS 84 longitude/latitude (EPSG:4326, see the .prj); text is UTF-8 (.cpg).
* Field names are cut to 10 characters; fields.csv maps each field name used in our other
  formats (GeoJSON, GeoPackage, CSV, KML) to its shapefile name.
* Lists (contamination, blockages, admin) are comma-separated codes; dates are Date fields.
* A shapefile holds one geometry type: hazards come as hazards_polygons.shp and
  hazards_points.shp (UXO spots and AXO sites recorded as points).
* Text longer than 254 bytes (about 127 Cyrillic letters) is cut by the format; the
  GeoPackage export keeps it whole.
"""


# --- Requests ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFilters:
    """Optional filters of an export; each layer accepts some of them (``Layer.filters``)."""

    bbox: tuple[float, float, float, float] | None = None
    organisation: str | None = None
    admin: str | None = None
    classification: str | None = None
    status: str | None = None
    hazard_type: str | None = None

    def given(self) -> set[str]:
        """Names of the filters that were set."""
        return {f.name for f in fields(self) if getattr(self, f.name) is not None}

    def params(self) -> dict[str, Any]:
        """Bound parameters for the layer SQL."""
        return HazardFilters(
            bbox=self.bbox,
            classification=self.classification,
            status=self.status,
            hazard_type=self.hazard_type,
            organisation=self.organisation,
            admin=self.admin,
        ).params()


@dataclass(frozen=True)
class ExportFile:
    """A written export: the file, the directory to delete once sent, how to serve it."""

    path: Path
    directory: Path
    media_type: str
    filename: str
    rows: int

    def cleanup(self) -> None:
        """Delete the temporary directory holding the file."""
        shutil.rmtree(self.directory, ignore_errors=True)


def parse_name(name: str) -> tuple[Layer, Format]:
    """Split ``hazards.shp.zip`` into its layer and format; NotFound names what is unknown."""
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if name.endswith("." + suffix):
            layer_name = name[: -len(suffix) - 1]
            if layer_name not in LAYERS:
                raise NotFound(
                    f"no export layer {layer_name!r}; layers: {', '.join(LAYERS)}"
                )
            return LAYERS[layer_name], FORMATS[suffix]
    raise NotFound(
        f"no export format for {name!r}; use <layer>.<format> with a format among "
        + ", ".join(FORMATS)
    )


def export(
    session: Session,
    *,
    name: str,
    principal: Principal,
    profile: str = "native",
    filters: ExportFilters | None = None,
    today: date | None = None,
) -> ExportFile:
    """Write the layer and format named by ``name`` (``hazards.gpkg``) to a temporary file.

    Args:
        session: database session (only read).
        name: ``<layer>.<format>``, e.g. ``hazards.shp.zip``.
        principal: the caller; ``eo-finds`` needs ``restricted:read``.
        profile: ``native`` (our field names) or ``imsma`` (IMSMA column names).
        filters: optional filters; those a layer does not accept are refused (400).
        today: date in the file name (default: today, UTC).

    Returns:
        The file to stream; the caller must call ``cleanup()`` once it is sent.

    Raises:
        NotFound: unknown layer or format. BadRequest: a filter the layer does not take.
        Forbidden: exact EO find locations without ``restricted:read``.
    """
    layer, fmt = parse_name(name)
    filters = filters or ExportFilters()
    if profile not in PROFILES:
        raise BadRequest(f"unknown profile {profile!r}; use one of {PROFILES}")
    refused = sorted(filters.given() - layer.filters)
    if refused:
        raise BadRequest(
            f"the {layer.name} layer cannot be filtered by {', '.join(refused)}; "
            f"it takes {', '.join(sorted(layer.filters))}"
        )
    if layer.restricted and not sees_exact_locations(principal):
        raise Forbidden(
            "exact EO find locations are restricted data (looting, re-use as IEDs): "
            "exporting them needs the coordinator or admin role, or the "
            f"{RESTRICTED_READ} permission, as reading them does; GET /api/v1/eo-finds "
            "lists finds at the precision your role allows"
        )
    gdf = read_layer(session, layer, filters)
    stamp = (today or datetime.now(UTC).date()).isoformat()
    filename = f"safeground-{layer.name}-{stamp}.{fmt.suffix}"
    directory = Path(tempfile.mkdtemp(prefix="safeground-export-"))
    try:
        path = directory / filename
        WRITERS[fmt.suffix](gdf, path, layer, profile)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return ExportFile(path, directory, fmt.media_type, filename, len(gdf))


# --- Reading -----------------------------------------------------------------------------


def read_layer(
    session: Session, layer: Layer, filters: ExportFilters
) -> gpd.GeoDataFrame:
    """All rows of ``layer`` matching ``filters``, typed, in EPSG:4326. One SQL statement."""
    result = session.execute(text(layer.sql), filters.params())
    keys = list(result.keys())
    rows = result.all()
    frame = pd.DataFrame.from_records(rows, columns=keys)
    del rows
    data: dict[str, Any] = {}
    for column, kind in layer.columns:
        values = frame[column]
        if kind == UUID:
            data[column] = _objects(None if v is None else str(v) for v in values)
        elif kind == DATE:
            # date32, even when every value is null: GDAL writes a Date field from it
            data[column] = pd.array(list(values), dtype="date32[pyarrow]")
        elif kind == LIST:
            # empty lists as null: GDAL reads a GeoJSON field whose every value is []
            # as the text "[ ]"
            data[column] = _objects(list(v) if v else None for v in values)
        elif kind == INT:
            # our integer columns are 32-bit: GDAL's Integer, not Integer64
            data[column] = pd.array(
                [None if v is None or pd.isna(v) else int(v) for v in values],
                dtype="Int32",
            )
        elif kind == FLOAT:
            data[column] = pd.to_numeric(values, errors="raise").astype("float64")
        else:
            data[column] = _objects(values)
    geometry = shapely.from_wkb([bytes(v) for v in frame["geom"]])
    return gpd.GeoDataFrame(
        data, geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"), crs="EPSG:4326"
    )


def _objects(values) -> np.ndarray:
    """An object array (text stays Python ``str``, None stays None)."""
    items = list(values)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


# --- Column names ------------------------------------------------------------------------


@cache
def _profile(name: str) -> dict[str, Any]:
    with open(PROFILES_DIR / f"{name}.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def profile_columns(profile: str, layer: Layer) -> dict[str, str]:
    """Our column name -> the name ``profile`` writes (the first the profile lists).

    Columns the profile does not map keep our names; ``lon``, ``lat`` and ``wkt`` follow
    the profile's ``coordinates`` block.
    """
    names = [c for c, _ in layer.columns] + ["lon", "lat", "wkt"]
    if profile == "native":
        return {n: n for n in names}
    data = _profile(profile)
    claimed = {
        **(data.get("coordinates") or {}),
        **((data.get("kinds") or {}).get(layer.kind, {}).get("fields") or {}),
    }
    mapping = {n: (claimed[n][0] if claimed.get(n) else n) for n in names}
    if len(set(mapping.values())) != len(mapping):
        raise RuntimeError(f"profile {profile} maps two {layer.name} columns to one")
    return mapping


def shapefile_name(column: str) -> str:
    """The 10-character shapefile name of ``column`` (``SHAPEFILE_NAMES`` or itself)."""
    short = SHAPEFILE_NAMES.get(column, column)
    if len(short) > 10:
        raise RuntimeError(f"no shapefile name for column {column!r}")
    return short


# --- Writing -----------------------------------------------------------------------------


def _joined(
    gdf: gpd.GeoDataFrame, layer: Layer, *, dates_as_text: bool = False
) -> gpd.GeoDataFrame:
    """Lists as comma-joined text (None when empty), for formats without list fields;
    with ``dates_as_text``, dates as ISO 8601 text, for formats without a date type."""
    out = gdf.copy()
    for column, kind in layer.columns:
        if kind == LIST:
            out[column] = _objects(",".join(v) if v else None for v in out[column])
        elif kind == DATE and dates_as_text:
            out[column] = _iso_dates(out[column])
    return out


def _iso_dates(values: pd.Series) -> np.ndarray:
    """``2024-05-17`` text (None for null) from a date32 column."""
    return _objects(None if pd.isna(v) else v.isoformat() for v in values)


Frame = TypeVar("Frame", bound=pd.DataFrame)


def _renamed(df: Frame, layer: Layer, profile: str) -> Frame:
    """``df`` with the profile's column names; a GeoDataFrame stays one."""
    return df.rename(columns=profile_columns(profile, layer))


def _layer_name(layer: Layer) -> str:
    return layer.name.replace("-", "_")


def write_geojson(
    gdf: gpd.GeoDataFrame, path: Path, layer: Layer, profile: str
) -> None:
    """RFC 7946 GeoJSON, one Feature per line; list fields as JSON arrays.

    Written by us rather than by GDAL, whose GeoJSON driver keeps at most 15 significant
    digits: a reprojected vertex such as 30.110000000000003 would come back as 30.11, and
    importing the export would record a new version of an unchanged hazard. GEOS writes the
    shortest text that reads back exactly, and orjson does the same for numbers.
    """
    frame = gdf.copy()
    for column, kind in layer.columns:
        if kind == DATE:
            frame[column] = _iso_dates(frame[column])
    renamed = _renamed(frame, layer, profile)
    key = profile_columns(profile, layer)[layer.key] if layer.key else None
    columns = [c for c in renamed.columns if c != renamed.geometry.name]
    values = {
        c: renamed[c].astype(object).where(renamed[c].notna(), None) for c in columns
    }
    # RFC 7946 §3.1.6: exterior rings counter-clockwise, holes clockwise
    oriented = shapely.orient_polygons(renamed.geometry.values, exterior_cw=False)
    geometries = shapely.to_geojson(oriented)
    with open(path, "wb") as out:
        out.write(b'{"type":"FeatureCollection","name":')
        out.write(orjson.dumps(_layer_name(layer)) + b',"features":[')
        for i, geometry in enumerate(geometries):
            props = {c: values[c].iat[i] for c in columns}
            feature = {
                "type": "Feature",
                **({"id": props[key]} if key else {}),
                "geometry": orjson.Fragment(geometry),
                "properties": props,
            }
            out.write(b",\n" if i else b"\n")
            out.write(orjson.dumps(feature, option=orjson.OPT_SERIALIZE_NUMPY))
        out.write(b"\n]}\n")


def write_gpkg(gdf: gpd.GeoDataFrame, path: Path, layer: Layer, profile: str) -> None:
    """One GeoPackage 1.2 layer named after the layer (``eo_finds``), dates as Date fields.

    Through Arrow: pyogrio writes a column of dates as a Date field only that way (as
    String otherwise). Version 1.2, not GDAL 3.12's default 1.4, which GDAL 3.6 (Debian
    12, QGIS 3.22) reads with a warning that it "may only be partially supported".
    """
    pyogrio.write_dataframe(
        _renamed(_joined(gdf, layer), layer, profile),
        path,
        driver="GPKG",
        layer=_layer_name(layer),
        geometry_type=layer.geometry_type,
        use_arrow=True,
        dataset_options={"VERSION": GPKG_VERSION},
    )


def write_kml(gdf: gpd.GeoDataFrame, path: Path, layer: Layer, profile: str) -> None:
    """KML placemarks: ``name`` as the placemark name, every other field as ExtendedData.

    GDAL's KML driver, not LIBKML: LIBKML gives fields named ``model``, ``heading``, ``icon``
    and a dozen others a KML meaning (a ``heading`` turns a point into a camera), and it is
    configured only through process-wide options. The placemark ids are ``<layer>.<n>``;
    our ``id`` is in ExtendedData (GDAL readers show it as ``id2``).
    """
    # KML declares 64-bit integers as strings: read_layer types ours as 32-bit
    renamed = _renamed(_joined(gdf, layer, dates_as_text=True), layer, profile)
    name_field = profile_columns(profile, layer).get("name")
    pyogrio.write_dataframe(
        renamed,
        path,
        driver="KML",
        layer=_layer_name(layer),
        geometry_type=layer.geometry_type,
        dataset_options={"NameField": name_field} if name_field else None,
    )


def write_csv(gdf: gpd.GeoDataFrame, path: Path, layer: Layer, profile: str) -> None:
    """CSV with the geometry as WKT (and lon/lat for point layers), formulas neutralised
    (``api.csvout.neutralise``), dates as ``2024-05-17``, starting with a UTF-8 BOM as every
    CSV we write (``api.csvout``). GDAL writes it, keeping column types: it quotes a field
    holding a comma, a quote, ``\r`` or ``\n``, and text that would read as a number."""
    joined = _joined(gdf, layer, dates_as_text=True)
    table = pd.DataFrame(joined.drop(columns=joined.geometry.name))
    for column, kind in layer.columns:
        if kind in (TEXT, UUID, DATE, LIST):
            table[column] = _objects(neutralise(v) for v in table[column])
    geoms = joined.geometry.values
    if layer.is_point:
        table["lon"] = shapely.get_x(geoms)
        table["lat"] = shapely.get_y(geoms)
    table["wkt"] = _objects(
        shapely.to_wkt(geoms, rounding_precision=WKT_DECIMALS, trim=True)
    )
    pyogrio.write_dataframe(
        _renamed(table, layer, profile),
        path,
        driver="CSV",
        layer=_layer_name(layer),
        layer_options={"WRITE_BOM": "YES"},
    )


def write_shapefile_zip(
    gdf: gpd.GeoDataFrame, path: Path, layer: Layer, profile: str
) -> None:
    """A zip of shapefiles (.shp .shx .dbf .prj .cpg), ``fields.csv`` and a README."""
    renamed = _renamed(_joined(gdf, layer), layer, profile)
    columns = [c for c in renamed.columns if c != renamed.geometry.name]
    short = {c: shapefile_name(c) for c in columns}
    if len(set(short.values())) != len(short):
        raise RuntimeError(f"two {layer.name} columns share a shapefile name")
    renamed = renamed.rename(columns=short)
    base = _layer_name(layer)
    if layer.geometry_type == "Unknown":
        kinds = renamed.geometry.geom_type
        parts = [
            (f"{base}_polygons", "MultiPolygon", renamed[kinds != "Point"]),
            (f"{base}_points", "Point", renamed[kinds == "Point"]),
        ]
    else:
        parts = [(base, layer.geometry_type, renamed)]
    folder = path.parent / "shp"
    folder.mkdir()
    for stem, geometry_type, part in parts:
        pyogrio.write_dataframe(
            part,
            folder / f"{stem}.shp",
            driver="ESRI Shapefile",
            layer=stem,
            geometry_type=geometry_type,
            encoding="UTF-8",
            use_arrow=True,  # dates as dBASE Date fields (as String otherwise)
        )
    with open(folder / "fields.csv", "w", encoding="utf-8", newline="") as fh:
        csvout.write_rows(fh, ["name", "shapefile_name"], short.items())
    (folder / "README.txt").write_text(SHAPEFILE_README, encoding="utf-8")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, arcname=file.name)
    shutil.rmtree(folder)


WRITERS: dict[str, Callable[[gpd.GeoDataFrame, Path, Layer, str], None]] = {
    "geojson": write_geojson,
    "gpkg": write_gpkg,
    "shp.zip": write_shapefile_zip,
    "kml": write_kml,
    "csv": write_csv,
}

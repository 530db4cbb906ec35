"""Readers: an uploaded file as a stream of rows, in batches, with bounded memory.

Formats: GeoJSON, GeoPackage, zipped Shapefile, FlatGeobuf (all through pyogrio's Arrow stream),
KML/KMZ (defusedxml), CSV and XLSX (coordinates in columns), and KoboToolbox/ODK submission
JSON (a list of submissions). Each row carries its number as the user sees it: the feature's
position (1 = first feature) in spatial files, the spreadsheet line in CSV and XLSX (line 1 is
the header, so the first data row is row 2).

A file is opened only as the format its name declares: its first bytes must be that format's
(``_sniff``), GDAL must open it with that format's driver, and GDAL must not have tried to fetch
anything while opening it (``gdalsafe``: no network, no VRT, no external access).

Geometries come out in the file's CRS; ``Source.crs`` says which (None when the file declares
none), and the job transforms them to WGS 84.
"""

import contextlib
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from api.ingest import gdalsafe, kml, safezip
from api.jsondepth import MAX_JSON_DEPTH, json_depth

gdalsafe.install()

SPATIAL = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".fgb": "fgb"}
TABULAR = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx"}


class ReadError(ValueError):
    """The file cannot be read at all (as opposed to one bad row)."""


# Per format: its name in messages and the GDAL drivers that may open it (``_sniff`` checks
# its first bytes).
FORMAT_NAMES = {
    "geojson": "GeoJSON",
    "gpkg": "GeoPackage",
    "fgb": "FlatGeobuf",
    "shp.zip": "Shapefile",
}
DRIVERS = {
    # JSON read by GDAL's JSON-family drivers (all local parsers): GeoJSON, and the JSON
    # that ArcGIS feature services (ESRIJSON), TopoJSON and JSON-FG files hold
    "geojson": ("GeoJSON", "ESRIJSON", "TopoJSON", "JSONFG", "GeoJSONSeq"),
    "gpkg": ("GPKG",),
    "fgb": ("FlatGeobuf",),
    "shp.zip": ("ESRI Shapefile",),
}
SQLITE_MAGIC = b"SQLite format 3\x00"
SHP_MAGIC = b"\x00\x00\x27\x0a"  # file code 9994, big-endian (.shp and .shx)


def _looks_like(head: bytes) -> str:
    """What a file that is not the declared format seems to be, in a few words."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return "an XML document (e.g. a GDAL virtual dataset, which is never accepted)"
    if head.startswith(SQLITE_MAGIC):
        return "an SQLite database"
    if head.startswith(b"PK"):
        return "a zip archive"
    if head[:3] == b"fgb":
        return "a FlatGeobuf file"
    if text.startswith((b"{", b"[")):
        return "JSON"
    return "another format"


def _sniff(path: Path, fmt: str) -> None:
    """Refuse a file whose first bytes are not those of the format its name declares."""
    with path.open("rb") as f:
        head = f.read(64)
    if fmt == "geojson":
        ok = head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")
    elif fmt == "gpkg":
        ok = head.startswith(SQLITE_MAGIC)
    elif fmt == "fgb":
        ok = head[:3] == b"fgb" and head[4:7] == b"fgb"
    elif fmt == "shp.zip":
        ok = head.startswith(SHP_MAGIC)
    else:
        return
    if not ok:
        name = FORMAT_NAMES[fmt]
        what = path.name if fmt == "shp.zip" else "the file"
        raise ReadError(
            f"{what} is not a {name} file: it looks like {_looks_like(head)}; "
            f"a file is read only as the format its name declares ({name})"
        )


@contextlib.contextmanager
def _gdal(fmt: str) -> Iterator[None]:
    """Run GDAL calls on an upload; refuse the file if GDAL tried to fetch anything."""
    with gdalsafe.watch() as tried:
        yield
    if tried:
        raise ReadError(
            f"the {FORMAT_NAMES.get(fmt, fmt)} file asks to fetch a resource from the "
            "network (e.g. a GeoJSON crs of type link); imports never fetch anything: "
            "remove it, and give the CRS with crs=EPSG:.... if the file has none"
        )


@dataclass
class Row:
    """One source record."""

    number: int
    values: dict[str, Any]
    geometry: BaseGeometry | None = None
    error: tuple[str, str] | None = (
        None  # (field or cell, message): the row cannot be used
    )


@dataclass
class Source:
    """An opened file: its format, layer, columns, CRS and a way to read its rows in batches."""

    format: str
    columns: list[str]
    crs: str | None
    feature_count: int | None
    layer: str | None = None
    has_geometry: bool = True
    notes: list[str] = field(default_factory=list)
    _batches: Any = None

    def batches(self, size: int) -> Iterator[list[Row]]:
        """Rows in lists of at most ``size``."""
        return self._batches(size)


def detect_format(filename: str) -> str:
    """The format of an upload from its name (``.shp.zip`` and ``.zip`` are shapefiles)."""
    name = filename.lower()
    if name.endswith(".zip"):
        return "shp.zip"
    for ext, fmt in {**SPATIAL, **TABULAR, ".kml": "kml", ".kmz": "kmz"}.items():
        if name.endswith(ext):
            return fmt
    raise ReadError(
        f"cannot tell the format of {filename!r} from its name; expected one of "
        ".geojson, .json, .gpkg, .zip (shapefile), .kml, .kmz, .csv, .xlsx"
    )


def open_source(
    path: Path,
    fmt: str,
    *,
    workdir: Path,
    layer: str | None = None,
    max_unpacked_bytes: int = 2 << 30,
) -> Source:
    """Open ``path`` (already on disk) as ``fmt``; archives are unpacked into ``workdir``."""
    if fmt == "shp.zip":
        files = safezip.extract(path, workdir, max_bytes=max_unpacked_bytes)
        shps = sorted(f for f in files if f.suffix.lower() == ".shp")
        if not shps:
            names = ", ".join(sorted(f.name for f in files)) or "nothing"
            raise ReadError(f"the zip holds no .shp file (it holds {names})")
        if layer:
            shps = [f for f in shps if f.stem == layer] or shps
        if len(shps) > 1 and not layer:
            raise ReadError(
                "the zip holds several shapefiles; choose one with layer=: "
                + ", ".join(f.stem for f in shps)
            )
        shp = shps[0]
        missing = [
            ext
            for ext in (".shx", ".dbf")
            if not shp.with_suffix(ext).exists()
            and not shp.with_suffix(ext.upper()).exists()
        ]
        if missing:
            raise ReadError(
                f"{shp.name} comes without {' and '.join(missing)}; zip all the shapefile's parts"
            )
        _sniff(shp, "shp.zip")
        shx = shp.with_suffix(".shx")
        _sniff(shx if shx.exists() else shp.with_suffix(".SHX"), "shp.zip")
        source = _ogr(shp, "shp.zip", None)
        if (
            not shp.with_suffix(".prj").exists()
            and not shp.with_suffix(".PRJ").exists()
        ):
            source.notes.append(
                f"{shp.name} has no .prj: its coordinate reference system is unknown"
            )
        return source
    if fmt == "kmz":
        files = safezip.extract(path, workdir, max_bytes=max_unpacked_bytes)
        kmls = sorted(
            (f for f in files if f.suffix.lower() == ".kml"),
            key=lambda f: f.name != "doc.kml",
        )
        if not kmls:
            raise ReadError("the KMZ holds no .kml file")
        return _kml(kmls[0], "kmz")
    if fmt == "kml":
        return _kml(path, "kml")
    if fmt == "csv":
        return _csv(path)
    if fmt == "xlsx":
        return _xlsx(path, layer)
    if fmt == "geojson" and _is_json_list(path):
        return _kobo_json(path)
    if fmt in ("geojson", "gpkg", "fgb"):
        _sniff(path, fmt)
        if fmt == "gpkg":
            try:
                with _gdal(fmt):
                    listed = pyogrio.list_layers(path)
            except ReadError:
                raise
            except Exception as exc:  # pyogrio's DataSourceError, with GDAL's text
                raise ReadError(f"cannot read the file as GeoPackage: {exc}") from exc
            layers = [str(name) for name, _ in listed]
            if layer is None and len(layers) > 1:
                raise ReadError(
                    "the GeoPackage has several layers; choose one with layer=: "
                    + ", ".join(layers)
                )
            if layer is not None and layer not in layers:
                raise ReadError(
                    f"the GeoPackage has no layer {layer!r}; its layers: "
                    + ", ".join(layers)
                )
        return _ogr(path, fmt, layer)
    raise ReadError(f"unsupported format {fmt!r}")


def _is_json_list(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"[")


# Values as the file writes them. GDAL's GeoJSON driver guesses a date type for a column of
# date-like strings and, through Arrow, turns an impossible date into another one
# ("2024-02-31" is read as 2024-03-02): the text is kept instead, and the import's own date
# parsing refuses it with the row and the value.
AS_WRITTEN = {"geojson": {"DATE_AS_STRING": "YES"}}


def _ogr(path: Path, fmt: str, layer: str | None) -> Source:
    try:
        with _gdal(fmt):
            info = pyogrio.read_info(path, layer=layer)
    except ReadError:
        raise
    except (
        Exception
    ) as exc:  # pyogrio's DataSourceError/DataLayerError, with GDAL's text
        raise ReadError(f"cannot read the file as {fmt}: {exc}") from exc
    expected = DRIVERS.get(fmt)
    if expected and info.get("driver") not in expected:
        raise ReadError(
            f"the file is not a {FORMAT_NAMES[fmt]} file (GDAL reads it as "
            f"{info.get('driver')}); a file is read only as the format its name declares"
        )
    columns = [str(c) for c in info["fields"]]
    count = info.get("features")
    source = Source(
        fmt,
        columns,
        info.get("crs"),
        count if count and count >= 0 else None,
        layer=layer,
    )

    def batches(size: int) -> Iterator[list[Row]]:
        number = 0
        # (a fetch GDAL would try here is refused all the same: gdalsafe)
        with pyogrio.open_arrow(
            path,
            layer=layer,
            batch_size=size,
            use_pyarrow=True,
            **AS_WRITTEN.get(fmt, {}),
        ) as (meta, reader):
            geom_col = meta.get("geometry_name") or "wkb_geometry"
            for batch in reader:
                names = batch.schema.names
                gcol = (
                    geom_col
                    if geom_col in names
                    else next(
                        (n for n in names if n in ("wkb_geometry", "geometry", "geom")),
                        None,
                    )
                )
                wkbs = (
                    batch.column(gcol).to_numpy(zero_copy_only=False)
                    if gcol
                    else [None] * batch.num_rows
                )
                geoms = shapely.from_wkb(wkbs, on_invalid="ignore") if gcol else wkbs
                cols = {n: batch.column(n).to_pylist() for n in names if n != gcol}
                rows = []
                for i in range(batch.num_rows):
                    number += 1
                    values = {n: cols[n][i] for n in cols}
                    row = Row(number, values, geoms[i])
                    wkb = wkbs[i]
                    if geoms[i] is None and wkb is not None:
                        row.error = ("geometry", _wkb_problem(wkb))
                    rows.append(row)
                yield rows

    source._batches = batches
    return source


def _wkb_problem(wkb: bytes) -> str:
    """Why a geometry from the file cannot be read (GEOS's reason, in plain words)."""
    try:
        shapely.from_wkb(wkb)
    except shapely.errors.GEOSException as exc:
        reason = str(exc).split(":", 1)[-1].strip()
        if "closed linestring" in reason:
            return "a linear ring is not closed (its first and last positions differ)"
        if "must have" in reason or "at least" in reason:
            return f"too few positions: {reason}"
        return f"the geometry cannot be read: {reason}"
    return "the geometry cannot be read"


def _kml(path: Path, fmt: str) -> Source:
    # A first pass collects the column names (ExtendedData varies by placemark) and checks safety.
    columns: dict[str, None] = {"name": None, "description": None}
    count = 0
    try:
        for values, _geom in kml.placemarks(path):
            count += 1
            columns.update(dict.fromkeys(values))
    except kml.KMLError as exc:
        raise ReadError(str(exc)) from exc
    source = Source(fmt, list(columns), "EPSG:4326", count)

    def batches(size: int) -> Iterator[list[Row]]:
        rows: list[Row] = []
        for number, (values, geom) in enumerate(kml.placemarks(path), start=1):
            rows.append(Row(number, values, geom))
            if len(rows) >= size:
                yield rows
                rows = []
        if rows:
            yield rows

    source._batches = batches
    return source


def _text_stream(path: Path) -> tuple[io.TextIOBase, str]:
    raw = path.open("rb")
    head = raw.read(1 << 16)
    raw.seek(0)
    try:
        head.decode("utf-8")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as exc:
        # a cut multi-byte character at the end of the sample is still UTF-8
        if exc.start >= len(head) - 3:
            encoding = "utf-8-sig"
        else:
            raw.close()
            raise ReadError(
                f"the CSV is not UTF-8 (byte {exc.start}: {head[exc.start : exc.start + 1]!r}); "
                "save it as 'CSV UTF-8'"
            ) from exc
    return io.TextIOWrapper(raw, encoding=encoding, newline=""), encoding


def _csv(path: Path) -> Source:
    stream, _ = _text_stream(path)
    with stream:
        sample = stream.read(1 << 16)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(sample), dialect)
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise ReadError("the CSV is empty: no header line")
    columns = [h.strip() for h in header]
    if len(set(columns)) != len(columns):
        dup = sorted({c for c in columns if columns.count(c) > 1})
        raise ReadError(f"the CSV header repeats column(s) {', '.join(dup)}")
    source = Source("csv", columns, None, None, has_geometry=False)

    def batches(size: int) -> Iterator[list[Row]]:
        stream, _ = _text_stream(path)
        with stream:
            reader = csv.reader(stream, dialect)
            next(reader, None)
            rows: list[Row] = []
            for cells in reader:
                number = reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                row = Row(number, dict(zip(columns, cells, strict=False)))
                if len(cells) > len(columns):
                    row.error = (
                        "",
                        f"line has {len(cells)} cells but the header has {len(columns)} columns",
                    )
                rows.append(row)
                if len(rows) >= size:
                    yield rows
                    rows = []
            if rows:
                yield rows

    source._batches = batches
    return source


def _cell_value(value: Any) -> Any:
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date()
    return value


def _xlsx(path: Path, sheet: str | None) -> Source:
    import openpyxl  # imported here: only spreadsheets need it

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises several kinds on a broken file
        raise ReadError(f"cannot read the file as XLSX: {exc}") from exc
    if sheet is not None and sheet not in wb.sheetnames:
        raise ReadError(
            f"the workbook has no sheet {sheet!r}; its sheets: {', '.join(wb.sheetnames)}"
        )
    ws = wb[sheet] if sheet else wb.worksheets[0]
    header_row = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), None)
    wb.close()
    if not header_row or not any(h not in (None, "") for h in header_row):
        raise ReadError("the spreadsheet is empty: no header row")
    columns = [
        str(h).strip() if h is not None else f"column_{i + 1}"
        for i, h in enumerate(header_row)
    ]
    title = ws.title
    source = Source("xlsx", columns, None, None, layer=title, has_geometry=False)

    def batches(size: int) -> Iterator[list[Row]]:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
        try:
            ws = wb[title]
            rows: list[Row] = []
            # numbered by position: a blank cell of a read-only sheet (EmptyCell) has no
            # row, and the reader yields every row, blank or missing ones included
            for number, cells in enumerate(ws.iter_rows(min_row=2), start=2):
                if not any(c.value not in (None, "") for c in cells):
                    continue
                values, error = {}, None
                for col, cell in zip(columns, cells, strict=False):
                    if cell.data_type == "f" and error is None:
                        error = (
                            col,
                            f"cell {cell.coordinate} holds a formula ({cell.value}); type the value instead, or paste values only",
                        )
                    values[col] = _cell_value(cell.value)
                rows.append(Row(number, values, error=error))
                if len(rows) >= size:
                    yield rows
                    rows = []
            if rows:
                yield rows
        finally:
            wb.close()

    source._batches = batches
    return source


def _kobo_json(path: Path) -> Source:
    from api.ingest import kobo  # the submission format's own module

    data = path.read_bytes()  # parsed whole below anyway
    if json_depth(data) > MAX_JSON_DEPTH:  # before parsing: the parser recurses
        raise ReadError(
            "the JSON nests too deeply to be a list of form submissions"
            f" (at most {MAX_JSON_DEPTH} levels)"
        )
    try:
        submissions = json.loads(data)
    except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8/16/32
        raise ReadError(f"the JSON is not valid: {exc}") from exc
    if not all(isinstance(s, dict) for s in submissions):
        raise ReadError("a submission list must hold JSON objects")
    flat = [kobo.flatten(s) for s in submissions]
    columns = list(dict.fromkeys(k for s in flat for k in s))
    source = Source("kobo_json", columns, "EPSG:4326", len(flat), has_geometry=False)

    def batches(size: int) -> Iterator[list[Row]]:
        for start in range(0, len(flat), size):
            yield [
                Row(start + i + 1, s) for i, s in enumerate(flat[start : start + size])
            ]

    source._batches = batches
    return source

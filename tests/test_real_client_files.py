"""Our files as clients we did not write read them.

* GDAL 3.6 (Debian 12's ``gdal-bin``, installed by ``scripts/bootstrap.sh``): ``ogrinfo`` on
  the GeoPackage and the Shapefiles, for field types, values and warnings (GDAL 3.6 warns
  about GeoPackage 1.4); and on the layer CSV, for its first column name after the BOM.
* pyogrio 0.13 with its bundled GDAL 3.12 (``pyogrio.read_info`` / ``read_dataframe``).
* Python's ``csv`` module (``utf-8-sig``) on every CSV the API answers with, and openpyxl
  3.1 on the priorities workbook.

Each test reads what the HTTP answer carries, with the client's own parser.
"""

import csv
import io
import re
import sqlite3
import subprocess
import uuid
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pyogrio
import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import text

from api.db.models import Settlement
from api.schemas.hazards import HazardFeatureCreate
from api.services import exports, hazards, priorities
from api.services.auth import organisation_by_code
from tests.factories import hazard_feature, make_activity, make_admin_area, release
from tests.factories import make_hazard as _make_hazard
from tests.helpers import assert_problem

UKRAINIAN = "Поле біля школи №3, Ізюм — «ґанок» і ї"
BOM = b"\xef\xbb\xbf"
OGR_TYPES = {
    exports.DATE: "Date",
    exports.INT: "Integer",
    exports.FLOAT: "Real",
    exports.TEXT: "String",
    exports.UUID: "String",
    exports.LIST: "String",
}
FIELD = re.compile(r"^(\w+): (\w+) \(\d+\.\d+\)$")
VALUE = re.compile(r"^  (\w+) \((\w+)\) = (.*)$")


def gdal_version() -> str:
    """The ``ogrinfo`` on the PATH (Debian 12: GDAL 3.6.2)."""
    return subprocess.run(
        ["ogrinfo", "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def ogrinfo(path: Path, *args: str) -> subprocess.CompletedProcess:
    p = subprocess.run(
        ["ogrinfo", "-ro", "-al", *args, str(path)], capture_output=True, text=True
    )
    assert p.returncode == 0, (gdal_version(), p.stderr)
    return p


def field_types(path: Path) -> dict[str, str]:
    """Field name -> OGR type name, from ``ogrinfo -ro -al -so``."""
    out = ogrinfo(path, "-so").stdout
    return {m[1]: m[2] for m in map(FIELD.match, out.splitlines()) if m}


def feature_values(path: Path) -> list[dict[str, tuple[str, str]]]:
    """Every feature as {field: (OGR type, value text)}, from ``ogrinfo -ro -al``."""
    features: list[dict[str, tuple[str, str]]] = []
    for line in ogrinfo(path).stdout.splitlines():
        if line.startswith("OGRFeature("):
            features.append({})
        elif features and (m := VALUE.match(line)):
            features[-1][m[1]] = (m[2], m[3])
    return features


@pytest.fixture
def programme(client, session, settings, actors):
    """A polygon hazard and a point hazard (dates, a float, Ukrainian text), a release, an
    EO find and an admin area."""
    make_admin_area(session, "UA63", box(29.9, 49.9, 30.2, 50.2), 1, name="Харківська")
    a = actors.coordinator_a.principal
    polygon = _make_hazard(
        session,
        settings,
        a,
        box(30.0, 50.0, 30.01, 50.01),
        actors.org_a,
        name=UKRAINIAN,
        external_id="Н-1",
        date_of_information="2024-05-17",
        estimated_area_m2=1250000.5,
    )
    _make_hazard(
        session,
        settings,
        a,
        Point(30.03, 50.03),
        actors.org_a,
        external_id="H-2",
        hazard_type="uxo_spot",
        contamination=["uxo"],
        date_of_information="2023-12-31",
    )
    make_activity(
        session,
        settings,
        a,
        actors.org_a,
        [polygon],
        [release(box(30.0, 50.0, 30.005, 50.01), "cleared", date="2024-06-20")],
    )
    r = client.post(
        "/api/v1/eo-finds",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [30.00537, 50.00412]},
            "properties": {
                "eo_category": "ap_mine",
                "model": "ПМН-2",
                "quantity": 3,
                "depth_cm": 5,
                "found_on": "2024-06-12",
                "hazard_id": str(polygon),
            },
        },
        headers=actors.coordinator_a.headers,
    )
    assert r.status_code == 201, r.text
    return polygon


def download(client, user, name: str, tmp_path: Path) -> list[Path]:
    """The export as files on disk (a Shapefile zip unpacked: its .shp files)."""
    r = client.get(f"/api/v1/exports/{name}", headers=user.headers)
    assert r.status_code == 200, r.text
    path = tmp_path / name
    path.write_bytes(r.content)
    if not name.endswith(".shp.zip"):
        return [path]
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(path) as archive:
        archive.extractall(folder)
    return sorted(folder.glob("*.shp"))


# Each layer's stored key (first) and the typed values the files carry.
STORED_SQL = {
    "hazards": "SELECT id::text, date_of_information, version, estimated_area_m2, area_m2 "
    "FROM hazards WHERE retired_at IS NULL",
    "releases": "SELECT id::text, date, area_m2 FROM release_polygons "
    "WHERE retired_at IS NULL",
    "eo-finds": "SELECT id::text, found_on, quantity, depth_cm FROM eo_finds "
    "WHERE retired_at IS NULL",
    "admin-areas": "SELECT pcode, level FROM admin_areas",
}


@pytest.mark.parametrize("fmt", ["gpkg", "shp.zip"])
@pytest.mark.parametrize("layer", ["hazards", "releases", "eo-finds", "admin-areas"])
def test_gdal_36_reads_dates_as_dates_and_numbers_as_numbers(
    client, session, actors, programme, tmp_path, layer, fmt
):
    files = download(client, actors.analyst_restricted, f"{layer}.{fmt}", tmp_path)
    columns = dict(exports.LAYERS[layer].columns)
    name = exports.shapefile_name if fmt == "shp.zip" else (lambda c: c)
    expected = {name(c): OGR_TYPES[kind] for c, kind in columns.items()}
    result = session.execute(text(STORED_SQL[layer]))
    stored_columns = list(result.keys())
    stored = {row[0]: dict(zip(stored_columns, row, strict=True)) for row in result}
    key = name(stored_columns[0] if layer != "admin-areas" else "pcode")
    seen = set()
    for path in files:
        assert field_types(path) == expected, (gdal_version(), path.name)
        # pyogrio's GDAL 3.12 agrees
        info = pyogrio.read_info(path)
        ogr = dict(zip(info["fields"], info["ogr_types"], strict=True))
        assert ogr == {c: "OFT" + t for c, t in expected.items()}, path.name
        for feature in feature_values(path):
            row = stored[feature[key][1]]
            seen.add(feature[key][1])
            for column, value in row.items():
                kind = columns.get(column)
                if kind not in (exports.DATE, exports.INT, exports.FLOAT):
                    continue
                ogr_type, shown = feature[name(column)]
                if value is None:
                    assert shown == "(null)", (column, shown)
                elif kind == exports.DATE:
                    # GDAL prints a Date field as YYYY/MM/DD
                    assert (ogr_type, shown) == ("Date", value.strftime("%Y/%m/%d"))
                elif kind == exports.INT:
                    assert (ogr_type, int(shown)) == ("Integer", value)
                else:
                    assert ogr_type == "Real"
                    assert float(shown) == pytest.approx(value, rel=1e-12)
        frame = pyogrio.read_dataframe(path, read_geometry=False)
        for column, kind in columns.items():
            if kind == exports.DATE:
                assert frame[name(column)].dtype.kind == "M", column
                values = {
                    k: v.date()
                    for k, v in zip(frame[key], frame[name(column)], strict=True)
                }
                assert values == {k: stored[k][column] for k in values}
    assert seen == set(stored)


def test_gdal_36_opens_the_geopackage_without_a_warning(
    client, actors, programme, tmp_path
):
    """GDAL 3.6 warns that it "may only partially support" GeoPackage 1.4: we write 1.2."""
    for layer in ("hazards", "releases", "eo-finds", "admin-areas"):
        [path] = download(client, actors.analyst_restricted, f"{layer}.gpkg", tmp_path)
        p = ogrinfo(path, "-so")
        assert p.stderr == "", (gdal_version(), p.stderr)
        assert "Feature Count: " in p.stdout
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA user_version").fetchone() == (10200,)
            assert db.execute("PRAGMA application_id").fetchone() == (0x47504B47,)


# --- CSV: a UTF-8 BOM on every CSV answer --------------------------------------------------


def settlement(session, name: str, where: tuple[float, float], population: int):
    session.add(
        Settlement(
            external_id=f"S-{uuid.uuid4().hex[:8]}",
            name=name,
            population=population,
            geom=from_shape(Point(*where), srid=4326),
        )
    )
    session.flush()


CSV_ROUTES = {
    # route, params -> (first column, a column holding Ukrainian text, the text)
    ("/api/v1/exports/hazards.csv", ()): ("id", "name", UKRAINIAN),
    ("/api/v1/exports/releases.csv", ()): ("id", "hazard_external_id", "Н-1"),
    ("/api/v1/exports/eo-finds.csv", ()): ("id", "model", "ПМН-2"),
    ("/api/v1/exports/admin-areas.csv", ()): ("pcode", "name", "Харківська"),
    ("/api/v1/priorities", (("format", "csv"),)): ("rank", "name", UKRAINIAN),
    ("/api/v1/eore-sessions/planning", (("f", "csv"),)): ("rank", "name", "Ізюм"),
}


@pytest.mark.parametrize(("route", "params"), list(CSV_ROUTES))
def test_every_csv_starts_with_a_bom_and_keeps_ukrainian(
    client, session, actors, programme, tmp_path, route, params
):
    settlement(session, "Ізюм", (30.02, 50.02), 45_000)
    r = client.get(
        route, params=dict(params), headers=actors.analyst_restricted.headers
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(BOM) and not r.content.startswith(BOM * 2)
    first, column, value = CSV_ROUTES[(route, params)]
    reader = csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"), newline=""))
    rows = list(reader)
    assert reader.fieldnames[0] == first
    assert value in [row[column] for row in rows]
    if route.startswith("/api/v1/exports/"):
        # GDAL 3.6's CSV driver skips the BOM: the first column keeps its name
        path = tmp_path / "export.csv"
        path.write_bytes(r.content)
        out = ogrinfo(path, "-so").stdout
        assert re.search(rf"^{first}: String", out, re.M), (gdal_version(), out)


def test_the_shapefile_zip_field_list_has_the_bom_too(client, actors, programme):
    r = client.get("/api/v1/exports/hazards.shp.zip", headers=actors.analyst_a.headers)
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        content = archive.read("fields.csv")
    assert content.startswith(BOM)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["name", "shapefile_name"]


# --- the priorities spreadsheet holds the whole ranking ------------------------------------

OPEN, CLOSED = 130, 7


@pytest.fixture
def many_hazards(session, settings, actors):
    """130 open hazards and 7 closed ones, created in bulk (the import's path), scored."""
    principal = actors.coordinator_a.principal
    org = organisation_by_code(session, actors.org_a)
    items = []
    for i in range(OPEN + CLOSED):
        geom = box(30.0 + i * 0.002, 50.0, 30.001 + i * 0.002, 50.001)
        props = HazardFeatureCreate.model_validate(
            hazard_feature(
                geom, actors.org_a, external_id=f"B-{i:03d}", name=f"Поле {i}"
            )
        ).properties
        stated, _ = hazards.stated_values(session, props, principal, settings)
        items.append(
            hazards.NewHazard(
                org.id, stated, MultiPolygon([geom]), None, date(2024, 5, 1)
            )
        )
    ids = hazards.bulk_create(session, items, principal=principal, source="api")
    session.execute(
        text(
            "UPDATE hazards SET status = 'closed' WHERE id = ANY(CAST(:ids AS uuid[]))"
        ),
        {"ids": [str(i) for i in ids[OPEN:]]},
    )
    priorities.refresh(session, None)
    session.commit()
    return {str(i) for i in ids[:OPEN]}, {str(i) for i in ids[OPEN:]}


def test_priorities_files_hold_the_whole_ranking(client, actors, many_hazards):
    open_ids, closed_ids = many_hazards
    headers = actors.analyst_a.headers
    page = client.get("/api/v1/priorities", headers=headers).json()
    assert page["numberReturned"] == 100
    assert page["numberMatched"] == OPEN  # closed hazards are not ranked
    r = client.get("/api/v1/priorities", params={"format": "csv"}, headers=headers)
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    assert {row["hazard_id"] for row in rows} == open_ids
    assert [int(row["rank"]) for row in rows] == list(range(1, OPEN + 1))
    assert r.headers["X-Total-Count"] == str(OPEN)
    r = client.get("/api/v1/priorities", params={"format": "xlsx"}, headers=headers)
    assert r.status_code == 200, r.text
    sheet = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True).active
    header, *body = sheet.iter_rows(values_only=True)
    got = [dict(zip(header, row, strict=True)) for row in body]
    assert {row["hazard_id"] for row in got} == open_ids
    assert [row["rank"] for row in got] == list(range(1, OPEN + 1))
    assert all(isinstance(row["score"], float) for row in got)
    assert "Поле 7" in {row["name"] for row in got}
    # closed hazards only when asked for, in the JSON count and the file alike
    closed = client.get(
        "/api/v1/priorities", params={"status": "closed"}, headers=headers
    ).json()
    assert closed["numberMatched"] == CLOSED
    r = client.get(
        "/api/v1/priorities",
        params={"status": "closed", "format": "csv"},
        headers=headers,
    )
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    assert {row["hazard_id"] for row in rows} == closed_ids


def test_priorities_files_refuse_paging_and_more_than_the_maximum(
    client, actors, many_hazards, monkeypatch
):
    headers = actors.analyst_a.headers
    for fmt in ("csv", "xlsx"):
        for paging in ({"limit": 10}, {"offset": 100}):
            body = assert_problem(
                client.get(
                    "/api/v1/priorities",
                    params={"format": fmt, **paging},
                    headers=headers,
                ),
                400,
            )
            assert "whole ranking" in body["detail"]
    monkeypatch.setattr(priorities, "MAX_FILE_ROWS", OPEN - 1)
    body = assert_problem(
        client.get("/api/v1/priorities", params={"format": "xlsx"}, headers=headers),
        400,
    )
    assert f"{OPEN} hazards" in body["detail"] and str(OPEN - 1) in body["detail"]
    # the JSON list still pages
    page = client.get(
        "/api/v1/priorities", params={"limit": 10, "offset": 125}, headers=headers
    ).json()
    assert page["numberReturned"] == 5 and page["numberMatched"] == OPEN


def test_priorities_workbook_keeps_names_with_control_characters_and_formulas(
    client, session, settings, actors
):
    """openpyxl refuses some control characters in a cell and runs text starting with
    ``=`` as a formula: a hazard named so must neither break the workbook nor run."""
    for i, name in enumerate(("bell\x07 field", '=HYPERLINK("http://x","y")')):
        _make_hazard(
            session,
            settings,
            actors.coordinator_a.principal,
            box(31.0 + i * 0.01, 51.0, 31.005 + i * 0.01, 51.005),
            actors.org_a,
            name=name,
        )
    priorities.refresh(session, None)
    session.commit()
    r = client.get(
        "/api/v1/priorities",
        params={"format": "xlsx"},
        headers=actors.analyst_a.headers,
    )
    assert r.status_code == 200, r.text
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    column = [c.value for c in sheet[1]].index("name") + 1
    cells = [sheet.cell(row=n, column=column) for n in range(2, sheet.max_row + 1)]
    assert all(c.data_type != "f" for c in cells)
    names = {c.value for c in cells}
    assert '\'=HYPERLINK("http://x","y")' in names
    assert any(n and n.startswith("bell") and n.endswith(" field") for n in names)

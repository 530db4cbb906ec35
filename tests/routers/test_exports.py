"""Exports: every layer in every format opens in GDAL with the right rows, columns and
geometry; IMSMA column names; CSV formula neutralisation; shapefile zips; permissions."""

import csv
import io
import tempfile
import zipfile
from datetime import UTC, date, datetime
from itertools import pairwise

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point, box
from sqlalchemy import text

from api.services import admin_areas, exports, hazards
from tests.factories import (
    make_activity,
    make_admin_area,
    make_hazard,
    release,
    square,
)
from tests.helpers import assert_problem

LAYERS = ("hazards", "releases", "eo-finds", "admin-areas")
FORMATS = ("geojson", "gpkg", "shp.zip", "kml", "csv")
UKRAINIAN = "Поле біля школи №3, Ізюм — «ґанок» і ї"


def find(hazard_id, lon, lat, **props):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "eo_category": "ap_mine",
            "model": "PMN-2",
            "quantity": 1,
            "condition": "armed",
            "depth_cm": 5,
            "found_on": "2024-06-12",
            "hazard_id": str(hazard_id),
            **props,
        },
    }


@pytest.fixture
def programme(client, session, settings, actors):
    """Six current hazards (one a point, one of org B, one west of Greenwich), one retired,
    three releases, two EO finds and two admin areas, loaded after the records (as a
    programme that loads its areas late: the records west of Greenwich lie outside them,
    which the API would refuse once the areas are there)."""
    a, b = actors.coordinator_a.principal, actors.coordinator_b.principal
    h = {
        "cmd": make_hazard(
            session,
            settings,
            a,
            square(30.0, 50.0, 0.01),
            actors.org_a,
            name="=cmd",
            external_id="H-1",
            contamination=["ap_mine", "av_mine"],
            estimated_area_m2=1250000.5,
            notes="\tnote with a tab first",
        ),
        "plus": make_hazard(
            session,
            settings,
            a,
            square(30.02, 50.0, 0.01),
            actors.org_a,
            name="+x",
            external_id="H-2",
            status="suspended",
        ),
        "minus": make_hazard(
            session,
            settings,
            b,
            square(30.1, 50.1, 0.01),
            actors.org_b,
            name="-x",
            external_id="H-3",
        ),
        "at": make_hazard(
            session,
            settings,
            a,
            Point(30.03, 50.03),
            actors.org_a,
            name="@x",
            external_id="H-4",
            hazard_type="uxo_spot",
            contamination=["uxo"],
        ),
        "uk": make_hazard(
            session,
            settings,
            a,
            square(30.15, 50.15, 0.01),
            actors.org_a,
            name=UKRAINIAN,
            external_id="H-5",
            classification="CHA",
            notes="Нотатка: " + "ї" * 20,
        ),
        "west": make_hazard(
            session,
            settings,
            a,
            square(-0.5, 51.5, 0.001),
            actors.org_a,
            name="West field",
            external_id="H-6",
        ),
    }
    retired = make_hazard(
        session,
        settings,
        a,
        square(30.3, 50.3, 0.01),
        actors.org_a,
        name="Recorded twice",
        external_id="H-7",
    )
    hazards.retire_hazard(
        session, hazard_id=retired, principal=a, if_match='"1"', reason="duplicate"
    )
    make_activity(
        session,
        settings,
        a,
        actors.org_a,
        [h["cmd"], h["plus"]],
        [
            release(box(30.0, 50.0, 30.005, 50.01), "cleared"),
            release(box(30.02, 50.0, 30.03, 50.01), "cancelled"),
        ],
        external_id="ACT-1",
    )
    make_activity(
        session,
        settings,
        b,
        actors.org_b,
        [h["minus"]],
        [release(box(30.1, 50.1, 30.105, 50.105), "reduced")],
        activity_type="technical_survey",
        external_id="ACT-B",
    )
    for hazard_id, lon, lat, ext in (
        (h["cmd"], 30.00537, 50.00412, "F-1"),
        (h["west"], -0.4995, 51.5005, "F-2"),
    ):
        r = client.post(
            "/api/v1/eo-finds",
            json=find(hazard_id, lon, lat, external_id=ext),
            headers=actors.coordinator_a.headers,
        )
        assert r.status_code == 201, r.text
    make_admin_area(
        session, "UA63", box(29.9, 49.9, 30.2, 50.2), 1, name="Харківська область"
    )
    make_admin_area(
        session,
        "UA6304",
        box(30.0, 50.0, 30.05, 50.05),
        2,
        parent="UA63",
        name="Ізюмський район",
    )
    admin_areas.assign_hazards(session)
    return h


EXPECTED_ROWS = {"hazards": 6, "releases": 3, "eo-finds": 2, "admin-areas": 2}


def download(client, user, name, **params):
    r = client.get(f"/api/v1/exports/{name}", params=params, headers=user.headers)
    assert r.status_code == 200, r.text
    return r


def read(content: bytes, fmt: str, tmp_path, member: str | None = None):
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(content)
    if fmt == "shp.zip":
        return pyogrio.read_dataframe(f"/vsizip/{path}/{member}")
    if fmt == "csv":
        return pyogrio.read_dataframe(
            path,
            GEOM_POSSIBLE_NAMES="wkt",
            KEEP_GEOM_COLUMNS="NO",
            AUTODETECT_TYPE="YES",
        )
    return pyogrio.read_dataframe(path)


def native_columns(layer: str) -> list[str]:
    return [c for c, _ in exports.LAYERS[layer].columns]


def shapefile_members(layer: str) -> list[str]:
    if layer == "hazards":
        return ["hazards_polygons.shp", "hazards_points.shp"]
    return [layer.replace("-", "_") + ".shp"]


# --- every layer in every format --------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layer", LAYERS)
def test_export_opens_with_rows_columns_and_geometry(
    client, actors, programme, tmp_path, layer, fmt
):
    r = download(client, actors.analyst_restricted, f"{layer}.{fmt}")
    assert r.headers["content-type"].startswith(exports.FORMATS[fmt].media_type)
    today = datetime.now(UTC).date().isoformat()
    assert (
        f'filename="safeground-{layer}-{today}.{fmt}"'
        in r.headers["content-disposition"]
    )
    expected = native_columns(layer)
    if fmt == "shp.zip":
        frames = [read(r.content, fmt, tmp_path, m) for m in shapefile_members(layer)]
        expected = [exports.shapefile_name(c) for c in expected]
    else:
        frames = [read(r.content, fmt, tmp_path)]
    gdf = gpd.GeoDataFrame(
        gpd.pd.concat(frames, ignore_index=True), geometry="geometry"
    )
    assert len(gdf) == EXPECTED_ROWS[layer]
    columns = set(gdf.columns) - {"geometry"}
    if fmt == "kml":
        # `name` is the placemark name; GDAL reads the placemark id as `id`, ours as `id2`
        renames = {"name": "Name", "id": "id2"}
        expected = [renames.get(c, c) for c in expected]
        assert set(expected) <= columns
        if "id2" in columns:
            assert all(len(v) == 36 for v in gdf["id2"])
    elif fmt == "csv":
        extra = ["lon", "lat"] if layer == "eo-finds" else []
        assert columns == set(expected + extra)
    else:
        assert columns == set(expected)
    kinds = set(gdf.geometry.geom_type)
    if layer == "hazards":
        assert kinds <= {"Polygon", "MultiPolygon", "Point"} and "Point" in kinds
        assert (gdf.geometry.geom_type == "Point").sum() == 1
    elif layer == "eo-finds":
        assert kinds == {"Point"}
    else:
        assert kinds <= {"Polygon", "MultiPolygon"}
    assert gdf.geometry.is_valid.all() and not gdf.geometry.is_empty.any()


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv", "shp.zip"])
def test_hazard_geometries_and_values_match_the_database(
    client, session, actors, programme, tmp_path, fmt
):
    r = download(client, actors.analyst_a, f"hazards.{fmt}")
    if fmt == "shp.zip":
        frames = [
            read(r.content, fmt, tmp_path, m) for m in shapefile_members("hazards")
        ]
        gdf = gpd.GeoDataFrame(gpd.pd.concat(frames, ignore_index=True))
        gdf = gdf.rename(
            columns={exports.shapefile_name(c): c for c in native_columns("hazards")}
        )
    else:
        gdf = read(r.content, fmt, tmp_path)
    stored = dict(
        session.execute(
            text(
                "SELECT id::text, ST_AsText(geom) FROM hazards WHERE retired_at IS NULL"
            )
        ).all()
    )
    assert set(gdf["id"]) == set(stored)
    for row in gdf.itertuples():
        expected = gpd.GeoSeries.from_wkt([stored[row.id]]).iloc[0]
        # exact coordinates (shapefiles turn rings clockwise and one-part MultiPolygons
        # into Polygons, which topological equality ignores)
        assert row.geometry.equals(expected), row.id
    by_ext = gdf.set_index("external_id")
    assert by_ext.loc["H-5", "name"] == UKRAINIAN
    assert by_ext.loc["H-1", "estimated_area_m2"] == 1250000.5
    assert by_ext.loc["H-1", "version"] == 1
    assert by_ext.loc["H-1", "organisation"] == actors.org_a
    # written as text; GDAL's GeoJSON and CSV readers turn ISO dates into datetimes
    assert str(by_ext.loc["H-1", "date_of_information"])[:10] == "2024-05-01"
    h1 = by_ext.loc["H-1"]
    assert h1["cleared_area_m2"] > 0
    assert h1["released_area_m2"] + h1["remaining_area_m2"] == pytest.approx(
        h1["baseline_area_m2"], abs=0.01
    )
    assert h1["area_m2"] == pytest.approx(h1["baseline_area_m2"])
    if fmt == "geojson":
        assert list(h1["contamination"]) == ["ap_mine", "av_mine"]
        assert list(h1["admin"]) == ["UA63", "UA6304"]
    else:
        assert h1["contamination"] == "ap_mine,av_mine"
        assert h1["admin"] == "UA63,UA6304"


def test_geojson_is_rfc7946_and_exact(client, session, settings, actors, programme):
    clockwise = box(30.04, 50.04, 30.045, 50.045, ccw=False)
    make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        clockwise,
        actors.org_a,
        external_id="H-CW",
    )
    stored_cw = "SELECT ST_IsPolygonCW(geom) FROM hazards WHERE external_id = 'H-CW'"
    assert session.scalar(text(stored_cw))
    r = download(client, actors.analyst_a, "hazards.geojson")
    body = r.json()
    assert body["type"] == "FeatureCollection" and "crs" not in body
    by_ext = {f["properties"]["external_id"]: f for f in body["features"]}
    feature = by_ext["H-1"]
    assert feature["id"] == feature["properties"]["id"] == str(programme["cmd"])
    assert feature["properties"]["contamination"] == ["ap_mine", "av_mine"]
    assert feature["properties"]["admin"] == ["UA63", "UA6304"]
    assert feature["properties"]["blockages"] is None  # empty lists are null
    assert feature["properties"]["version"] == 1
    assert feature["properties"]["status_source"] == "derived"
    assert by_ext["H-2"]["properties"]["status_source"] == "set"
    assert feature["geometry"]["type"] == "MultiPolygon"
    for ext in ("H-1", "H-CW"):
        ring = by_ext[ext]["geometry"]["coordinates"][0][0]
        signed = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairwise(ring))
        assert signed > 0, ext  # exterior rings counter-clockwise (RFC 7946 §3.1.6)
    # coordinates exactly as stored, and stored on the 9-decimal grid the API serves:
    # 30.1 + 0.01, sent as 30.110000000000003, is stored and exported as 30.11
    ring = by_ext["H-3"]["geometry"]["coordinates"][0][0]
    assert [30.11, 50.11] in ring
    assert "30.110000000000003" not in r.text
    assert by_ext["H-4"]["geometry"] == {"type": "Point", "coordinates": [30.03, 50.03]}


def test_releases_carry_activity_and_hazard_references(
    client, actors, programme, tmp_path
):
    r = download(client, actors.eore_a, "releases.gpkg")
    gdf = read(r.content, "gpkg", tmp_path)
    cleared = gdf[gdf.outcome == "cleared"].iloc[0]
    assert cleared.activity_external_id == "ACT-1"
    assert cleared.hazard_external_id == "H-1"
    assert cleared.hazard_id == str(programme["cmd"])
    assert cleared.organisation == actors.org_a
    assert cleared.date.date() == date(2024, 6, 20)  # a Date field, read as a date
    assert cleared.area_m2 > 0
    assert sorted(gdf.outcome) == ["cancelled", "cleared", "reduced"]


def test_admin_areas_export(client, actors, programme, tmp_path):
    gdf = read(
        download(client, actors.analyst_a, "admin-areas.gpkg").content, "gpkg", tmp_path
    )
    assert list(gdf.pcode) == ["UA63", "UA6304"]
    assert list(gdf.level) == [1, 2]
    assert gdf.parent_pcode.iloc[1] == "UA63"
    assert gdf.name.iloc[1] == "Ізюмський район"


# --- filters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "count"),
    [
        ("hazards.csv", {"organisation": "ORG_A"}, 5),
        ("hazards.csv", {"admin": "UA6304"}, 3),
        ("hazards.csv", {"admin": "UA63"}, 5),
        ("hazards.csv", {"classification": "CHA"}, 1),
        ("hazards.csv", {"status": "suspended"}, 1),
        ("hazards.csv", {"hazard_type": "uxo_spot"}, 1),
        ("hazards.csv", {"bbox": "-1,51,0,52"}, 1),
        ("releases.csv", {"organisation": "ORG_A"}, 2),
        ("releases.csv", {"admin": "UA6304"}, 2),
        ("eo-finds.csv", {"admin": "UA6304"}, 1),
        ("eo-finds.csv", {"organisation": "ORG_B"}, 0),
        ("admin-areas.csv", {"bbox": "30.01,50.01,30.02,50.02"}, 2),
    ],
)
def test_filters(client, actors, programme, tmp_path, name, params, count):
    params = {
        k: {"ORG_A": actors.org_a, "ORG_B": actors.org_b}.get(v, v)
        for k, v in params.items()
    }
    r = download(client, actors.analyst_restricted, name, **params)
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == count


def test_filter_a_layer_does_not_take_is_refused(client, actors, programme):
    body = assert_problem(
        client.get(
            "/api/v1/exports/releases.csv",
            params={"classification": "SHA"},
            headers=actors.analyst_a.headers,
        ),
        400,
    )
    assert "classification" in body["detail"]


def test_empty_export_still_opens(client, actors, tmp_path):
    for fmt in FORMATS:
        r = download(client, actors.analyst_a, f"hazards.{fmt}")
        if fmt == "shp.zip":
            for m in shapefile_members("hazards"):
                assert len(read(r.content, fmt, tmp_path, m)) == 0
        elif fmt == "csv":
            assert r.content.startswith(b"\xef\xbb\xbfid,external_id,name")
        else:
            assert len(read(r.content, fmt, tmp_path)) == 0


# --- IMSMA profile -----------------------------------------------------------------------


def test_imsma_profile_renames_columns_and_keeps_codes(
    client, actors, programme, tmp_path
):
    r = download(client, actors.analyst_a, "hazards.csv", profile="imsma")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    header = set(rows[0])
    for name in (
        "imsma_id",
        "hazard_name",
        "hazard_type_status",
        "hazard_type",
        "hazard_status",
        "device_classification",
        "organisation_code",
        "date_of_information",
        "estimated_area",
        "evidence_type",
        "comments",
        "shape_wkt",
    ):
        assert name in header, name
    for ours in ("external_id", "classification", "organisation", "notes", "wkt"):
        assert ours not in header
    assert {"id", "area_m2", "remaining_area_m2", "admin"} <= header
    h5 = next(row for row in rows if row["imsma_id"] == "H-5")
    assert h5["hazard_type_status"] == "CHA" and h5["hazard_status"] == "open"
    assert h5["hazard_name"] == UKRAINIAN


def test_imsma_profile_in_every_format(client, actors, programme, tmp_path):
    for fmt in ("geojson", "gpkg", "kml"):
        gdf = read(
            download(
                client, actors.analyst_restricted, f"eo-finds.{fmt}", profile="imsma"
            ).content,
            fmt,
            tmp_path,
        )
        assert {"imsma_id", "ordnance_category", "ordnance_model", "date_found"} <= set(
            gdf.columns
        )
        assert set(gdf.ordnance_category) == {"ap_mine"}
    r = download(client, actors.analyst_a, "hazards.shp.zip", profile="imsma")
    gdf = read(r.content, "shp.zip", tmp_path, "hazards_polygons.shp")
    assert {"imsma_id", "haz_name", "haz_class", "haz_status", "device_cls"} <= set(
        gdf.columns
    )
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        mapping = {
            row["name"]: row["shapefile_name"]
            for row in csv.DictReader(
                io.StringIO(archive.read("fields.csv").decode("utf-8-sig"))
            )
        }
    assert mapping["hazard_type_status"] == "haz_class"
    assert mapping["device_classification"] == "device_cls"


def test_every_profile_column_name_is_unique_and_has_a_shapefile_name():
    for profile in exports.PROFILES:
        for layer in exports.LAYERS.values():
            names = exports.profile_columns(profile, layer)
            assert len(set(names.values())) == len(names)
            shorts = [exports.shapefile_name(n) for n in names.values()]
            assert all(len(s) <= 10 for s in shorts)
            assert len(set(shorts)) == len(shorts), (profile, layer.name)


def test_unknown_profile_is_422(client, actors):
    assert_problem(
        client.get(
            "/api/v1/exports/hazards.csv",
            params={"profile": "kobo"},
            headers=actors.analyst_a.headers,
        ),
        422,
    )


# --- CSV ---------------------------------------------------------------------------------


def test_csv_neutralises_formulas_and_keeps_numbers(
    client, actors, programme, tmp_path
):
    r = download(client, actors.analyst_restricted, "hazards.csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    name = header.index("name")
    assert sorted(row[name] for row in body) == sorted(
        ["'=cmd", "'+x", "'-x", "'@x", UKRAINIAN, "West field"]
    )
    notes = header.index("notes")
    assert "'\tnote with a tab first" in [row[notes] for row in body]
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
    # numbers are bare numbers, never text
    area = header.index("area_m2")
    assert all(float(row[area]) >= 0 for row in body)
    assert '"' not in r.text.splitlines()[1].split(",")[header.index("version")]
    finds = download(client, actors.analyst_restricted, "eo-finds.csv").content.decode(
        "utf-8-sig"
    )
    rows = list(csv.DictReader(io.StringIO(finds)))
    west = next(row for row in rows if row["external_id"] == "F-2")
    assert west["lon"] == "-0.4995" and west["lat"] == "51.5005"
    assert west["wkt"] == "POINT (-0.4995 51.5005)"
    assert west["depth_cm"] == "5" and west["quantity"] == "1"
    # negative numbers are written unquoted, so spreadsheets read them as numbers
    line = next(line for line in finds.splitlines() if "F-2" in line)
    assert ",-0.4995,51.5005," in line
    (tmp_path / "finds.csv").write_text(finds, encoding="utf-8")
    df = pyogrio.read_dataframe(
        tmp_path / "finds.csv", AUTODETECT_TYPE="YES", read_geometry=False
    )
    assert df.lon.dtype.kind == "f" and df.depth_cm.dtype.kind == "i"


def test_neutralise_rule():
    assert exports.neutralise("=1+1") == "'=1+1"
    assert exports.neutralise("-x") == "'-x"
    assert exports.neutralise("\rcmd") == "'\rcmd"
    assert exports.neutralise("a=b") == "a=b"
    assert exports.neutralise(-5) == -5
    assert exports.neutralise(None) is None


# --- shapefile zip -----------------------------------------------------------------------


def test_shapefile_zip_contents(client, actors, programme, tmp_path):
    r = download(client, actors.analyst_a, "hazards.shp.zip")
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        names = set(archive.namelist())
        for stem in ("hazards_polygons", "hazards_points"):
            for ext in ("shp", "shx", "dbf", "prj", "cpg"):
                assert f"{stem}.{ext}" in names
            assert archive.read(f"{stem}.cpg").decode().strip() == "UTF-8"
            assert "WGS" in archive.read(f"{stem}.prj").decode()
        assert {"fields.csv", "README.txt"} <= names
        mapping = {
            row["name"]: row["shapefile_name"]
            for row in csv.DictReader(
                io.StringIO(archive.read("fields.csv").decode("utf-8-sig"))
            )
        }
    assert mapping["date_of_information"] == "doi"
    assert mapping["estimated_area_m2"] == "est_area"
    assert set(mapping) == set(native_columns("hazards"))
    polygons = read(r.content, "shp.zip", tmp_path, "hazards_polygons.shp")
    points = read(r.content, "shp.zip", tmp_path, "hazards_points.shp")
    assert len(polygons) == 5 and len(points) == 1
    assert set(polygons.geom_type) == {"Polygon"} and set(points.geom_type) == {"Point"}
    info = pyogrio.read_info(f"/vsizip/{tmp_path}/export.shp.zip/hazards_polygons.shp")
    assert info["encoding"] == "UTF-8"
    assert all(len(f) <= 10 for f in info["fields"])
    assert list(info["fields"]) == list(mapping.values())
    uk = polygons[polygons.ext_id == "H-5"].iloc[0]
    assert uk["name"] == UKRAINIAN
    assert uk["notes"] == "Нотатка: " + "ї" * 20
    assert points.iloc[0]["name"] == "@x"


@pytest.mark.parametrize("layer", LAYERS)
def test_every_shapefile_has_short_fields_and_a_prj(
    client, actors, programme, tmp_path, layer
):
    r = download(client, actors.analyst_restricted, f"{layer}.shp.zip")
    (tmp_path / "export.shp.zip").write_bytes(r.content)
    for member in shapefile_members(layer):
        info = pyogrio.read_info(f"/vsizip/{tmp_path}/export.shp.zip/{member}")
        assert info["crs"] == "EPSG:4326"
        assert all(len(f) <= 10 for f in info["fields"])


# --- permissions and errors --------------------------------------------------------------


def test_eo_finds_export_needs_exact_location_rights(
    client, actors, programme, tmp_path
):
    """The same rule as reading finds exactly: coordinators, admins, restricted:read."""
    for user in (actors.analyst_a, actors.eore_a):
        body = assert_problem(
            client.get("/api/v1/exports/eo-finds.geojson", headers=user.headers), 403
        )
        assert "restricted:read" in body["detail"]
    for user in (actors.analyst_restricted, actors.coordinator_a, actors.admin):
        gdf = read(
            download(client, user, "eo-finds.geojson").content, "geojson", tmp_path
        )
        exact = {(round(p.x, 9), round(p.y, 9)) for p in gdf.geometry}
        assert exact == {(30.00537, 50.00412), (-0.4995, 51.5005)}


# eo-finds are not for any role: test_eo_finds_export_needs_exact_location_rights above
@pytest.mark.parametrize("layer", [x for x in LAYERS if x != "eo-finds"])
def test_any_role_exports_operational_layers(
    client, actors, programme, tmp_path, layer
):
    for user in (actors.analyst_a, actors.eore_a, actors.coordinator_b, actors.admin):
        r = download(client, user, f"{layer}.gpkg")
        assert r.headers["content-type"].startswith(exports.FORMATS["gpkg"].media_type)
        assert len(read(r.content, "gpkg", tmp_path)) > 0, user


@pytest.mark.parametrize("layer", LAYERS)
def test_anonymous_is_401(client, layer):
    assert_problem(client.get(f"/api/v1/exports/{layer}.geojson"), 401)


@pytest.mark.parametrize(
    "name",
    ["victims.geojson", "hazards.xlsx", "hazards.shp", "hazards.zip", "hazards.json"],
)
def test_unknown_layer_or_format_is_404(client, actors, name):
    body = assert_problem(
        client.get(f"/api/v1/exports/{name}", headers=actors.analyst_a.headers), 404
    )
    assert "layer" in body["detail"] or "format" in body["detail"]


def test_temporary_files_are_deleted_after_sending(
    client, actors, programme, tmp_path, monkeypatch
):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for fmt in FORMATS:
        download(client, actors.analyst_a, f"hazards.{fmt}")
    assert not list(tmp_path.glob("safeground-export-*"))


def test_export_is_documented(client):
    paths = client.get("/openapi.json").json()["paths"]
    operation = paths["/api/v1/exports/{layer}.{fmt}"]["get"]
    assert "date_of_information" in operation["description"]
    assert {"401", "403", "404", "422"} <= set(operation["responses"])


# --- round trip through the importer -----------------------------------------------------


@pytest.fixture
def importable(session, settings, actors):
    """Hazards as the importer accepts them (inside the programme's admin areas): derived and
    set statuses, a point, lists, Ukrainian text, a full-precision (reprojected-like) vertex,
    two organisations and released land."""
    make_admin_area(session, "UA63", box(29.9, 49.9, 30.3, 50.3), 1)
    a, b = actors.coordinator_a.principal, actors.coordinator_b.principal
    make_hazard(
        session,
        settings,
        a,
        square(30.1, 50.1, 0.01),  # 30.1 + 0.01 = 30.110000000000003
        actors.org_a,
        name=UKRAINIAN,
        external_id="R-1",
        contamination=["ap_mine", "av_mine"],
        blockages=["school", "road_track"],
        evidence="direct",
        estimated_area_m2=1234567.891,
        notes="Нотатка, з комою",
    )
    make_hazard(
        session,
        settings,
        a,
        square(30.0, 50.0, 0.005),
        actors.org_a,
        external_id="R-2",
        status="suspended",
    )
    make_hazard(
        session,
        settings,
        a,
        Point(30.0 + 1 / 30, 50.2),  # 30.033333333333335
        actors.org_a,
        external_id="R-3",
        hazard_type="uxo_spot",
        contamination=["uxo"],
    )
    worked = make_hazard(
        session, settings, b, square(30.2, 50.2, 0.01), actors.org_b, external_id="R-4"
    )
    make_activity(
        session,
        settings,
        b,
        actors.org_b,
        [worked],
        [release(box(30.2, 50.2, 30.205, 50.21), "cleared")],
    )
    return 4


def import_back(client, user, name: str, content: bytes) -> dict:
    r = client.post(
        "/api/v1/imports",
        files={"file": (name, content)},
        data={"kind": "hazards", "profile": "native", "mode": "commit"},
        headers=user.headers,
    )
    assert r.status_code == 202, r.text
    report = client.get(r.headers["Location"], headers=user.headers).json()
    assert report["status"] == "succeeded", report
    return report


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_exported_hazards_import_back_unchanged(
    client, session, actors, importable, fmt
):
    versions = dict(session.execute(text("SELECT id, version FROM hazards")).all())
    history = session.scalar(text("SELECT count(*) FROM hazard_versions"))
    exported = download(client, actors.admin, f"hazards.{fmt}").content
    report = import_back(client, actors.admin, f"hazards.{fmt}", exported)
    counts = report["counts"]
    assert counts["read"] == counts["unchanged"] == importable, report
    assert counts["created"] == counts["updated"] == counts["rejected"] == 0, report
    assert dict(session.execute(text("SELECT id, version FROM hazards")).all()) == (
        versions
    )
    assert session.scalar(text("SELECT count(*) FROM hazard_versions")) == history
    # the hazards whose status is derived from activities still derive it
    assert (
        session.scalar(
            text("SELECT count(*) FROM hazards WHERE status_set IS NOT NULL")
        )
        == 1
    )

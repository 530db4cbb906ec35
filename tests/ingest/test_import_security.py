"""Imports against hostile uploads: files posing as another format (GDAL virtual datasets
reading local files or URLs), GeoJSON CRS links, YAML alias bombs, location leaks in reports,
and bodies read before the caller is known."""

import http.server
import io
import json
import logging
import threading
import uuid
import zipfile

import geopandas as gpd
import pyogrio
import pytest
from sqlalchemy import text

from api.ingest import readers
from api.ingest.profile import MAX_MAPPING_BYTES
from tests.helpers import upload
from tests.ingest import files as F


@pytest.fixture
def canary_server():
    """An HTTP server on a loopback port that records every request it gets."""
    hits: list[str] = []
    token = "CANARY-URL-" + uuid.uuid4().hex

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            hits.append(self.path)
            body = f"classification\n{token}\n".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits, token
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def canary_file(tmp_path):
    """A local CSV whose only value is a unique canary string."""
    token = "CANARY-FILE-" + uuid.uuid4().hex
    path = tmp_path / "secret.csv"
    path.write_text(f"classification\n{token}\n")
    return path, token


def vrt(source: str) -> bytes:
    """An OGR VRT reading ``source`` (GDAL's connection string)."""
    return (
        "<OGRVRTDataSource><OGRVRTLayer name='hazards'>"
        f"<SrcDataSource>{source}</SrcDataSource>"
        "</OGRVRTLayer></OGRVRTDataSource>"
    ).encode()


def assert_nowhere(canaries, responses, caplog, session):
    """No canary text in the HTTP answers, the logs or the import tables."""
    for token in canaries:
        for res in responses:
            assert token not in res.text
        assert token not in caplog.text
        found = session.execute(
            text(
                "SELECT (SELECT count(*) FROM imports WHERE CAST(imports.* AS text) "
                "LIKE :t) + (SELECT count(*) FROM import_messages m "
                "WHERE CAST(m.* AS text) LIKE :t)"
            ),
            {"t": f"%{token}%"},
        ).scalar_one()
        assert found == 0


def hostile_upload(client, user, name, data, mode):
    """Upload, then read back the report when a job was created; all responses."""
    res = upload(client, user, name, data, kind="hazards", profile="native", mode=mode)
    responses = [res]
    if res.status_code == 202:
        responses.append(client.get(res.headers["Location"], headers=user.headers))
    return res, responses


@pytest.mark.parametrize("name", ["x.geojson", "x.json", "x.gpkg", "x.fgb"])
@pytest.mark.parametrize("mode", ["dry_run", "commit"])
def test_vrt_posing_as_another_format_reads_no_file_or_url(
    client, session, actors, canary_server, canary_file, caplog, name, mode
):
    url, hits, url_token = canary_server
    path, file_token = canary_file
    caplog.set_level(logging.DEBUG)
    responses = []
    for source in (
        f"CSV:{path}",
        f"CSV:/vsicurl/{url}/internal.csv",
        f"{url}/internal.csv",
    ):
        res, got = hostile_upload(client, actors.coordinator_a, name, vrt(source), mode)
        responses += got
        assert res.status_code in (400, 422), res.text
        assert res.headers["content-type"].startswith("application/problem+json")
        declared = readers.FORMAT_NAMES[readers.detect_format(name)]
        assert f"not a {declared} file" in res.json()["detail"]
    assert_nowhere([file_token, url_token], responses, caplog, session)
    assert hits == []


def test_vrt_inside_a_zipped_shapefile_is_refused(
    client, session, actors, canary_file, caplog
):
    path, token = canary_file
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("h.shp", vrt(f"CSV:{path}"))
        zf.writestr("h.shx", vrt(f"CSV:{path}"))
        zf.writestr("h.dbf", b"\x03")
    res, responses = hostile_upload(
        client, actors.coordinator_a, "h.zip", buf.getvalue(), "dry_run"
    )
    assert res.status_code in (400, 422), res.text
    assert "not a Shapefile file" in res.json()["detail"]
    assert_nowhere([token], responses, caplog, session)


@pytest.mark.parametrize("crs_type", ["link", "url"])
def test_geojson_crs_link_is_never_fetched(
    client, session, actors, canary_server, caplog, crs_type
):
    url, hits, token = canary_server
    doc = {
        "type": "FeatureCollection",
        "crs": {
            "type": crs_type,
            "properties": {"href": f"{url}/crs", "url": f"{url}/crs", "type": "proj4"},
        },
        "features": [F.feature(F.square(0), F.hazard_props(0, actors.org_a))],
    }
    res, responses = hostile_upload(
        client,
        actors.coordinator_a,
        "h.geojson",
        json.dumps(doc).encode(),
        "dry_run",
    )
    assert res.status_code in (400, 422), res.text
    assert "fetch" in res.json()["detail"]
    assert hits == []
    assert_nowhere([token], responses, caplog, session)


def test_geojson_legacy_crs_name_still_works(client, actors):
    geom = gpd.GeoSeries([F.square(1)], crs="EPSG:4326").to_crs("EPSG:32636")[0]
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32636"}},
        "features": [F.feature(geom, F.hazard_props(1, actors.org_a))],
    }
    res = upload(
        client,
        actors.coordinator_a,
        "utm.geojson",
        json.dumps(doc).encode(),
        mode="dry_run",
    )
    assert res.status_code == 202, res.text
    rep = client.get(res.headers["Location"], headers=actors.coordinator_a.headers)
    body = rep.json()
    assert body["status"] == "succeeded", body
    assert body["counts"]["created"] == 1 and body["counts"]["rejected"] == 0


def test_gdal_itself_opens_no_vrt_and_fetches_nothing(tmp_path, canary_server):
    """Defence in depth: even a call that skips the readers' checks gets nowhere."""
    url, hits, _ = canary_server
    readers.gdalsafe.install()
    bad = tmp_path / "x.vrt"
    bad.write_bytes(vrt(f"CSV:/vsicurl/{url}/internal.csv"))
    with pytest.raises(Exception):  # noqa: B017 (pyogrio's DataSourceError)
        pyogrio.read_info(bad)
    linked = tmp_path / "l.geojson"
    linked.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "link", "properties": {"href": f"{url}/crs"}},
                "features": [],
            }
        )
    )
    with readers.gdalsafe.watch() as tried:
        pyogrio.read_info(linked)
    assert tried == [f"{url}/crs"]
    with pytest.raises(Exception):  # noqa: B017
        pyogrio.read_info(f"/vsicurl/{url}/data.geojson")
    assert hits == []


def alias_bomb(levels: int) -> str:
    """A "billion laughs" YAML: each level is a list of ten aliases of the one before."""
    lines = ['l0: &l0 ["lol"]']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    lines.append("kinds: {hazards: {fields: {name: [name]}}}")
    return "\n".join(lines) + "\n"


def test_mapping_alias_bomb_is_refused_quickly_and_small(client, session, actors):
    import time

    import psutil

    bomb = alias_bomb(7)  # 10 million "lol"s once expanded
    assert len(bomb) < 600
    proc = psutil.Process()
    rss_before = proc.memory_info().rss
    started = time.monotonic()
    res = upload(
        client,
        actors.coordinator_a,
        "h.geojson",
        F.geojson_bytes([F.feature(F.square(0), F.hazard_props(0, actors.org_a))]),
        mode="dry_run",
        mapping=bomb,
    )
    elapsed = time.monotonic() - started
    grown = proc.memory_info().rss - rss_before
    assert res.status_code == 422, res.text[:500]
    body = res.json()
    assert res.headers["content-type"].startswith("application/problem+json")
    assert body["errors"][0]["pointer"] == "/mapping"
    assert "alias" in body["detail"]
    assert elapsed < 2, elapsed
    assert grown < 200 << 20, grown
    stored = session.execute(
        text("SELECT coalesce(max(length(CAST(options AS text))), 0) FROM imports")
    ).scalar_one()
    assert stored < 70_000


def test_mapping_without_aliases_still_works(client, actors):
    mapping = "kinds:\n  hazards:\n    fields:\n      name: [Field name]\n"
    props = F.hazard_props(0, actors.org_a)
    props["Field name"] = props.pop("name")
    res = upload(
        client,
        actors.coordinator_a,
        "h.geojson",
        F.geojson_bytes([F.feature(F.square(0), props)]),
        mode="dry_run",
        mapping=mapping,
    )
    assert res.status_code == 202, res.text
    rep = client.get(res.headers["Location"], headers=actors.coordinator_a.headers)
    assert rep.json()["counts"]["created"] == 1, rep.json()


def counted_upload(chunks: int, chunk_bytes: int = 1 << 20):
    """A streamed multipart upload of ``chunks`` MB, and a list that counts pulled chunks."""
    boundary = "sgboundary" + uuid.uuid4().hex
    pulled: list[int] = []

    def body():
        head = (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="kind"\r\n\r\nhazards\r\n'
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="big.geojson"\r\n'
            "Content-Type: application/geo+json\r\n\r\n"
        ).encode()
        pulled.append(0)
        yield head
        for i in range(chunks):
            pulled.append(i + 1)
            yield b" " * chunk_bytes
        pulled.append(chunks + 1)
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return body(), headers, pulled


@pytest.mark.parametrize("who", ["anonymous", "bad token", "analyst"])
def test_upload_refused_before_its_body_is_read(client, actors, who):
    body, headers, pulled = counted_upload(32)
    if who == "bad token":
        headers["Authorization"] = "Bearer not-a-token"
    elif who == "analyst":
        headers.update(actors.analyst_a.headers)
    res = client.post("/api/v1/imports", content=body, headers=headers)
    assert res.status_code == (403 if who == "analyst" else 401), res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    assert len(pulled) <= 1, f"{len(pulled)} of 34 chunks read before the refusal"


def test_streamed_upload_by_a_coordinator_is_read(client, actors):
    """The same streamed body is read in full once the caller may import."""
    body, headers, pulled = counted_upload(1, chunk_bytes=16)
    headers.update(actors.coordinator_a.headers)
    res = client.post("/api/v1/imports", content=body, headers=headers)
    # sixteen blanks are not a FeatureCollection: refused after reading the whole body
    assert res.status_code == 422, res.text
    assert res.json()["errors"][0]["pointer"] == "/file"
    assert "not a GeoJSON file" in res.json()["detail"]
    assert len(pulled) == 3


def test_import_form_is_checked_as_before(client, actors):
    res = client.post(
        "/api/v1/imports",
        data={"kind": "nonsense", "atomic": "maybe"},
        headers=actors.coordinator_a.headers,
    )
    assert res.status_code == 422
    pointers = {e["pointer"] for e in res.json()["errors"]}
    assert pointers == {"/file", "/kind", "/atomic"}
    # empty fields take their defaults, as FastAPI's form parsing gives them
    good = F.geojson_bytes([F.feature(F.square(0), F.hazard_props(0, actors.org_a))])
    res = client.post(
        "/api/v1/imports",
        files={"file": ("h.geojson", good)},
        data={"kind": "", "mode": "", "atomic": "", "layer": "", "crs": ""},
        headers=actors.coordinator_a.headers,
    )
    assert res.status_code == 202, res.text
    rep = client.get(res.headers["Location"], headers=actors.coordinator_a.headers)
    assert rep.json()["mode"] == "dry_run" and rep.json()["counts"]["created"] == 1


EXACT = (30.512345, 50.456789)


def eo_report(client, actors, name, data, reader):
    res = upload(client, actors.coordinator_a, name, data, kind="eo_finds")
    assert res.status_code == 202, res.text
    rep = client.get(res.headers["Location"], headers=reader.headers)
    assert rep.status_code == 200, rep.text
    return rep


def test_eo_find_report_generalises_positions_for_readers_without_rights(
    client, actors
):
    org = actors.org_a
    point = {"type": "Point", "coordinates": list(EXACT)}
    props = {"external_id": "EO-X1", "eo_category": "teapot", "organisation": org}
    data = F.geojson_bytes([F.feature(point, props)])
    exact = eo_report(client, actors, "eo.geojson", data, actors.analyst_restricted)
    err = exact.json()["errors"][0]
    assert err["location"] == [EXACT[0], EXACT[1]]
    assert "teapot" in err["message"]

    rep = eo_report(client, actors, "eo.geojson", data, actors.analyst_a)
    err = rep.json()["errors"][0]
    assert err["location"] == [30.51, 50.46]
    assert err["location_precision"] == "generalised_0.01deg"
    assert "teapot" in err["message"]  # the reason stays readable
    assert "30.5123" not in rep.text and "50.4567" not in rep.text


def test_eo_find_report_withholds_coordinates_in_message_text(client, actors):
    org = actors.org_a
    csv = (
        "external_id,eo_category,organisation,lon,lat\n"
        f"EO-Y1,uxo,{org},{EXACT[0]},{EXACT[1]}x\n"
    )
    exact = eo_report(client, actors, "eo.csv", csv.encode(), actors.admin)
    assert "50.456789x" in exact.json()["errors"][0]["message"]

    rep = eo_report(client, actors, "eo.csv", csv.encode(), actors.analyst_a)
    body = rep.json()
    assert body["counts"]["rejected"] == 1
    assert "30.5123" not in rep.text and "50.4567" not in rep.text
    assert "restricted access" in body["errors"][0]["message"]

    projected = (
        "external_id,eo_category,organisation,lon,lat\n"
        f"EO-Y2,uxo,{org},412345.67,5612345.89\n"
    )
    exact = eo_report(client, actors, "eo.csv", projected.encode(), actors.admin)
    assert "412346" in exact.json()["failure"]
    rep = eo_report(client, actors, "eo.csv", projected.encode(), actors.analyst_a)
    assert rep.json()["status"] == "failed"
    assert "41234" not in rep.text and "56123" not in rep.text
    assert "look projected" in rep.json()["failure"]


def test_hazard_report_keeps_exact_positions(client, actors):
    """Hazard areas are not withheld from readers: their reports stay exact."""
    geom = F.square(5)
    props = F.hazard_props(5, actors.org_a, classification="teapot")
    data = F.geojson_bytes([F.feature(geom, props)])
    res = upload(client, actors.coordinator_a, "h.geojson", data, mode="dry_run")
    rep = client.get(res.headers["Location"], headers=actors.analyst_a.headers).json()
    loc = rep["errors"][0]["location"]
    assert "location_precision" not in rep["errors"][0]
    assert loc != [round(v, 2) for v in loc]


def test_geopackage_cannot_reach_another_datasource(
    client, session, actors, canary_file, caplog, tmp_path
):
    """A real GeoPackage whose table is an SQLite VirtualOGR over a local file: GDAL's
    GPKG driver does not load that module (checked here, passes before the fix too)."""
    import sqlite3

    path, token = canary_file
    gpkg = tmp_path / "vo.gpkg"
    gpd.GeoDataFrame(
        {"classification": ["SHA"]}, geometry=[F.square(0)], crs="EPSG:4326"
    ).to_file(gpkg, layer="hazards", driver="GPKG")
    con = sqlite3.connect(gpkg)
    con.execute("PRAGMA writable_schema=ON")
    con.execute(
        "INSERT INTO sqlite_master(type, name, tbl_name, rootpage, sql) VALUES "
        "('table', 'evil', 'evil', 0, ?)",
        (f"CREATE VIRTUAL TABLE evil USING VirtualOGR('{path}')",),
    )
    con.execute(
        "INSERT INTO gpkg_contents(table_name, data_type, identifier) "
        "VALUES ('evil', 'attributes', 'evil')"
    )
    con.commit()
    con.close()
    res = upload(
        client,
        actors.coordinator_a,
        "vo.gpkg",
        gpkg.read_bytes(),
        kind="hazards",
        mode="dry_run",
        layer="evil",
    )
    assert res.status_code == 422, res.text
    assert_nowhere([token], [res], caplog, session)


def test_job_reading_a_stored_vrt_fails_without_reading_its_source(
    client, session, actors, canary_file, canary_server, caplog
):
    """The job (worker or inline) checks the stored upload again: a VRT slipped into the
    stored chunks of an import is refused when the import is run."""
    path, file_token = canary_file
    url, hits, url_token = canary_server
    user = actors.coordinator_a
    good = F.geojson_bytes([F.feature(F.square(0), F.hazard_props(0, actors.org_a))])
    res = upload(client, user, "h.geojson", good, mode="dry_run")
    assert res.status_code == 202, res.text
    import_id = res.json()["id"]
    responses = [res]
    for source in (f"CSV:{path}", f"CSV:/vsicurl/{url}/internal.csv"):
        session.execute(
            text("UPDATE import_chunks SET data = :d WHERE import_id = :i"),
            {"d": vrt(source), "i": import_id},
        )
        session.execute(
            text("UPDATE imports SET status = 'failed' WHERE id = :i"),
            {"i": import_id},
        )
        retry = client.post(f"/api/v1/imports/{import_id}/retry", headers=user.headers)
        assert retry.status_code == 202, retry.text
        rep = client.get(f"/api/v1/imports/{import_id}", headers=user.headers)
        responses += [retry, rep]
        body = rep.json()
        assert body["status"] == "failed", body
        assert "not a GeoJSON file" in body["failure"]
    assert_nowhere([file_token, url_token], responses, caplog, session)
    assert hits == []


@pytest.mark.parametrize(
    ("mapping", "said"),
    [
        ("[" * 30_000, "levels deep"),  # the composer recursed once per level: 500
        (
            "kinds: {}\n" + "#" * MAX_MAPPING_BYTES,
            "the limit is",
        ),  # over the size limit
        ("kinds: [1]", "kinds must be an object"),
        ("kinds: {hazards: {fields: {name: 5}}}", "fields.name"),
        ("kinds: {hazards: {keep: 5}}", "keep"),
        ("kinds: {hazards: {values: {classification: [SHA]}}}", "values"),
        ("coordinates: [lon]", "coordinates must be an object"),
        # a separator that backtracks: run on every cell of the column (ReDoS)
        ('kinds: {hazards: {lists: {contamination: "(a+)+$"}}}', "separator"),
        # YAML values JSON cannot store with the import (review finding: 500s)
        ("2024-01-01: x", "must be text"),
        ("kinds: {hazards: {fields: {2024-01-01: [a]}}}", "must be text"),
        ("x: !!binary aGVsbG8=", "not bytes"),
        ("x: !!set {a, b}", "not set"),
        ("x: .nan", "finite"),
        ("x: .inf", "finite"),
    ],
)
def test_malformed_mapping_is_a_422_naming_mapping(client, actors, mapping, said):
    res = upload(
        client,
        actors.coordinator_a,
        "h.geojson",
        F.geojson_bytes([F.feature(F.square(0), F.hazard_props(0, actors.org_a))]),
        mode="dry_run",
        mapping=mapping,
    )
    assert res.status_code == 422, res.text[:500]
    assert res.json()["errors"][0]["pointer"] == "/mapping"
    assert said in res.json()["detail"]


def test_profiles_shipped_pass_the_mapping_checks():
    from api.ingest.profile import PROFILES_DIR, parse_mapping

    for path in sorted(PROFILES_DIR.glob("*.yaml")):
        assert parse_mapping(path.read_text(encoding="utf-8"))["kinds"], path


def test_json_of_arcgis_feature_services_still_imports(client, actors):
    """Pinning the driver keeps GDAL's JSON family (here ESRI JSON) for .json files."""
    props = F.hazard_props(2, actors.org_a)
    sq = F.square(2)
    doc = {
        "geometryType": "esriGeometryPolygon",
        "spatialReference": {"wkid": 4326},
        "fields": [{"name": k, "type": "esriFieldTypeString"} for k in props],
        "features": [
            {
                "geometry": {"rings": [[list(xy) for xy in sq.exterior.coords]]},
                "attributes": props,
            }
        ],
    }
    res = upload(
        client,
        actors.coordinator_a,
        "arcgis.json",
        json.dumps(doc).encode(),
        mode="dry_run",
    )
    assert res.status_code == 202, res.text
    rep = client.get(res.headers["Location"], headers=actors.coordinator_a.headers)
    assert rep.json()["counts"]["created"] == 1, rep.json()


@pytest.mark.parametrize(
    "start",
    [
        "from api.main import create_app; create_app(Settings(database_url=URL))",
        "from api.jobs import make_app; make_app(Settings(database_url=URL))",
    ],
    ids=["server", "worker"],
)
def test_server_and_worker_start_with_gdal_hardened(tmp_path, canary_server, start):
    """A fresh process that starts the server or the worker cannot open a VRT or fetch."""
    import subprocess
    import sys

    url, hits, _ = canary_server
    bad = tmp_path / "x.vrt"
    bad.write_bytes(vrt(f"CSV:/vsicurl/{url}/internal.csv"))
    linked = tmp_path / "l.geojson"
    linked.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "link", "properties": {"href": f"{url}/crs"}},
                "features": [],
            }
        )
    )
    script = (
        "import pyogrio\n"
        "from api.settings import Settings\n"
        "URL = 'postgresql+psycopg://u:p@127.0.0.1:1/none'\n"
        f"{start}\n"
        "try:\n"
        f"    pyogrio.read_info({str(bad)!r})\n"
        "    print('VRT OPENED')\n"
        "except Exception:\n"
        "    print('VRT REFUSED')\n"
        f"pyogrio.read_info({str(linked)!r})\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "VRT REFUSED" in out.stdout, out.stdout + out.stderr
    assert hits == []


MAGIC = {
    "x.geojson": b'{"type": "FeatureCollection", "features": []}\n',
    "x.json": b'{"type": "FeatureCollection", "features": []}\n',
    "x.gpkg": b"SQLite format 3\x00" + b"\x00" * 84,
    "x.fgb": b"fgb\x03fgb\x00" + b"\x00" * 8,
}


@pytest.mark.parametrize("name", sorted(MAGIC))
def test_vrt_behind_the_right_first_bytes_is_not_opened(
    client, session, actors, canary_server, canary_file, caplog, name
):
    """GDAL's VRT driver claims any file whose first kilobyte holds <OGRVRTDataSource, even
    one starting with '{': the driver is gone, so right first bytes do not help."""
    url, hits, url_token = canary_server
    path, file_token = canary_file
    caplog.set_level(logging.DEBUG)
    responses = []
    for source in (f"CSV:{path}", f"CSV:/vsicurl/{url}/internal.csv"):
        data = MAGIC[name] + vrt(source)
        res, got = hostile_upload(client, actors.coordinator_a, name, data, "dry_run")
        responses += got
        assert res.status_code in (400, 422), res.text
        assert "cannot read the file" in res.json()["detail"]
    assert_nowhere([file_token, url_token], responses, caplog, session)
    assert hits == []


def test_a_yaml_date_default_is_stored_as_iso_text(client, actors):
    """An unquoted YAML date is a date object: it was accepted, then failed to be stored
    with the import (500); it is kept as ISO text, as the mapping's other values."""
    res = upload(
        client,
        actors.coordinator_a,
        "h.geojson",
        F.geojson_bytes([F.feature(F.square(0), F.hazard_props(0, actors.org_a))]),
        mode="dry_run",
        mapping="kinds: {hazards: {defaults: {date_of_information: 2024-01-01}}}",
    )
    assert res.status_code == 202, res.text[:500]

"""Benchmark imports and OGC API - Features at national scale, against their floors.

In a throwaway database on the DATABASE_URL server:

(a) generates N hazard polygons (default 100,000) in a GeoPackage, imports it through the API
    in commit mode (uvicorn + a `safeground worker` process, as `make run` starts them), with
    the whole gate, history and land-release update, and measures wall time, rows per second
    and the peak resident memory of the server and the worker;
    It prints the seconds and rows per second of each stage of the pipeline (read, map,
    gate, write, land release, commit) from the report, and also times a dry run of the same
    file (before the commit; target: no slower than the commit) and a re-import of the
    unchanged file (target <= 2x the floor);
(b) loads the same file with `ogr2ogr -f PostgreSQL` (Debian's gdal-bin, installed when
    missing) into a plain table: the floor; prints the ratio (target <= 3);
(b') writes those rows, already in the database, into our three hazard tables with one
    INSERT ... SELECT each (rolled back): our schema's own floor, what no import through it
    can beat;
(e) imports N EO finds (default 100,000) from a CSV of points (lon/lat columns), each in one
    of the hazards, and loads the same CSV with ogr2ogr: the ratio (target <= 3); (e') writes
    those rows into eo_finds with their audit rows set-based (rolled back): their floor;
(c) serves the hazards with tipg (installed from PyPI into a throwaway virtualenv) and
    compares the p50 of `/collections/{id}/items?limit=100` with ours (target <= 1.2x);
(d) imports ../shared/data/colombia_mine_events_1990_2019.geojson as EO events (dry run) with
    a mapping for its Spanish columns, and prints what the gate reported, grouped.

Run:  make bench-import  (or: source .dev-db.env && .venv/bin/python scripts/bench/import.py
      [--hazards 100000] [--finds 100000] [--requests 200] [--skip-tipg] [--keep]
      [--without-ids])
It prints the figures and whether each target is met; it never fails on a miss.
"""

import argparse
import collections
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import httpx2 as httpx
import numpy as np
import psutil
from shapely.geometry import Polygon, box
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.db import migrate
from api.db.engine import make_engine
from api.db.scratch import scratch_database
from api.services import auth
from api.settings import Settings
from api.vocab import Role

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COLOMBIA = ROOT.parent / "shared" / "data" / "colombia_mine_events_1990_2019.geojson"
NATURAL_EARTH = (
    ROOT.parent / "shared" / "data" / "naturalearth_lowres" / "naturalearth_lowres.shp"
)

COLOMBIA_MAPPING = """
kinds:
  eo_finds:
    fields:
      eo_category: [TIPO_EVENTO_LABEL]
      notes: [MUNICIPIO]
    values:
      eo_category:
        ap_mine: ["Accidente por MAP"]
        uxo: ["Accidente por MUSE", "Incidente por MUSE"]
        ied: ["Accidente por AEI", "Incidente por AEI"]
    keep: [TIPO_EVENTO, DEPARTAMENTO, MUNICIPIO, AÑO, TIPO_AREA]
"""


def log(message: str) -> None:
    """Print a progress line."""
    print(message, flush=True)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def verdict(ok: bool) -> str:
    """Target met or missed."""
    return "met" if ok else "MISSED"


def free_port() -> int:
    """A free TCP port on loopback."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_admin_areas(session: Session) -> None:
    """The programme's admin areas, as a real programme has them loaded: a country (level 0)
    around the generated hazards and 24 regions (level 1, a 6 x 4 grid of 1° cells), so that
    every row meets the extent and area checks and gets its P-codes, as in production."""
    cells = [
        (f"BN{i:02d}", box(30.0 + c, 46.0 + r, 31.0 + c, 47.0 + r))
        for i, (c, r) in enumerate((c, r) for r in range(4) for c in range(6))
    ]
    rows = [("BN", "Benchland", 0, None, box(29.5, 45.5, 36.5, 50.5))] + [
        (code, f"Region {code}", 1, "BN", geom) for code, geom in cells
    ]
    for pcode, name, level, parent, geom in rows:
        session.execute(
            text(
                "INSERT INTO admin_areas (pcode, name, level, parent_pcode, geom) "
                "VALUES (:p, :n, :l, :parent, ST_Multi(ST_GeomFromText(:g, 4326)))"
            ),
            {"p": pcode, "n": name, "l": level, "parent": parent, "g": geom.wkt},
        )
    session.commit()


def generate_gpkg(
    path: Path, n: int, org: str, seed: int = 7, ids: bool = True
) -> None:
    """N hazard polygons (irregular hexagons of 0.5-20 ha) across central Ukraine; without
    ``ids``, no external_id column (rows are then matched by their geometry)."""
    rng = np.random.default_rng(seed)
    xs = 30.05 + rng.random(n) * 5.9
    ys = 46.05 + rng.random(n) * 3.9
    radii = np.sqrt(
        np.exp(np.log(5000) + rng.random(n) * (np.log(200000) - np.log(5000))) / np.pi
    )
    geoms = []
    for x, y, r in zip(xs, ys, radii, strict=True):
        dx = r / (111320 * np.cos(np.radians(y)))
        dy = r / 110540
        angles = np.sort(rng.random(6)) * 2 * np.pi
        scale = 0.7 + rng.random(6) * 0.6
        geoms.append(
            Polygon(
                zip(
                    x + dx * scale * np.cos(angles),
                    y + dy * scale * np.sin(angles),
                    strict=True,
                )
            )
        )
    kinds = np.array(["minefield", "cmr_strike_area", "battle_area", "ied_area"])
    gdf = gpd.GeoDataFrame(
        {
            "external_id": [f"BENCH-{i:06d}" for i in range(n)],
            "name": [f"Bench hazard {i}" for i in range(n)],
            "classification": np.where(rng.random(n) < 0.7, "SHA", "CHA"),
            "hazard_type": kinds[rng.integers(0, 4, n)],
            "contamination": np.where(
                rng.random(n) < 0.5, "ap_mine", "ap_mine,av_mine"
            ),
            "organisation": org,
            "date_of_information": "2024-05-17",
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    if not ids:
        gdf = gdf.drop(columns=["external_id"])
    gdf.to_file(path, layer="hazards", driver="GPKG")


@contextmanager
def process(args: list[str], env: dict[str, str], name: str):
    """A background process, stopped at the end."""
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


class PeakMemory:
    """Polls the resident memory of processes (and their children) in a thread."""

    def __init__(self, procs: dict[str, subprocess.Popen]) -> None:
        self.procs = {k: psutil.Process(p.pid) for k, p in procs.items()}
        self.peak = dict.fromkeys(procs, 0)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self, proc: psutil.Process) -> int:
        try:
            return proc.memory_info().rss + sum(
                c.memory_info().rss for c in proc.children(recursive=True)
            )
        except psutil.Error:
            return 0

    def _run(self) -> None:
        while not self.stop.is_set():
            for name, proc in self.procs.items():
                self.peak[name] = max(self.peak[name], self._rss(proc))
            time.sleep(0.1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until ``url`` answers."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def ensure_ogr2ogr() -> str:
    """The ogr2ogr binary, installing Debian's gdal-bin when it is missing."""
    found = shutil.which("ogr2ogr")
    if found:
        return found
    log("installing gdal-bin (ogr2ogr) from Debian's packages ...")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-q", "gdal-bin"],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    return shutil.which("ogr2ogr") or "/usr/bin/ogr2ogr"


def libpq(url: str) -> str:
    """A libpq URL (no SQLAlchemy driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def import_through_api(
    base: str, headers: dict, path: Path, form: dict, poll: float = 0.5
) -> tuple[float, dict]:
    """POST the file, poll the import until it ends; seconds and the final report."""
    started = time.perf_counter()
    with path.open("rb") as f:
        res = httpx.post(
            f"{base}/api/v1/imports",
            files={"file": (path.name, f)},
            data=form,
            headers=headers,
            timeout=600,
        )
    res.raise_for_status()
    location = res.headers["Location"]
    while True:
        report = httpx.get(location, headers=headers, timeout=60).json()
        if report["status"] in ("succeeded", "failed"):
            return time.perf_counter() - started, report
        time.sleep(poll)


def ogc_p50(url: str, headers: dict, requests: int) -> float:
    """p50 in ms of sequential GETs of ``url`` (after 5 warm-up requests)."""
    times = []
    with httpx.Client(headers=headers, timeout=60) as client:
        for i in range(requests + 5):
            started = time.perf_counter()
            res = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            res.raise_for_status()
            if i >= 5:
                times.append(elapsed)
    return statistics.median(times)


def tipg_server(url: str, port: int):
    """tipg in a throwaway virtualenv (created once under the temp dir) on ``port``."""
    venv = Path(tempfile.gettempdir()) / "sg-bench-tipg-venv"
    if not (venv / "bin" / "uvicorn").exists():
        log("installing tipg into a throwaway virtualenv ...")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "tipg==1.6.1", "uvicorn"],
            check=True,
        )
    env = {
        **os.environ,
        "DATABASE_URL": libpq(url),
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.hazards"]',
    }
    return process(
        [
            str(venv / "bin" / "uvicorn"),
            "tipg.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env,
        "tipg",
    )


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hazards", type=int, default=100_000)
    parser.add_argument("--finds", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--skip-tipg", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--without-ids",
        action="store_true",
        help="hazards without external ids, as many real files are (a re-import matches "
        "them by geometry); the EO finds, which name their hazard, are then skipped",
    )
    args = parser.parse_args()
    server_url = Settings().database_url
    ogr2ogr = ensure_ogr2ogr()
    with (
        tempfile.TemporaryDirectory(prefix="sg-bench-import-") as tmp,
        scratch_database(server_url, "sg_bench_imp", keep=args.keep) as url,
    ):
        tmp = Path(tmp)
        migrate.upgrade(url)
        engine = make_engine(Settings(database_url=url))
        with Session(engine) as s:
            s.execute(
                text(
                    "INSERT INTO organisations (code, name, type) VALUES ('BENCH', 'Bench operator', 'ngo_international')"
                )
            )
            s.commit()
            auth.create_user(
                s,
                username="bench-coord",
                password="bench-password",
                role=Role.coordinator,
                organisation_code="BENCH",
            )
            auth.create_user(
                s, username="bench-admin", password="bench-password", role=Role.admin
            )
            s.commit()
            load_admin_areas(s)
        gpkg = tmp / "hazards.gpkg"
        started = time.perf_counter()
        generate_gpkg(gpkg, args.hazards, "BENCH", ids=not args.without_ids)
        log(
            f"generated {args.hazards} hazards in {gpkg.stat().st_size / 1e6:.1f} MB ({time.perf_counter() - started:.1f} s)"
        )

        port = free_port()
        env = {
            **os.environ,
            "SAFEGROUND_DATABASE_URL": url,
            "DATABASE_URL": url,
            "SAFEGROUND_IMPORT_RUNNER": "queue",
        }
        base = f"http://127.0.0.1:{port}"
        with (
            process(
                [str(BIN / "safeground"), "serve", "--port", str(port)], env, "api"
            ) as api,
            process([str(BIN / "safeground"), "worker"], env, "worker") as worker,
        ):
            wait_http(f"{base}/health", api)
            token = httpx.post(
                f"{base}/api/v1/auth/token",
                data={"username": "bench-coord", "password": "bench-password"},
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            dry, dry_report = import_through_api(
                base, headers, gpkg, {"kind": "hazards", "mode": "dry_run"}
            )
            with PeakMemory({"api": api, "worker": worker}) as mem:
                seconds, report = import_through_api(
                    base, headers, gpkg, {"kind": "hazards", "mode": "commit"}
                )
            counts = report["counts"]
            log(
                f"(a) import through the API: {report['status']} in {seconds:.1f} s, {counts['created']} created, {counts['rejected']} rejected, {counts['flagged']} flagged"
            )
            log(
                f"    {args.hazards / seconds:,.0f} rows/s; peak memory: server {mem.peak['api'] / 2**20:.0f} MiB, worker {mem.peak['worker'] / 2**20:.0f} MiB (target < 1024 MiB: {verdict(max(mem.peak.values()) < 2**30)})"
            )
            stages(report, args.hazards)
            log(
                f"    dry run of the same file (first, on the empty database): {dry:.1f} s, "
                f"{dry_report['counts']['created']} would be created (target <= commit: "
                f"{verdict(dry <= seconds)})"
            )
            stages(dry_report, args.hazards)
            again, report2 = import_through_api(
                base, headers, gpkg, {"kind": "hazards", "mode": "commit"}
            )
            log(
                f"    re-import of the same file: {again:.1f} s, unchanged {report2['counts']['unchanged']}, created {report2['counts']['created']}"
            )
            stages(report2, args.hazards)

            started = time.perf_counter()
            subprocess.run(
                [
                    ogr2ogr,
                    "-f",
                    "PostgreSQL",
                    f"PG:{libpq(url)}",
                    str(gpkg),
                    "hazards",
                    "-nln",
                    "floor_hazards",
                    "-lco",
                    "GEOMETRY_NAME=geom",
                    "-nlt",
                    "PROMOTE_TO_MULTI",
                ],
                check=True,
            )
            floor = time.perf_counter() - started
            log(
                f"(b) ogr2ogr floor: {floor:.1f} s; ratio {seconds / floor:.2f} (target <= 3: {verdict(seconds / floor <= 3)})"
            )
            log(
                f"    re-import ratio {again / floor:.2f} (target <= 2: {verdict(again / floor <= 2)}); "
                f"dry run ratio {dry / floor:.2f}"
            )
            rows_sql = HAZARD_ROWS
            if args.without_ids:
                rows_sql = rows_sql.replace(
                    "external_id,", "NULL::text AS external_id,"
                )
            written, steps = schema_floor(engine, rows_sql, SCHEMA_FLOOR)
            log(
                f"(b') our schema's floor: the rows ogr2ogr loaded, written set-based in SQL "
                f"into hazards, hazard_versions and hazard_states (nothing else: no gate, "
                f"no land release, no priorities), {written:.1f} s ({steps}); "
                f"{written / floor:.1f}x the ogr2ogr floor; our commit is "
                f"{seconds / written:.1f}x this"
            )
            if args.finds and not args.without_ids:
                finds_csv = tmp / "finds.csv"
                generate_finds_csv(finds_csv, gpkg, args.finds, "BENCH")
                with PeakMemory({"api": api, "worker": worker}) as mem:
                    fs, freport = import_through_api(
                        base, headers, finds_csv, {"kind": "eo_finds", "mode": "commit"}
                    )
                started = time.perf_counter()
                subprocess.run(
                    [
                        ogr2ogr,
                        "-f",
                        "PostgreSQL",
                        f"PG:{libpq(url)}",
                        str(finds_csv),
                        "-nln",
                        "floor_finds",
                        "-oo",
                        "X_POSSIBLE_NAMES=lon",
                        "-oo",
                        "Y_POSSIBLE_NAMES=lat",
                        "-a_srs",
                        "EPSG:4326",
                        "-lco",
                        "GEOMETRY_NAME=geom",
                    ],
                    check=True,
                )
                ffloor = time.perf_counter() - started
                fc = freport["counts"]
                log(
                    f"(e) {args.finds} EO finds from a CSV: {freport['status']} in {fs:.1f} s "
                    f"({args.finds / fs:,.0f} rows/s), {fc['created']} created, {fc['rejected']} "
                    f"rejected; ogr2ogr of the same CSV {ffloor:.1f} s; ratio {fs / ffloor:.2f} "
                    f"(target <= 3: {verdict(fs / ffloor <= 3)}); peak memory: server "
                    f"{mem.peak['api'] / 2**20:.0f} MiB, worker {mem.peak['worker'] / 2**20:.0f} MiB"
                )
                stages(freport, args.finds)
                fwritten, fsteps = schema_floor(engine, FIND_ROWS, FINDS_FLOOR)
                log(
                    f"(e') our schema's floor for the finds: written set-based in SQL into "
                    f"eo_finds with their audit rows, {fwritten:.1f} s ({fsteps}); "
                    f"{fwritten / ffloor:.1f}x the ogr2ogr floor; our import is "
                    f"{fs / fwritten:.1f}x this"
                )

            admin_token = httpx.post(
                f"{base}/api/v1/auth/token",
                data={"username": "bench-admin", "password": "bench-password"},
            ).json()["access_token"]
            admin = {"Authorization": f"Bearer {admin_token}"}
            ours_url = f"{base}/ogc/collections/hazards/items?limit=100"
            if httpx.get(ours_url, headers=admin).status_code == 200:
                ours = ogc_p50(ours_url, admin, args.requests)
                log(
                    f"(c) ours: /ogc/collections/hazards/items?limit=100 p50 {ours:.1f} ms"
                )
                if not args.skip_tipg:
                    tport = free_port()
                    with tipg_server(url, tport) as tipg:
                        wait_http(
                            f"http://127.0.0.1:{tport}/collections", tipg, timeout=120
                        )
                        theirs = ogc_p50(
                            f"http://127.0.0.1:{tport}/collections/public.hazards/items?limit=100",
                            {},
                            args.requests,
                        )
                    log(
                        f"    tipg: /collections/public.hazards/items?limit=100 p50 {theirs:.1f} ms; ratio {ours / theirs:.2f} (target <= 1.2: {verdict(ours / theirs <= 1.2)})"
                    )
            else:
                log("(c) skipped: /ogc is not served by this checkout")

            if COLOMBIA.exists():
                with Session(engine) as s:
                    s.execute(
                        text(
                            "INSERT INTO admin_areas (pcode, name, level, geom) SELECT 'CO', 'Colombia', 0, ST_Multi(ST_GeomFromText(:wkt, 4326))"
                        ),
                        {"wkt": colombia_wkt()},
                    )
                    s.execute(
                        text(
                            "INSERT INTO organisations (code, name, type) VALUES ('CO-NMAA', 'Colombia (bench)', 'nmaa')"
                        )
                    )
                    s.commit()
                form = {
                    "kind": "eo_finds",
                    "mode": "dry_run",
                    "mapping": COLOMBIA_MAPPING,
                    "organisation": "CO-NMAA",
                }
                seconds, report = import_through_api(base, admin, COLOMBIA, form)
                log(
                    f"(d) Colombia mine events ({report['counts']['read']} rows, dry run) in {seconds:.1f} s: {report['counts']}"
                )
                grouped = collections.Counter(
                    re.sub(r"[-\d.]{3,}", "#", e["message"])[:110]
                    for e in report["errors"] + report["flags"]
                )
                for message, count in grouped.most_common(8):
                    log(f"    {count:6d} x {message}")
        engine.dispose()


SCHEMA_FLOOR = (
    (
        "hazards",
        """INSERT INTO hazards (id, external_id, name, classification, hazard_type,
               status_set, contamination, organisation_id, date_of_information, geom,
               version)
           SELECT id, external_id, name, classification, hazard_type, 'open',
                  string_to_array(contamination, ','), :org, date_of_information::date,
                  geom, 1
           FROM floor_rows""",
    ),
    (
        "hazard_versions",
        """INSERT INTO hazard_versions (hazard_id, version, kind, date_of_information,
               author, source, report, geom, warnings, changes, superseded)
           SELECT id, 1, 'create', date_of_information::date, 'bench', 'bench',
                  to_jsonb(r) - 'geom', geom, '[]', '{}', '[]'
           FROM floor_rows r""",
    ),
    (
        "hazard_states",
        """INSERT INTO hazard_states (hazard_id, valid_from, version, organisation_id,
               retired, state, geom)
           SELECT id, date_of_information::date, 1, :org, false, to_jsonb(r) - 'geom', geom
           FROM floor_rows r""",
    ),
)


FINDS_FLOOR = (
    (
        "eo_finds",
        """INSERT INTO eo_finds (id, external_id, organisation_id, hazard_id, eo_category,
               quantity, found_on, geom, origin, is_demo)
           SELECT id, external_id, :org, hazard_id, eo_category, quantity, found_on, geom,
                  jsonb_build_object('row', n), false
           FROM floor_rows""",
    ),
    (
        "audit_log",
        """INSERT INTO audit_log (actor, entity, entity_id, action, after)
           SELECT 'bench', 'eo_finds', id::text, 'insert', to_jsonb(r) - 'geom'
           FROM floor_rows r""",
    ),
)
HAZARD_ROWS = (
    "SELECT gen_random_uuid() AS id, external_id, name, classification, hazard_type, "
    "contamination, date_of_information, geom FROM floor_hazards WHERE ST_IsValid(geom)"
)
# each find's hazard looked up before the clock starts: the floor is the writing alone
FIND_ROWS = (
    "SELECT gen_random_uuid() AS id, f.external_id, h.id AS hazard_id, f.eo_category, "
    "f.quantity::int AS quantity, f.found_on::date AS found_on, f.geom, "
    "row_number() OVER () AS n FROM floor_finds f "
    "JOIN hazards h ON h.external_id = f.hazard_id AND h.retired_at IS NULL"
)


def schema_floor(engine, rows_sql: str, steps: tuple) -> tuple[float, str]:
    """The database's own floor for our schema: rows ogr2ogr loaded (``rows_sql`` reads
    them, already in the database), written with one INSERT ... SELECT per table into
    the tables our import writes them to (``steps``: a hazard's row, version 1 and state;
    an EO find's row and its audit row), with their indexes, constraints and triggers; in a
    transaction rolled back afterwards, for another organisation. Hazard rows GEOS finds
    invalid are left out (our import repairs them). Seconds in all, and per table."""
    parts = []
    with engine.connect() as conn, conn.begin() as tx:
        org = conn.scalar(
            text(
                "INSERT INTO organisations (code, name, type) "
                "VALUES ('FLOOR', 'Floor', 'ngo_national') RETURNING id"
            )
        )
        conn.execute(text(f"CREATE TEMP TABLE floor_rows ON COMMIT DROP AS {rows_sql}"))
        total = 0.0
        for table, sql in steps:
            started = time.perf_counter()
            conn.execute(text(sql), {"org": org})
            took = time.perf_counter() - started
            total += took
            parts.append(f"{table} {took:.1f} s")
        tx.rollback()
    return total, ", ".join(parts)


def stages(report: dict, rows: int) -> None:
    """Seconds and rows per second of each stage of an import, from its report."""
    seconds = report.get("stage_seconds") or {}
    order = ["read", "map", "gate", "write", "land_release", "commit"]
    parts = [
        f"{k} {seconds[k]:.1f} s ({rows / seconds[k]:,.0f} rows/s)"
        for k in order
        if seconds.get(k)
    ]
    log("    stages: " + "; ".join(parts))


def generate_finds_csv(path: Path, gpkg: Path, n: int, org: str) -> None:
    """N EO finds, each at a point inside one of the generated hazards (cycling through
    them), as a CSV with lon/lat columns as a field team's spreadsheet has them."""
    hazards = gpd.read_file(gpkg, layer="hazards")
    points = hazards.geometry.representative_point()
    cats = ["ap_mine", "av_mine", "uxo", "cmr"]
    with path.open("w", encoding="utf-8") as f:
        f.write(
            "external_id,eo_category,quantity,found_on,hazard_id,organisation,lon,lat\n"
        )
        for i in range(n):
            k = i % len(hazards)
            p = points.iloc[k]
            f.write(
                f"FIND-{i:06d},{cats[i % 4]},{1 + i % 3},2024-06-{1 + i % 28:02d},"
                f"{hazards.external_id.iloc[k]},{org},{p.x:.7f},{p.y:.7f}\n"
            )


def colombia_wkt() -> str:
    """Colombia's outline from Natural Earth (low resolution), as WKT."""
    world = gpd.read_file(NATURAL_EARTH)
    name_col = next(
        c for c in world.columns if c.lower() in ("name", "admin", "name_en")
    )
    return world[world[name_col] == "Colombia"].geometry.iloc[0].wkt


if __name__ == "__main__":
    random.seed(1)
    main()

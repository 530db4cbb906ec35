"""Benchmark the land-release accounting at national scale.

Builds a throwaway database on the DATABASE_URL server with N hazards (0.5-50 ha, some
overlapping, mid-latitudes) and M release polygons (cancelled, reduced and cleared, some
overlapping, some partly outside their hazard), generated set-based inside PostGIS, then times:

(a) the full recomputation of every hazard's figures through our code
    (``land_release.recompute``), against the floor: the same figures computed by one plain
    PostGIS query written by hand; the two results are cross-checked;
(b) the land-release summary by admin1;
(c) one activity write (2 release polygons) with its incremental update, through the service;
(d) GET /api/v1/hazards/{id} through HTTP on a uvicorn server, sequential requests.

Run:  make bench   (or: source .dev-db.env && .venv/bin/python scripts/bench/land_release.py
      [--hazards 50000] [--releases 100000] [--requests 1000] [--keep])
It prints the figures and whether each target is met; it never fails on a miss.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.db import migrate
from api.db.engine import make_engine
from api.db.scratch import scratch_database
from api.schemas.activities import ActivityCreate
from api.services import activities, admin_areas, auth, land_release, summary
from api.settings import Settings
from api.vocab import Role

GENERATE_SQL = """
SELECT setseed(:seed);
INSERT INTO organisations (code, name, type) VALUES
    ('BENCH-A', 'Bench operator A', 'ngo_international'),
    ('BENCH-B', 'Bench operator B', 'ngo_national'),
    ('BENCH-N', 'Bench authority', 'nmaa');
INSERT INTO admin_areas (pcode, name, level, geom)
SELECT 'ZZ0' || i, 'Bench province ' || i, 1,
       ST_Multi(ST_MakeEnvelope(30 + 3 * ((i - 1) % 2), 46 + 2 * ((i - 1) / 2),
                                33 + 3 * ((i - 1) % 2), 48 + 2 * ((i - 1) / 2), 4326))
FROM generate_series(1, 4) i;
-- hazard centres and radii (metres) for 0.5-50 ha, log-uniform; 5 % sit on a neighbour
CREATE TEMP TABLE plan AS
SELECT n,
       30.05 + random() * 5.9 AS x, 46.05 + random() * 3.9 AS y,
       sqrt(exp(ln(5000) + random() * (ln(500000) - ln(5000))) / pi()) AS r,
       random() * pi() AS angle, 0.6 + random() * 0.8 AS stretch
FROM generate_series(1, :hazards) n;
UPDATE plan p SET x = q.x + 0.8 * q.r / (111320 * cos(radians(q.y))), y = q.y
FROM plan q WHERE p.n % 20 = 0 AND q.n = p.n - 1;
CREATE TEMP TABLE hz AS
SELECT n, gen_random_uuid() AS id,
       ST_Multi(ST_Translate(ST_Scale(ST_Rotate(ST_Scale(
           ST_Buffer(ST_MakePoint(0, 0), r, 'quad_segs=3'), stretch, 1 / stretch), angle),
           1 / (111320 * cos(radians(y))), 1 / 110574.0), x, y)) AS geom
FROM plan;
INSERT INTO hazards (id, external_id, organisation_id, name, classification, hazard_type,
                     status, contamination, date_of_information, geom, area_m2, version)
SELECT hz.id, 'BENCH-' || hz.n,
       (SELECT id FROM organisations WHERE code = CASE hz.n % 3 WHEN 0 THEN 'BENCH-A'
                                                   WHEN 1 THEN 'BENCH-B' ELSE 'BENCH-N' END),
       'Bench hazard ' || hz.n, CASE WHEN hz.n % 2 = 0 THEN 'CHA' ELSE 'SHA' END,
       (ARRAY['minefield', 'cmr_strike_area', 'battle_area', 'ied_area'])[1 + hz.n % 4],
       'open', ARRAY[(ARRAY['ap_mine', 'av_mine', 'cmr', 'uxo'])[1 + hz.n % 4]],
       DATE '2022-01-01' + (hz.n % 1000), ST_SetSRID(hz.geom, 4326),
       sg_area_m2(ST_SetSRID(hz.geom, 4326)), 1
FROM hz;
-- one completed activity per hazard that gets releases
INSERT INTO activities (id, external_id, organisation_id, activity_type, status, start_date,
                        end_date, methods)
SELECT gen_random_uuid(), 'BENCH-AC-' || hz.n,
       (SELECT id FROM organisations WHERE code = 'BENCH-A'), 'clearance', 'completed',
       DATE '2024-01-01', DATE '2024-06-01', ARRAY['manual']
FROM hz WHERE hz.n <= LEAST(:releases, :hazards);
CREATE TEMP TABLE act AS
SELECT a.id, substr(a.external_id, 10)::int AS n FROM activities a;
INSERT INTO activity_hazards (activity_id, hazard_id)
SELECT act.id, hz.id FROM act JOIN hz USING (n);
-- releases: a box over a random part of the hazard's bounding box, 10 % reaching outside
INSERT INTO release_polygons (activity_id, hazard_id, feature_index, outcome, date, geom,
                              area_m2)
SELECT act.id, hz.id, k, (ARRAY['cancelled', 'reduced', 'cleared'])[1 + (k + hz.n) % 3],
       DATE '2024-01-01' + (k * 37 % 150), b.geom, sg_area_m2(b.geom)
FROM (SELECT k, 1 + (k - 1) % LEAST(:releases, :hazards) AS n, random() AS a,
             random() AS b, random() AS c, random() AS d FROM generate_series(1, :releases) k) r
JOIN hz USING (n)
JOIN act USING (n)
CROSS JOIN LATERAL (
    SELECT ST_Multi(ST_MakeEnvelope(
        ST_XMin(hz.geom) + (ST_XMax(hz.geom) - ST_XMin(hz.geom)) * (r.a * 0.6 - 0.1 * (r.c > 0.9)::int),
        ST_YMin(hz.geom) + (ST_YMax(hz.geom) - ST_YMin(hz.geom)) * (r.b * 0.6),
        ST_XMin(hz.geom) + (ST_XMax(hz.geom) - ST_XMin(hz.geom)) * (r.a * 0.6 + 0.2 + r.d * 0.5),
        ST_YMin(hz.geom) + (ST_YMax(hz.geom) - ST_YMin(hz.geom)) * (r.b * 0.6 + 0.2 + r.c * 0.4),
        4326)) AS geom
) b;
"""

# The same figures as land_release.recompute, as one plain query written by hand: per hazard,
# the union of its releases by outcome, intersected with the hazard; remaining geometrically.
FLOOR_SQL = """
CREATE TEMP TABLE floor AS
WITH u AS (
    SELECT hazard_id,
           ST_Union(geom) FILTER (WHERE outcome = 'cleared') AS u_cleared,
           ST_Union(geom) FILTER (WHERE outcome IN ('cleared', 'reduced')) AS u_strong,
           ST_Union(geom) AS u_all
    FROM release_polygons WHERE retired_at IS NULL GROUP BY hazard_id
), parts AS (
    SELECT h.id, sg_area_m2(h.geom) AS baseline,
           COALESCE(sg_area_m2(ST_Intersection(h.geom, u.u_cleared)), 0) AS a_cleared,
           COALESCE(sg_area_m2(ST_Intersection(h.geom, u.u_strong)), 0) AS a_strong,
           COALESCE(sg_area_m2(ST_Intersection(h.geom, u.u_all)), 0) AS a_all,
           COALESCE(sg_area_m2(ST_Difference(h.geom, u.u_all)), sg_area_m2(h.geom)) AS remaining
    FROM hazards h LEFT JOIN u ON u.hazard_id = h.id
    WHERE h.retired_at IS NULL
)
SELECT id, baseline, a_cleared AS cleared, a_strong - a_cleared AS reduced,
       a_all - a_strong AS cancelled, a_all AS released, remaining
FROM parts
"""

# The same, leaner: remaining = baseline - released (the area measure is additive), as ours
# does; no difference overlay.
FLOOR_LEAN_SQL = (
    FLOOR_SQL.replace("CREATE TEMP TABLE floor AS", "CREATE TEMP TABLE floor_lean AS")
    .replace(
        "COALESCE(sg_area_m2(ST_Difference(h.geom, u.u_all)), sg_area_m2(h.geom)) AS remaining",
        "0 AS remaining",
    )
    .replace(
        "a_all AS released, remaining",
        "a_all AS released, baseline - a_all AS remaining",
    )
)


def log(message: str) -> None:
    """Print a progress line."""
    print(message, flush=True)


@contextmanager
def bench_database(server_url: str, keep: bool):
    """A migrated throwaway database; dropped afterwards unless ``keep``."""
    with scratch_database(server_url, "sg_bench", keep=keep) as url:
        migrate.upgrade(url)
        yield url
        if keep:
            log(f"kept database {url.rsplit('/', 1)[1]}")


def timed(fn) -> float:
    """Seconds taken by ``fn()``."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def generate(session: Session, hazards: int, releases: int, seed: float) -> None:
    """Fill the database set-based, then assign admin areas and analyse."""
    params = {"seed": seed, "hazards": hazards, "releases": releases}
    for statement in GENERATE_SQL.split(";\n"):
        if statement.strip():
            session.execute(text(statement), params)
    admin_areas.assign_hazards(session, None)
    session.commit()
    session.execute(text("ANALYZE"))


def full_recompute(session: Session) -> tuple[float, float, float]:
    """(a) ours and the two floors, best of two runs each."""
    ours = []
    for _ in range(2):
        ours.append(
            timed(lambda: (land_release.recompute(session, None), session.commit()))
        )
    floors = {}
    for name, sql in (("floor", FLOOR_SQL), ("floor_lean", FLOOR_LEAN_SQL)):
        runs = []
        for _ in range(2):
            session.execute(text(f"DROP TABLE IF EXISTS {name}"))
            session.execute(text("SET LOCAL statement_timeout = 0"))
            runs.append(timed(lambda sql=sql: session.execute(text(sql))))
        floors[name] = min(runs)
    return min(ours), floors["floor"], floors["floor_lean"]


def cross_check(session: Session) -> dict[str, tuple[float, float]]:
    """Totals of ours and of the floor, side by side."""
    row = session.execute(
        text(
            "SELECT sum(f.remaining_area_m2), sum(x.remaining), sum(f.released_area_m2), "
            "sum(x.released), sum(f.cleared_area_m2), sum(x.cleared), sum(f.baseline_area_m2), "
            "sum(x.baseline) FROM hazard_land_release f JOIN floor x ON x.id = f.hazard_id"
        )
    ).one()
    return {
        "remaining": row[0:2],
        "released": row[2:4],
        "cleared": row[4:6],
        "baseline": row[6:8],
    }


def activity_writes(session: Session, settings: Settings, count: int) -> list[float]:
    """(c) ``count`` activity writes of 2 releases each; milliseconds per write."""
    principal = auth.Principal(
        role=Role.admin,
        organisation_id=None,
        organisation_code=None,
        restricted=True,
        name="bench",
    )
    rows = session.execute(
        text(
            "SELECT id::text, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
            "FROM hazards ORDER BY random() LIMIT :n"
        ),
        {"n": count},
    ).all()
    times = []
    for i, (hid, x1, y1, x2, y2) in enumerate(rows):
        xm, ym = (x1 + x2) / 2, (y1 + y2) / 2
        boxes = [(x1, y1, xm, ym), (xm, ym, x2, y2)]
        body = ActivityCreate.model_validate(
            {
                "external_id": f"BENCH-W-{i}",
                "activity_type": "technical_survey",
                "organisation": "BENCH-A",
                "hazard_ids": [hid],
                "status": "completed",
                "start_date": "2024-07-01",
                "end_date": "2024-07-10",
                "methods": ["mechanical"],
                "releases": {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"outcome": "reduced", "date": "2024-07-10"},
                            "geometry": {
                                "type": "Polygon",
                                "coordinates": [
                                    [[a, b], [c, b], [c, d], [a, d], [a, b]]
                                ],
                            },
                        }
                        for a, b, c, d in boxes
                    ],
                },
            }
        )
        times.append(
            1000
            * timed(
                lambda body=body: activities.create_activity(
                    session, body=body, principal=principal, settings=settings
                )
            )
        )
    return times


def http_reads(url: str, session: Session, requests: int) -> list[float]:
    """(d) sequential GET /api/v1/hazards/{id} through uvicorn; milliseconds each."""
    auth.create_user(
        session, username="bench-admin", password="bench-password", role=Role.admin
    )
    ids = [
        r[0]
        for r in session.execute(
            text("SELECT id::text FROM hazards ORDER BY random() LIMIT :n"),
            {"n": requests},
        )
    ]
    port = 8790 + random.randint(0, 100)
    env = {**os.environ, "SAFEGROUND_DATABASE_URL": url, "DATABASE_URL": url}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("safeground")),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(100):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            token = client.post(
                "/api/v1/auth/token",
                data={"username": "bench-admin", "password": "bench-password"},
            ).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            for hid in ids[:50]:
                client.get(f"/api/v1/hazards/{hid}").raise_for_status()
            times = []
            for hid in ids:
                started = time.perf_counter()
                client.get(f"/api/v1/hazards/{hid}").raise_for_status()
                times.append(1000 * (time.perf_counter() - started))
            return times
    finally:
        server.terminate()
        server.wait(10)


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0-100) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def verdict(ok: bool) -> str:
    """PASS or MISS."""
    return "PASS" if ok else "MISS"


def main() -> None:
    """Parse arguments, build the data, time (a)-(d), print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hazards", type=int, default=50_000)
    parser.add_argument("--releases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--writes", type=int, default=20)
    parser.add_argument("--seed", type=float, default=0.42)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        sys.exit(
            "DATABASE_URL is not set: run `make bench` or `source .dev-db.env` first"
        )
    with bench_database(server_url, args.keep) as url:
        settings = Settings(database_url=url, env="test")
        engine = make_engine(
            settings
        )  # the app's connection settings, for both timings
        with Session(engine, expire_on_commit=False) as session:
            versions = session.execute(
                text("SELECT current_setting('server_version'), postgis_lib_version()")
            ).one()
            log(
                f"PostgreSQL {versions[0]}, PostGIS {versions[1]}, {os.cpu_count()} CPUs"
            )
            gen = timed(
                lambda: generate(session, args.hazards, args.releases, args.seed)
            )
            counts = session.execute(
                text(
                    "SELECT (SELECT count(*) FROM hazards), (SELECT count(*) FROM release_polygons),"
                    " (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY area_m2) FROM hazards),"
                    " (SELECT min(area_m2) FROM hazards), (SELECT max(area_m2) FROM hazards)"
                )
            ).one()
            log(
                f"generated {counts[0]} hazards ({counts[3] / 1e4:.2f}-{counts[4] / 1e4:.1f} ha,"
                f" median {counts[2] / 1e4:.1f} ha) and {counts[1]} releases in {gen:.1f} s"
            )
            ours, floor_geometric, floor_lean = full_recompute(session)
            floor = min(floor_geometric, floor_lean)
            check = cross_check(session)
            summary_s = min(
                timed(lambda: summary.summarise(session, group_by="admin1"))
                for _ in range(3)
            )
            writes = activity_writes(session, settings, args.writes)
            reads = http_reads(url, session, args.requests)
        engine.dispose()
    ratio = ours / floor
    log("")
    log("figure                                              value      target")
    log(f"(a) full recomputation, ours (best of 2)          {ours:8.2f} s")
    log(f"    floor A: one plain query, remaining by overlay{floor_geometric:8.2f} s")
    log(f"    floor B: the same, remaining = baseline - rel.{floor_lean:8.2f} s")
    log(
        f"    ours / faster floor                           {ratio:8.2f}x   <= 1.5x  "
        f"{verdict(ratio <= 1.5)}"
    )
    for name, (a, b) in check.items():
        rel = abs(a - b) / max(abs(b), 1)
        log(
            f"    cross-check {name:<10} ours {a:16.1f} floor A {b:16.1f}  diff {rel:.1e}  "
            f"{verdict(rel <= 1e-6)}"
        )
    log(f"(b) summary by admin1 (best of 3)                 {summary_s * 1000:8.0f} ms")
    log(
        f"(c) activity write + incremental update, p50      {statistics.median(writes):8.1f} ms"
        f"   < 100 ms {verdict(statistics.median(writes) < 100)}"
    )
    log(
        f"    max of {len(writes)} writes                           {max(writes):8.1f} ms"
    )
    p50, p95 = percentile(reads, 50), percentile(reads, 95)
    log(
        f"(d) GET /api/v1/hazards/{{id}} p50 over {len(reads)}        {p50:8.2f} ms"
        f"   < 15 ms  {verdict(p50 < 15)}"
    )
    log(f"    p95                                           {p95:8.2f} ms")


if __name__ == "__main__":
    main()

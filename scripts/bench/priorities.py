"""Benchmark clearance prioritisation at national scale.

In a throwaway database on the DATABASE_URL server: N hazards (default 50,000, generated as by
scripts/bench/land_release.py, with some releases) and M context features (default 200,000:
a quarter each of settlements, facilities, road segments and land-use polygons, spread over
the same provinces, plus accidents), then times:

(a) the full indicator computation (``priorities.refresh_indicators`` over every hazard);
(b) a re-rank after a weight change (a new model version activated: scores from the stored
    indicators), target under 1 s;
(c) ``GET /api/v1/priorities?limit=100`` through uvicorn, sequential, p50 target under 50 ms.

Run:  make bench-priorities  (or: source .dev-db.env && .venv/bin/python
      scripts/bench/priorities.py [--hazards 50000] [--context 200000] [--requests 200])
It prints the figures and whether each target is met; it never fails on a miss.
"""

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.db import migrate
from api.db.engine import make_engine
from api.db.scratch import scratch_database
from api.domain import priority_model as pm
from api.services import auth, land_release, priorities
from api.settings import Settings
from api.vocab import Role

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def _sibling(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONTEXT_SQL = """
SELECT setseed(:seed);
INSERT INTO context_settlements (external_id, name, population, geom)
SELECT 'S' || n, 'Settlement ' || n, (50 + random() * 20000)::int,
       ST_SetSRID(ST_MakePoint(30.05 + random() * 5.9, 46.05 + random() * 3.9), 4326)
FROM generate_series(1, :quarter) n;
INSERT INTO context_facilities (external_id, facility_type, geom)
SELECT 'F' || n, (ARRAY['school', 'health', 'water_point'])[1 + n % 3],
       ST_SetSRID(ST_MakePoint(30.05 + random() * 5.9, 46.05 + random() * 3.9), 4326)
FROM generate_series(1, :quarter) n;
INSERT INTO context_roads (external_id, road_class, geom)
SELECT 'R' || n, 'track',
       ST_Multi(ST_MakeLine(ST_SetSRID(ST_MakePoint(x, y), 4326),
                            ST_SetSRID(ST_MakePoint(x + 0.01 * (random() - 0.5),
                                                    y + 0.01 * (random() - 0.5)), 4326)))
FROM (SELECT n, 30.05 + random() * 5.9 AS x, 46.05 + random() * 3.9 AS y
      FROM generate_series(1, :quarter) n) p;
INSERT INTO context_land_use (external_id, land_use, geom)
SELECT 'L' || n, (ARRAY['agricultural_crop', 'pasture', 'forest', 'residential'])[1 + n % 4],
       ST_Multi(ST_MakeEnvelope(x, y, x + 0.005, y + 0.004, 4326))
FROM (SELECT n, 30.05 + random() * 5.9 AS x, 46.05 + random() * 3.9 AS y
      FROM generate_series(1, :quarter) n) p;
INSERT INTO accidents (organisation_id, occurred_on, accident_class, killed, injured, geom)
SELECT (SELECT id FROM organisations WHERE code = 'BENCH-N'),
       CURRENT_DATE - (random() * 1500)::int, :accident_class, 1, 0,
       ST_SetSRID(ST_MakePoint(30.05 + random() * 5.9, 46.05 + random() * 3.9), 4326)
FROM generate_series(1, :accidents) n;
ANALYZE
"""


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hazards", type=int, default=50_000)
    parser.add_argument("--context", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    lr = _sibling("land_release")
    bench = _sibling("import")
    with scratch_database(
        Settings().database_url, "sg_bench_prio", keep=args.keep
    ) as url:
        migrate.upgrade(url)
        engine = make_engine(Settings(database_url=url))
        with Session(engine) as s:
            started = time.perf_counter()
            lr.generate(s, args.hazards, args.hazards // 5, 0.42)
            land_release.recompute(s, None)
            from api.vocab import AccidentClass

            for statement in CONTEXT_SQL.split(";\n"):
                if statement.strip():
                    s.execute(
                        text(statement),
                        {
                            "seed": 0.17,
                            "quarter": args.context // 4,
                            "accidents": max(1, args.context // 100),
                            "accident_class": next(iter(AccidentClass)).value,
                        },
                    )
            s.commit()
            print(
                f"generated {args.hazards} hazards and {args.context} context features "
                f"(+{max(1, args.context // 100)} accidents) in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            s.execute(text("SET statement_timeout = 0"))
            started = time.perf_counter()
            priorities.refresh_indicators(s, None)
            s.commit()
            full = time.perf_counter() - started
            print(
                f"(a) full indicator computation: {full:.2f} s ({args.hazards / full:,.0f} hazards/s)"
            )
            started = time.perf_counter()
            priorities.score(s, priorities.active_model(s), None)
            s.commit()
            print(
                f"    first scoring under the default model: {time.perf_counter() - started:.2f} s"
            )
            auth.create_user(
                s,
                username="bench-analyst",
                password="bench-password",
                role=Role.analyst,
            )
            s.commit()
            doc = {
                **pm.DEFAULT_MODEL,
                "criteria": {
                    **pm.DEFAULT_MODEL["criteria"],
                    "socio_economic_blockage": {
                        "weight": 0.40,
                        "indicators": {
                            "blocked_land_uses": {"normalise": "cap", "cap": 2}
                        },
                    },
                },
            }
            admin = auth.principal_for_import(
                s,
                auth.create_user(
                    s,
                    username="bench-admin-p",
                    password="bench-password",
                    role=Role.admin,
                ).id,
                None,
            )
            started = time.perf_counter()
            priorities.create_model(
                s,
                document=doc,
                name="bench weights",
                notes=None,
                activate=True,
                principal=admin,
            )
            rerank = time.perf_counter() - started
            ok = "met" if rerank < 1 else "MISSED"
            print(
                f"(b) re-rank after a weight change: {rerank:.2f} s (target < 1 s: {ok})"
            )
            s.execute(text("ANALYZE"))
            s.commit()
        port = bench.free_port()
        env = {**os.environ, "SAFEGROUND_DATABASE_URL": url, "DATABASE_URL": url}
        base = f"http://127.0.0.1:{port}"
        with bench.process(
            [str(BIN / "safeground"), "serve", "--port", str(port)], env, "api"
        ) as api:
            bench.wait_http(f"{base}/health", api)
            token = httpx.post(
                f"{base}/api/v1/auth/token",
                data={"username": "bench-analyst", "password": "bench-password"},
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            times = []
            with httpx.Client(headers=headers, timeout=60) as client:
                for i in range(args.requests + 5):
                    started = time.perf_counter()
                    res = client.get(f"{base}/api/v1/priorities", params={"limit": 100})
                    res.raise_for_status()
                    if i >= 5:
                        times.append((time.perf_counter() - started) * 1000)
            p50 = statistics.median(times)
            ok = "met" if p50 < 50 else "MISSED"
            print(
                f"(c) GET /api/v1/priorities?limit=100: p50 {p50:.1f} ms, "
                f"p95 {percentile(times, 95):.1f} ms (target p50 < 50 ms: {ok})"
            )
            top = res.json()["items"][0]
            print(
                f"    top hazard: {top['external_id']} score {top['score']} ({top['explanation']})"
            )
        engine.dispose()


if __name__ == "__main__":
    main()

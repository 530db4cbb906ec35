"""Benchmark paging: page 1 and page 500 (limit 100) of 50,000 hazards, by offset and by cursor.

In a throwaway database on the DATABASE_URL server it loads N hazards (default 50,000; boxes
of 0.5-50 ha known on one of some 3,000 days, so many share a date and the id breaks the
ties), set-based in one statement, then asks the app over HTTP (Starlette's TestClient, an
httpx client on the ASGI app) for page 1 and page 500 of ``GET /api/v1/hazards`` and of the
OGC items of ``hazards``:

- before: ``offset=49900`` (what the ``next`` links carried before issue 17);
- after: ``cursor=...``, the cursor the 499th ``next`` link carries (computed from the row
  before the page; the script checks that both ways return the same page).

Each figure is the median of ``--runs`` requests (default 15). Target (issue 17): with
cursors, page 500 within 1.5x of page 1.

Run:  make bench-paging  (or: source .dev-db.env && .venv/bin/python scripts/bench/paging.py
      [--hazards 50000] [--runs 15])
It prints a table and never fails on a miss.
"""

import argparse
import os
import statistics
import time

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from api.db import migrate
from api.db.scratch import scratch_database
from api.main import create_app
from api.ogc.collections import HAZARDS
from api.services import auth, hazard_queries
from api.settings import Settings
from api.vocab import Role

LIMIT, PAGE = 100, 500
TARGET = 1.5

LOAD_SQL = """
WITH org AS (
    INSERT INTO organisations (code, name, type)
    VALUES ('PAGE-A', 'Paging bench operator', 'ngo_international') RETURNING id
), plan AS (
    SELECT n, 30.05 + random() * 5.9 AS x, 46.05 + random() * 3.9 AS y,
           sqrt(exp(ln(5000) + random() * (ln(500000) - ln(5000)))) AS side,
           DATE '2015-01-01' + (random() * 3000)::int AS known
    FROM generate_series(1, :hazards) n
)
INSERT INTO hazards (external_id, organisation_id, name, classification, hazard_type,
                     status, contamination, date_of_information, geom, area_m2, version)
SELECT 'PAGE-' || p.n, (SELECT id FROM org), 'Paging hazard ' || p.n, 'SHA', 'minefield',
       'open', ARRAY['ap_mine'], p.known, g.geom, sg_area_m2(g.geom), 1
FROM plan p
CROSS JOIN LATERAL (
    SELECT ST_Multi(ST_MakeEnvelope(p.x, p.y, p.x + p.side / (111320 * cos(radians(p.y))),
                                    p.y + p.side / 110574.0, 4326)) AS geom
) g
"""


def median_ms(client: TestClient, url: str, headers: dict, runs: int) -> float:
    """The median time of ``runs`` GETs of ``url``, in milliseconds (after one warm-up)."""
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        r = client.get(url, headers=headers)
        elapsed = time.perf_counter() - start
        assert r.status_code == 200, r.text
        if i:
            times.append(elapsed * 1000)
    return statistics.median(times)


def ids(client: TestClient, url: str, headers: dict) -> list[str]:
    """The feature ids of one page."""
    return [f["id"] for f in client.get(url, headers=headers).json()["features"]]


def main() -> None:
    """Load the hazards, time the four pages of each endpoint, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hazards", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    server = Settings(database_url=os.environ["DATABASE_URL"]).database_url
    skip = (PAGE - 1) * LIMIT
    with scratch_database(server, "sg_bench_paging") as url:
        migrate.upgrade(url)
        settings = Settings(
            database_url=url,
            env="test",
            secret_key="bench-secret-" + "x" * 20,
            anon_rate_per_second=0,
            api_key_rate_per_second=0,
            user_write_rate_per_second=0,
        )
        engine = create_engine(settings.database_url)
        with Session(engine) as session:
            session.execute(text("SET statement_timeout = 0"))
            start = time.perf_counter()
            session.execute(text("SELECT setseed(0.5)"))
            session.execute(text(LOAD_SQL), {"hazards": args.hazards})
            session.commit()
            loaded = time.perf_counter() - start
            session.execute(text("ANALYZE"))
            session.commit()
            user = auth.create_user(
                session,
                username="bench-reader",
                password="bench-password-1",
                role=Role.admin,
            )
            session.commit()
            token, _ = auth.issue_token(settings, user)
            # the row before page 500, as the 499th next link would resume after it
            before = (
                session.execute(
                    text(
                        "SELECT h.id, h.date_of_information FROM hazards h "
                        "WHERE h.retired_at IS NULL "
                        "ORDER BY h.date_of_information DESC, h.id OFFSET :n LIMIT 1"
                    ),
                    {"n": skip - 1},
                )
                .mappings()
                .one()
            )
        print(f"{args.hazards} hazards loaded in {loaded:.1f} s (set-based)")
        headers = {"Authorization": f"Bearer {token}"}
        endpoints = {
            "/api/v1/hazards": hazard_queries.ORDER.cursor(before, skip),
            "/ogc/collections/hazards/items": HAZARDS.keyset().cursor(
                {
                    "date_of_information": before["date_of_information"],
                    "id": before["id"],
                },
                skip,
            ),
        }
        rows = []
        with TestClient(create_app(settings)) as client:
            for path, cursor in endpoints.items():
                page1 = f"{path}?limit={LIMIT}"
                by_offset = f"{page1}&offset={skip}"
                by_cursor = f"{page1}&cursor={cursor}"
                assert ids(client, by_offset, headers) == ids(
                    client, by_cursor, headers
                )
                first = median_ms(client, page1, headers, args.runs)
                offset_ms = median_ms(client, by_offset, headers, args.runs)
                cursor_ms = median_ms(client, by_cursor, headers, args.runs)
                rows.append((path, first, offset_ms, cursor_ms))
        engine.dispose()
    print(
        f"\nmedian of {args.runs} requests, limit {LIMIT}, {args.hazards} hazards; "
        f"page {PAGE} = rows {skip + 1}-{skip + LIMIT}\n"
    )
    head = ("endpoint", "page 1", f"p{PAGE} offset", f"p{PAGE} cursor", "offset/p1")
    print(
        f"{head[0]:32} {head[1]:>9} {head[2]:>12} {head[3]:>12} {head[4]:>10} cursor/p1"
    )
    for path, first, offset_ms, cursor_ms in rows:
        print(
            f"{path:32} {first:7.1f}ms {offset_ms:10.1f}ms {cursor_ms:10.1f}ms "
            f"{offset_ms / first:9.2f}x {cursor_ms / first:8.2f}x"
        )
    worst = max(cursor_ms / first for _, first, _, cursor_ms in rows)
    print(
        f"\ntarget: page {PAGE} by cursor within {TARGET}x of page 1: "
        + ("met" if worst <= TARGET else "MISSED")
        + f" (worst {worst:.2f}x)"
    )


if __name__ == "__main__":
    main()

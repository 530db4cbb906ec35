"""Benchmark the historical figures (burn-down, as-of summary): national scale, legacy rows.

1. National scale, in a throwaway database on the DATABASE_URL server: N hazards (default
   50,000; 0.5-50 ha boxes known from 2015-2023, a quarter re-surveyed wider later, one in
   twenty retired) and M releases (default 100,000, dated between the hazard's first report
   and 2024-12-31), generated set-based. It times the commit that computes their history
   (migration 0019's deferred trigger), the burn-down of 120 months (2015-01 to 2024-12) for
   each grouping, one as-of summary, and one backdated release written and committed; it
   checks a few months of the burn-down against the summary as of the same date.
   Target (issue 17): 120 months for 50,000 hazards and 100,000 releases under 1 s.
   Before migration 0019 the burn-down ran the as-of computation once per month: on the same
   data 2.7 s for 1 month and 6.8 s for 3 months (about 2.3 s a month, some 270 s for 120).
2. The demo programme, timed as it is, then again after three of its hazards are turned into
   legacy rows that today's intake gate refuses (one-degree squares written across the
   antimeridian "the long way", about 4 million km² each) and retired, as rows stored before
   the gate existed would be. For comparison it puts back the area function of before
   migration 0016 (every edge densified to 0.0002°) and times the same calls, which ran into
   the statement timeout (the burn-down no longer measures areas when it is read; the as-of
   summary still does). Target: burn-down of 24 months under 1 s with the legacy rows.

Run:  make bench-history  (or: source .dev-db.env && .venv/bin/python scripts/bench/history.py
      [--hazards 50000] [--releases 100000] [--skip-demo])
It prints the figures and never fails on a miss.
"""

import argparse
import os
import time
from datetime import date

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from api.db import migrate
from api.db.scratch import scratch_database
from api.services import analytics, demo, summary
from api.settings import Settings

BEFORE_0016 = """CREATE OR REPLACE FUNCTION sg_area_m2(g geometry) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT ST_Area(ST_Transform(ST_Segmentize(ST_CollectionExtract(g, 3), 0.0002), 6933)) $$"""
FIRST, LAST, AS_OF = date(2024, 1, 1), date(2025, 12, 1), date(2024, 12, 31)
TIMEOUT_MS = 30_000
NATIONAL_FIRST, NATIONAL_LAST = date(2015, 1, 1), date(2024, 12, 1)  # 120 months
TARGET_S = 1.0

# Hazards with a history (re-surveys, retirements), activities with 1-3 methods, releases.
NATIONAL_SQL = """
SELECT setseed(:seed);
INSERT INTO organisations (code, name, type) VALUES
    ('NAT-A', 'National bench operator A', 'ngo_international'),
    ('NAT-B', 'National bench operator B', 'ngo_national'),
    ('NAT-N', 'National bench authority', 'nmaa');
INSERT INTO admin_areas (pcode, name, level, geom)
SELECT 'NB0' || i, 'Bench province ' || i, 1,
       ST_Multi(ST_MakeEnvelope(30 + 3 * ((i - 1) % 2), 46 + 2 * ((i - 1) / 2),
                                33 + 3 * ((i - 1) % 2), 48 + 2 * ((i - 1) / 2), 4326))
FROM generate_series(1, 4) i;
-- per hazard: a box of 0.5-50 ha, known from d0; a quarter re-surveyed (wider) at d1; one
-- in twenty retired at d2
CREATE TEMP TABLE nplan AS
SELECT n, gen_random_uuid() AS id,
       30.05 + random() * 5.9 AS x, 46.05 + random() * 3.9 AS y,
       sqrt(exp(ln(5000) + random() * (ln(500000) - ln(5000)))) AS side,
       DATE '2015-01-01' + (random() * 3000)::int AS d0,
       random() < 0.25 AS resurveyed, random() < 0.05 AS retired,
       100 + (random() * 700)::int AS gap
FROM generate_series(1, :hazards) n;
CREATE TEMP TABLE nstates AS
SELECT p.id, p.n, s.k, s.valid_from, s.valid_to, s.retired,
       ST_Multi(ST_MakeEnvelope(p.x, p.y,
           p.x + s.scale * p.side / (111320 * cos(radians(p.y))),
           p.y + p.side / 110574.0, 4326)) AS geom
FROM nplan p
CROSS JOIN LATERAL (
    SELECT 1 AS k, p.d0 AS valid_from,
           CASE WHEN p.resurveyed THEN p.d0 + p.gap
                WHEN p.retired THEN p.d0 + 2 * p.gap END AS valid_to,
           false AS retired, 1.0 AS scale
    UNION ALL
    SELECT 2, p.d0 + p.gap, CASE WHEN p.retired THEN p.d0 + 2 * p.gap END, false, 1.3
    WHERE p.resurveyed
    UNION ALL
    SELECT 3, p.d0 + 2 * p.gap, NULL, true, CASE WHEN p.resurveyed THEN 1.3 ELSE 1.0 END
    WHERE p.retired
) s;
INSERT INTO hazards (id, external_id, organisation_id, name, classification, hazard_type,
                     status, contamination, date_of_information, geom, area_m2, version,
                     retired_at)
SELECT p.id, 'NAT-' || p.n,
       (SELECT id FROM organisations WHERE code = CASE p.n % 3 WHEN 0 THEN 'NAT-A'
                                                   WHEN 1 THEN 'NAT-B' ELSE 'NAT-N' END),
       'National hazard ' || p.n, 'SHA', 'minefield', 'open',
       ARRAY[(ARRAY['ap_mine', 'av_mine', 'cmr', 'uxo'])[1 + p.n % 4]], s.valid_from, s.geom,
       sg_area_m2(s.geom), s.k, CASE WHEN s.retired THEN now() END
FROM nplan p
JOIN nstates s ON s.id = p.id AND s.valid_to IS NULL;
INSERT INTO hazard_states (hazard_id, valid_from, valid_to, version, organisation_id,
                           retired, state, geom)
SELECT s.id, s.valid_from, s.valid_to, s.k, h.organisation_id, s.retired,
       jsonb_build_object('contamination', to_jsonb(h.contamination),
                          'organisation', h.organisation_id::text,
                          'classification', 'SHA'),
       s.geom
FROM nstates s JOIN hazards h ON h.id = s.id;
INSERT INTO activities (id, external_id, organisation_id, activity_type, status, start_date,
                        end_date, methods)
SELECT gen_random_uuid(), 'NAT-AC-' || p.n,
       (SELECT id FROM organisations WHERE code = 'NAT-A'), 'clearance', 'completed',
       p.d0, DATE '2024-12-31',
       CASE p.n % 3 WHEN 0 THEN ARRAY['manual'] WHEN 1 THEN ARRAY['mechanical']
                    ELSE ARRAY['manual', 'mechanical'] END
FROM nplan p WHERE p.n <= LEAST(:releases, :hazards);
CREATE TEMP TABLE nact AS
SELECT a.id, substr(a.external_id, 8)::int AS n FROM activities a
WHERE a.external_id LIKE 'NAT-AC-%';
INSERT INTO activity_hazards (activity_id, hazard_id)
SELECT nact.id, p.id FROM nact JOIN nplan p USING (n);
-- releases: a box over part of the hazard's first extent, dated between d0 and 2024-12-31
INSERT INTO release_polygons (activity_id, hazard_id, feature_index, outcome, date, geom,
                              area_m2)
SELECT nact.id, p.id, r.k, (ARRAY['cancelled', 'reduced', 'cleared'])[1 + (r.k + p.n) % 3],
       p.d0 + (r.t * (DATE '2024-12-31' - p.d0))::int, b.geom, sg_area_m2(b.geom)
FROM (SELECT k, 1 + (k - 1) % LEAST(:releases, :hazards) AS n, random() AS a,
             random() AS b, random() AS c, random() AS t
      FROM generate_series(1, :releases) k) r
JOIN nplan p USING (n)
JOIN nact USING (n)
JOIN nstates s ON s.id = p.id AND s.k = 1
CROSS JOIN LATERAL (
    SELECT ST_Multi(ST_MakeEnvelope(
        ST_XMin(s.geom) + (ST_XMax(s.geom) - ST_XMin(s.geom)) * r.a * 0.7,
        ST_YMin(s.geom) + (ST_YMax(s.geom) - ST_YMin(s.geom)) * r.b * 0.7,
        ST_XMin(s.geom) + (ST_XMax(s.geom) - ST_XMin(s.geom)) * (r.a * 0.7 + 0.1 + r.c * 0.4),
        ST_YMin(s.geom) + (ST_YMax(s.geom) - ST_YMin(s.geom)) * (r.b * 0.7 + 0.3),
        4326)) AS geom
) b;
"""

BACKDATED_RELEASE = """
INSERT INTO release_polygons (activity_id, hazard_id, feature_index, outcome, date, geom,
                              area_m2)
SELECT r.activity_id, r.hazard_id, 99, 'cleared', DATE '2016-03-01', r.geom, r.area_m2
FROM release_polygons r ORDER BY r.hazard_id LIMIT 1
"""


def timed(session: Session, label: str, what: str, call) -> None:
    """Run ``call`` once and print how long it took (or why it failed)."""
    start = time.perf_counter()
    try:
        call()
        outcome = "ok"
    except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
        outcome = f"{type(exc).__name__}: {str(exc).splitlines()[0][:70]}"
        session.rollback()
        session.execute(text(f"SET statement_timeout = {TIMEOUT_MS}"))
    print(f"{label:28} {what:20} {time.perf_counter() - start:7.3f} s  {outcome}")


def run_calls(session: Session, label: str, setup: str | None = None) -> None:
    """Time the burn-down and the as-of summary, twice each (``setup`` SQL before each
    call: a failed call rolls back what came before it in its transaction)."""
    for _ in range(2):
        if setup:
            session.execute(text(setup))
        timed(
            session,
            label,
            "burndown 24 months",
            lambda: analytics.burndown(session, first=FIRST, last=LAST),
        )
        if setup:
            session.execute(text(setup))
        timed(
            session,
            label,
            "summary as_of",
            lambda: summary.summarise(session, group_by="organisation", as_of=AS_OF),
        )


def make_legacy_rows(session: Session) -> None:
    """Three retired hazards whose rings cross the antimeridian the long way round."""
    ids = session.scalars(
        text(
            "SELECT id FROM hazards WHERE retired_at IS NULL "
            "AND GeometryType(geom) <> 'POINT' ORDER BY id LIMIT 3"
        )
    ).all()
    for i, hazard in enumerate(ids):
        west, east = 179.5 - i * 0.1, -179.5 + i * 0.1
        wkt = (
            f"MULTIPOLYGON((({west} {10 + i},{west} {11 + i},{east} {11 + i},"
            f"{east} {10 + i},{west} {10 + i})))"
        )
        params = {"w": wkt, "h": hazard}
        session.execute(
            text(
                "UPDATE hazards SET geom = ST_GeomFromText(:w, 4326), retired_at = now() "
                "WHERE id = :h"
            ),
            params,
        )
        session.execute(
            text(
                "UPDATE hazard_states SET geom = ST_GeomFromText(:w, 4326) "
                "WHERE hazard_id = :h"
            ),
            params,
        )
    session.commit()


def best_of(runs: int, call) -> float:
    """The shortest of ``runs`` timings of ``call``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def national(server: str, hazards: int, releases: int) -> None:
    """The burn-down of 120 months over a national programme, read from the history."""
    with scratch_database(server, "sg_bench_national") as url:
        migrate.upgrade(url)
        engine = create_engine(Settings(database_url=url).database_url)
        with Session(engine) as session:
            session.execute(text("SET statement_timeout = 0"))
            params = {"seed": 0.17, "hazards": hazards, "releases": releases}
            start = time.perf_counter()
            for statement in NATIONAL_SQL.split(";\n"):
                if statement.strip():
                    session.execute(text(statement), params)
            generated = time.perf_counter() - start
            start = time.perf_counter()
            session.commit()  # the deferred trigger computes every hazard's history
            committed = time.perf_counter() - start
            session.execute(text("ANALYZE"))
            session.commit()
            counts = session.execute(
                text(
                    "SELECT (SELECT count(*) FROM hazards), "
                    "(SELECT count(*) FROM hazard_states), "
                    "(SELECT count(*) FROM release_polygons), "
                    "(SELECT count(*) FROM land_release_segments)"
                )
            ).one()
            print(
                f"national: {counts[0]} hazards ({counts[1]} states), {counts[2]} "
                f"releases; generated in {generated:.1f} s; history ({counts[3]} spans) "
                f"computed at commit in {committed:.1f} s"
            )
            months = len(analytics.month_ends(NATIONAL_FIRST, NATIONAL_LAST))
            worst = 0.0
            for group_by in (None, "organisation", "admin1", "contamination", "method"):
                seconds = best_of(
                    3,
                    lambda g=group_by: analytics.burndown(
                        session, first=NATIONAL_FIRST, last=NATIONAL_LAST, group_by=g
                    ),
                )
                worst = max(worst, seconds)
                print(
                    f"burndown months={months} hazards={counts[0]} releases={counts[2]} "
                    f"group_by={group_by or '-':13} {seconds:6.3f} s"
                )
            print(
                f"target: {months} months under {TARGET_S:.0f} s for every grouping: "
                + ("met" if worst < TARGET_S else "MISSED")
                + f" (slowest {worst:.3f} s)"
            )
            body = analytics.burndown(session, first=NATIONAL_FIRST, last=NATIONAL_LAST)
            points = body["series"][0]["points"]
            start = time.perf_counter()
            worst_rel = 0.0
            for i in (23, 71, 119):
                totals = summary.summarise(
                    session,
                    group_by="organisation",
                    as_of=date.fromisoformat(points[i]["date"]),
                )["totals"]
                assert points[i]["hazard_count"] == totals["hazard_count"]
                for field in summary.FIGURES:
                    expected = totals[field]
                    if expected:
                        worst_rel = max(
                            worst_rel, abs(points[i][field] - expected) / expected
                        )
            print(
                f"as-of summary (the former per-month computation), 3 dates: "
                f"{(time.perf_counter() - start) / 3:.2f} s each; burn-down points equal "
                f"them (largest relative difference {worst_rel:.1e})"
            )
            start = time.perf_counter()
            session.execute(text(BACKDATED_RELEASE))
            session.commit()
            print(
                "one backdated release (2016) written and committed, its hazard's history "
                f"recomputed: {time.perf_counter() - start:.3f} s"
            )
        engine.dispose()


def main() -> None:
    """National scale; then the demo, with legacy rows and with the old area function."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hazards", type=int, default=50_000)
    parser.add_argument("--releases", type=int, default=100_000)
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    server = Settings(database_url=os.environ["DATABASE_URL"]).database_url
    national(server, args.hazards, args.releases)
    if args.skip_demo:
        return
    with scratch_database(server, "sg_bench_history") as url:
        migrate.upgrade(url)
        settings = Settings(database_url=url, env="test")
        engine = create_engine(settings.database_url)
        with Session(engine) as session:
            demo.load(session, seed=1, settings=settings)
        with Session(engine) as session:
            session.execute(text(f"SET statement_timeout = {TIMEOUT_MS}"))
            run_calls(session, "demo")
            make_legacy_rows(session)
            session.execute(text(f"SET statement_timeout = {TIMEOUT_MS}"))
            run_calls(session, "demo + 3 legacy rows")
            run_calls(session, "same, area before 0016", setup=BEFORE_0016)
            session.rollback()
        engine.dispose()


if __name__ == "__main__":
    main()

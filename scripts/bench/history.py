"""Benchmark the historical figures (burn-down, as-of summary) with absurd legacy rows.

In a throwaway database on the DATABASE_URL server: the demo programme, timed as it is,
then again after three of its hazards are turned into legacy rows that today's intake gate
refuses (one-degree squares written across the antimeridian "the long way", about 4 million
km² each) and retired, as rows stored before the gate existed would be. For comparison it
puts back the area function of before migration 0016 (every edge densified to 0.0002°) and
times the same calls, which ran into the statement timeout.

Run:  make bench-history  (or: source .dev-db.env && .venv/bin/python scripts/bench/history.py)
Target: burn-down of 24 months under 1 s on the demo with the legacy rows present. It prints
the figures and never fails on a miss.
"""

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


def main() -> None:
    """Load the demo, time, add legacy rows, time, time with the old area function."""
    server = Settings(database_url=os.environ["DATABASE_URL"]).database_url
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

"""Load test: many concurrent clients against a running server with the demo programme.

Scenarios, one after the other, each with ``--clients`` concurrent clients (default 200), each
client sending its next request as soon as the previous one is answered, until
``--requests`` requests (default 4,000) or ``--seconds`` (default 60) are spent:

* ``public-check``: anonymous ``GET /api/v1/public/check?lon=&lat=`` at random points of the
  demo programme's extent (30-33° E, 48-50° N);
* ``public-tiles``: anonymous ``GET /tiles/public-hazards/{z}/{x}/{y}.mvt`` for random tiles
  over that extent, zoom 8-14;
* ``coordinator``: a signed-in coordinator (``demo-coordinator``, organisation DEMO-INGO)
  mixing reads (hazard lists by bbox, one hazard, the land-release summary, hazard tiles:
  70 %) and writes (a new hazard: 20 %; renaming one the client created before, with
  If-Match: 10 %). Each client writes only its own hazards, so a 412 is an error too.

Anything but the expected status (200, or 201 for a new hazard) counts as an error, by
status: a 404 while an endpoint does not exist yet, a 429 from the anonymous rate limit
(all clients come from 127.0.0.1, one address: run the server with the limit off or high,
and say so with ``--limit-setting``). Printed per scenario: requests, errors by kind,
throughput, p50/p95/p99 latency.

Back to back (the default), N clients keep N requests in the server at all times, so the
latency is N / throughput (Little's law): this measures saturation. ``--think S`` makes each
client pause S seconds on average between requests, as people reading an answer do; 200
clients pausing 2 s offer about 100 requests/s, and the latency is then the service's own.

Run against a server: ``.venv/bin/python scripts/bench/load.py [URL]`` (default
http://127.0.0.1:8000), or let it make one: ``make bench-load`` (``--serve``: a throwaway
database on the DATABASE_URL server, the demo programme, its public layer published when
the endpoint exists, ``safeground serve`` in the background, stopped at the end).
Target: no errors; public check p99 < 100 ms at 200 concurrent clients.
"""

import argparse
import asyncio
import importlib.util
import math
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
EXTENT = (30.0, 48.0, 33.0, 50.0)  # api.services.demo.COUNTRY
DEMO_USER, DEMO_PASSWORD = "demo-coordinator", "demo-password"
DEMO_ADMIN = "demo-admin"
DEMO_ORG = "DEMO-INGO"


def _sibling(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The WebMercatorQuad tile x, y holding lon/lat at zoom z."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    lat_r = math.radians(lat)
    y = int((1 - math.asinh(math.tan(lat_r)) / math.pi) / 2 * n)
    return min(x, n - 1), min(y, n - 1)


@dataclass
class Stats:
    """What one scenario measured."""

    name: str
    latencies: list[float] = field(default_factory=list)  # ms, successful requests
    errors: Counter = field(default_factory=Counter)
    started: float = 0.0
    ended: float = 0.0

    @property
    def requests(self) -> int:
        """Requests answered or failed."""
        return len(self.latencies) + sum(self.errors.values())

    def line(self) -> str:
        """One line of figures."""
        elapsed = max(self.ended - self.started, 1e-9)
        errors = sum(self.errors.values())
        kinds = ", ".join(f"{k}: {n}" for k, n in self.errors.most_common()) or "none"
        return (
            f"{self.name:<13} {self.requests:6d} requests in {elapsed:5.1f} s = "
            f"{self.requests / elapsed:7.1f} req/s | p50 {percentile(self.latencies, 50):7.1f}"
            f" ms, p95 {percentile(self.latencies, 95):7.1f} ms, p99 "
            f"{percentile(self.latencies, 99):7.1f} ms | errors {errors} ({kinds})"
        )


class Budget:
    """A request count and a deadline shared by a scenario's clients."""

    def __init__(self, requests: int, seconds: float) -> None:
        self.left = requests
        self.deadline = time.monotonic() + seconds

    def take(self) -> bool:
        """Whether another request may be sent."""
        if self.left <= 0 or time.monotonic() > self.deadline:
            return False
        self.left -= 1
        return True


async def timed(stats: Stats, send, expected: int):
    """Send one request; record its latency or the kind of error."""
    started = time.perf_counter()
    try:
        response = await send()
    except httpx.HTTPError as exc:
        stats.errors[type(exc).__name__] += 1
        return None
    ms = (time.perf_counter() - started) * 1000
    if response.status_code != expected:
        stats.errors[f"HTTP {response.status_code}"] += 1
        return None
    stats.latencies.append(ms)
    return response


THINK = {"seconds": 0.0}  # mean pause between a client's requests (--think)


async def pause(rng: random.Random) -> None:
    """A user's pause before the next request: exponential around ``--think`` seconds."""
    if THINK["seconds"] > 0:
        await asyncio.sleep(rng.expovariate(1 / THINK["seconds"]))


def random_point(rng: random.Random) -> tuple[float, float]:
    """A random lon/lat in the demo extent."""
    w, s, e, n = EXTENT
    return round(rng.uniform(w, e), 6), round(rng.uniform(s, n), 6)


async def public_check(client, stats: Stats, budget: Budget, rng) -> None:
    """One anonymous client asking whether random points are safe."""
    while budget.take():
        await pause(rng)
        lon, lat = random_point(rng)
        await timed(
            stats,
            lambda lon=lon, lat=lat: client.get(
                "/api/v1/public/check", params={"lon": lon, "lat": lat}
            ),
            200,
        )


async def public_tiles(client, stats: Stats, budget: Budget, rng) -> None:
    """One anonymous client fetching random public tiles over the extent."""
    while budget.take():
        await pause(rng)
        z = rng.randint(8, 14)
        x, y = tile_of(*random_point(rng), z)
        await timed(
            stats,
            lambda z=z, x=x, y=y: client.get(f"/tiles/public-hazards/{z}/{x}/{y}.mvt"),
            200,
        )


def _new_hazard(rng: random.Random, n: int) -> dict:
    lon, lat = random_point(rng)
    d = 0.002
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "name": f"load test hazard {n}",
            "classification": "SHA",
            "hazard_type": "minefield",
            "contamination": ["ap_mine"],
            "organisation": DEMO_ORG,
            "date_of_information": "2025-06-01",
        },
    }


async def coordinator(
    client, stats: Stats, budget: Budget, rng, hazard_ids: list[str]
) -> None:
    """One signed-in coordinator mixing reads and writes of its own hazards."""
    mine: list[tuple[str, str]] = []  # (id, etag) of hazards this client created
    n = 0
    while budget.take():
        await pause(rng)
        roll = rng.random()
        if roll < 0.20 or (roll >= 0.90 and not mine):
            n += 1
            body = _new_hazard(rng, n)
            r = await timed(
                stats, lambda b=body: client.post("/api/v1/hazards", json=b), 201
            )
            if r is not None:
                mine.append((r.json()["id"], r.headers["etag"]))
        elif roll >= 0.90:
            i = rng.randrange(len(mine))
            hid, etag = mine[i]
            n += 1
            r = await timed(
                stats,
                lambda hid=hid, etag=etag, n=n: client.patch(
                    f"/api/v1/hazards/{hid}",
                    json={"properties": {"name": f"renamed {n}"}},
                    headers={"If-Match": etag},
                ),
                200,
            )
            if r is not None:
                mine[i] = (hid, r.headers["etag"])
        elif roll < 0.45:
            lon, lat = random_point(rng)
            bbox = f"{lon},{lat},{lon + 0.2},{lat + 0.2}"
            await timed(
                stats,
                lambda bbox=bbox: client.get(
                    "/api/v1/hazards", params={"bbox": bbox, "limit": 50}
                ),
                200,
            )
        elif roll < 0.65:
            hid = rng.choice(hazard_ids)
            await timed(
                stats, lambda hid=hid: client.get(f"/api/v1/hazards/{hid}"), 200
            )
        elif roll < 0.72:
            await timed(
                stats,
                lambda: client.get(
                    "/api/v1/land-release/summary", params={"group_by": "organisation"}
                ),
                200,
            )
        else:
            z = rng.randint(9, 13)
            x, y = tile_of(*random_point(rng), z)
            await timed(
                stats,
                lambda z=z, x=x, y=y: client.get(f"/tiles/hazards/{z}/{x}/{y}.mvt"),
                200,
            )


async def run_scenario(name, worker, args, headers=None, extra=()) -> Stats:
    """Run ``worker`` in ``args.clients`` concurrent clients until the budget is spent."""
    stats = Stats(name)
    budget = Budget(args.requests, args.seconds)
    limits = httpx.Limits(
        max_connections=args.clients, max_keepalive_connections=args.clients
    )
    async with httpx.AsyncClient(
        base_url=args.url, headers=headers, timeout=30, limits=limits
    ) as client:
        stats.started = time.monotonic()
        await asyncio.gather(
            *(
                worker(
                    client, stats, budget, random.Random(args.seed * 1000 + i), *extra
                )
                for i in range(args.clients)
            )
        )
        stats.ended = time.monotonic()
    return stats


async def sign_in(url: str, username: str, password: str) -> str:
    """An access token (the coordinator scenario's requests all carry it)."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        r = await client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        if r.status_code != 200:
            raise SystemExit(
                f"sign-in as {username} failed: {r.status_code} {r.text[:300]}"
            )
        return r.json()["access_token"]


async def load(args) -> list[Stats]:
    """Every scenario, in order; the figures."""
    token = await sign_in(args.url, args.username, args.password)
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=args.url, headers=auth, timeout=30) as c:
        r = await c.get("/api/v1/hazards", params={"limit": 500})
        r.raise_for_status()
        hazard_ids = [f["id"] for f in r.json()["features"]]
    if not hazard_ids:
        raise SystemExit("the server has no hazards: load the demo programme first")
    results = []
    for name, worker, headers, extra in (
        ("public-check", public_check, None, ()),
        ("public-tiles", public_tiles, None, ()),
        ("coordinator", coordinator, auth, (hazard_ids,)),
    ):
        if args.only and name not in args.only:
            continue
        stats = await run_scenario(name, worker, args, headers, extra)
        print(stats.line(), flush=True)
        results.append(stats)
    return results


def report(args, results: list[Stats]) -> None:
    """The summary and the targets."""
    print(
        f"\n{args.clients} concurrent clients per scenario against {args.url} "
        f"({'back to back' if not args.think else f'pausing {args.think:g} s on average'}"
        f"); anonymous rate limit: {args.limit_setting}"
    )
    for stats in results:
        print("  " + stats.line())
    errors = sum(sum(s.errors.values()) for s in results)
    print(f"target no errors: {'met' if errors == 0 else 'MISSED'} ({errors})")
    check = next((s for s in results if s.name == "public-check"), None)
    if check is not None:
        p99 = percentile(check.latencies, 99)
        ok = check.latencies and not check.errors and p99 < 100
        print(
            f"target public check p99 < 100 ms at {args.clients} clients: "
            f"{'met' if ok else 'MISSED'} (p99 {p99:.1f} ms, "
            f"{sum(check.errors.values())} errors)"
        )


def serve_and_load(args) -> list[Stats]:
    """A throwaway database with the demo programme, a server on it, the load, cleanup."""
    from sqlalchemy.orm import Session

    from api.db import migrate
    from api.db.engine import make_engine
    from api.db.scratch import scratch_database
    from api.services import demo
    from api.settings import Settings

    bench = _sibling("import")
    with scratch_database(Settings().database_url, "sg_bench_load") as url:
        migrate.upgrade(url)
        engine = make_engine(Settings(database_url=url))
        with Session(engine) as session:
            print(demo.load(session, seed=20240501), flush=True)
        engine.dispose()
        port = bench.free_port()
        env = {
            **os.environ,
            "SAFEGROUND_DATABASE_URL": url,
            "DATABASE_URL": url,
            "SAFEGROUND_ANON_RATE_PER_SECOND": str(args.server_rate),
            "SAFEGROUND_ANON_RATE_BURST": str(args.server_burst),
            "SAFEGROUND_IMPORT_RUNNER": "inline",
        }
        args.url = f"http://127.0.0.1:{port}"
        args.limit_setting = (
            "off (SAFEGROUND_ANON_RATE_PER_SECOND=0)"
            if args.server_rate == 0
            else f"SAFEGROUND_ANON_RATE_PER_SECOND={args.server_rate}, "
            f"SAFEGROUND_ANON_RATE_BURST={args.server_burst}"
        )
        command = [str(BIN / "safeground"), "serve", "--port", str(port)]
        command += ["--workers", str(args.workers)]
        with bench.process(command, env, "api") as api:
            bench.wait_http(f"{args.url}/health", api)
            publish(args.url)
            return asyncio.run(load(args))


def publish(url: str) -> None:
    """Publish the public layer as the demo admin, when the endpoint exists."""
    with httpx.Client(base_url=url, timeout=300) as c:
        r = c.post(
            "/api/v1/auth/token",
            data={"username": DEMO_ADMIN, "password": DEMO_PASSWORD},
        )
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = c.post("/api/v1/public/publications", json={}, headers=headers)
        detail = "" if r.status_code == 201 else f" {r.text[:300]}"
        print(f"publishing the public layer: HTTP {r.status_code}{detail}", flush=True)


def main() -> None:
    """Parse the arguments, run, print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument(
        "--requests", type=int, default=4000, help="per scenario (bound)"
    )
    parser.add_argument(
        "--seconds", type=float, default=60, help="per scenario (bound)"
    )
    parser.add_argument("--only", nargs="*", help="scenarios to run (default: all)")
    parser.add_argument(
        "--think",
        type=float,
        default=0,
        help="mean pause (s) of a client between its requests, as a user reading the "
        "answer; 0 (default): back to back, the server's saturation",
    )
    parser.add_argument("--username", default=DEMO_USER)
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--limit-setting",
        default="as configured on the server (not known to this script)",
        help="the server's anonymous rate limit, printed with the figures",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="make a throwaway demo database and server (DATABASE_URL's server)",
    )
    parser.add_argument(
        "--server-rate",
        type=float,
        default=0,
        help="with --serve: SAFEGROUND_ANON_RATE_PER_SECOND (0: off)",
    )
    parser.add_argument("--server-burst", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1, help="with --serve")
    args = parser.parse_args()
    THINK["seconds"] = args.think
    results = serve_and_load(args) if args.serve else asyncio.run(load(args))
    report(args, results)


if __name__ == "__main__":
    main()

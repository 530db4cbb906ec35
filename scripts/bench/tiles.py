"""Benchmark the vector tiles (GET /tiles/hazards/{z}/{x}/{y}.mvt) against tipg.

In a throwaway database on the DATABASE_URL server: N hazards (default 50,000, generated as by
scripts/bench/land_release.py, with some releases). The tile set covers the data: every
z6-z8 tile over the hazards' extent, and at each of z9-z14 a sample of tiles (default 200)
each holding a randomly chosen hazard. Served by ``safeground serve`` (uvicorn), sequential
requests of a signed-in analyst:

* cold: the first request of each tile;
* warm: the second request, with If-None-Match (304) and without it (the tile built again).

Then the same tiles from tipg 1.6.1 (a throwaway virtualenv, as scripts/bench/import.py
installs it; /collections/public.hazards/tiles/WebMercatorQuad/{z}/{x}/{y}), cold and warm
(tipg has no ETag: a warm request is a full tile again). Before each server runs, the hazards
table is read once so that both start from the same warm PostgreSQL buffers.

Targets: ours cold p50 <= tipg cold p50; ours warm p50 < half of tipg's warm p50.

Then the public layer is published and the public map (/) is loaded in Debian's Chromium
(Playwright), with no base map: the bytes its first load transfers (target < 500 KB) and the
time of 40 random pan/zoom steps (z6-z14) until every tile layer has drawn.

Run:  make bench-tiles  (or: source .dev-db.env && .venv/bin/python scripts/bench/tiles.py
      [--hazards 50000] [--sample 200] [--skip-tipg] [--keep])
It prints the figures and whether each target is met; it never fails on a miss.
"""

import argparse
import importlib.util
import os
import random
import statistics
import sys
import time
from pathlib import Path

import httpx2 as httpx
import morecantile
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.db import migrate
from api.db.engine import make_engine
from api.db.scratch import scratch_database
from api.services import auth, land_release
from api.settings import Settings
from api.vocab import Role

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
TMS = morecantile.tms.get("WebMercatorQuad")


def _sibling(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tile_set(session: Session, sample: int, seed: int = 11) -> list[morecantile.Tile]:
    """All z6-8 tiles over the hazards' extent, and ``sample`` tiles with data at z9-14."""
    w, s, e, n = session.execute(
        text(
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) "
            "FROM (SELECT ST_Extent(geom) AS b FROM hazards WHERE retired_at IS NULL) x"
        )
    ).one()
    out = list(TMS.tiles(w, s, e, n, [6, 7, 8]))
    points = session.execute(
        text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p "
            "FROM hazards WHERE retired_at IS NULL ORDER BY random() LIMIT :n) x"
        ),
        {"n": sample * 6},
    ).all()
    rng = random.Random(seed)
    for z in range(9, 15):
        chosen = {
            TMS.tile(x, y, z) for x, y in rng.sample(points, min(sample, len(points)))
        }
        out.extend(sorted(chosen, key=lambda t: (t.x, t.y)))
    return out


def warm_buffers(url: str) -> None:
    """Read every hazard geometry once (both servers then start from warm buffers)."""
    engine = make_engine(Settings(database_url=url))
    with engine.connect() as conn:
        conn.execute(text("SELECT sum(ST_NPoints(geom)) FROM hazards")).scalar()
        conn.execute(text("SELECT count(*) FROM hazard_land_release")).scalar()
    engine.dispose()


def timed_get(client: httpx.Client, url: str, headers: dict | None = None):
    """GET ``url``: the response and the milliseconds it took."""
    started = time.perf_counter()
    res = client.get(url, headers=headers or {})
    elapsed = (time.perf_counter() - started) * 1000
    if res.status_code not in (200, 204, 304):
        raise RuntimeError(f"{url}: {res.status_code} {res.text[:300]}")
    return res, elapsed


def summary(name: str, times: list[float], pct) -> str:
    """p50 and p95 of ``times``."""
    return (
        f"{name}: p50 {statistics.median(times):7.1f} ms  p95 {pct(times, 95):7.1f} ms  "
        f"(n={len(times)})"
    )


# Pan and zoom the public map through views over the data; resolve with the time each view took
# until every grid layer (base map excluded: none is configured) had drawn its tiles.
PAN_ZOOM_JS = """async (views) => {
  const map = window.safeground.map;
  const grids = [];
  map.eachLayer((l) => { if (l instanceof L.GridLayer) grids.push(l); });
  const out = [];
  for (const [lat, lon, z] of views) {
    const t0 = performance.now();
    const loaded = grids.map((g) => new Promise((ok) => {
      g.once("load", ok); setTimeout(ok, 30000);
    }));
    map.setView([lat, lon], z, {animate: false});
    await Promise.all(loaded);
    out.push(performance.now() - t0);
  }
  return out;
}"""


def public_page_figures(base: str, seed: int = 5) -> dict:
    """Publish the public layer, then load the public map in Chromium (base map off) and
    measure its first load's transferred bytes and pan/zoom steps until tiles are drawn."""
    from playwright.sync_api import sync_playwright

    admin = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"username": "bench-admin", "password": "bench-password"},
    ).json()["access_token"]
    started = time.perf_counter()
    pub = httpx.post(
        f"{base}/api/v1/public/publications",
        headers={"Authorization": f"Bearer {admin}"},
        timeout=600,
    )
    pub.raise_for_status()
    publication = pub.json()
    publication["seconds"] = time.perf_counter() - started
    rng = random.Random(seed)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.route(
            "**/*",
            lambda r: (
                r.abort() if not r.request.url.startswith(base) else r.continue_()
            ),
        )
        page = context.new_page()
        done = []
        page.on("requestfinished", lambda r: done.append(r))
        page.goto(base + "/")
        page.wait_for_function("() => document.body.dataset.ready === 'true'")
        page.wait_for_load_state("networkidle")
        first = sum(
            r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]
            for r in done
        )
        requests = len(done)
        bounds = page.evaluate(
            "() => { const b = window.safeground.map.getBounds();"
            " return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; }"
        )
        views = [
            (
                rng.uniform(bounds[0], bounds[2]),
                rng.uniform(bounds[1], bounds[3]),
                rng.randint(6, 14),
            )
            for _ in range(40)
        ]
        steps = page.evaluate(PAN_ZOOM_JS, views)
        browser.close()
    return {
        "bytes": first,
        "requests": requests,
        "steps_ms": steps,
        "publication": publication,
    }


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hazards", type=int, default=50_000)
    parser.add_argument("--sample", type=int, default=200, help="tiles per zoom, z9-14")
    parser.add_argument("--skip-tipg", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    lr = _sibling("land_release")
    bench = _sibling("import")
    pct = bench.percentile
    with scratch_database(
        Settings().database_url, "sg_bench_tiles", keep=args.keep
    ) as url:
        migrate.upgrade(url)
        engine = make_engine(Settings(database_url=url))
        with Session(engine) as s:
            started = time.perf_counter()
            lr.generate(s, args.hazards, args.hazards // 5, 0.42)
            land_release.recompute(s, None)
            auth.create_user(
                s,
                username="bench-analyst",
                password="bench-password",
                role=Role.analyst,
            )
            auth.create_user(
                s, username="bench-admin", password="bench-password", role=Role.admin
            )
            s.commit()
            s.execute(text("ANALYZE"))
            s.commit()
            bench.log(
                f"generated {args.hazards} hazards in {time.perf_counter() - started:.1f} s"
            )
            tiles = tile_set(s, args.sample)
        engine.dispose()
        by_zoom = {z: sum(1 for t in tiles if t.z == z) for z in range(6, 15)}
        bench.log(
            f"tile set: {len(tiles)} tiles ("
            + ", ".join(f"z{z}: {n}" for z, n in by_zoom.items())
            + ")"
        )

        port = bench.free_port()
        env = {
            **os.environ,
            "SAFEGROUND_DATABASE_URL": url,
            "DATABASE_URL": url,
            "SAFEGROUND_BASEMAP_URL": "",  # the page-weight figure excludes the base map
            "SAFEGROUND_ANON_RATE_PER_SECOND": "0",  # one browser, many tiles
        }
        base = f"http://127.0.0.1:{port}"
        warm_buffers(url)
        ours: dict[str, list[float]] = {"cold": [], "warm_304": [], "warm_200": []}
        sizes: list[int] = []
        with bench.process(
            [str(BIN / "safeground"), "serve", "--port", str(port)], env, "api"
        ) as api:
            bench.wait_http(f"{base}/health", api)
            token = httpx.post(
                f"{base}/api/v1/auth/token",
                data={"username": "bench-analyst", "password": "bench-password"},
            ).json()["access_token"]
            with httpx.Client(
                headers={"Authorization": f"Bearer {token}"}, timeout=120
            ) as client:
                timed_get(
                    client, f"{base}/tiles/hazards/0/0/0.mvt"
                )  # connection, import
                for t in tiles:
                    path = f"{base}/tiles/hazards/{t.z}/{t.x}/{t.y}.mvt"
                    res, ms = timed_get(client, path)
                    ours["cold"].append(ms)
                    sizes.append(len(res.content))
                    tag = res.headers["etag"]
                    res, ms = timed_get(client, path, {"If-None-Match": tag})
                    assert res.status_code == 304, res.status_code
                    ours["warm_304"].append(ms)
                    _, ms = timed_get(client, path)
                    ours["warm_200"].append(ms)
            page = public_page_figures(base)
        bench.log("ours (safeground serve, /tiles/hazards/{z}/{x}/{y}.mvt):")
        bench.log("  " + summary("cold (first request)          ", ours["cold"], pct))
        bench.log(
            "  " + summary("warm, If-None-Match -> 304    ", ours["warm_304"], pct)
        )
        bench.log(
            "  " + summary("warm, no If-None-Match (200)  ", ours["warm_200"], pct)
        )
        bench.log(
            f"  tile size: p50 {statistics.median(sizes) / 1024:.1f} KiB, "
            f"max {max(sizes) / 1024:.1f} KiB, empty {sum(1 for n in sizes if n == 0)}"
        )
        for z in range(6, 15):
            cold = [ms for t, ms in zip(tiles, ours["cold"], strict=True) if t.z == z]
            if cold:
                bench.log(
                    f"    z{z:<2} cold p50 {statistics.median(cold):7.1f} ms  "
                    f"p95 {pct(cold, 95):7.1f} ms"
                )
        bench.log(
            f"public map (/), first load with {page['publication']['counts']} published: "
            f"{page['bytes'] / 1024:.0f} KiB transferred in {page['requests']} requests, "
            f"base map excluded (target < 500 KB: {bench.verdict(page['bytes'] < 500_000)})"
        )
        steps = page["steps_ms"]
        bench.log(
            f"public map pan/zoom, {len(steps)} steps z6-z14 until every tile is drawn: "
            f"p50 {statistics.median(steps):.0f} ms, p95 {pct(steps, 95):.0f} ms, "
            f"max {max(steps):.0f} ms"
        )
        if args.skip_tipg:
            return
        theirs: dict[str, list[float]] = {"cold": [], "warm": []}
        tipg_sizes: list[int] = []
        tport = bench.free_port()
        warm_buffers(url)
        # tipg stops at 10,000 features a tile by default: let it draw all of them, as we do
        os.environ["TIPG_MAX_FEATURES_PER_TILE"] = str(max(10_000, args.hazards * 2))
        with bench.tipg_server(url, tport) as tipg:
            tbase = f"http://127.0.0.1:{tport}"
            bench.wait_http(f"{tbase}/collections", tipg, timeout=180)
            with httpx.Client(timeout=120) as client:
                tpath = f"{tbase}/collections/public.hazards/tiles/WebMercatorQuad"
                # the footprint (hazards has three geometry columns) and the same attributes
                # (less remaining_area_m2, in another table)
                query = (
                    f"?geom-column=geom&limit={max(10_000, args.hazards * 2)}"
                    "&properties=id,external_id,name,classification,hazard_type,status,"
                    "contamination"
                )
                timed_get(client, f"{tpath}/0/0/0{query}")
                for t in tiles:
                    res, ms = timed_get(client, f"{tpath}/{t.z}/{t.x}/{t.y}{query}")
                    theirs["cold"].append(ms)
                    tipg_sizes.append(len(res.content))
                    _, ms = timed_get(client, f"{tpath}/{t.z}/{t.x}/{t.y}{query}")
                    theirs["warm"].append(ms)
        bench.log(
            "tipg 1.6.1 (/collections/public.hazards/tiles/WebMercatorQuad/{z}/{x}/{y}):"
        )
        bench.log("  " + summary("cold (first request)          ", theirs["cold"], pct))
        bench.log("  " + summary("warm (second request)         ", theirs["warm"], pct))
        bench.log(
            f"  tile size: p50 {statistics.median(tipg_sizes) / 1024:.1f} KiB, "
            f"max {max(tipg_sizes) / 1024:.1f} KiB, "
            f"empty {sum(1 for n in tipg_sizes if n == 0)}"
        )
        bench.log(
            "p50 by zoom, ms: ours cold | ours 304 | ours 200 again | tipg cold | tipg warm"
        )
        for z in range(6, 15):
            picks = [i for i, t in enumerate(tiles) if t.z == z]
            if picks:
                cols = [
                    statistics.median(series[i] for i in picks)
                    for series in (
                        ours["cold"],
                        ours["warm_304"],
                        ours["warm_200"],
                        theirs["cold"],
                        theirs["warm"],
                    )
                ]
                bench.log(f"    z{z:<2} " + " | ".join(f"{v:7.1f}" for v in cols))
        ours_cold, tipg_cold = (
            statistics.median(ours["cold"]),
            statistics.median(theirs["cold"]),
        )
        ours_warm, tipg_warm = (
            statistics.median(ours["warm_304"]),
            statistics.median(theirs["warm"]),
        )
        bench.log(
            f"cold p50 ours/tipg {ours_cold / tipg_cold:.2f} "
            f"(target <= 1: {bench.verdict(ours_cold <= tipg_cold)})"
        )
        bench.log(
            f"warm p50 ours (304)/tipg {ours_warm / tipg_warm:.2f} "
            f"(target < 0.5: {bench.verdict(ours_warm < tipg_warm / 2)}); "
            f"ours without If-None-Match/tipg "
            f"{statistics.median(ours['warm_200']) / tipg_warm:.2f}"
        )


if __name__ == "__main__":
    main()

"""Sanity check of the prioritisation machinery on the RELand grid (issue 4, item 6).

Loads the cells of ../shared/data/colombia_reland_grid_{train,test}_labeled.csv as candidate
hazard areas and the GeoNames settlements of Colombia as the settlements context layer, ranks
the cells with a proximity-only model, and prints how well the ranking puts cells with a
recorded mine event first (ROC AUC, precision at the top 10 % against the base rate). It is a
check that the machinery is sane, not a target to tune to: proximity to towns of 1,000 people
or more is a weak proxy for where mine events were recorded.

In a throwaway database on the DATABASE_URL server (migrated; an organisation and a
coordinator created):

* settlements: the GeoNames rows with countrycode CO, written to a CSV in a temp dir and loaded
  through the importer (``kind=context, context=settlements``, native profile: geonameid,
  name, population, latitude, longitude);
* cells: every row of both grid files (train and test; their column sets differ, so only
  ``LATITUD_Y``, ``LONGITUD_X`` and ``mines_outcome`` are read). Each cell becomes an SHA
  hazard (hazard_type minefield, contamination ap_mine, all alike) through the importer, from
  a generated CSV with a ``wkt`` column; external_id = file + row index. The polygon is a
  square centred on the point: by default one grid step wide (the points are 0.0089744°
  apart, about 990 m, measured from the files: the grid is ~1 km, not ~2 km), so the squares
  tile the area without overlapping; ``--cell-m 2000`` makes 2 km squares instead (they
  overlap their neighbours). ``mines_outcome`` is kept out of the imported data: the labels
  stay in this process's memory only;
* no roads, facilities, land-use layer or accidents are loaded (none come with this data), so
  the only indicator that varies between cells is ``population_1km``;
* a model whose only criterion is exposure = population_1km (log_cap 5000, the default rule;
  no gates) is stored and activated with ``priorities.create_model``; the ranking is read with
  ``priorities.ranked``.

Also printed, as script-side diagnostics (plain SQL here, not platform indicators): the
distance from each cell's centre to the nearest GeoNames settlement, and the AUC of the files'
own ``settlement_dist`` column (lower = closer), to see whether our settlements layer agrees
with theirs.

Run:  source .dev-db.env && .venv/bin/python scripts/bench/prioritise_reland.py
      [--cell-m 2000] [--keep]
"""

import argparse
import csv
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from land_release import bench_database, log  # scripts/bench/land_release.py
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api import jobs
from api.db.engine import make_engine
from api.db.models import User
from api.services import auth, imports, priorities
from api.settings import Settings
from api.vocab import Role

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
GRIDS = {
    "train": DATA / "colombia_reland_grid_train_labeled.csv",
    "test": DATA / "colombia_reland_grid_test_labeled.csv",
}
GEONAMES = DATA / "geonames_settlements_pop1000_BA_CO_KH_LA_UA_VN.csv"
ORG = "RELAND"
USER = "reland-coord"

MODEL = {
    "criteria": {
        "exposure": {
            "weight": 1.0,
            "indicators": {"population_1km": {"normalise": "log_cap", "cap": 5000}},
        }
    },
    "gates": [],
}

# nearest GeoNames settlement to each cell's centre (metres, on the ellipsoid): a diagnostic
NEAREST_SQL = """
SELECT h.external_id,
       (SELECT min(ST_Distance(s.geom::geography, ST_Centroid(h.geom)::geography))
        FROM (SELECT geom FROM context_settlements
              ORDER BY geom <-> ST_Centroid(h.geom) LIMIT 8) s) AS metres
FROM hazards h WHERE h.retired_at IS NULL
"""
# population within a wider radius of each cell polygon, as the platform's population_1km is
# computed (box filter on the index, then the ellipsoidal distance) but with another
# distance: a diagnostic, not a platform indicator
WIDER_SQL = """
SELECT h.external_id,
       (SELECT COALESCE(sum(s.population), 0) FROM context_settlements s
        WHERE s.geom && ST_Expand(h.geom, :metres / (111320.0 * cos(radians(
                  LEAST(89.0, GREATEST(abs(ST_YMin(h.geom)), abs(ST_YMax(h.geom))) + 0.1)))),
                  :metres / 110574.0)
          AND ST_DWithin(s.geom::geography, h.geom::geography, :metres)) AS population
FROM hazards h WHERE h.retired_at IS NULL
"""
WIDER_M = (1_000, 2_000, 5_000, 10_000)  # 1 km: a cross-check of population_1km


# ------------------------------------------------------------------------------ metrics


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values``, ties given their average rank."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    mean_rank = ends - (counts - 1) / 2.0
    return mean_rank[inverse]


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """ROC AUC by the Mann-Whitney U statistic (higher score = predicted positive)."""
    labels = labels.astype(bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if not n_pos or not n_neg:
        return float("nan")
    ranks = average_ranks(np.asarray(scores, dtype=float))
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def expected_precision_at(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Precision of the top ``k`` by score, ties at the cut broken at random (expected)."""
    order = np.argsort(-scores, kind="stable")
    cut = scores[order[k - 1]]
    above = scores > cut
    tied = scores == cut
    take = k - int(above.sum())
    hits = labels[above].sum() + take * labels[tied].mean()
    return float(hits / k)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    return float(np.corrcoef(average_ranks(a), average_ranks(b))[0, 1])


# ------------------------------------------------------------------------------ data


def read_cells() -> pd.DataFrame:
    """Both grid files: external_id, lon, lat, label, settlement_dist (km, NaN if absent)."""
    frames = []
    for split, path in GRIDS.items():
        df = pd.read_csv(path)
        index = df.columns[0]  # the unnamed row-index column
        frames.append(
            pd.DataFrame(
                {
                    "external_id": [f"reland-{split}-{i}" for i in df[index]],
                    "split": split,
                    "lon": df["LONGITUD_X"].astype(float),
                    "lat": df["LATITUD_Y"].astype(float),
                    "label": df["mines_outcome"].astype(int),
                    "settlement_dist": df.get("settlement_dist", np.nan),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def grid_step(cells: pd.DataFrame) -> float:
    """The grid's spacing in degrees (the most common gap between distinct latitudes)."""
    gaps = np.diff(np.unique(np.round(cells["lat"].to_numpy(), 7)))
    return float(np.median(gaps[gaps > 1e-6]))


def write_hazards_csv(
    cells: pd.DataFrame, path: Path, step_deg: float, cell_m: float | None
) -> None:
    """The cells as square SHA polygons in a CSV with a ``wkt`` column; no labels."""
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(
            [
                "external_id",
                "name",
                "classification",
                "hazard_type",
                "contamination",
                "organisation",
                "date_of_information",
                "wkt",
            ]
        )
        for ext, lon, lat in cells[["external_id", "lon", "lat"]].itertuples(
            index=False
        ):
            if cell_m is None:
                dx = dy = step_deg / 2
            else:
                dy = cell_m / 2 / 110_574.0
                dx = cell_m / 2 / (111_320.0 * math.cos(math.radians(lat)))
            x1, y1, x2, y2 = lon - dx, lat - dy, lon + dx, lat + dy
            wkt = (
                f"POLYGON(({x1:.8f} {y1:.8f},{x2:.8f} {y1:.8f},{x2:.8f} {y2:.8f},"
                f"{x1:.8f} {y2:.8f},{x1:.8f} {y1:.8f}))"
            )
            out.writerow(
                [ext, ext, "SHA", "minefield", "ap_mine", ORG, "2019-12-31", wkt]
            )


def write_settlements_csv(path: Path) -> int:
    """GeoNames rows of Colombia, columns as in the source; returns the row count."""
    df = pd.read_csv(GEONAMES, dtype={"admin1code": str}, keep_default_na=False)
    df = df[df["countrycode"] == "CO"]
    df.to_csv(path, index=False)
    return len(df)


# ------------------------------------------------------------------------------ platform


def import_file(
    settings: Settings, principal: auth.Principal, path: Path, **form
) -> tuple[float, dict]:
    """Import a file through the importer (create, then run now); seconds and report."""
    engine = make_engine(settings)
    try:
        with Session(engine) as s, path.open("rb") as upload:
            imp = imports.create(
                s,
                upload=upload,
                filename=path.name,
                profile="native",
                mode="commit",
                atomic=False,
                principal=principal,
                settings=settings,
                **form,
            )
            s.commit()
            import_id = imp.id
        started = time.perf_counter()
        jobs.run_import_now(import_id, settings)
        seconds = time.perf_counter() - started
        with Session(engine) as s:
            return seconds, imports.report(s, import_id, principal)
    finally:
        engine.dispose()


def print_report(name: str, seconds: float, report: dict) -> None:
    """One line of counts, then the first messages of each kind."""
    counts = ", ".join(f"{k} {v}" for k, v in report["counts"].items() if v)
    log(f"{name}: {report['status']} in {seconds:.1f} s ({counts})")
    for kind in ("errors", "flags", "warnings"):
        items = report[kind]
        for item in items[:3]:
            where = f"row {item['row']}" if item["row"] is not None else "file"
            log(f"    {kind[:-1]}: {where}: {item['message'][:150]}")
        if len(items) > 3:
            log(f"    ... and {len(items) - 3} more {kind}")
    if report["failure"]:
        log(f"    failure: {report['failure']}")


def timed(fn) -> float:
    """Seconds taken by ``fn()``."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def percentiles(values: np.ndarray) -> str:
    """p50/p75/p90/p99/max of ``values``, compact."""
    p = np.percentile(values, [50, 75, 90, 99, 100])
    return " / ".join(f"{v:,.0f}" for v in p)


def main() -> None:
    """Load, rank, measure, print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cell-m",
        type=float,
        default=None,
        help="side of each cell's square in metres (default: one grid step, ~990 m)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        sys.exit("DATABASE_URL is not set: `source .dev-db.env` first")
    missing = [p for p in (*GRIDS.values(), GEONAMES) if not p.exists()]
    if missing:
        sys.exit(f"missing data: {', '.join(map(str, missing))}")

    cells = read_cells()
    labels = dict(zip(cells["external_id"], cells["label"], strict=True))
    step = grid_step(cells)
    side = (
        f"{step:.7f}° squares (one grid step, ~{step * 110_574:.0f} m; no overlap)"
        if args.cell_m is None
        else f"{args.cell_m:.0f} m squares (overlapping neighbours)"
    )
    log(
        f"cells: {len(cells)} ({', '.join(f'{k} {v}' for k, v in cells['split'].value_counts().items())}); "
        f"polygons: {side} centred on LONGITUD_X/LATITUD_Y"
    )

    with (
        tempfile.TemporaryDirectory(prefix="sg-bench-reland-") as tmp,
        bench_database(server_url, args.keep) as url,
    ):
        tmp = Path(tmp)
        settings = Settings(database_url=url, env="test")
        engine = make_engine(settings)
        with Session(engine, expire_on_commit=False) as s:
            s.execute(
                text(
                    "INSERT INTO organisations (code, name, type) "
                    "VALUES (:c, 'RELand check (bench)', 'nmaa')"
                ),
                {"c": ORG},
            )
            s.commit()
            auth.create_user(
                s,
                username=USER,
                password="bench-password",
                role=Role.admin,  # context layers are programme-wide: an admin's import
                organisation_code=ORG,
            )
            s.commit()
            user_id = s.scalar(select(User.id).where(User.username == USER))
            principal = auth.principal_for_import(s, user_id, None)

        settlements_csv = tmp / "geonames_CO.csv"
        n_settlements = write_settlements_csv(settlements_csv)
        log(f"GeoNames settlements of Colombia (pop >= 1000): {n_settlements}")
        seconds, report = import_file(
            settings,
            principal,
            settlements_csv,
            kind="context",
            context="settlements",
        )
        print_report("import settlements (kind=context)", seconds, report)

        hazards_csv = tmp / "reland_cells.csv"
        write_hazards_csv(cells, hazards_csv, step, args.cell_m)
        seconds, report = import_file(settings, principal, hazards_csv, kind="hazards")
        print_report("import cells (kind=hazards)", seconds, report)
        log("no roads, facilities, land use or accidents loaded (none in this data)")

        with Session(engine, expire_on_commit=False) as s:
            started = time.perf_counter()
            model = priorities.create_model(
                s,
                document=MODEL,
                name="proximity only (RELand sanity check)",
                notes="exposure = population within 1 km; nothing else",
                activate=True,
                principal=principal,
            )
            activate_s = time.perf_counter() - started
            refresh_s = timed(
                lambda: (priorities.refresh_indicators(s, None), s.commit())
            )
            active = priorities.active_model(s)
            score_s = timed(lambda: (priorities.score(s, active, None), s.commit()))
            started = time.perf_counter()
            ranking = priorities.ranked(s, principal=principal, limit=len(cells) + 10)
            ranked_s = time.perf_counter() - started
            nearest = dict(s.execute(text(NEAREST_SQL)).all())
            wider = {
                m: dict(s.execute(text(WIDER_SQL), {"metres": m}).all())
                for m in WIDER_M
            }
        engine.dispose()

    items = ranking["items"]
    ext = [it["external_id"] for it in items]
    y = np.array([labels[e] for e in ext])
    score = np.array([float(it["score"]) for it in items])
    pop = np.array(
        [
            float(it["breakdown"]["exposure"]["indicators"]["population_1km"]["value"])
            for it in items
        ]
    )
    n, pos = len(y), int(y.sum())
    k = math.ceil(0.10 * n)
    base = pos / n
    log("")
    log(
        f"model v{model['version']} '{model['name']}': activation (scores every cell) "
        f"{activate_s:.2f} s"
    )
    log(
        f"indicator refresh, all {n} cells: {refresh_s:.2f} s; scoring: {score_s:.2f} s; "
        f"ranked(limit={len(cells) + 10}): {ranked_s:.2f} s"
    )
    log(
        f"ranked cells {n} (of {len(cells)}); positives {pos}; base rate {base:.3f}; "
        f"gated {sum(1 for it in items if it['rank'] is None)}"
    )
    nonzero = pop > 0
    log(
        f"cells with any GeoNames settlement within 1 km: {int(nonzero.sum())} "
        f"({nonzero.mean():.1%}), {int((pop >= 5000).sum())} of them at or above the "
        f"cap (5000); distinct scores {len(np.unique(score))}"
    )
    if nonzero.any():
        log(
            f"    population_1km of those cells, p50/p75/p90/p99/max: {percentiles(pop[nonzero])}; "
            f"base rate among them {y[nonzero].mean():.3f}, among the rest "
            f"{y[~nonzero].mean():.3f}"
        )
    log(f"ROC AUC of the platform score (ties averaged): {roc_auc(score, y):.3f}")
    log(
        f"precision at top 10% (k={k}): as ranked (ties by hazard id) {y[:k].mean():.3f}; "
        f"expected with ties broken at random {expected_precision_at(score, y, k):.3f}; "
        f"base rate {base:.3f}"
    )

    # diagnostics: our settlements layer against the files' own settlement_dist
    metres = np.array([nearest[e] for e in ext], dtype=float)
    log("")
    log("diagnostics (script-side, not platform indicators):")
    log(
        f"    distance from cell centre to the nearest GeoNames settlement, km, "
        f"p50/p75/p90/p99/max: {percentiles(metres / 1000)}"
    )
    log(
        f"    within 1 km {int((metres <= 1000).sum())}, 2 km {int((metres <= 2000).sum())}, "
        f"5 km {int((metres <= 5000).sum())}, 10 km {int((metres <= 10_000).sum())}"
    )
    log(
        f"    AUC of -(distance to nearest GeoNames settlement): {roc_auc(-metres, y):.3f}"
    )
    plain_1km = np.array([float(wider[1_000][e]) for e in ext])
    log(
        f"    cross-check: platform population_1km equals a plain query for "
        f"{int(np.isclose(plain_1km, pop).sum())} of {n} cells"
    )
    for radius, values in wider.items():
        if radius == 1_000:
            continue
        near = np.array([float(values[e]) for e in ext])
        log(
            f"    population within {radius / 1000:g} km of the cell: nonzero for "
            f"{int((near > 0).sum())} cells ({(near > 0).mean():.1%}); "
            f"AUC {roc_auc(near, y):.3f}"
        )
    by_ext = cells.set_index("external_id")
    theirs = by_ext.loc[ext, "settlement_dist"].to_numpy(dtype=float)
    have = ~np.isnan(theirs)
    if have.any():
        log(
            f"    files' settlement_dist present for {int(have.sum())} cells; "
            f"p50 {np.median(theirs[have]):.2f} km"
        )
        log(
            f"    AUC of -settlement_dist (files' own column): {roc_auc(-theirs[have], y[have]):.3f}; "
            f"Spearman(ours nearest, theirs) {spearman(metres[have], theirs[have]):.3f}"
        )
    split = by_ext.loc[ext, "split"].to_numpy()
    for name in GRIDS:
        m = split == name
        line = (
            f"    {name}: {int(m.sum())} cells, base rate {y[m].mean():.3f}, "
            f"AUC platform score {roc_auc(score[m], y[m]):.3f}, "
            f"AUC -nearest {roc_auc(-metres[m], y[m]):.3f}"
        )
        if have[m].any():
            line += (
                f", AUC -settlement_dist {roc_auc(-theirs[m & have], y[m & have]):.3f}"
            )
        log(line)


if __name__ == "__main__":
    main()

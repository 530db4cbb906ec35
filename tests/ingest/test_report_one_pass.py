"""Every problem of a row in one pass, a bounded report, and an import's visible progress.

A coordinator fixing a file must learn every problem of a row from one dry run: a row missing
a required value *and* having no geometry reports both (the BiH minefield file, 11,068 rows
with no classification column and 3,094 null geometries, reported only the first before).
The report stays bounded: every line is counted under its rule, the first N of each rule are
listed in full. While an import runs it shows its stage and rows done of rows total.
"""

import pytest
from shapely.geometry import Polygon, box
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from api import jobs
from api.db import migrate
from api.services import imports
from api.settings import Settings
from tests.helpers import (
    create_import,
    import_coordinator,
    import_finds,
    import_square,
    run_import,
    throwaway_database,
)
from tests.ingest import files as F


def _by_row(report: dict) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for e in report["errors"]:
        out.setdefault(e["row"], []).append(e)
    return out


def test_every_problem_of_a_row_is_reported_in_one_pass(client, actors):
    org = actors.org_a
    no_class = F.hazard_props(1, org)
    del no_class["classification"]
    rows = [
        # a required value missing and no geometry at all
        F.feature(None, no_class),
        # an impossible date and a longitude off the globe
        F.feature(
            box(190.0, 50.0, 190.01, 50.01),
            F.hazard_props(2, org, date_of_information="2024-02-31"),
        ),
        # an unknown code and an edge read the long way round the globe
        F.feature(
            Polygon([(-179.5, 10), (179.5, 10), (179.5, 10.5), (-179.5, 10.5)]),
            F.hazard_props(3, org, hazard_type="lake_of_fire"),
        ),
        # an unknown organisation and a geometry the gate refuses (zero area)
        F.feature(
            Polygon([(30, 50), (30.01, 50), (30.02, 50), (30, 50)]),
            F.hazard_props(4, "NO-SUCH-ORG"),
        ),
        F.feature(F.square(5), F.hazard_props(5, org)),
        # a ring GDAL cannot close and an unknown classification
        F.feature(
            {"type": "Polygon", "coordinates": [[[30.0, 50.0], [30.01, 50.0]]]},
            F.hazard_props(6, org, classification="maybe"),
        ),
    ]
    rep = run_import(client, actors.coordinator_a, "h.geojson", F.geojson_bytes(rows))
    assert rep["counts"]["rejected"] == 5 and rep["counts"]["created"] == 1, rep
    errors = _by_row(rep)
    assert {e["rule"] for e in errors[1]} == {"missing_value", "no_geometry"}, errors[1]
    assert any(e["field"] == "classification" for e in errors[1])
    msgs2 = " | ".join(e["message"] for e in errors[2])
    assert "2024-02-31" in msgs2 and "longitude 190" in msgs2, msgs2
    msgs3 = " | ".join(e["message"] for e in errors[3])
    assert "lake_of_fire" in msgs3 and "long way round" in msgs3, msgs3
    msgs4 = " | ".join(e["message"] for e in errors[4])
    assert "NO-SUCH-ORG" in msgs4 and "zero area" in msgs4, msgs4
    msgs6 = " | ".join(e["message"] for e in errors[6])
    assert "not closed" in msgs6 and "'maybe'" in msgs6, msgs6
    # one line per problem, never the same problem twice in other words
    assert len(errors[1]) == 2 and len(errors[3]) == 2, errors
    tally = {(r["severity"], r["rule"]): r for r in rep["rules"]}
    assert tally[("error", "missing_value")]["count"] == 1
    assert tally[("error", "no_geometry")]["count"] == 1
    assert rep["left_out"] == 0


def test_every_problem_of_an_eo_find_row_is_reported_in_one_pass(client, actors):
    """EO-find rows as hazard rows: values, organisation and position all checked before
    the row is refused; the import's report times its stages (map, gate, write)."""
    org = actors.org_a
    import_square(client, actors.coordinator_a, org, 323)
    c = F.square(323).centroid
    header = (
        "external_id,eo_category,quantity,found_on,hazard_id,organisation,lon,lat\n"
    )
    rows = [
        # an unknown category and no position
        f"EOP-1,landmine?,1,2024-06-01,IMP-00323,{org},,",
        # an impossible date, an unknown organisation and half a position
        f"EOP-2,uxo,1,2024-02-31,IMP-00323,NO-SUCH-ORG,{c.x},",
        # a quantity that is not a number
        f"EOP-3,uxo,many,2024-06-01,IMP-00323,{org},{c.x},{c.y}",
        f"EOP-4,uxo,1,2024-06-01,IMP-00323,{org},{c.x},{c.y}",
    ]
    rep = import_finds(client, actors.coordinator_a, header, rows, mode="dry_run")
    assert rep["status"] == "succeeded", (rep["failure"], rep["errors"])
    assert rep["counts"]["rejected"] == 3 and rep["counts"]["created"] == 1, rep
    errors = _by_row(rep)
    msgs2 = " | ".join(e["message"] for e in errors[2])
    assert "landmine?" in msgs2 and len(errors[2]) == 2, errors[2]
    assert "its coordinate cells (lat, lon) are empty" in msgs2, msgs2
    msgs3 = " | ".join(e["message"] for e in errors[3])
    assert "2024-02-31" in msgs3 and "NO-SUCH-ORG" in msgs3, msgs3
    assert len(errors[3]) == 3, errors[3]
    assert len(errors[4]) == 1 and "many" in errors[4][0]["message"], errors[4]
    seconds = rep["stage_seconds"]
    assert {"read", "map", "gate", "write"} <= set(seconds), seconds


def test_every_problem_of_an_activity_row_is_reported_in_one_pass(client, actors):
    """Activity rows too: the values, the grouping id, the organisation and the release
    polygon are all checked before the row is refused; map and gate are timed."""
    org = actors.org_a
    import_square(client, actors.coordinator_a, org, 324)
    hz = F.square(324)
    act = {
        "external_id": "ACT-OP-1",
        "activity_type": "clearance",
        "organisation": org,
        "hazard_ids": "IMP-00324",
        "status": "completed",
        "start_date": "2024-06-01",
        "end_date": "2024-06-20",
        "outcome": "cleared",
    }
    feats = [
        F.feature(hz, act),
        # no activity id, an impossible date, an unknown organisation
        F.feature(
            hz,
            {
                **act,
                "external_id": None,
                "start_date": "2024-02-31",
                "organisation": "NO-SUCH-ORG",
            },
        ),
        # an unknown status and a polygon the intake refuses
        F.feature(
            {"type": "Polygon", "coordinates": [[[30, 50], [30.01, 50], [30, 50]]]},
            {**act, "status": "half_done"},
        ),
    ]
    rep = run_import(
        client,
        actors.coordinator_a,
        "act.geojson",
        F.geojson_bytes(feats),
        kind="activities",
        mode="dry_run",
    )
    assert rep["status"] == "succeeded", (rep["failure"], rep["errors"])
    errors = _by_row(rep)  # a GeoJSON's rows are its features, from 1
    msgs2 = " | ".join(e["message"] for e in errors[2])
    assert "2024-02-31" in msgs2 and "NO-SUCH-ORG" in msgs2, msgs2
    assert "external id is required" in msgs2 and len(errors[2]) == 3, errors[2]
    msgs3 = " | ".join(e["message"] for e in errors[3])
    assert "half_done" in msgs3 and len(errors[3]) == 2, errors[3]
    assert rep["counts"]["created"] == 1, rep["counts"]
    assert {"map", "gate", "write"} <= set(rep["stage_seconds"]), rep["stage_seconds"]


def test_every_problem_of_an_admin_area_or_context_row_is_reported_in_one_pass(
    client, actors
):
    """The programme's layers too: an admin area without P-code and level, and a facility
    without its type, each with a position that cannot be taken in, get every line."""
    admin_csv = (
        "pcode,name,level,wkt\n"
        ',Seven,,"POLYGON ((30 50, 30.1 50, 30 50))"\n'
        'ZZ1,Fine,1,"POLYGON ((30 50, 30.1 50, 30.1 50.1, 30 50.1, 30 50))"\n'
    )
    rep = run_import(
        client,
        actors.admin,
        "adm.csv",
        admin_csv.encode(),
        kind="admin_areas",
        mode="dry_run",
    )
    errors = _by_row(rep)
    msgs2 = " | ".join(e["message"] for e in errors[2])
    assert "pcode is empty" in msgs2 and "level and name are required" in msgs2
    assert len(errors[2]) == 3, errors[2]  # and the two-position ring
    assert 3 not in errors and rep["counts"]["created"] == 1, rep["counts"]
    assert {"map", "gate", "write"} <= set(rep["stage_seconds"])
    facilities = "name,facility_type,lon,lat\nClinic,,30.5,\n"
    rep = run_import(
        client,
        actors.admin,
        "f.csv",
        facilities.encode(),
        kind="context",
        context="facilities",
        mode="dry_run",
    )
    errors = _by_row(rep)
    msgs = " | ".join(e["message"] for e in errors[2])
    assert "facility_type is required for facilities" in msgs and len(errors[2]) == 2
    assert {"map", "gate", "write"} <= set(rep["stage_seconds"])


def test_the_report_lists_the_first_lines_of_each_rule_and_counts_them_all(
    client, actors, app, settings
):
    org = actors.org_a
    rows = []
    for i in range(12):  # 12 rows without a classification
        props = F.hazard_props(600 + i, org)
        del props["classification"]
        rows.append(F.feature(F.square(600 + i), props))
    rows += [F.feature(None, F.hazard_props(700 + i, org)) for i in range(3)]
    rows.append(F.feature(F.square(720), F.hazard_props(720, org)))
    app.state.settings = settings.model_copy(update={"import_report_per_rule": 5})
    try:
        rep = run_import(
            client, actors.coordinator_a, "h.geojson", F.geojson_bytes(rows)
        )
    finally:
        app.state.settings = settings
    assert rep["counts"]["rejected"] == 15 and rep["counts"]["created"] == 1
    missing = [e for e in rep["errors"] if e["rule"] == "missing_value"]
    assert len(missing) == 5  # the first five, in file order
    assert [e["row"] for e in missing] == [1, 2, 3, 4, 5]
    assert len([e for e in rep["errors"] if e["rule"] == "no_geometry"]) == 3
    tally = {(r["severity"], r["rule"]): r for r in rep["rules"]}
    assert tally[("error", "missing_value")] == {
        "severity": "error",
        "rule": "missing_value",
        "count": 12,
        "listed": 5,
        "left_out": 7,
    }
    assert rep["left_out"] == 7


@pytest.fixture(scope="module")
def progress_db():
    with throwaway_database("sg_progress") as url:
        migrate.upgrade(url)
        settings = Settings(
            database_url=url,
            env="test",
            secret_key="p" * 32,
            import_runner="queue",
            import_batch_size=2,
        )
        engine = create_engine(settings.database_url)
        principal = import_coordinator(engine, "PORG", "p-coord")
        yield settings, engine, principal
        engine.dispose()


def test_a_running_import_shows_its_stage_and_rows_done_of_rows_total(progress_db):
    settings, engine, principal = progress_db
    data = F.geojson_bytes(
        [
            F.feature(F.square(800 + i), F.hazard_props(800 + i, "PORG"))
            for i in range(5)
        ]
    )
    import_id = create_import(settings, engine, principal, data)
    seen: list[tuple[str, int, int | None, str | None, int | None]] = []

    def watch(stage: str, done: int, total: int | None) -> None:
        # what any other reader of the import record sees at this moment
        with Session(engine) as s:
            row = s.execute(
                text("SELECT stage, counts ->> 'read' FROM imports WHERE id = :id"),
                {"id": import_id},
            ).one()
        seen.append((stage, done, total, row[0], row[1]))

    jobs.run_import_now(import_id, settings, watch)
    stages = [s[0] for s in seen]
    assert stages[0] == "read" and stages[-1] == "done"
    assert {"read", "check", "write", "report"} <= set(stages)
    assert all(total == 5 for _, _, total, _, _ in seen)
    done = [d for _, d, _, _, _ in seen]
    assert done == sorted(done) and done[-1] == 5
    # batches of 2: rows 2, 4 and 5 are checked in turn, and the record says so as it goes
    assert [d for st, d, *_ in seen if st == "check"] == [2, 4, 5]
    published = [(st, int(read)) for _, _, _, st, read in seen[:-1] if st]
    assert ("check", 4) in published and ("write", 4) in published
    with Session(engine) as s:
        report = imports.report(s, import_id, principal)
    assert report["stage"] == "done" and report["status"] == "succeeded"
    assert report["rows_done"] == 5 and report["rows_total"] == 5
    # the time of each stage, so that the slowest is visible
    seconds = report["stage_seconds"]
    assert set(seconds) == {"read", "map", "gate", "write", "land_release", "commit"}
    assert all(v >= 0 for v in seconds.values()) and seconds["land_release"] > 0

"""The land-release history that the burn-down reads (migration 0019).

* the burn-down reads the kept history (``land_release_segments``) in one statement: no
  release, no state, no area is computed when it is asked for;
* every month of it equals the summary ``as_of`` that date, for generated histories with
  backdated reports, re-surveys, releases dated anywhere, and retired activities (Hypothesis);
* the history follows writes that bypass the services (SQL on states, releases, methods,
  admin areas): triggers, not the write paths, keep it current;
* on a real commit the deferred trigger applies the pending hazards (nothing is left
  pending), and the migration fills the history of hazards stored before it.
"""

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box, mapping
from sqlalchemy import create_engine, event, text

from api.db import migrate
from api.schemas.hazards import HazardFeaturePatch
from api.services import activities, analytics, hazards, summary
from api.settings import Settings
from tests.factories import (
    make_activity,
    make_activity_unless_apart,
    make_admin_area,
    make_hazard,
    make_org,
    release,
)
from tests.helpers import throwaway_database

FIRST, LAST = date(2023, 12, 1), date(2025, 7, 1)  # 20 month ends
DAY0 = date(2024, 1, 1)
GROUPINGS = (None, "organisation", "contamination", "admin1", "method")
FIELDS = (
    "baseline_area_m2",
    "cancelled_area_m2",
    "reduced_area_m2",
    "cleared_area_m2",
    "released_area_m2",
    "remaining_area_m2",
)
SETTINGS = settings(  # derandomised like every property test: a failure reproduces
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_equals_as_of(session, org: str, group_by: str | None) -> None:
    """Every point of the burn-down equals the summary ``as_of`` its month end."""
    series = analytics.burndown(
        session, first=FIRST, last=LAST, group_by=group_by, organisation=org
    )["series"]
    for i, as_of in enumerate(analytics.month_ends(FIRST, LAST)):
        s = summary.summarise(
            session, group_by=group_by or "organisation", as_of=as_of, organisation=org
        )
        rows = (
            {"all": s["totals"]}
            if group_by is None
            else {r["key"]: r for r in s["rows"]}
        )
        points = {x["key"]: x["points"][i] for x in series}
        assert set(rows) <= set(points), (as_of, group_by, set(rows), set(points))
        for key, point in points.items():
            row = rows.get(key)
            if (
                row is None
            ):  # a group with no hazards (or nothing released) on that date
                assert point["hazard_count"] == 0, (as_of, group_by, key)
                assert all(point[f] == 0 for f in FIELDS), (as_of, group_by, key)
                continue
            assert point["hazard_count"] == row["hazard_count"], (as_of, group_by, key)
            for f in FIELDS:
                assert point[f] == pytest.approx(row[f], rel=1e-9, abs=1e-6), (
                    as_of,
                    group_by,
                    key,
                    f,
                )


def boxes():
    """A box of 0.002-0.01° near 30°E 50°N (the hazards and releases overlap often)."""
    return st.tuples(
        st.integers(0, 8), st.integers(0, 8), st.integers(2, 10), st.integers(2, 10)
    ).map(
        lambda t: box(
            30.0 + t[0] / 1000,
            50.0 + t[1] / 1000,
            30.0 + (t[0] + t[2]) / 1000,
            50.0 + (t[1] + t[3]) / 1000,
        )
    )


REPORTS = st.lists(
    st.tuples(
        boxes(),
        st.integers(0, 540),  # date of information, days after 2024-01-01
        st.sampled_from([["ap_mine"], ["cmr"], ["ap_mine", "uxo"], []]),
    ),
    min_size=1,
    max_size=3,
)
RELEASES = st.lists(
    st.tuples(
        boxes(),
        st.sampled_from(["cancelled", "reduced", "cleared"]),
        st.integers(-60, 560),  # release date, days after 2024-01-01
        st.sampled_from([["manual"], ["mechanical"], ["manual", "mechanical"], []]),
    ),
    max_size=4,
)


@pytest.mark.slow  # property-based (make test-fast leaves it out)
@SETTINGS
@given(reports=REPORTS, releases=RELEASES, retire=st.sets(st.integers(0, 3)))
def test_every_month_equals_the_summary_as_of_after_backdated_edits(
    session, settings_, actors, reports, releases, retire
):
    """A hazard reported up to three times, in any order of dates (a later write may carry
    an earlier date of information: a backdated correction rebuilds the timeline), releases
    dated before, between and after the reports, some activities retired afterwards."""
    org = make_org(
        session
    )  # a fresh organisation: earlier examples stay out of the sums
    principal = actors.admin.principal
    geom, day, contamination = reports[0]
    hid = make_hazard(
        session,
        settings_,
        principal,
        geom,
        org,
        date_of_information=(DAY0 + timedelta(days=day)).isoformat(),
        contamination=contamination,
    )
    version = 1
    for geom, day, contamination in reports[1:]:
        patch = HazardFeaturePatch.model_validate(
            {
                "type": "Feature",
                "geometry": mapping(geom),
                "properties": {
                    "date_of_information": (DAY0 + timedelta(days=day)).isoformat(),
                    "contamination": contamination,
                },
            }
        )
        version = hazards.update_hazard(
            session,
            hazard_id=hid,
            patch=patch,
            principal=principal,
            settings=settings_,
            if_match=f'"{version}"',
        ).version
    written = []
    for geom, outcome, day, methods in releases:
        when = (DAY0 + timedelta(days=day)).isoformat()
        result = make_activity_unless_apart(
            session,
            settings_,
            principal,
            org,
            [hid],
            [release(geom, outcome, when)],
            start_date=when,
            end_date=when,
            methods=methods,
        )
        if result is not None:
            written.append(result)
    for i in sorted(retire):
        if i < len(written):
            activities.retire_activity(
                session,
                activity_id=written[i].id,
                principal=principal,
                if_match=f'"{written[i].version}"',
            )
    for group_by in (None, "contamination", "method"):
        assert_equals_as_of(session, org, group_by)


def _statements(engine):
    """The SQL statements run on ``engine`` while the context is open."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def two_hazards(session, settings, actors):
    """Two hazards of org A with releases of two methods, and an admin area over each."""
    make_admin_area(session, "ZZ71", box(29.9, 49.9, 30.05, 50.1), 1, name="West")
    make_admin_area(session, "ZZ72", box(30.05, 49.9, 30.2, 50.1), 1, name="East")
    principal = actors.coordinator_a.principal
    h1 = make_hazard(
        session,
        settings,
        principal,
        box(30.0, 50.0, 30.01, 50.01),
        actors.org_a,
        date_of_information="2024-01-10",
    )
    h2 = make_hazard(
        session,
        settings,
        principal,
        box(30.1, 50.0, 30.11, 50.01),
        actors.org_a,
        date_of_information="2024-03-05",
        contamination=["cmr"],
    )
    a1 = make_activity(
        session,
        settings,
        principal,
        actors.org_a,
        [h1],
        [release(box(30.0, 50.0, 30.005, 50.01), "cleared", "2024-02-10")],
        methods=["manual"],
    )
    make_activity(
        session,
        settings,
        principal,
        actors.org_a,
        [h2],
        [release(box(30.1, 50.0, 30.103, 50.01), "reduced", "2024-05-20")],
        methods=["mechanical"],
    )
    return h1, h2, a1


@pytest.mark.parametrize("group_by", GROUPINGS)
def test_burndown_reads_the_kept_history_in_one_statement(
    session, engine, actors, two_hazards, group_by
):
    session.execute(text("SELECT sg_land_release_flush()"))  # the writes above
    seen, stop = _statements(engine)
    try:
        analytics.burndown(
            session,
            first=date(2015, 1, 1),
            last=date(2024, 12, 1),
            group_by=group_by,
            organisation=actors.org_a,
        )
    finally:
        stop()
    reads = [s for s in seen if "land_release_segments" in s]
    assert len(reads) == 1, seen  # 120 months, one statement
    for statement in seen:  # nothing is recomputed when the burn-down is asked for
        for computed in ("hazard_states", "release_polygons", "sg_area_m2", "ST_"):
            assert computed not in statement, (computed, statement[:300])
    assert_equals_as_of(session, actors.org_a, group_by)


def _segments(session, hazard_id) -> list[dict]:
    session.execute(text("SELECT sg_land_release_flush()"))
    return [
        {k: float(v) if k.endswith("_m2") else v for k, v in r.items()}
        for r in session.execute(
            text(
                "SELECT valid_from, valid_to, admin1, cleared_area_m2, "
                "reduced_area_m2, baseline_area_m2 FROM land_release_segments "
                "WHERE hazard_id = :h ORDER BY valid_from"
            ),
            {"h": hazard_id},
        ).mappings()
    ]


def test_history_follows_writes_that_bypass_the_services(session, actors, two_hazards):
    """Triggers on the tables, not the write paths, keep the history current: SQL written
    by hand (a repair script, a future write path) is followed like a service write."""
    h1, h2, a1 = two_hazards
    org = actors.org_a
    before = _segments(session, h1)
    assert [s["valid_from"] for s in before] == [date(2024, 1, 10), date(2024, 2, 10)]
    assert before[0]["cleared_area_m2"] == 0 and before[1]["cleared_area_m2"] > 0
    assert {s["admin1"] for s in before} == {"ZZ71"}

    # the clearance's method corrected by hand: the method partition follows
    session.execute(
        text("UPDATE activities SET methods = ARRAY['mechanical'] WHERE id = :a"),
        {"a": a1.id},
    )
    assert_equals_as_of(session, org, "method")
    # the clearance backdated by hand: the history changes from the new date
    session.execute(
        text(
            "UPDATE release_polygons SET date = DATE '2024-01-20' "
            "WHERE activity_id = :a"
        ),
        {"a": a1.id},
    )
    assert [s["valid_from"] for s in _segments(session, h1)] == [
        date(2024, 1, 10),
        date(2024, 1, 20),
    ]
    assert_equals_as_of(session, org, None)
    # an admin area redrawn: the admin keys of every segment follow
    session.execute(
        text(
            "UPDATE admin_areas SET geom = ST_Multi(ST_MakeEnvelope(30.09, 49.9, 30.2, "
            "50.1, 4326)) WHERE pcode = 'ZZ71'"
        )
    )
    assert {s["admin1"] for s in _segments(session, h1)} == {None}
    assert {s["admin1"] for s in _segments(session, h2)} == {"ZZ71"}
    assert_equals_as_of(session, org, "admin1")
    # a state's geometry replaced by hand (as a repair of a legacy row would)
    session.execute(
        text(
            "UPDATE hazard_states SET geom = ST_Multi(ST_MakeEnvelope(30.0, 50.0, "
            "30.02, 50.01, 4326)) WHERE hazard_id = :h"
        ),
        {"h": h1},
    )
    after = _segments(session, h1)
    assert after[0]["baseline_area_m2"] == pytest.approx(
        2 * before[0]["baseline_area_m2"], rel=1e-3
    )
    # the release retired by hand: nothing released any more
    session.execute(
        text("UPDATE release_polygons SET retired_at = now() WHERE activity_id = :a"),
        {"a": a1.id},
    )
    assert [s["cleared_area_m2"] for s in _segments(session, h1)] == [0]
    for group_by in GROUPINGS:
        assert_equals_as_of(session, org, group_by)


def test_changes_that_alter_no_history_leave_nothing_pending(session, two_hazards):
    """Recomputing the current figures rewrites ``effective_area_m2``, an admin area gets a
    translated name: neither changes any history, so neither leaves a hazard pending."""
    h1, _, _ = two_hazards
    session.execute(text("SELECT sg_land_release_flush()"))
    session.execute(
        text(
            "UPDATE release_polygons SET effective_area_m2 = effective_area_m2 + 1 "
            "WHERE hazard_id = :h"
        ),
        {"h": h1},
    )
    session.execute(
        text(
            """UPDATE admin_areas SET names = '{"fr": "Ouest"}' WHERE pcode = 'ZZ71'"""
        )
    )
    pending = "SELECT count(*) FROM land_release_pending"
    assert session.execute(text(pending)).scalar() == 0
    session.execute(  # while a new outline does
        text(
            "UPDATE admin_areas SET geom = ST_Multi(ST_MakeEnvelope(29, 49, 31, 51, 4326)) "
            "WHERE pcode = 'ZZ71'"
        )
    )
    assert session.execute(text(pending)).scalar() > 0


ORG_SQL = (
    "INSERT INTO organisations (id, code, name, type) "
    "VALUES (:o, 'HIST', 'History test', 'nmaa')"
)
HAZARD_SQL = """
INSERT INTO hazards (id, organisation_id, classification, status, contamination,
                     date_of_information, geom, area_m2, version)
VALUES (:h, :o, 'SHA', 'open', ARRAY['ap_mine'], DATE '2024-01-10',
        ST_Multi(ST_MakeEnvelope(30, 50, 30.01, 50.01, 4326)), 1, 1);
INSERT INTO hazard_states (hazard_id, valid_from, version, organisation_id, state, geom)
VALUES (:h, DATE '2024-01-10', 1, :o, '{"contamination": ["ap_mine"]}',
        ST_Multi(ST_MakeEnvelope(30, 50, 30.01, 50.01, 4326)));
"""
RELEASE_SQL = """
INSERT INTO activities (id, organisation_id, activity_type, status, methods)
VALUES (:a, :o, 'clearance', 'completed', ARRAY['manual']);
INSERT INTO release_polygons (activity_id, hazard_id, feature_index, outcome, date, geom,
                              area_m2)
VALUES (:a, :h, 0, 'cleared', DATE '2024-03-01',
        ST_Multi(ST_MakeEnvelope(30, 50, 30.005, 50.01, 4326)), 1);
"""


@pytest.mark.slow
def test_migration_fills_the_history_and_commits_apply_the_pending_hazards():
    """A hazard stored before 0019 has its history after the upgrade; a release committed
    afterwards is in the history on commit (the deferred trigger), nothing stays pending."""
    ids = {"o": uuid.uuid4(), "h": uuid.uuid4(), "a": uuid.uuid4()}
    with throwaway_database("sg_hist") as url:
        migrate.upgrade(url, "0018")
        engine = create_engine(Settings(database_url=url).database_url)
        try:
            with engine.begin() as conn:
                conn.execute(text(ORG_SQL), ids)
                for statement in HAZARD_SQL.split(";\n"):
                    if statement.strip():
                        conn.execute(text(statement), ids)
            migrate.upgrade(url)
            segments = "SELECT valid_from FROM land_release_segments ORDER BY 1"
            with engine.connect() as conn:
                assert conn.scalars(text(segments)).all() == [date(2024, 1, 10)]
            with engine.begin() as conn:
                for statement in RELEASE_SQL.split(";\n"):
                    if statement.strip():
                        conn.execute(text(statement), ids)
            with engine.connect() as conn:
                assert conn.scalars(text(segments)).all() == [
                    date(2024, 1, 10),
                    date(2024, 3, 1),
                ]
                cleared = conn.execute(
                    text(
                        "SELECT cleared_area_m2 FROM land_release_segments "
                        "WHERE valid_from = DATE '2024-03-01'"
                    )
                ).scalar_one()
                assert cleared > 0
                assert (
                    conn.execute(
                        text("SELECT count(*) FROM land_release_pending")
                    ).scalar()
                    == 0
                )
            migrate.downgrade(url, "0018")
            with engine.connect() as conn:
                assert (
                    conn.execute(
                        text("SELECT to_regclass('land_release_segments')")
                    ).scalar()
                    is None
                )
        finally:
            engine.dispose()

"""The land-release summary: every grouping balances and adds up to the totals."""

import pytest
from shapely.geometry import box

from tests.factories import activity_body, hazard_feature, make_admin_area, release

TOL = 0.05


@pytest.fixture
def programme(client, actors, session):
    """Two admin1 areas, three hazards, releases by two methods in two months."""
    make_admin_area(session, "ZZ10", box(29.0, 49.0, 30.5, 51.0), 1, name="West")
    make_admin_area(session, "ZZ20", box(30.5, 49.0, 32.0, 51.0), 1, name="East")
    h = actors.coordinator_a.headers
    ids = []
    for i, (lon, contamination) in enumerate(
        [(30.0, ["ap_mine"]), (31.0, ["cmr", "uxo"]), (31.2, [])]
    ):
        r = client.post(
            "/api/v1/hazards",
            json=hazard_feature(
                box(lon, 50.0, lon + 0.01, 50.01),
                actors.org_a,
                name=f"h{i}",
                contamination=contamination,
            ),
            headers=h,
        )
        ids.append(r.json()["id"])
    client.post(
        "/api/v1/activities",
        json=activity_body(
            actors.org_a,
            [ids[0]],
            [release(box(30.0, 50.0, 30.005, 50.01), "cleared", "2024-05-10")],
            methods=["manual"],
        ),
        headers=h,
    )
    client.post(
        "/api/v1/activities",
        json=activity_body(
            actors.org_a,
            [ids[1]],
            [
                release(box(31.0, 50.0, 31.002, 50.01), "reduced", "2024-06-10"),
                release(box(31.0, 50.0, 31.004, 50.01), "cancelled", "2024-06-11"),
            ],
            methods=["manual", "mechanical"],
            activity_type="technical_survey",
        ),
        headers=h,
    )
    return ids


def summary(client, actors, **params):
    r = client.get(
        "/api/v1/land-release/summary",
        params={"organisation": actors.org_a, **params},
        headers=actors.analyst_a.headers,
    )
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("group_by", ["admin1", "organisation", "method", "month"])
def test_rows_balance_and_add_up_to_totals(client, actors, programme, group_by):
    body = summary(client, actors, group_by=group_by)
    rows, totals = body["rows"], body["totals"]
    for row in rows:
        assert (
            abs(
                row["released_area_m2"]
                + row["remaining_area_m2"]
                - row["baseline_area_m2"]
            )
            <= TOL
        )
        assert (
            abs(
                row["cancelled_area_m2"]
                + row["reduced_area_m2"]
                + row["cleared_area_m2"]
                - row["released_area_m2"]
            )
            <= TOL
        )
    for key in (
        "baseline_area_m2",
        "released_area_m2",
        "remaining_area_m2",
        "cleared_area_m2",
        "reduced_area_m2",
        "cancelled_area_m2",
    ):
        assert sum(r[key] for r in rows) == pytest.approx(totals[key], abs=TOL)
    assert totals["hazard_count"] == 3


def test_admin1_rows_are_labelled(client, actors, programme):
    rows = summary(client, actors, group_by="admin1")["rows"]
    assert [(r["key"], r["label"], r["hazard_count"]) for r in rows] == [
        ("ZZ10", "West", 1),
        ("ZZ20", "East", 2),
    ]


def test_method_and_month_rows(client, actors, programme):
    methods = {r["key"]: r for r in summary(client, actors, group_by="method")["rows"]}
    assert set(methods) == {"manual", "combined", None}
    assert (
        methods["combined"]["reduced_area_m2"] > 0
        and methods["manual"]["cleared_area_m2"] > 0
    )
    assert methods[None]["label"] == "Not yet released"
    months = {r["key"]: r for r in summary(client, actors, group_by="month")["rows"]}
    assert set(months) == {"2024-05", "2024-06", None}
    assert months["2024-06"]["label"] == "June 2024"


def test_contamination_rows_overlap_and_label_in_ukrainian(client, actors, programme):
    r = client.get(
        "/api/v1/land-release/summary",
        params={"group_by": "contamination", "organisation": actors.org_a},
        headers={**actors.analyst_a.headers, "Accept-Language": "uk-UA,uk;q=0.9"},
    )
    rows = {row["key"]: row for row in r.json()["rows"]}
    assert set(rows) == {"ap_mine", "cmr", "uxo", None}
    assert rows["ap_mine"]["label"] == "Протипіхотні міни"
    assert rows["cmr"]["baseline_area_m2"] == rows["uxo"]["baseline_area_m2"]


def test_as_of_summary_uses_history(client, actors, programme):
    before = summary(client, actors, group_by="organisation", as_of="2024-05-31")[
        "totals"
    ]
    now = summary(client, actors, group_by="organisation")["totals"]
    assert before["cleared_area_m2"] == pytest.approx(now["cleared_area_m2"], rel=1e-9)
    assert before["reduced_area_m2"] == 0 and now["reduced_area_m2"] > 0
    assert before["remaining_area_m2"] > now["remaining_area_m2"]
    assert (
        summary(client, actors, group_by="organisation", as_of="2020-01-01")["totals"][
            "hazard_count"
        ]
        == 0
    )


def test_unknown_group_by_is_a_problem(client, actors):
    r = client.get(
        "/api/v1/land-release/summary",
        params={"group_by": "colour"},
        headers=actors.analyst_a.headers,
    )
    assert r.status_code == 422

"""Analytics: the land-release burn-down as known on each month end, and EO find counts."""

import pytest
from shapely.geometry import box, mapping

from tests.factories import (
    activity_body,
    geod_area,
    hazard_feature,
    make_admin_area,
    release,
)
from tests.helpers import assert_problem

REL = 1e-4  # the platform measures straight lon/lat edges, pyproj geodesic ones
TOL = 1e-6

H1_JAN = box(30.0, 50.0, 30.01, 50.01)
H1_MAR = box(30.0, 50.0, 30.02, 50.01)  # re-surveyed in March: twice as wide
H2 = box(30.1, 50.0, 30.11, 50.01)
CLEARED_FEB = box(30.0, 50.0, 30.005, 50.01)  # on H1, dated 2024-02-10
REDUCED_APR = box(30.015, 50.0, 30.02, 50.01)  # on H1's March extent, dated 2024-04-20
CANCELLED_APR = box(30.1, 50.0, 30.103, 50.01)  # on H2, dated 2024-04-05
MONTH_ENDS = [
    "2023-12-31",
    "2024-01-31",
    "2024-02-29",
    "2024-03-31",
    "2024-04-30",
    "2024-05-31",
]


@pytest.fixture
def history(client, actors, session):
    """H1 (org A, AP mines) known from January, widened in March; H2 (org B, CMR) from
    January; a clearance in February and a reduction in April on H1, a cancellation in April
    on H2."""
    make_admin_area(session, "ZZ91", box(29.9, 49.9, 30.05, 50.1), 1, name="West")
    make_admin_area(session, "ZZ92", box(30.05, 49.9, 30.2, 50.1), 1, name="East")
    ha, hb = actors.coordinator_a.headers, actors.coordinator_b.headers
    h1 = client.post(
        "/api/v1/hazards",
        json=hazard_feature(
            H1_JAN, actors.org_a, date_of_information="2024-01-10", name="h1"
        ),
        headers=ha,
    )
    assert h1.status_code == 201, h1.text
    h1 = h1.json()["id"]
    h2 = client.post(
        "/api/v1/hazards",
        json=hazard_feature(
            H2,
            actors.org_b,
            date_of_information="2024-01-20",
            contamination=["cmr"],
            name="h2",
        ),
        headers=hb,
    )
    assert h2.status_code == 201, h2.text
    h2 = h2.json()["id"]
    r = client.patch(
        f"/api/v1/hazards/{h1}",
        json={
            "geometry": mapping(H1_MAR),
            "properties": {"date_of_information": "2024-03-15"},
        },
        headers={**ha, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    for headers, body in [
        (
            ha,
            activity_body(
                actors.org_a,
                [h1],
                [release(CLEARED_FEB, "cleared", "2024-02-10")],
                start_date="2024-02-01",
                end_date="2024-02-10",
                methods=["manual"],
            ),
        ),
        (
            ha,
            activity_body(
                actors.org_a,
                [h1],
                [release(REDUCED_APR, "reduced", "2024-04-20")],
                activity_type="technical_survey",
                start_date="2024-04-15",
                end_date="2024-04-20",
                methods=["mechanical"],
            ),
        ),
        (
            hb,
            activity_body(
                actors.org_b,
                [h2],
                [release(CANCELLED_APR, "cancelled", "2024-04-05")],
                activity_type="non_technical_survey",
                start_date="2024-04-01",
                end_date="2024-04-05",
                methods=["manual"],
            ),
        ),
    ]:
        r = client.post("/api/v1/activities", json=body, headers=headers)
        assert r.status_code == 201, r.text
    return h1, h2


def burndown(client, actors, **params):
    r = client.get(
        "/api/v1/land-release/burndown",
        params={"from": "2023-12", "to": "2024-05", **params},
        headers=actors.analyst_a.headers,
    )
    assert r.status_code == 200, r.text
    return r.json()


def expected_h1() -> dict[str, dict[str, float]]:
    """H1's figures on each month end, from pyproj areas of the hand-drawn geometries."""
    jan, mar = geod_area(H1_JAN), geod_area(H1_MAR)
    cleared, reduced = geod_area(CLEARED_FEB), geod_area(REDUCED_APR)
    zero = dict.fromkeys(("baseline", "cancelled", "reduced", "cleared"), 0.0)
    return {
        "2023-12-31": {**zero, "count": 0},
        "2024-01-31": {**zero, "baseline": jan, "count": 1},
        "2024-02-29": {**zero, "baseline": jan, "cleared": cleared, "count": 1},
        "2024-03-31": {**zero, "baseline": mar, "cleared": cleared, "count": 1},
        "2024-04-30": {
            **zero,
            "baseline": mar,
            "cleared": cleared,
            "reduced": reduced,
            "count": 1,
        },
        "2024-05-31": {
            **zero,
            "baseline": mar,
            "cleared": cleared,
            "reduced": reduced,
            "count": 1,
        },
    }


def expected_h2() -> dict[str, dict[str, float]]:
    """H2's figures on each month end."""
    area, cancelled = geod_area(H2), geod_area(CANCELLED_APR)
    zero = dict.fromkeys(("baseline", "cancelled", "reduced", "cleared"), 0.0)
    out = {"2023-12-31": {**zero, "count": 0}}
    for d in MONTH_ENDS[1:]:
        out[d] = {**zero, "baseline": area, "count": 1}
        if d >= "2024-04-30":
            out[d]["cancelled"] = cancelled
    return out


def assert_points(points, expected):
    assert [p["date"] for p in points] == MONTH_ENDS
    for p in points:
        e = expected[p["date"]]
        released = e["cancelled"] + e["reduced"] + e["cleared"]
        assert p["hazard_count"] == e["count"], p["date"]
        for field, value in [
            ("baseline_area_m2", e["baseline"]),
            ("cancelled_area_m2", e["cancelled"]),
            ("reduced_area_m2", e["reduced"]),
            ("cleared_area_m2", e["cleared"]),
            ("released_area_m2", released),
            ("remaining_area_m2", e["baseline"] - released),
        ]:
            assert p[field] == pytest.approx(value, rel=REL, abs=TOL), (
                p["date"],
                field,
            )


def test_burndown_uses_what_was_known_on_each_month_end(client, actors, history):
    body = burndown(client, actors, organisation=actors.org_a)
    assert body["group_by"] is None
    [series] = body["series"]
    assert series["key"] == "all"
    assert_points(series["points"], expected_h1())
    # the March re-survey shows in March, not before: the history, not today's geometry
    points = {p["date"]: p for p in series["points"]}
    assert points["2024-03-31"]["baseline_area_m2"] == pytest.approx(
        2 * points["2024-02-29"]["baseline_area_m2"], rel=1e-3
    )


def test_burndown_by_organisation_and_contamination(client, actors, history):
    by_org = {
        s["key"]: s for s in burndown(client, actors, group_by="organisation")["series"]
    }
    assert {actors.org_a, actors.org_b} <= set(by_org)
    assert by_org[actors.org_a]["label"] == f"Org {actors.org_a}"
    assert_points(by_org[actors.org_a]["points"], expected_h1())
    assert_points(by_org[actors.org_b]["points"], expected_h2())

    by_type = {
        s["key"]: s
        for s in burndown(
            client, actors, group_by="contamination", organisation=actors.org_a
        )["series"]
    }
    assert set(by_type) == {"ap_mine"}
    assert_points(by_type["ap_mine"]["points"], expected_h1())
    by_type = {
        s["key"]: s
        for s in burndown(
            client, actors, group_by="contamination", organisation=actors.org_b
        )["series"]
    }
    assert set(by_type) == {"cmr"}
    assert_points(by_type["cmr"]["points"], expected_h2())


@pytest.mark.parametrize(
    "group_by", [None, "organisation", "contamination", "admin1", "admin2", "method"]
)
def test_each_point_equals_the_summary_as_of_that_date(
    client, actors, history, group_by
):
    params = {"group_by": group_by} if group_by else {}
    series = burndown(client, actors, **params)["series"]
    for i, as_of in enumerate(MONTH_ENDS):
        r = client.get(
            "/api/v1/land-release/summary",
            params={"as_of": as_of, "group_by": group_by or "organisation"},
            headers=actors.analyst_a.headers,
        )
        assert r.status_code == 200, r.text
        summary = r.json()
        rows = (
            {"all": summary["totals"]}
            if group_by is None
            else {row["key"]: row for row in summary["rows"]}
        )
        points = {s["key"]: s["points"][i] for s in series}
        assert set(rows) <= set(points), as_of
        for key, point in points.items():
            assert point["date"] == as_of
            row = rows.get(key)
            if row is None:  # a group with no hazards yet on that date
                assert point["hazard_count"] == 0 and point["baseline_area_m2"] == 0
                continue
            assert point["hazard_count"] == row["hazard_count"], (as_of, key)
            for field in (
                "baseline_area_m2",
                "cancelled_area_m2",
                "reduced_area_m2",
                "cleared_area_m2",
                "released_area_m2",
                "remaining_area_m2",
            ):
                assert point[field] == pytest.approx(row[field], rel=1e-9, abs=1e-6), (
                    as_of,
                    key,
                    field,
                )


def test_burndown_by_method_partitions_the_baseline(client, actors, history):
    series = {
        s["key"]: s
        for s in burndown(client, actors, group_by="method", organisation=actors.org_a)[
            "series"
        ]
    }
    assert set(series) == {"manual", "mechanical", None}
    april = {k: s["points"][4] for k, s in series.items()}
    assert april["manual"]["cleared_area_m2"] == pytest.approx(
        geod_area(CLEARED_FEB), rel=REL
    )
    assert april["mechanical"]["reduced_area_m2"] == pytest.approx(
        geod_area(REDUCED_APR), rel=REL
    )
    assert sum(p["baseline_area_m2"] for p in april.values()) == pytest.approx(
        geod_area(H1_MAR), rel=REL
    )
    assert series[None]["label"] == "Not yet released"


@pytest.mark.parametrize(
    "params, parameter",
    [
        ({"from": "2024-13", "to": "2024-05"}, "from"),
        ({"from": "2024-01-05", "to": "2024-05"}, "from"),
        ({"from": "2024-01", "to": "May"}, "to"),
        ({"from": "2024-05", "to": "2024-01"}, "to"),
        ({"from": "2010-01", "to": "2020-01"}, "to"),  # 121 months
    ],
)
def test_burndown_rejects_bad_ranges(client, actors, params, parameter):
    r = client.get(
        "/api/v1/land-release/burndown", params=params, headers=actors.analyst_a.headers
    )
    body = assert_problem(r, 400)
    assert body["errors"][0]["parameter"] == parameter


def test_burndown_accepts_120_months_and_needs_sign_in(client, actors):
    r = client.get(
        "/api/v1/land-release/burndown",
        params={"from": "2010-01", "to": "2019-12"},
        headers=actors.eore_a.headers,
    )
    assert r.status_code == 200, r.text
    points = r.json()["series"][0]["points"]
    assert len(points) == 120
    assert points[0]["date"] == "2010-01-31" and points[-1]["date"] == "2019-12-31"
    assert_problem(
        client.get(
            "/api/v1/land-release/burndown", params={"from": "2024-01", "to": "2024-02"}
        ),
        401,
    )


def find(hazard_id, category, quantity, found_on, lon=30.1, lat=50.005):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "eo_category": category,
            "quantity": quantity,
            "condition": "intact",
            "found_on": found_on,
            "hazard_id": hazard_id,
        },
    }


@pytest.fixture
def finds(client, actors, history):
    h1, h2 = history
    for hazard, category, quantity, found_on, headers in [
        (h1, "ap_mine", 3, "2024-02-05", actors.coordinator_a.headers),
        (h1, "ap_mine", 2, "2024-04-18", actors.coordinator_a.headers),
        (h1, "uxo", 1, "2024-04-19", actors.coordinator_a.headers),
        (h2, "cmr", 40, "2024-04-03", actors.coordinator_b.headers),
    ]:
        lon = 30.002 if hazard == h1 else 30.101
        r = client.post(
            "/api/v1/eo-finds",
            json=find(hazard, category, quantity, found_on, lon=lon),
            headers=headers,
        )
        assert r.status_code == 201, r.text


def eo_counts(client, actors, **params):
    r = client.get(
        "/api/v1/analytics/eo-finds", params=params, headers=actors.analyst_a.headers
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_eo_finds_counted_by_category_with_quantities(client, actors, finds):
    body = eo_counts(client, actors, organisation=actors.org_a)
    rows = {r["key"]: r for r in body["rows"]}
    assert {k: (r["find_count"], r["item_count"]) for k, r in rows.items()} == {
        "ap_mine": (2, 5),
        "uxo": (1, 1),
    }
    assert rows["ap_mine"]["label"] and rows["ap_mine"]["label"] != "ap_mine"
    assert body["totals"] == {"find_count": 3, "item_count": 6}
    text = str(body)
    assert "coordinates" not in text and "30.002" not in text and "50.005" not in text


def test_eo_finds_by_month_organisation_and_admin1_within_dates(client, actors, finds):
    months = eo_counts(
        client, actors, group_by="month", **{"from": "2024-03-01", "to": "2024-04-30"}
    )
    rows = {r["key"]: (r["find_count"], r["item_count"]) for r in months["rows"]}
    assert rows["2024-04"][0] >= 3 and "2024-02" not in rows
    by_org = {
        r["key"]: (r["find_count"], r["item_count"])
        for r in eo_counts(client, actors, group_by="organisation")["rows"]
    }
    assert by_org[actors.org_a] == (3, 6) and by_org[actors.org_b] == (1, 40)
    by_area = {
        r["key"]: r
        for r in eo_counts(
            client, actors, group_by="admin1", organisation=actors.org_a
        )["rows"]
    }
    assert set(by_area) == {"ZZ91"} and by_area["ZZ91"]["label"] == "West"
    assert by_area["ZZ91"]["item_count"] == 6
    org_b = eo_counts(client, actors, group_by="admin1", organisation=actors.org_b)
    assert [(r["key"], r["item_count"]) for r in org_b["rows"]] == [("ZZ92", 40)]


@pytest.mark.parametrize(
    "params, status",
    [
        ({"from": "2024-02-30"}, 400),
        ({"to": "yesterday"}, 400),
        ({"from": "2024-05-01", "to": "2024-04-01"}, 400),
        ({"group_by": "colour"}, 422),
    ],
)
def test_eo_finds_rejects_bad_parameters(client, actors, params, status):
    r = client.get(
        "/api/v1/analytics/eo-finds", params=params, headers=actors.analyst_a.headers
    )
    assert_problem(r, status)


def test_eo_finds_need_sign_in(client):
    assert_problem(client.get("/api/v1/analytics/eo-finds"), 401)

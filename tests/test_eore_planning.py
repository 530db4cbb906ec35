"""The EORE planning view: exposed settlements not reached lately, ranked by population."""

import csv
import io
import uuid
from datetime import date, timedelta

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point, box

from api.db.models import Settlement
from api.services.eore import _months_before
from tests.factories import make_activity, make_admin_area, make_hazard, release
from tests.helpers import assert_problem

URL = "/api/v1/eore-sessions/planning"
LON, LAT = 30.50, 50.40  # Kyiv oblast
M_LAT, M_LON = 111_250.0, 70_960.0  # metres per degree of latitude and longitude here


def at(east_m: float, north_m: float, lon: float = LON) -> tuple[float, float]:
    """The lon/lat this many metres east and north of (lon, LAT)."""
    return lon + east_m / M_LON, LAT + north_m / M_LAT


def settle(session, name, where, population):
    row = Settlement(
        external_id=f"S-{uuid.uuid4().hex[:8]}",
        name=name,
        population=population,
        geom=from_shape(Point(*where), srid=4326),
    )
    session.add(row)
    session.flush()
    return str(row.id)


def days_ago(n: int) -> str:
    return (date.today() - timedelta(days=n)).isoformat()


def accident(client, actors, where, occurred_on):
    r = client.post(
        "/api/v1/accidents",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(where)},
            "properties": {
                "occurred_on": occurred_on,
                "accident_class": "mine_erw_accident",
            },
        },
        headers=actors.coordinator_a.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def eore_session(client, actors, *, where=None, days=30, **props):
    body = {
        "type": "Feature",
        "geometry": None
        if where is None
        else {"type": "Point", "coordinates": list(where)},
        "properties": {
            "session_date": days_ago(days),
            "delivery_method": "interpersonal",
            "audience": "general_community",
            **props,
        },
    }
    r = client.post("/api/v1/eore-sessions", json=body, headers=actors.eore_a.headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture
def world(session, settings, client, actors):
    """An open hazard (a 200 m square) at (LON, LAT) with settlements around it, apart
    enough that a session near one is more than 2 km from every other."""
    make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        box(*at(-100, -100), *at(100, 100)),
        actors.org_a,
        external_id="HZ-PLAN",
    )
    closed = at(0, 0, lon=LON + 0.6)
    closed_area = box(
        closed[0] - 0.001, closed[1] - 0.001, closed[0] + 0.001, closed[1] + 0.001
    )
    closed_id = make_hazard(
        session, settings, actors.coordinator_a.principal, closed_area, actors.org_a
    )
    make_activity(  # cleared completely: the hazard is closed and exposes nobody
        session,
        settings,
        actors.coordinator_a.principal,
        actors.org_a,
        [closed_id],
        [release(closed_area, "cleared")],
    )
    s = {
        "near_small": settle(session, "Near small", at(0, 1000), 5_000),
        "near_big": settle(session, "Near big", at(0, -3000), 20_000),
        "far_huge": settle(session, "Far huge", at(0, 8000), 100_000),
        "reached": settle(session, "Reached", at(4000, 0), 50_000),
        "unknown_pop": settle(session, "Unknown population", at(-2500, 0), None),
        "old_session": settle(session, "Old session", at(-3000, -3000), 7_000),
        "by_closed": settle(session, "By a closed hazard", closed, 900_000),
    }
    # settlements exposed by accidents only (0.3° east, about 21 km from the hazard)
    east = LON + 0.3
    accident(client, actors, at(0, 0, lon=east), days_ago(60))
    s["recent_accident"] = settle(
        session, "Recent accident", at(0, 1000, lon=east), 800
    )
    accident(client, actors, at(0, 40_000, lon=east), days_ago(800))
    s["old_accident"] = settle(session, "Old accident", at(0, 40_500, lon=east), 60_000)
    # a session 300 m from "Reached" a month ago; one 300 m from "Old session" 9 months ago
    eore_session(client, actors, where=at(4300, 0), days=30)
    eore_session(client, actors, where=at(-3000, -3300), days=270)
    return s


def names(body):
    return [row["name"] for row in body["items"]]


def test_planning_ranks_by_population_and_skips_reached(client, actors, world):
    r = client.get(URL, headers=actors.analyst_a.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert names(body) == [
        "Near big",
        "Old session",
        "Near small",
        "Recent accident",
        "Unknown population",
    ]
    assert body["numberMatched"] == 5
    assert [row["rank"] for row in body["items"]] == [1, 2, 3, 4, 5]
    first = body["items"][0]
    assert first["open_hazards"] == 1 and first["recent_accidents"] == 0
    # 3000 m from the hazard's centre, less its half height (100 m)
    assert 2850 < first["nearest_hazard_m"] < 2950
    assert first["population"] == 20_000
    assert first["lon"] == pytest.approx(LON) and first["last_session_on"] is None
    recent = next(i for i in body["items"] if i["name"] == "Recent accident")
    assert recent["recent_accidents"] == 1 and recent["open_hazards"] == 0
    # analysts get a band, never metres (accident locations are restricted)
    assert recent["nearest_accident_m"] is None
    assert recent["nearest_accident_band"] in ("< 1 km", "1–5 km")
    exact = client.get(URL, headers=actors.coordinator_a.headers).json()["items"]
    recent = next(i for i in exact if i["name"] == "Recent accident")
    assert 900 < recent["nearest_accident_m"] < 1100
    params = body["parameters"]
    assert params["distance_m"] == 5000 and params["eore_months"] == 6
    assert params["accident_months"] == 12


def test_planning_parameters(client, actors, world):
    def run(**params):
        r = client.get(URL, params=params, headers=actors.analyst_a.headers)
        assert r.status_code == 200, r.text
        return names(r.json())

    # a wider distance takes in the far settlement, at the top by population
    assert run(distance_m=10_000)[0] == "Far huge"
    # a narrower one keeps only the closest
    assert run(distance_m=1500) == ["Near small", "Recent accident"]
    # sessions of the last 12 months count: "Old session" is reached then
    assert "Old session" not in run(eore_months=12)
    # accidents of the last 36 months count: the old accident's settlement is listed
    assert run(accident_months=36)[0] == "Old accident"
    # a session's reach shorter than its distance from "Reached" (300 m)
    assert "Reached" in run(reach_m=200)
    assert run(min_population=6000) == ["Near big", "Old session"]
    assert run(limit=2, offset=1) == ["Old session", "Near small"]
    past = client.get(URL, params={"offset": 50}, headers=actors.analyst_a.headers)
    assert past.json()["items"] == [] and past.json()["numberMatched"] == 5


def test_sessions_reach_by_settlement_area_or_link(client, session, actors, world):
    # a session naming the settlement
    far_away = at(0, 0, lon=LON + 1)
    eore_session(client, actors, where=far_away, settlement_id=world["near_small"])
    # a session not safe to record, in an area containing "Near big"
    pcode = make_admin_area(
        session,
        "UA32PLAN",
        box(*at(-200, -3200), *at(200, -2800)),
        3,
    )
    eore_session(client, actors, location_safe_to_record=False, admin=pcode)
    r = client.get(URL, headers=actors.analyst_a.headers)
    assert names(r.json()) == ["Old session", "Recent accident", "Unknown population"]
    # a session linked to the hazard reaches every settlement that hazard exposes, wherever
    # it was held (inside the programme: an area around the far-away place)
    lon, lat = far_away
    make_admin_area(
        session, "UA32FAR", box(lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01), 3
    )
    eore_session(client, actors, where=far_away, hazard_ids=["HZ-PLAN"])
    r = client.get(URL, headers=actors.analyst_a.headers)
    assert names(r.json()) == ["Recent accident"]


def test_planning_as_csv(client, actors, world):
    r = client.get(URL, params={"f": "csv"}, headers=actors.eore_a.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "eore-planning.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row["name"] for row in rows][:2] == ["Near big", "Old session"]
    assert rows[0]["rank"] == "1" and rows[0]["population"] == "20000"
    assert rows[-1]["population"] == ""


def test_planning_neutralises_formulas_in_csv(client, session, actors, world):
    settle(session, '=HYPERLINK("http://x")', at(0, 500), 1_000_000)
    r = client.get(URL, params={"f": "csv"}, headers=actors.eore_a.headers)
    first = next(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert first["name"].startswith("'=")


def test_planning_needs_a_signed_in_caller_and_valid_parameters(client, actors):
    assert_problem(client.get(URL), 401)
    for params in ({"distance_m": 10}, {"eore_months": 0}, {"f": "xlsx"}):
        body = assert_problem(
            client.get(URL, params=params, headers=actors.analyst_a.headers), 422
        )
        assert body["errors"][0]["parameter"] == next(iter(params))


def test_months_before_clamps_to_the_month_end():
    assert _months_before(date(2024, 8, 31), 6) == date(2024, 2, 29)
    assert _months_before(date(2024, 3, 15), 12) == date(2023, 3, 15)
    assert _months_before(date(2024, 1, 10), 1) == date(2023, 12, 10)


@pytest.mark.usefixtures("world")
def test_eore_planning_pages_by_cursor_with_ranks(client, actors):
    url = URL
    h = actors.analyst_a.headers
    whole = client.get(url, headers=h).json()
    rows, nxt = [], f"{url}?limit=2"
    while nxt:
        body = client.get(nxt, headers=h).json()
        assert body["numberMatched"] == whole["numberMatched"]
        rows += body["items"]
        nxt = next((lk["href"] for lk in body["links"] if lk["rel"] == "next"), None)
        assert nxt is None or "cursor=" in nxt
    assert [(r["id"], r["rank"]) for r in rows] == [
        (r["id"], r["rank"]) for r in whole["items"]
    ]

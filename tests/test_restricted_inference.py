"""Restricted locations cannot be inferred through filters, counts or distances.

Callers who may not see exact EO-find, accident and hazard-report points
(``auth.sees_exact_locations``: no admin or coordinator role, no ``restricted:read``) see them
snapped to the 0.01° grid. Here an attacker with such an account (an analyst, and an API key)
tries the side doors: halving a ``bbox`` again and again while ``numberMatched`` stays above
zero, an administrative area drawn across a grid cell, and the EORE planning view's distances
(its ``distance_m`` knob, and the nearest accident in metres from several settlements). Each
time they get to the snapped point and no closer; with ``restricted:read`` the same moves
reach the exact point.
"""

import csv
import io
import uuid
from datetime import date, timedelta

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point, box
from sqlalchemy import text

from api.db.models import Settlement
from api.services import accidents, auth
from api.vocab import Role
from tests.factories import hazard_feature, make_admin_area

# Exact points, each 0.0037° (300-400 m) off its grid point in both axes.
FIND = (22.4537, 47.1863)
ACCIDENT = (22.5337, 47.1063)
REPORT = (22.6137, 47.2263)
PLANNING = "/api/v1/eore-sessions/planning"
STEPS = 40  # 20 halvings per axis: a box about 1e-6° (0.1 m) wide


def snapped(point: tuple[float, float]) -> tuple[float, float]:
    return round(point[0], 2), round(point[1], 2)


@pytest.fixture
def world(client, actors, session):
    """An EO find, an accident and a hazard-report point of organisation A, and API keys
    of analysts with and without ``restricted:read``."""
    coord = actors.coordinator_a.headers
    hazard = client.post(
        "/api/v1/hazards",
        json=hazard_feature(
            box(FIND[0] - 0.0005, FIND[1] - 0.0005, FIND[0] + 0.0005, FIND[1] + 0.0005),
            actors.org_a,
        ),
        headers=coord,
    )
    assert hazard.status_code == 201, hazard.text
    posts = {
        "/api/v1/eo-finds": {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(FIND)},
            "properties": {
                "eo_category": "ap_mine",
                "quantity": 1,
                "found_on": "2024-06-12",
                "hazard_id": hazard.json()["id"],
            },
        },
        "/api/v1/accidents": {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(ACCIDENT)},
            "properties": {
                "occurred_on": (date.today() - timedelta(days=30)).isoformat(),
                "accident_class": "mine_erw_accident",
                "killed": 0,
                "injured": 1,
            },
        },
        "/api/v1/hazard-reports": {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(REPORT)},
            "properties": {
                "source": "hotline",
                "reported_on": "2024-05-17",
                "contamination": ["uxo"],
            },
        },
    }
    for path, body in posts.items():
        r = client.post(path, json=body, headers=coord)
        assert r.status_code == 201, r.text
    key_without, _ = auth.create_api_key(
        session, organisation_code=actors.org_a, name="plain", role=Role.analyst
    )
    key_with, _ = auth.create_api_key(
        session,
        organisation_code=actors.org_a,
        name="restricted",
        role=Role.analyst,
        restricted=True,
    )
    return {
        "without": {
            "analyst": actors.analyst_a.headers,
            "key": {"X-API-Key": key_without},
        },
        "with": {
            "analyst_restricted": actors.analyst_restricted.headers,
            "key_restricted": {"X-API-Key": key_with},
        },
    }


def matched(client, path, headers, org, bbox) -> int:
    r = client.get(
        path,
        params={
            "bbox": ",".join(repr(v) for v in bbox),
            "organisation": org,
            "limit": 1,
        },
        headers=headers,
    )
    assert r.status_code == 200, r.text
    return r.json()["numberMatched"]


def bisect(client, path, headers, org, around) -> tuple[float, ...]:
    """The attack: from a 1° box, keep whichever half still matches, alternating axes."""
    bbox = (around[0] - 0.5, around[1] - 0.5, around[0] + 0.5, around[1] + 0.5)
    assert matched(client, path, headers, org, bbox) == 1
    for step in range(STEPS):
        x0, y0, x1, y1 = bbox
        if step % 2 == 0:
            mid = (x0 + x1) / 2
            lower, upper = (x0, y0, mid, y1), (mid, y0, x1, y1)
        else:
            mid = (y0 + y1) / 2
            lower, upper = (x0, y0, x1, mid), (x0, mid, x1, y1)
        if matched(client, path, headers, org, lower) > 0:
            bbox = lower
        else:
            assert matched(client, path, headers, org, upper) > 0, (path, step)
            bbox = upper
    return bbox


def centre(bbox) -> tuple[float, float]:
    return (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2


def holds(bbox, point, slack: float = 1e-5) -> bool:
    """Whether ``point`` lies in ``bbox`` give or take ``slack`` (about 1 m): PostGIS tests
    boxes in single precision, rounded outward, about 2e-6° at these longitudes."""
    return (
        bbox[0] - slack <= point[0] <= bbox[2] + slack
        and bbox[1] - slack <= point[1] <= bbox[3] + slack
    )


@pytest.mark.parametrize(
    "path, exact",
    [
        ("/api/v1/eo-finds", FIND),
        ("/api/v1/accidents", ACCIDENT),
        ("/api/v1/hazard-reports", REPORT),
    ],
)
def test_bbox_bisection_finds_the_grid_point_not_the_exact_one(
    client, actors, world, path, exact
):
    grid = snapped(exact)
    for who, headers in world["without"].items():
        bbox = bisect(client, path, headers, actors.org_a, exact)
        # the box has shrunk onto the point the caller is shown, and excludes the real one
        assert bbox[2] - bbox[0] < 1e-5 and bbox[3] - bbox[1] < 1e-5
        assert holds(bbox, grid), (path, who, bbox)
        assert not holds(bbox, exact), (path, who, bbox)
        assert abs(centre(bbox)[0] - exact[0]) > 0.003, (path, who)
        # and what the list returns is that grid point
        r = client.get(
            path,
            params={"bbox": ",".join(map(repr, bbox)), "organisation": actors.org_a},
            headers=headers,
        )
        (feature,) = r.json()["features"]
        assert feature["geometry"]["coordinates"] == pytest.approx(list(grid))
        assert feature["properties"]["location_precision"] == "generalised_0.01deg"
    for who, headers in world["with"].items():
        bbox = bisect(client, path, headers, actors.org_a, exact)
        assert holds(bbox, exact), (path, who, bbox)
        assert not holds(bbox, grid), (path, who, bbox)


def test_a_box_around_the_exact_point_alone_matches_nothing_without_the_right(
    client, actors, world
):
    """A box 0.002° wide around the exact point, away from the grid point: the count that
    would confirm a guess is 0 without the right, 1 with it."""
    for path, exact in (
        ("/api/v1/eo-finds", FIND),
        ("/api/v1/accidents", ACCIDENT),
        ("/api/v1/hazard-reports", REPORT),
    ):
        guess = (exact[0] - 0.001, exact[1] - 0.001, exact[0] + 0.001, exact[1] + 0.001)
        for headers in world["without"].values():
            assert matched(client, path, headers, actors.org_a, guess) == 0, path
        for headers in world["with"].values():
            assert matched(client, path, headers, actors.org_a, guess) == 1, path
        assert matched(client, path, actors.coordinator_b.headers, actors.org_a, guess)


def test_admin_filter_of_accidents_uses_the_point_shown(session, actors, world):
    """An area holding the exact accident but not its grid point (as a boundary crossing
    the cell would) does not tell which side of the boundary the accident lies. The
    ``admin`` filter of ``AccidentFilters`` also serves the casualty figures."""
    pcode = "XX" + uuid.uuid4().hex[:6].upper()
    x, y = ACCIDENT
    make_admin_area(session, pcode, box(x - 0.001, y - 0.001, x + 0.001, y + 0.001), 3)
    filters = accidents.AccidentFilters(admin=pcode, organisation=actors.org_a)

    def count(user) -> int:
        return accidents.search_accidents(
            session, principal=user.principal, filters=filters, limit=10, offset=0
        )[1]

    assert count(actors.analyst_a) == 0
    assert count(actors.analyst_restricted) == 1
    assert count(actors.coordinator_b) == 1
    assert filters.params()["exact"] is False  # unless told, the snapped point


# --- the planning view: distances from settlements to a recent accident ----------------------


def settle(session, name, where) -> str:
    row = Settlement(
        external_id=f"S-{uuid.uuid4().hex[:8]}",
        name=name,
        population=1000,
        geom=from_shape(Point(*where), srid=4326),
    )
    session.add(row)
    session.flush()
    return str(row.id)


@pytest.fixture
def settlements(session, world):
    """Three settlements 1.5-4 km from the accident: trilateration would place it."""
    return [
        settle(session, "West", (ACCIDENT[0] - 0.03, ACCIDENT[1])),
        settle(session, "North", (ACCIDENT[0], ACCIDENT[1] + 0.02)),
        settle(session, "South-east", (ACCIDENT[0] + 0.02, ACCIDENT[1] - 0.015)),
    ]


def planning_rows(client, headers, **params) -> dict[str, dict]:
    r = client.get(PLANNING, params={"limit": 1000, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return {row["id"]: row for row in r.json()["items"]}


def test_planning_gives_a_band_not_metres_without_the_right(
    client, actors, world, settlements
):
    for headers in world["without"].values():
        rows = planning_rows(client, headers)
        assert set(settlements) <= set(rows)
        for sid in settlements:
            assert rows[sid]["nearest_accident_m"] is None
            assert rows[sid]["nearest_accident_band"] == "1–5 km"
            assert rows[sid]["recent_accidents"] == 1
        r = client.get(PLANNING, params={"f": "csv"}, headers=headers)
        assert r.status_code == 200, r.text
        table = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
        ours = [row for row in table if row["id"] in settlements]
        assert len(ours) == 3
        assert all(row["nearest_accident_m"] == "" for row in ours)
        assert all(row["nearest_accident_band"] == "1–5 km" for row in ours)
    for headers in [*world["with"].values(), actors.coordinator_b.headers]:
        rows = planning_rows(client, headers)
        for sid in settlements:
            assert 1000 < rows[sid]["nearest_accident_m"] < 5000
            assert rows[sid]["nearest_accident_band"] == "1–5 km"


def test_planning_distance_bisection_reaches_the_grid_point_only(
    client, session, actors, world
):
    """``distance_m`` is the attacker's ruler: the smallest distance at which a settlement
    counts the accident is its distance to the point they are shown, not to the real one."""
    # due west on the accident's parallel: 0.03° is about 2.3 km here; the grid point lies
    # 0.0037° (about 280 m) west of the exact one, so the two distances differ by about that
    sid = settle(session, "Ruler", (ACCIDENT[0] - 0.03, ACCIDENT[1]))

    def threshold(headers) -> int:
        low, high = 100, 5000  # counted at high, not at low
        assert sid not in planning_rows(client, headers, distance_m=low)
        assert planning_rows(client, headers, distance_m=high)[sid]["recent_accidents"]
        while high - low > 1:
            mid = (low + high) // 2
            if sid in planning_rows(client, headers, distance_m=mid):
                high = mid
            else:
                low = mid
        return high

    def metres(point) -> float:
        return session.execute(
            text(
                "SELECT ST_Distance(ST_MakePoint(:x, :y)::geography, "
                "ST_MakePoint(:sx, :sy)::geography)"
            ),
            {"x": point[0], "y": point[1], "sx": ACCIDENT[0] - 0.03, "sy": ACCIDENT[1]},
        ).scalar_one()

    to_exact, to_grid = metres(ACCIDENT), metres(snapped(ACCIDENT))
    assert abs(to_grid - to_exact) > 200
    for headers in world["without"].values():
        assert threshold(headers) == pytest.approx(to_grid, abs=1.5)
    for headers in world["with"].values():
        assert threshold(headers) == pytest.approx(to_exact, abs=1.5)


def test_reported_areas_and_reports_without_a_place_are_shown_as_given(client, actors):
    """Only reported points are snapped: a reported area is shown as drawn, and a report
    with no geometry (not safe to record) has no precision."""
    area = box(REPORT[0], REPORT[1], REPORT[0] + 0.004, REPORT[1] + 0.003)
    ids = []
    for geometry in (area.__geo_interface__, None):
        r = client.post(
            "/api/v1/hazard-reports",
            json={
                "type": "Feature",
                "geometry": geometry,
                "properties": {
                    "source": "hotline",
                    "reported_on": "2024-05-18",
                    "contamination": ["uxo"],
                    "location_text": "behind the school",
                },
            },
            headers=actors.coordinator_a.headers,
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    polygon, nowhere = (
        client.get(
            f"/api/v1/hazard-reports/{i}", headers=actors.analyst_a.headers
        ).json()
        for i in ids
    )
    ring = polygon["geometry"]["coordinates"][0][0]

    def vertices(coords):
        return {(round(x, 9), round(y, 9)) for x, y in coords}

    assert vertices(ring) == vertices(area.exterior.coords)  # not snapped to 0.01°
    assert polygon["properties"]["location_precision"] == "exact"
    assert nowhere["geometry"] is None
    assert nowhere["properties"]["location_precision"] is None

"""Priorities: indicators by hand on small fixtures, weights, normalisation, gates, overrides."""

import math
from datetime import date, timedelta

import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, box, mapping
from sqlalchemy import text

from api.db.models import HazardIndicators, PriorityScore
from api.domain import priority_model as pm
from api.services import priorities
from tests.factories import make_hazard

GEOD = Geod(ellps="WGS84")
SQUARE = box(30.50, 50.40, 30.502, 50.4015)  # ~140 m x 167 m
EAST_MID = (SQUARE.bounds[2], (SQUARE.bounds[1] + SQUARE.bounds[3]) / 2)


def east(metres: float) -> Point:
    """A point ``metres`` due east of the square's east edge (the nearest point is the edge)."""
    lon, lat, _ = GEOD.fwd(EAST_MID[0], EAST_MID[1], 90, metres)
    return Point(lon, lat)


def _ewkb(geom) -> str:
    import shapely

    return shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True)


def _insert(session, table: str, geom, **cols):
    names = ", ".join(["geom", *cols])
    values = ", ".join(
        ["ST_GeomFromEWKB(decode(:geom, 'hex'))", *(f":{c}" for c in cols)]
    )
    session.execute(
        text(f"INSERT INTO {table} ({names}) VALUES ({values})"),
        {"geom": _ewkb(geom), **cols},
    )


def _accident_class() -> str:
    from api.vocab import AccidentClass

    return next(iter(AccidentClass)).value


def _accident(session, org_id, geom, occurred_on):
    _insert(
        session,
        "accidents",
        geom,
        organisation_id=str(org_id),
        occurred_on=occurred_on,
        accident_class=_accident_class(),
        killed=1,
        injured=0,
    )


@pytest.fixture
def world(session, settings, actors):
    """One hazard with known surroundings (distances measured from its east edge)."""
    h = make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        SQUARE,
        actors.org_a,
        classification="CHA",
        contamination=["ap_mine", "uxo"],
        blockages=["pasture"],
    )
    org_id = actors.coordinator_a.principal.organisation_id
    today = date.today()
    _insert(session, "context_settlements", east(300), population=1000, name="near")
    _insert(session, "context_settlements", east(1500), population=5000, name="far")
    _insert(session, "context_facilities", east(400), facility_type="school")
    _insert(session, "context_facilities", east(700), facility_type="health")
    road_near = LineString([east(30), (east(30).x, east(30).y + 0.01)])
    road_far = LineString([east(80), (east(80).x, east(80).y + 0.01)])
    import shapely

    _insert(
        session,
        "context_roads",
        shapely.multilinestrings([road_near]),
        road_class="track",
    )
    _insert(
        session,
        "context_roads",
        shapely.multilinestrings([road_far]),
        road_class="track",
    )
    _insert(
        session,
        "context_land_use",
        shapely.multipolygons([SQUARE.buffer(-0.0001)]),
        land_use="agricultural_crop",
    )
    _accident(session, org_id, east(800), today - timedelta(days=365))  # counted
    _accident(session, org_id, east(800), today - timedelta(days=3 * 365))  # too old
    _accident(session, org_id, east(1200), today - timedelta(days=30))  # too far
    session.flush()
    return h


def test_indicators_match_hand_computed_values(session, world):
    priorities.refresh(session, [world])
    ind = session.get(HazardIndicators, world)
    assert ind.accidents_1km_24m == 1
    assert ind.population_1km == 1000
    assert ind.facilities_500m == 1
    assert ind.roads_50m == 1
    assert ind.blocked_land_uses == 2  # pasture (reported) + agricultural_crop (mapped)
    assert ind.threat_class == 1.0 and ind.evidence_class == 1.0
    assert ind.area_m2 == pytest.approx(
        abs(GEOD.geometry_area_perimeter(SQUARE)[0]), rel=1e-4
    )
    assert ind.security_exclusion is False


def test_score_and_breakdown_follow_the_model(session, world, actors):
    priorities.refresh(session, [world])
    model = priorities.active_model(session)
    s = session.get(PriorityScore, (model.id, world))
    area = abs(GEOD.geometry_area_perimeter(SQUARE)[0])
    threat = (1 / 3 + 1 + 1) / 3
    exposure = (math.log1p(1000) / math.log1p(5000) + 1 / 3 + 1) / 3
    blockage = 2 / 3
    feasibility = 1 - area / 500_000
    expected = 100 * (
        0.30 * threat + 0.20 * exposure + 0.25 * blockage + 0.15 * feasibility
    )
    assert s.score == pytest.approx(expected, abs=1e-6)
    assert s.band == pm.band(expected, {"high": 60, "medium": 30})
    page = priorities.ranked(session, principal=actors.analyst_a.principal)
    item = next(i for i in page["items"] if i["hazard_id"] == str(world))
    b = item["breakdown"]
    assert b["exposure"]["indicators"]["population_1km"] == {
        "value": 1000,
        "normalised": pytest.approx(round(math.log1p(1000) / math.log1p(5000), 4)),
        "rule": "log_cap (cap 5000)",
    }
    assert b["threat_to_life"]["contribution"] == pytest.approx(
        100 * 0.30 * threat, abs=0.01
    )
    assert sum(c["contribution"] for c in b.values()) == pytest.approx(
        expected, abs=0.05
    )
    assert item["explanation"].startswith(
        f"Ranked {item['rank']} with {expected:.1f} of 100"
    )


def test_sql_scores_equal_the_python_breakdown(session, settings, world, actors):
    """The ranking (SQL) and the explanation (Python) use the same arithmetic."""
    for i in range(4):
        make_hazard(
            session,
            settings,
            actors.coordinator_a.principal,
            box(30.503 + 0.004 * i, 50.40, 30.5035 + 0.004 * i, 50.4004 + 0.001 * i),
            actors.org_a,
            contamination=[["uxo"], ["cmr"], ["av_mine"], []][i],
        )
    priorities.refresh(session, None)
    for document in (
        pm.DEFAULT_MODEL,
        {
            **pm.DEFAULT_MODEL,
            "criteria": {
                "feasibility": {
                    "weight": 0.7,
                    "indicators": {
                        "area_m2": {"normalise": "inverse_cap", "cap": 10_000}
                    },
                },
                "exposure": {
                    "weight": 0.3,
                    "indicators": {
                        "population_1km": {"normalise": "log_cap", "cap": 100},
                        "roads_50m": {"normalise": "cap", "cap": 2},
                    },
                },
            },
        },
    ):
        model = priorities.active_model(session)
        model.document = pm.validate(document)
        session.flush()
        priorities.score(session, model, None)
        rows = session.execute(
            text(
                "SELECT p.score, to_jsonb(i) AS ind FROM priority_scores p "
                "JOIN hazard_indicators i USING (hazard_id) WHERE p.model_id = :m"
            ),
            {"m": model.id},
        ).all()
        assert len(rows) >= 5
        for sql_score, indicators in rows:
            py_score, _ = pm.breakdown(indicators, pm.validate(document))
            assert sql_score == pytest.approx(py_score, abs=1e-9)


def test_a_weight_change_rescores_without_recomputing_indicators(
    client, session, world, actors
):
    priorities.refresh(session, [world])
    before = session.get(HazardIndicators, world).computed_at
    doc = {
        **pm.DEFAULT_MODEL,
        "criteria": {
            "exposure": {
                "weight": 1.0,
                "indicators": {"population_1km": {"normalise": "cap", "cap": 1000}},
            },
        },
    }
    res = client.post(
        "/api/v1/priority-models",
        json={"name": "exposure only", "model": doc},
        headers=actors.admin.headers,
    )
    assert res.status_code == 201, res.text
    assert res.json()["version"] == 2 and res.json()["active"]
    session.expire_all()
    assert session.get(HazardIndicators, world).computed_at == before
    got = client.get("/api/v1/priorities", headers=actors.analyst_a.headers).json()
    item = next(i for i in got["items"] if i["hazard_id"] == str(world))
    assert item["score"] == pytest.approx(100.0) and item["band"] == "high"
    assert got["model"]["version"] == 2
    bad = client.post(
        "/api/v1/priority-models",
        json={
            "name": "x",
            "model": {
                "criteria": {
                    "c": {
                        "weight": 2,
                        "indicators": {"area_m2": {"normalise": "cap", "cap": 1}},
                    }
                }
            },
        },
        headers=actors.admin.headers,
    )
    assert bad.status_code == 422 and "/model/criteria/c/weight" in bad.text
    assert (
        client.post(
            "/api/v1/priority-models",
            json={"name": "x", "model": doc},
            headers=actors.analyst_a.headers,
        ).status_code
        == 403
    )


def test_gates_list_but_do_not_rank(client, session, world, actors):
    import shapely

    _insert(
        session,
        "context_security_zones",
        shapely.multipolygons([SQUARE.buffer(0.001)]),
        reason="front line",
    )
    session.flush()
    priorities.refresh(session, None)
    got = client.get("/api/v1/priorities", headers=actors.analyst_a.headers).json()
    item = next(i for i in got["items"] if i["hazard_id"] == str(world))
    assert item["rank"] is None and item["gates"]["security_exclusion"] == "fail"
    assert item["explanation"].startswith("Not ranked for tasking")
    assert got["items"][-1]["hazard_id"] == str(world)  # gated hazards come last


def test_do_no_harm_gate_needs_a_reason(client, session, world, actors):
    url = f"/api/v1/priorities/{world}/do-no-harm"
    assert (
        client.post(
            url,
            json={"do_no_harm": True, "justification": "dispute"},
            headers=actors.coordinator_a.headers,
        ).status_code
        == 422
    )
    res = client.post(
        url,
        json={"do_no_harm": True, "justification": "Two families claim this land."},
        headers=actors.coordinator_a.headers,
    )
    assert res.status_code == 200, res.text
    got = client.get("/api/v1/priorities", headers=actors.analyst_a.headers).json()
    item = next(i for i in got["items"] if i["hazard_id"] == str(world))
    assert item["gates"]["do_no_harm"] == "fail" and item["rank"] is None
    assert (
        client.post(
            url,
            json={"do_no_harm": True, "justification": "Two families claim this land."},
            headers=actors.coordinator_b.headers,
        ).status_code
        == 403
    )


def test_overrides_are_justified_audited_and_shown_beside_the_rank(
    client, session, world, actors
):
    url = f"/api/v1/priorities/{world}/override"
    assert (
        client.post(
            url,
            json={"band": "high", "justification": "because"},
            headers=actors.coordinator_a.headers,
        ).status_code
        == 422
    )
    assert (
        client.post(
            url,
            json={"band": "high", "justification": "The council asked in writing."},
            headers=actors.analyst_a.headers,
        ).status_code
        == 403
    )
    res = client.post(
        url,
        json={"band": "low", "justification": "The council asked in writing."},
        headers=actors.coordinator_a.headers,
    )
    assert res.status_code == 201, res.text
    got = client.get("/api/v1/priorities", headers=actors.analyst_a.headers).json()
    item = next(i for i in got["items"] if i["hazard_id"] == str(world))
    assert (
        item["override"]["band"] == "low"
        and item["band"] in pm.BANDS
        and item["rank"] == 1
    )
    assert item["override"]["justification"] == "The council asked in writing."
    res = client.post(
        url + "/revoke",
        json={"justification": "Request withdrawn on 4 May."},
        headers=actors.coordinator_a.headers,
    )
    assert res.status_code == 200
    trail = client.get(
        f"/api/v1/priorities/{world}/overrides", headers=actors.analyst_a.headers
    ).json()["overrides"]
    assert (
        trail[0]["revoked_by"]
        and trail[0]["revoke_justification"] == "Request withdrawn on 4 May."
    )
    assert (
        client.post(
            url + "/revoke",
            json={"justification": "Request withdrawn on 4 May."},
            headers=actors.coordinator_a.headers,
        ).status_code
        == 409
    )


def test_priorities_filters_exports_and_anonymous(
    client, session, world, actors, settings
):
    other = make_hazard(
        session,
        settings,
        actors.coordinator_b.principal,
        box(30.6, 50.5, 30.601, 50.501),
        actors.org_b,
    )
    priorities.refresh(session, [world, other])
    session.commit()
    got = client.get(
        "/api/v1/priorities",
        params={"organisation": actors.org_b},
        headers=actors.analyst_a.headers,
    ).json()
    assert [i["hazard_id"] for i in got["items"]] == [str(other)] and got["items"][0][
        "rank"
    ] == 1
    csv_res = client.get(
        "/api/v1/priorities", params={"format": "csv"}, headers=actors.analyst_a.headers
    )
    assert csv_res.status_code == 200 and csv_res.text.lstrip("\ufeff").startswith(
        "rank,score,band"
    )
    xlsx = client.get(
        "/api/v1/priorities",
        params={"format": "xlsx"},
        headers=actors.analyst_a.headers,
    )
    import io

    import openpyxl

    ws = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert ws.cell(1, 1).value == "rank" and ws.max_row >= 3
    assert client.get("/api/v1/priorities").status_code == 401


def test_a_hazard_write_refreshes_its_indicators(
    client, session, world, actors, settings
):
    priorities.refresh(session, [world])
    res = client.get(f"/api/v1/hazards/{world}", headers=actors.coordinator_a.headers)
    patch = client.patch(
        f"/api/v1/hazards/{world}",
        json={"properties": {"blockages": ["pasture", "water_source", "residential"]}},
        headers={**actors.coordinator_a.headers, "If-Match": res.headers["ETag"]},
    )
    assert patch.status_code == 200, patch.text
    session.expire_all()
    assert session.get(HazardIndicators, world).blocked_land_uses == 4


def test_an_accident_write_refreshes_nearby_hazards(client, session, world, actors):
    priorities.refresh(session, [world])
    before = session.get(HazardIndicators, world).accidents_1km_24m
    p = east(500)
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [p.x, p.y]},
        "properties": {
            "occurred_on": (date.today() - timedelta(days=10)).isoformat(),
            "accident_class": _accident_class(),
            "killed": 0,
            "injured": 1,
        },
    }
    res = client.post(
        "/api/v1/accidents", json=body, headers=actors.coordinator_a.headers
    )
    assert res.status_code in (200, 201), res.text
    session.expire_all()
    assert session.get(HazardIndicators, world).accidents_1km_24m == before + 1


def test_a_retired_hazard_leaves_the_ranking(client, session, world, actors):
    priorities.refresh(session, None)
    session.commit()
    before = client.get(
        "/api/v1/priorities", params={"limit": 1}, headers=actors.analyst_a.headers
    ).json()
    res = client.get(f"/api/v1/hazards/{world}", headers=actors.coordinator_a.headers)
    gone = client.delete(
        f"/api/v1/hazards/{world}",
        headers={**actors.coordinator_a.headers, "If-Match": res.headers["ETag"]},
    )
    assert gone.status_code in (200, 204), gone.text
    after = client.get(
        "/api/v1/priorities", params={"limit": 1}, headers=actors.analyst_a.headers
    ).json()
    assert after["numberMatched"] == before["numberMatched"] - 1
    listed = client.get(
        "/api/v1/priorities", params={"limit": 10000}, headers=actors.analyst_a.headers
    ).json()
    assert str(world) not in {i["hazard_id"] for i in listed["items"]}
    assert listed["numberMatched"] == len(listed["items"])


def test_an_admin_loads_context_and_a_coordinator_tasks_a_region(
    client, session, settings, actors
):
    """The issue's story end to end, through HTTP only."""
    import json

    from tests.helpers import run_import as run

    region = box(30.45, 50.35, 30.55, 50.45)
    admin = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": mapping(region),
                "properties": {"pcode": "UA-T1", "name": "Test raion", "level": 1},
            },
            {  # the raion next door, where the other hazard lies
                "type": "Feature",
                "geometry": mapping(box(30.55, 50.45, 30.8, 50.7)),
                "properties": {"pcode": "UA-T2", "name": "Next raion", "level": 1},
            },
        ],
    }
    run(
        client,
        actors.admin,
        "a.geojson",
        json.dumps(admin).encode(),
        kind="admin_areas",
    )
    inside = make_hazard(
        session, settings, actors.coordinator_a.principal, SQUARE, actors.org_a
    )
    outside = make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        box(30.7, 50.6, 30.701, 50.601),
        actors.org_a,
    )
    session.commit()
    near = east(200)
    settlements = (
        f"external_id,name,population,lon,lat\nT1,Village,2500,{near.x},{near.y}\n"
    )
    rep = run(
        client,
        actors.admin,
        "s.csv",
        settlements.encode(),
        kind="context",
        context="settlements",
    )
    assert rep["counts"]["created"] == 1, rep
    page = client.get(
        "/api/v1/priorities",
        params={"admin": "UA-T1"},
        headers=actors.coordinator_a.headers,
    ).json()
    ids = [i["hazard_id"] for i in page["items"]]
    assert str(inside) in ids and str(outside) not in ids
    item = next(i for i in page["items"] if i["hazard_id"] == str(inside))
    assert (
        item["breakdown"]["exposure"]["indicators"]["population_1km"]["value"] == 2500
    )
    assert item["explanation"].startswith("Ranked")
    csv_text = client.get(
        "/api/v1/priorities",
        params={"admin": "UA-T1", "format": "csv"},
        headers=actors.coordinator_a.headers,
    ).text
    assert str(inside) in csv_text and str(outside) not in csv_text
    res = client.post(
        f"/api/v1/priorities/{inside}/override",
        json={"band": "high", "justification": "The village's only well is inside."},
        headers=actors.coordinator_a.headers,
    )
    assert res.status_code == 201


def test_closed_hazards_are_not_ranked_for_clearance(client, session, world, actors):
    """Nothing remains to clear on a closed or handed-over hazard: the ranking leaves it
    out unless that status is asked for."""
    priorities.refresh(session, None)
    session.commit()

    def listed(**params):
        body = client.get(
            "/api/v1/priorities",
            params={"limit": 10000, **params},
            headers=actors.analyst_a.headers,
        ).json()
        return {i["hazard_id"] for i in body["items"]}

    assert str(world) in listed()
    for status in ("closed", "handed_over"):
        session.execute(
            text("UPDATE hazards SET status = :s WHERE id = :id"),
            {"s": status, "id": world},
        )
        session.commit()
        assert str(world) not in listed()
        assert str(world) in listed(status=status)

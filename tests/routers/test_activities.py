"""Activities with release polygons, and the figures they change."""

import json

import pytest
from shapely.geometry import box

from tests.factories import activity_body, hazard_feature, release
from tests.helpers import assert_problem


@pytest.fixture
def hazard_id(client, actors):
    r = client.post(
        "/api/v1/hazards",
        json=hazard_feature(
            box(30.0, 50.0, 30.01, 50.01), actors.org_a, external_id="H-1"
        ),
        headers=actors.coordinator_a.headers,
    )
    return r.json()["id"]


def land(client, actors, hid):
    return client.get(
        f"/api/v1/hazards/{hid}", headers=actors.analyst_a.headers
    ).json()["properties"]["land_release"]


def test_activity_releases_update_the_hazard_at_once(client, actors, hazard_id):
    body = activity_body(
        actors.org_a,
        ["H-1"],
        [release(box(30.0, 50.0, 30.005, 50.01), "cleared", team="Team 3")],
        external_id="AC-1",
    )
    r = client.post(
        "/api/v1/activities", json=body, headers=actors.coordinator_a.headers
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["hazard_ids"] == [hazard_id] and r.headers["etag"] == '"1"'
    feature = out["releases"]["features"][0]
    assert feature["properties"]["team"] == "Team 3"  # extra members are kept
    assert feature["properties"]["counted_area_m2"] == pytest.approx(
        feature["properties"]["area_m2"]
    )
    lr = land(client, actors, hazard_id)
    assert lr["cleared_area_m2"] == pytest.approx(lr["baseline_area_m2"] / 2, rel=1e-3)


def test_resending_activity_replaces_its_releases(client, actors, hazard_id):
    h = actors.coordinator_a.headers
    first = activity_body(
        actors.org_a,
        [hazard_id],
        [release(box(30.0, 50.0, 30.005, 50.01), "cleared")],
        external_id="AC-2",
    )
    assert client.post("/api/v1/activities", json=first, headers=h).status_code == 201
    second = {
        **first,
        "releases": {
            "type": "FeatureCollection",
            "features": [release(box(30.0, 50.0, 30.002, 50.01), "cleared")],
        },
    }
    r = client.post("/api/v1/activities", json=second, headers=h)
    assert r.status_code == 200 and r.json()["version"] == 2
    assert len(r.json()["releases"]["features"]) == 1
    lr = land(client, actors, hazard_id)
    assert lr["cleared_area_m2"] == pytest.approx(lr["baseline_area_m2"] / 5, rel=1e-3)


def test_unknown_hazard_is_named(client, actors, hazard_id):
    body = activity_body(actors.org_a, [hazard_id, "NOPE"], [])
    problem = assert_problem(
        client.post(
            "/api/v1/activities", json=body, headers=actors.coordinator_a.headers
        ),
        422,
    )
    assert problem["errors"] == [
        {"pointer": "/hazard_ids/1", "message": "no hazard 'NOPE'"}
    ]


def test_bad_release_geometry_points_at_the_feature(client, actors, hazard_id):
    good = release(box(30.0, 50.0, 30.005, 50.01), "cleared")
    bad = json.loads(json.dumps(release(box(30.0, 50.0, 30.005, 50.01), "cleared")))
    bad["geometry"]["coordinates"][0][2] = [30.005, 91.0]
    body = activity_body(actors.org_a, [hazard_id], [good, bad])
    problem = assert_problem(
        client.post(
            "/api/v1/activities", json=body, headers=actors.coordinator_a.headers
        ),
        422,
    )
    assert (
        problem["errors"][0]["pointer"]
        == "/releases/features/1/geometry/coordinates/0/2/1"
    )
    assert (
        land(client, actors, hazard_id)["released_area_m2"] == 0
    )  # nothing half-written


def test_release_spanning_two_hazards_counts_for_each(client, actors, hazard_id):
    other = client.post(
        "/api/v1/hazards",
        json=hazard_feature(box(30.01, 50.0, 30.02, 50.01), actors.org_a),
        headers=actors.coordinator_a.headers,
    )
    oid = other.json()["id"]
    body = activity_body(
        actors.org_a,
        [hazard_id, oid],
        [release(box(30.005, 50.0, 30.015, 50.01), "cleared")],
    )
    r = client.post(
        "/api/v1/activities", json=body, headers=actors.coordinator_a.headers
    )
    assert r.status_code == 201, r.text
    assert any("each of the 2" in w for w in r.json()["warnings"])
    for hid in (hazard_id, oid):
        lr = land(client, actors, hid)
        assert lr["cleared_area_m2"] == pytest.approx(
            lr["baseline_area_m2"] / 2, rel=1e-3
        )
        assert lr["outside_area_m2"] > 0


def test_release_outside_all_of_several_hazards_is_refused(client, actors, hazard_id):
    other = client.post(
        "/api/v1/hazards",
        json=hazard_feature(box(30.01, 50.0, 30.02, 50.01), actors.org_a),
        headers=actors.coordinator_a.headers,
    )
    body = activity_body(
        actors.org_a,
        [hazard_id, other.json()["id"]],
        [release(box(31.0, 50.0, 31.01, 50.01), "cleared")],
    )
    problem = assert_problem(
        client.post(
            "/api/v1/activities", json=body, headers=actors.coordinator_a.headers
        ),
        422,
    )
    assert problem["errors"][0]["pointer"] == "/releases/features/0/geometry"
    assert "does not touch its hazard" in problem["errors"][0]["message"]


def test_unusual_outcome_is_accepted_with_warning(client, actors, hazard_id):
    body = activity_body(
        actors.org_a,
        [hazard_id],
        [release(box(30.0, 50.0, 30.001, 50.01), "cleared")],
        activity_type="non_technical_survey",
    )
    r = client.post(
        "/api/v1/activities", json=body, headers=actors.coordinator_a.headers
    )
    assert r.status_code == 201
    assert any("unusual" in w for w in r.json()["warnings"])


def test_only_own_organisation_and_writers(client, actors, hazard_id):
    body = activity_body(actors.org_b, [hazard_id], [])
    assert_problem(
        client.post(
            "/api/v1/activities", json=body, headers=actors.coordinator_a.headers
        ),
        403,
    )
    assert_problem(
        client.post(
            "/api/v1/activities",
            json=activity_body(actors.org_a, [hazard_id], []),
            headers=actors.eore_a.headers,
        ),
        403,
    )
    assert_problem(
        client.post(
            "/api/v1/activities", json=activity_body(actors.org_a, [hazard_id], [])
        ),
        401,
    )


def test_patch_status_and_retire_restore_figures(client, actors, hazard_id):
    h = actors.coordinator_a.headers
    body = activity_body(
        actors.org_a,
        [hazard_id],
        [release(box(29.9, 49.9, 30.1, 50.1), "cleared")],
        status="ongoing",
        end_date=None,
    )
    created = client.post("/api/v1/activities", json=body, headers=h).json()
    hazard = f"/api/v1/hazards/{hazard_id}"
    assert client.get(hazard, headers=h).json()["properties"]["status"] == "worked_on"
    url = f"/api/v1/activities/{created['id']}"
    assert_problem(client.patch(url, json={"status": "completed"}, headers=h), 428)
    done = client.patch(
        url,
        json={"status": "completed", "end_date": "2024-06-30"},
        headers={**h, "If-Match": '"1"'},
    )
    assert done.status_code == 200, done.text
    assert client.get(hazard, headers=h).json()["properties"]["status"] == "closed"
    assert_problem(
        client.patch(url, json={"status": "ongoing"}, headers={**h, "If-Match": '"1"'}),
        412,
    )
    assert client.delete(url, headers={**h, "If-Match": '"2"'}).status_code == 204
    props = client.get(hazard, headers=h).json()["properties"]
    assert props["status"] == "open" and props["land_release"]["released_area_m2"] == 0
    assert_problem(client.get(url, headers=h), 404)


def test_list_activities_by_hazard(client, actors, hazard_id):
    h = actors.coordinator_a.headers
    client.post(
        "/api/v1/activities",
        json=activity_body(actors.org_a, [hazard_id], []),
        headers=h,
    )
    r = client.get("/api/v1/activities", params={"hazard": hazard_id}, headers=h).json()
    assert r["numberMatched"] == 1 and r["activities"][0]["hazard_ids"] == [hazard_id]


def test_patch_to_an_external_id_already_used_is_a_conflict(client, actors, hazard_id):
    """A PATCH giving an activity another one's external_id: 409 naming the field, not
    a 500 from the database's unique index; the activity keeps its id."""
    h = actors.coordinator_a.headers
    for ext in ("AC-T1", "AC-T2"):
        body = activity_body(actors.org_a, [hazard_id], [], external_id=ext)
        assert (
            client.post("/api/v1/activities", json=body, headers=h).status_code == 201
        )
    second = client.get("/api/v1/activities?hazard_id=" + hazard_id, headers=h).json()
    target = next(f for f in second["activities"] if f["external_id"] == "AC-T2")
    url = f"/api/v1/activities/{target['id']}"
    etag = client.get(url, headers=h).headers["ETag"]
    r = client.patch(
        url, json={"external_id": "AC-T1"}, headers={**h, "If-Match": etag}
    )
    assert_problem(r, 409)
    assert r.json()["errors"] == [
        {"pointer": "/external_id", "message": "already used"}
    ]
    assert client.get(url, headers=h).json()["external_id"] == "AC-T2"

"""EO finds: recorded where found; exact locations only for those allowed to see them."""

import pytest
from shapely.geometry import box

from tests.factories import hazard_feature
from tests.helpers import assert_problem


@pytest.fixture
def hazard_id(client, actors):
    return client.post(
        "/api/v1/hazards",
        json=hazard_feature(box(30.0, 50.0, 30.01, 50.01), actors.org_a),
        headers=actors.coordinator_a.headers,
    ).json()["id"]


def find(hazard_id, lon=30.00537, lat=50.00412, **props):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "eo_category": "ap_mine",
            "model": "PMN-2",
            "quantity": 1,
            "condition": "armed",
            "depth_cm": 5,
            "found_on": "2024-06-12",
            "hazard_id": hazard_id,
            **props,
        },
    }


def test_record_and_read_find(client, actors, hazard_id):
    r = client.post(
        "/api/v1/eo-finds", json=find(hazard_id), headers=actors.coordinator_a.headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["geometry"]["coordinates"] == [30.00537, 50.00412]
    assert r.json()["properties"]["organisation"] == actors.org_a


def test_locations_are_generalised_for_roles_without_restricted_read(
    client, actors, hazard_id
):
    client.post(
        "/api/v1/eo-finds", json=find(hazard_id), headers=actors.coordinator_a.headers
    )
    params = {"hazard_id": hazard_id}
    exact = client.get(
        "/api/v1/eo-finds", params=params, headers=actors.coordinator_a.headers
    )
    coarse = client.get(
        "/api/v1/eo-finds", params=params, headers=actors.analyst_a.headers
    )
    allowed = client.get(
        "/api/v1/eo-finds", params=params, headers=actors.analyst_restricted.headers
    )
    assert exact.json()["features"][0]["geometry"]["coordinates"] == [
        30.00537,
        50.00412,
    ]
    assert allowed.json()["features"][0]["geometry"]["coordinates"] == [
        30.00537,
        50.00412,
    ]
    feature = coarse.json()["features"][0]
    assert feature["geometry"]["coordinates"] == [30.01, 50.0]
    assert feature["properties"]["location_precision"] == "generalised_0.01deg"
    assert_problem(client.get("/api/v1/eo-finds"), 401)


def test_find_needs_a_link_and_a_valid_point(client, actors, hazard_id):
    body = find(None)
    problem = assert_problem(
        client.post(
            "/api/v1/eo-finds", json=body, headers=actors.coordinator_a.headers
        ),
        422,
    )
    assert problem["errors"][0]["pointer"] == "/properties/activity_id"
    far = find(hazard_id, lon=200)
    problem = assert_problem(
        client.post("/api/v1/eo-finds", json=far, headers=actors.coordinator_a.headers),
        422,
    )
    assert problem["errors"][0]["pointer"] == "/geometry/coordinates/0"


def test_find_far_from_its_hazard_is_flagged(client, actors, hazard_id):
    r = client.post(
        "/api/v1/eo-finds",
        json=find(hazard_id, lon=30.5),
        headers=actors.coordinator_a.headers,
    )
    assert r.status_code == 201 and "100 m" in r.json()["warnings"][0]


def test_other_organisation_cannot_record_finds(client, actors, hazard_id):
    r = client.post(
        "/api/v1/eo-finds",
        json=find(hazard_id, organisation=actors.org_a),
        headers=actors.coordinator_b.headers,
    )
    assert_problem(r, 403)

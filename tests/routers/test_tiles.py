"""Vector tiles: features and attributes, no hazard dropped, ETags, access rules."""

import pytest
from shapely.geometry import box

from tests.factories import hazard_feature, release
from tests.helpers import TILE_SPOT, assert_problem
from tests.helpers import decode_tile as decode
from tests.helpers import tile_url as url

LON, LAT = TILE_SPOT


def features(response, layer: str) -> list[dict]:
    return decode(response).get(layer, {}).get("features", [])


@pytest.fixture
def hazard(client, actors):
    body = hazard_feature(
        box(LON, LAT, LON + 0.01, LAT + 0.01),
        actors.org_a,
        name="Wadi field",
        external_id="T-1",
        contamination=["ap_mine", "uxo"],
    )
    r = client.post("/api/v1/hazards", json=body, headers=actors.coordinator_a.headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_hazard_tile_has_the_feature_and_its_symbology_attributes(
    client, actors, hazard
):
    r = client.get(
        url("hazards", LON + 0.005, LAT + 0.005, 12), headers=actors.analyst_a.headers
    )
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert r.headers["cache-control"] == "private, max-age=0, must-revalidate"
    found = [f for f in features(r, "hazards") if f["properties"]["id"] == hazard["id"]]
    assert len(found) == 1
    props = found[0]["properties"]
    assert props["name"] == "Wadi field"
    assert props["external_id"] == "T-1"
    assert props["classification"] == "SHA"
    assert props["hazard_type"] == "minefield"
    assert props["status"] == "open"
    assert props["contamination"] == "ap_mine,uxo"
    assert props["remaining_area_m2"] > 1_000_000
    assert found[0]["geometry"]["type"] == "Polygon"
    # what the workspace filters by (operational readers see both in GET /hazards too)
    assert props["organisation"] == actors.org_a
    assert props["admin"] == ",".join(hazard["properties"]["admin"])
    # no restricted or internal field
    assert not {"notes", "beneficiaries", "evidence"} & set(props)


def test_far_tile_is_an_empty_body(client, actors, hazard):
    r = client.get(
        url("hazards", LON + 20, LAT + 20, 12), headers=actors.analyst_a.headers
    )
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["etag"]


def test_a_tiny_hazard_is_still_drawn_at_zoom_6(client, actors):
    tiny = hazard_feature(
        box(LON + 1, LAT + 1, LON + 1.00002, LAT + 1.00002), actors.org_a, name="Tiny"
    )
    r = client.post("/api/v1/hazards", json=tiny, headers=actors.coordinator_a.headers)
    assert r.status_code == 201, r.text
    for z in (6, 3, 0):
        got = features(
            client.get(
                url("hazards", LON + 1, LAT + 1, z), headers=actors.analyst_a.headers
            ),
            "hazards",
        )
        assert [
            f["properties"]["name"] for f in got if f["properties"]["name"] == "Tiny"
        ]


def test_etag_answers_304(client, actors, hazard):
    path = url("hazards", LON + 0.005, LAT + 0.005, 10)
    first = client.get(path, headers=actors.analyst_a.headers)
    tag = first.headers["etag"]
    again = client.get(path, headers={**actors.analyst_a.headers, "If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert (
        client.get(
            path, headers={**actors.analyst_a.headers, "If-None-Match": '"x"'}
        ).status_code
        == 200
    )


def test_a_hazard_write_changes_only_the_tiles_it_touches(client, actors, hazard):
    near = url("hazards", LON + 0.005, LAT + 0.005, 12)
    far = url("hazards", LON + 0.5, LAT + 0.5, 12)
    h = actors.analyst_a.headers
    before_near = client.get(near, headers=h).headers["etag"]
    before_far = client.get(far, headers=h).headers["etag"]
    r = client.patch(
        f"/api/v1/hazards/{hazard['id']}",
        json={
            "properties": {"classification": "CHA", "date_of_information": "2024-06-01"}
        },
        headers={
            **actors.coordinator_a.headers,
            "If-Match": r_etag(client, actors, hazard),
        },
    )
    assert r.status_code == 200, r.text
    after = client.get(near, headers={**h, "If-None-Match": before_near})
    assert after.status_code == 200
    assert after.headers["etag"] != before_near
    assert features(after, "hazards")[0]["properties"]["classification"] == "CHA"
    assert (
        client.get(far, headers={**h, "If-None-Match": before_far}).status_code == 304
    )


def r_etag(client, actors, hazard) -> str:
    return client.get(
        f"/api/v1/hazards/{hazard['id']}", headers=actors.coordinator_a.headers
    ).headers["etag"]


def test_a_release_changes_the_hazard_tile_and_the_release_tile(client, actors, hazard):
    h = actors.analyst_a.headers
    near_h = url("hazards", LON + 0.002, LAT + 0.002, 12)
    near_r = url("releases", LON + 0.002, LAT + 0.002, 12)
    far_h = url("hazards", LON - 0.5, LAT - 0.5, 12)
    tags = {
        p: client.get(p, headers=h).headers["etag"] for p in (near_h, near_r, far_h)
    }
    remaining_before = features(client.get(near_h, headers=h), "hazards")[0][
        "properties"
    ]["remaining_area_m2"]
    body = {
        "activity_type": "clearance",
        "organisation": actors.org_a,
        "hazard_ids": [hazard["id"]],
        "status": "completed",
        "start_date": "2024-06-01",
        "end_date": "2024-06-20",
        "methods": ["manual"],
        "releases": {
            "type": "FeatureCollection",
            "features": [release(box(LON, LAT, LON + 0.004, LAT + 0.004), "cleared")],
        },
    }
    r = client.post(
        "/api/v1/activities", json=body, headers=actors.coordinator_a.headers
    )
    assert r.status_code == 201, r.text
    after_h = client.get(near_h, headers={**h, "If-None-Match": tags[near_h]})
    assert after_h.status_code == 200
    remaining_after = features(after_h, "hazards")[0]["properties"]["remaining_area_m2"]
    assert remaining_after < remaining_before
    after_r = client.get(near_r, headers={**h, "If-None-Match": tags[near_r]})
    assert after_r.status_code == 200
    (rel,) = features(after_r, "releases")
    assert rel["properties"]["outcome"] == "cleared"
    assert rel["properties"]["hazard_id"] == hazard["id"]
    assert rel["properties"]["date"] == "2024-06-20"
    assert (
        client.get(far_h, headers={**h, "If-None-Match": tags[far_h]}).status_code
        == 304
    )


def test_admin_areas_layer(client, session, actors):
    from tests.factories import make_admin_area

    make_admin_area(
        session, "YE99", box(LON, LAT, LON + 1, LAT + 1), 1, name="Test gov"
    )
    r = client.get(
        url("admin-areas", LON + 0.5, LAT + 0.5, 8), headers=actors.eore_a.headers
    )
    got = [f for f in features(r, "admin-areas") if f["properties"]["pcode"] == "YE99"]
    assert got and got[0]["properties"] == {
        "pcode": "YE99",
        "name": "Test gov",
        "level": 1,
    }


def test_anonymous_callers_get_401(client, hazard):
    for layer in ("hazards", "releases", "admin-areas", "eo-finds"):
        r = client.get(url(layer, LON, LAT, 10))
        assert_problem(r, 401)
        assert r.headers["www-authenticate"] == "Bearer"


def test_eo_finds_only_for_those_who_see_exact_locations(client, actors, hazard):
    find = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [LON + 0.003, LAT + 0.004]},
        "properties": {
            "eo_category": "ap_mine",
            "quantity": 2,
            "found_on": "2024-06-12",
            "hazard_id": hazard["id"],
        },
    }
    r = client.post("/api/v1/eo-finds", json=find, headers=actors.coordinator_a.headers)
    assert r.status_code == 201, r.text
    path = url("eo-finds", LON + 0.003, LAT + 0.004, 14)
    assert_problem(client.get(path, headers=actors.analyst_a.headers), 403)
    for user in (actors.coordinator_a, actors.analyst_restricted, actors.admin):
        (f,) = features(client.get(path, headers=user.headers), "eo-finds")
        assert f["properties"]["quantity"] == 2
        assert f["geometry"]["type"] == "Point"


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/hazards/23/0/0.mvt",
        "/tiles/hazards/2/4/0.mvt",
        "/tiles/hazards/2/0/4.mvt",
        "/tiles/hazards/-1/0/0.mvt",
        "/tiles/hazards/a/0/0.mvt",
        "/tiles/hazards/0/0/1.mvt",
    ],
)
def test_out_of_range_tiles_are_400(client, actors, path):
    assert_problem(client.get(path, headers=actors.analyst_a.headers), 400)


def test_unknown_layer_is_404(client, actors):
    assert_problem(
        client.get("/tiles/nope/0/0/0.mvt", headers=actors.analyst_a.headers), 404
    )


def test_any_role_reads_the_world_tile(client, actors, hazard):
    for user in (actors.eore_a, actors.analyst_a, actors.coordinator_b):
        got = features(
            client.get("/tiles/hazards/0/0/0.mvt", headers=user.headers), "hazards"
        )
        assert hazard["id"] in {f["properties"]["id"] for f in got}


def test_public_low_zoom_tiles_merge_areas_and_never_lose_a_tiny_one(client, actors):
    """Below zoom 10 a public tile carries one merged feature per classification and
    status, so a national view stays small; a hazard far smaller than a tile pixel still
    draws as a polygon, and from zoom 10 each public area is its own feature."""
    bodies = [
        hazard_feature(
            box(LON - i * 0.02, LAT, LON - i * 0.02 + 0.005, LAT + 0.005),
            actors.org_a,
            classification="CHA" if i % 2 else "SHA",
        )
        for i in range(6)
    ]
    bodies.append(  # about 1 m across: far below a z6 pixel (~2.4 km)
        hazard_feature(
            box(LON + 0.3, LAT + 0.1, LON + 0.30001, LAT + 0.10001),
            actors.org_a,
            classification="CHA",
        )
    )
    for body in bodies:
        r = client.post(
            "/api/v1/hazards", json=body, headers=actors.coordinator_a.headers
        )
        assert r.status_code == 201, r.text
    pub = client.post("/api/v1/public/publications", headers=actors.admin.headers)
    assert pub.status_code == 201, pub.text
    low = features(client.get(url("public-hazards", LON, LAT, 6)), "public-hazards")
    groups = {
        (f["properties"]["classification"], f["properties"]["status"]) for f in low
    }
    assert len(low) == len(groups) == 2  # SHA/open and CHA/open, merged
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in low)
    tiny = features(
        client.get(url("public-hazards", LON + 0.3, LAT + 0.1, 6)), "public-hazards"
    )
    assert tiny, "the tiny hazard vanished from the low-zoom tile"
    detailed = features(
        client.get(url("public-hazards", LON, LAT, 10)), "public-hazards"
    )
    assert len(detailed) == 6 and all("id" in f["properties"] for f in detailed)


def test_tiles_are_gzipped_when_asked_with_their_own_etag(client, actors, hazard):
    path = url("hazards", LON + 0.005, LAT + 0.005, 12)
    plain = client.get(
        path, headers={**actors.analyst_a.headers, "Accept-Encoding": "identity"}
    )
    zipped = client.get(
        path, headers={**actors.analyst_a.headers, "Accept-Encoding": "gzip"}
    )
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["vary"]
    assert zipped.content == plain.content  # decoded by the client
    assert zipped.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
    again = client.get(
        path,
        headers={
            **actors.analyst_a.headers,
            "Accept-Encoding": "gzip",
            "If-None-Match": zipped.headers["etag"],
        },
    )
    assert again.status_code == 304


def test_a_published_tile_is_built_once_per_publication(
    client, session, actors, monkeypatch
):
    from api.services import tiles

    r = client.post("/api/v1/public/publications", headers=actors.admin.headers)
    assert r.status_code == 201, r.text
    first = client.get(url("public-hazards", LON, LAT, 8))
    assert first.status_code == 200

    def no_more_builds(*args):
        raise AssertionError("the tile was built again")

    monkeypatch.setattr(tiles, "tile_statement", no_more_builds)
    again = client.get(url("public-hazards", LON, LAT, 8))
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    r = client.post("/api/v1/public/publications", headers=actors.admin.headers)
    assert r.status_code == 201
    with pytest.raises(
        AssertionError, match="built again"
    ):  # a new publication: new tiles
        client.get(url("public-hazards", LON, LAT, 8))


def test_context_layers_for_signed_in_readers(client, session, actors):
    from shapely.geometry import Point

    from api.db.models.context import Settlement

    session.add(
        Settlement(
            name="Demo Oakdale",
            population=1200,
            geom=f"SRID=4326;{Point(LON + 0.5, LAT + 0.5).wkt}",
        )
    )
    session.flush()
    path = url("context-settlements", LON + 0.5, LAT + 0.5, 12)
    (f,) = features(
        client.get(path, headers=actors.analyst_a.headers), "context-settlements"
    )
    assert f["properties"]["name"] == "Demo Oakdale"
    assert f["properties"]["population"] == 1200
    assert_problem(client.get(path), 401)

"""Public tiles of a publication are immutable: asked for with its version they are cached
for a year; without it, or with an older one, for a minute."""

import pytest
from shapely.geometry import box

from tests.factories import hazard_feature
from tests.helpers import TILE_SPOT
from tests.helpers import tile_url as url

LON, LAT = TILE_SPOT

YEAR = "public, max-age=31536000, immutable"


@pytest.fixture
def publication(client, actors):
    body = hazard_feature(box(LON, LAT, LON + 0.01, LAT + 0.01), actors.org_a)
    r = client.post("/api/v1/hazards", json=body, headers=actors.coordinator_a.headers)
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/public/publications", headers=actors.admin.headers)
    assert r.status_code == 201, r.text
    return client.get("/map-config.json").json()["public_tiles"]


def test_a_tile_named_by_its_publication_is_cached_for_a_year(client, publication):
    assert publication
    path = url("public-hazards", LON + 0.005, LAT + 0.005, 12)
    named = client.get(path, params={"v": publication})
    assert named.status_code == 200 and named.content
    assert named.headers["cache-control"] == YEAR
    plain = client.get(path)
    assert plain.headers["cache-control"] == "public, max-age=60"
    assert plain.content == named.content
    again = client.get(
        path,
        params={"v": publication},
        headers={"If-None-Match": named.headers["etag"]},
    )
    assert again.status_code == 304 and again.headers["cache-control"] == YEAR


def test_an_older_publication_version_is_cached_for_a_minute(
    client, actors, publication
):
    r = client.post("/api/v1/public/publications", headers=actors.admin.headers)
    assert r.status_code == 201
    newer = client.get("/map-config.json").json()["public_tiles"]
    assert newer != publication
    path = url("public-released", LON, LAT, 12)
    stale = client.get(path, params={"v": publication})
    assert stale.status_code == 200
    assert stale.headers["cache-control"] == "public, max-age=60"
    assert client.get(path, params={"v": newer}).headers["cache-control"] == YEAR
    forged = client.get(path, params={"v": "anything"})
    assert forged.headers["cache-control"] == "public, max-age=60"


def test_restricted_tiles_stay_private_whatever_the_version(
    client, actors, publication
):
    r = client.get(
        url("hazards", LON, LAT, 12),
        params={"v": publication},
        headers=actors.analyst_a.headers,
    )
    assert r.headers["cache-control"] == "private, max-age=0, must-revalidate"

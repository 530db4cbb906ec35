"""Private responses stay private (issue 17.4): every answer to a signed-in caller is
``Cache-Control: private`` (``no-store``, or ``max-age=0`` with an ETag for restricted tiles)
and ``Vary: Authorization``; the public map's answers keep their public caching."""

import uuid

import pytest
from shapely.geometry import box

from api.caching import cache_headers, with_vary
from api.services import auth
from api.vocab import Role
from tests.factories import make_hazard
from tests.helpers import walk_routes

PUBLIC_PREFIXES = ("/api/v1/public/", "/tiles/public-")
FILL = {
    "layer": "hazards",
    "collectionId": "hazards",
    "fmt": "geojson",
    "language": "en",
    "z": "8",
    "x": "150",
    "y": "86",
}


def fill(path: str) -> str:
    """Path parameters filled: names with a fixed meaning get a real value, ids a new uuid."""
    out = path
    while "{" in out:
        start, end = out.index("{"), out.index("}")
        name = out[start + 1 : end].split(":")[0]
        out = out[:start] + FILL.get(name, str(uuid.uuid4())) + out[end + 1 :]
    return out


def vary(response) -> set[str]:
    return {n.strip().lower() for n in response.headers.get("vary", "").split(",")}


def test_every_route_answers_a_signed_in_caller_privately(app, client, actors):
    checked = public = 0
    for path, methods in walk_routes(app.routes):
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            url = fill(path)
            r = client.request(method, url, headers=actors.admin.headers)
            policy = r.headers.get("cache-control", "")
            where = f"{method} {url} -> {r.status_code} {policy!r}"
            if "public" in policy:
                assert url.startswith(PUBLIC_PREFIXES), where
                public += 1
                continue
            assert "private" in policy, where
            assert "no-store" in policy or (
                "max-age=0" in policy and "etag" in r.headers
            ), where
            assert {"authorization", "x-api-key"} <= vary(r), where
            checked += 1
    assert (
        checked > 80 and public >= 5
    )  # every route: 88 private, 5 public when written


def test_api_key_callers_and_refused_credentials_are_private_too(
    client, session, actors
):
    plain, _ = auth.create_api_key(
        session, organisation_code=actors.org_a, name="cache", role=Role.coordinator
    )
    for headers, status in (
        ({"X-API-Key": plain}, 200),
        ({"Authorization": "Bearer not-a-token"}, 401),
    ):
        r = client.get("/api/v1/hazards", headers=headers)
        assert r.status_code == status
        assert r.headers["cache-control"] == "private, no-store"
        assert {"authorization", "x-api-key"} <= vary(r)


def test_a_hazard_read_and_a_restricted_tile_are_private(
    client, session, settings, actors
):
    hid = make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        box(30.5, 50.4, 30.502, 50.402),
        actors.org_a,
    )
    r = client.get(f"/api/v1/hazards/{hid}", headers=actors.coordinator_a.headers)
    assert r.status_code == 200 and r.headers["etag"]
    assert r.headers["cache-control"] == "private, no-store"
    tile = client.get(
        "/tiles/hazards/8/150/86.mvt", headers=actors.coordinator_a.headers
    )
    assert tile.status_code in (200, 204)
    assert tile.headers["cache-control"].startswith("private, max-age=0")
    assert tile.headers["etag"]


def test_anonymous_answers_vary_by_credentials_and_public_ones_stay_public(
    client, actors
):
    r = client.get(
        "/api/v1/hazards"
    )  # 401 for anonymous callers: a proxy must not reuse
    assert r.status_code == 401
    assert {"authorization", "x-api-key"} <= vary(r)
    published = client.post("/api/v1/public/publications", headers=actors.admin.headers)
    assert published.status_code in (200, 201), published.text
    for headers in ({}, actors.admin.headers):  # the same bytes for everyone
        public = client.get("/api/v1/public/hazards", headers=headers)
        assert public.status_code == 200
        assert public.headers["cache-control"].startswith("public")


@pytest.mark.parametrize(
    ("headers", "credentials", "expected"),
    [
        ([], True, "private, no-store"),
        ([(b"cache-control", b"no-cache")], True, "private, no-store"),
        ([(b"cache-control", b"max-age=60")], True, "private, no-store"),
        (
            [(b"cache-control", b"private, max-age=0, must-revalidate")],
            True,
            "private, max-age=0, must-revalidate",
        ),
        ([(b"cache-control", b"public, max-age=300")], True, "public, max-age=300"),
        ([(b"cache-control", b"no-cache")], False, "no-cache"),
    ],
)
def test_cache_policy_rules(headers, credentials, expected):
    out = dict(cache_headers(headers, credentials=credentials, language=False))
    assert out[b"cache-control"].decode() == expected
    assert (b"vary" in out) == ("public" not in expected)


def test_vary_is_merged_once():
    headers = [(b"vary", b"Authorization, Accept-Encoding")]
    merged = with_vary(headers, ["authorization", "X-API-Key", "Accept-Language"])
    assert merged == [
        (b"vary", b"Authorization, Accept-Encoding, X-API-Key, Accept-Language")
    ]
    assert with_vary([(b"vary", b"*")], ["Authorization"]) == [(b"vary", b"*")]

"""The anonymous rate limit: token buckets per address on public, tile and sign-in paths."""

import base64
import uuid

import pytest
from fastapi.testclient import TestClient

from api.deps import get_session
from api.main import create_app
from api.ratelimit import TokenBuckets, is_limited_path, is_public_tile_path
from api.services import auth
from api.settings import Settings
from api.vocab import Role
from tests.helpers import assert_problem


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refills_at_the_rate():
    clock = FakeClock()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == pytest.approx(0.5)  # one token takes 1/rate seconds
    assert buckets.take("b") == 0  # another address has its own bucket
    clock.now += 0.5
    assert buckets.take("a") == 0 and buckets.take("a") > 0
    clock.now += 60  # refills up to the burst, not beyond
    assert [buckets.take("a") for _ in range(4)][-1] > 0


def test_limited_paths():
    assert is_limited_path("GET", "/api/v1/public/check")
    assert is_limited_path("GET", "/tiles/hazards/1/0/0.mvt")
    # public hazard tiles have their own bucket, never the anonymous one
    assert not is_limited_path("GET", "/tiles/public-hazards/1/0/0.mvt")
    assert not is_limited_path("GET", "/tiles/public-released/1/0/0.mvt")
    assert is_public_tile_path("/tiles/public-hazards/1/0/0.mvt")
    assert not is_public_tile_path("/tiles/hazards/1/0/0.mvt")
    assert is_limited_path("POST", "/api/v1/auth/token")
    assert is_limited_path("POST", "/api/v1/auth/refresh")
    assert not is_limited_path("GET", "/api/v1/hazards")
    assert not is_limited_path("GET", "/health")
    # the public layer's OGC collections are open to anyone, so counted like the public API
    assert is_limited_path("GET", "/ogc/collections/public-hazards/items")
    assert not is_limited_path("GET", "/ogc/collections/hazards/items")


@pytest.fixture
def limited(settings, session):
    """An app allowing bursts of 3 anonymous requests, refilled at 0.05 per second (slow
    enough that a loaded machine does not refill a token between the test's requests)."""
    app = create_app(
        settings.model_copy(update={"anon_rate_per_second": 0.05, "anon_rate_burst": 3})
    )
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        yield c


def test_sign_in_is_limited_with_429_problem_and_retry_after(limited):
    form = {"username": "nobody", "password": "wrong password"}
    for _ in range(3):
        assert limited.post("/api/v1/auth/token", data=form).status_code == 401
    r = limited.post("/api/v1/auth/token", data=form)
    body = assert_problem(r, 429)
    assert 1 <= int(r.headers["Retry-After"]) <= 20  # one token at 0.05/s
    assert "too many anonymous requests" in body["detail"]
    assert r.headers["x-content-type-options"] == "nosniff"  # still inside the headers
    # the address's bucket is shared by every limited path
    assert_problem(limited.get("/tiles/hazards/0/0/0.mvt"), 429)
    assert_problem(limited.get("/api/v1/public/check?lon=1&lat=1"), 429)
    # other paths are not limited (their own rules apply)
    assert limited.get("/health").status_code == 200


def test_signed_in_tile_requests_are_not_counted(limited, actors):
    for _ in range(10):
        r = limited.get("/tiles/hazards/0/0/0.mvt", headers=actors.analyst_a.headers)
        assert r.status_code == 200, r.text
    # a forged or refresh-type token does not exempt a request
    forged = {"Authorization": "Bearer not-a-token"}
    statuses = [
        limited.get("/tiles/hazards/0/0/0.mvt", headers=forged).status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]


def test_zero_rate_turns_the_limit_off(settings, session):
    app = create_app(settings.model_copy(update={"anon_rate_per_second": 0}))
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        statuses = {c.get("/tiles/hazards/0/0/0.mvt").status_code for _ in range(150)}
    assert statuses == {401}


def test_public_tiles_beyond_the_anonymous_burst_are_not_refused(
    client, settings, session, actors
):
    """A map zooming in from one address (or a village behind one) asks for far more
    public hazard tiles than the anonymous burst: none may be refused, even once the
    anonymous bucket is empty, under the default settings."""
    assert client.post(
        "/api/v1/public/publications", headers=actors.admin.headers
    ).status_code in (200, 201)
    defaults = Settings(database_url=settings.database_url)
    assert defaults.anon_rate_per_second > 0 and defaults.anon_rate_burst == 100
    app = create_app(
        settings.model_copy(
            update={
                "anon_rate_per_second": defaults.anon_rate_per_second,
                "anon_rate_burst": defaults.anon_rate_burst,
                "public_tile_rate_per_second": defaults.public_tile_rate_per_second,
                "public_tile_rate_burst": defaults.public_tile_rate_burst,
            }
        )
    )
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        statuses = [
            c.get(f"/tiles/{layer}/10/{x}/{y}.mvt").status_code
            for layer in ("public-hazards", "public-released")
            for x in range(600, 615)
            for y in range(350, 355)
        ]  # 150 tiles: more than the anonymous burst of 100
        assert statuses == [200] * 150
        # the anonymous bucket is a different one: empty it (an unknown public path is
        # counted, and cheap), the hazard tiles still come
        anonymous = [c.get("/api/v1/public/nothing").status_code for _ in range(400)]
        assert 429 in anonymous
        # an empty anonymous bucket does not stop the hazard tiles
        assert c.get("/tiles/public-hazards/10/600/350.mvt").status_code == 200


def test_public_tiles_have_their_own_bucket(settings, session):
    """Only a client fetching public tiles in bulk meets their (separate) limit."""
    app = create_app(
        settings.model_copy(
            update={
                "anon_rate_per_second": 0.5,
                "anon_rate_burst": 3,
                "public_tile_rate_per_second": 0.5,
                "public_tile_rate_burst": 5,
            }
        )
    )
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        tiles = [
            c.get(f"/tiles/public-hazards/3/{x}/2.mvt").status_code for x in range(5)
        ]
        assert tiles == [200] * 5
        r = c.get("/tiles/public-hazards/3/5/2.mvt")
        body = assert_problem(r, 429)
        assert "public tile" in body["detail"] and int(r.headers["Retry-After"]) >= 1
        # the anonymous bucket is untouched by those tiles
        assert (
            c.post(
                "/api/v1/auth/token", data={"username": "x", "password": "y"}
            ).status_code
            == 401
        )


def test_anonymous_reads_of_the_public_ogc_collections_are_limited(limited):
    codes = [
        limited.get("/ogc/collections/public-hazards/items").status_code
        for _ in range(5)
    ]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429], codes


# --- per API key, per user for writes (issue 17.7) ---------------------------------------


def _app(settings, session, **limits):
    app = create_app(settings.model_copy(update=limits))
    app.dependency_overrides[get_session] = lambda: session
    return app


def _key(session, org: str) -> str:
    plain, _ = auth.create_api_key(
        session,
        organisation_code=org,
        name=f"k-{uuid.uuid4().hex[:6]}",
        role=Role.coordinator,
    )
    return plain


def test_each_api_key_has_its_own_bucket_apart_from_the_address(
    settings, session, actors
):
    one, two = _key(session, actors.org_a), _key(session, actors.org_a)
    app = _app(
        settings,
        session,
        anon_rate_per_second=0.001,
        anon_rate_burst=3,
        api_key_rate_per_second=0.001,
        api_key_rate_burst=5,
    )
    with TestClient(app) as c:
        # the address's anonymous bucket is emptied first: keys do not share it
        assert [c.get("/api/v1/public/nothing").status_code for _ in range(4)][
            -1
        ] == 429
        codes = [
            c.get("/api/v1/hazards", headers={"X-API-Key": one}).status_code
            for _ in range(6)
        ]
        assert codes == [200] * 5 + [429]
        r = c.get("/ogc/collections/hazards/items", headers={"X-API-Key": one})
        body = assert_problem(r, 429)  # on every path, not only the anonymous ones
        assert "this API key" in body["detail"] and int(r.headers["Retry-After"]) >= 1
        # HTTP Basic (user "apikey", as QGIS and GDAL send it) is the same key
        basic = base64.b64encode(f"apikey:{one}".encode()).decode()
        r = c.get("/api/v1/hazards", headers={"Authorization": f"Basic {basic}"})
        assert_problem(r, 429)
        # another key has its own bucket
        assert c.get("/api/v1/hazards", headers={"X-API-Key": two}).status_code == 200


def test_invented_keys_are_charged_to_the_address(settings, session):
    app = _app(
        settings,
        session,
        anon_rate_per_second=0.001,
        anon_rate_burst=3,
        api_key_rate_per_second=100,
        api_key_rate_burst=100,
    )
    with TestClient(app) as c:
        codes = [
            c.get("/api/v1/hazards", headers={"X-API-Key": f"sgk_{n}"}).status_code
            for n in range(5)
        ]
    assert codes == [401, 401, 401, 429, 429]


def test_writes_are_limited_per_user_reads_are_not(settings, session, actors):
    app = _app(
        settings, session, user_write_rate_per_second=0.001, user_write_rate_burst=3
    )
    other = actors.coordinator_b.headers
    with TestClient(app) as c:
        headers = actors.coordinator_a.headers
        writes = [
            c.post("/api/v1/hazards", json={}, headers=headers).status_code
            for _ in range(4)
        ]
        assert writes == [422, 422, 422, 429]
        r = c.post("/api/v1/hazards", json={}, headers=headers)
        body = assert_problem(r, 429)
        assert "changes from your account" in body["detail"]
        assert int(r.headers["Retry-After"]) >= 1
        # reads are governed by the role, another user has their own bucket
        assert [
            c.get("/api/v1/hazards", headers=headers).status_code for _ in range(10)
        ] == [200] * 10
        assert c.post("/api/v1/hazards", json={}, headers=other).status_code == 422


def test_defaults_limit_keys_and_writes():
    defaults = Settings(database_url="postgresql://x@localhost/x")
    assert defaults.api_key_rate_per_second > 0
    assert defaults.user_write_rate_per_second > 0

"""The anonymous rate limit: token buckets per address on public, tile and sign-in paths."""

import pytest
from fastapi.testclient import TestClient

from api.deps import get_session
from api.main import create_app
from api.ratelimit import TokenBuckets, is_limited_path
from tests.routers.test_errors import assert_problem


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
    assert is_limited_path("GET", "/tiles/public-hazards/1/0/0.mvt")
    assert is_limited_path("POST", "/api/v1/auth/token")
    assert is_limited_path("POST", "/api/v1/auth/refresh")
    assert not is_limited_path("GET", "/api/v1/hazards")
    assert not is_limited_path("GET", "/health")


@pytest.fixture
def limited(settings, session):
    """An app allowing bursts of 3 anonymous requests, refilled at 0.5 per second."""
    app = create_app(
        settings.model_copy(update={"anon_rate_per_second": 0.5, "anon_rate_burst": 3})
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
    assert 1 <= int(r.headers["Retry-After"]) <= 2
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

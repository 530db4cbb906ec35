"""Every error path answers RFC 9457 problem+json, and never leaks internals."""

from fastapi import APIRouter
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.helpers import assert_problem


def test_unknown_route_is_404_problem(client):
    body = assert_problem(client.get("/api/v1/no-such-thing"), 404)
    assert body["type"].endswith("/not-found")
    assert "/api/v1/no-such-thing" in body["detail"]


def test_wrong_method_is_405_problem(client, actors):
    body = assert_problem(
        client.put("/api/v1/hazards", headers=actors.admin.headers), 405
    )
    assert "PUT" in body["detail"]


def test_invalid_body_is_422_with_pointers(client, actors):
    feature = {
        "type": "Feature",
        "geometry": None,
        "properties": {"classification": "XYZ", "organisation": actors.org_a},
    }
    body = assert_problem(
        client.post("/api/v1/hazards", json=feature, headers=actors.admin.headers), 422
    )
    assert {
        "pointer": "/properties/classification",
        "message": body["errors"][0]["message"],
    } in body["errors"]
    assert "/properties/classification" in body["detail"]


def test_malformed_json_is_422_problem(client, actors):
    r = client.post(
        "/api/v1/hazards",
        content=b"{not json",
        headers={**actors.admin.headers, "content-type": "application/json"},
    )
    assert_problem(r, 422)


def test_invalid_query_parameter_names_the_parameter(client, actors):
    body = assert_problem(
        client.get("/api/v1/hazards?limit=0", headers=actors.admin.headers), 422
    )
    assert body["errors"][0]["parameter"] == "limit"


def test_unexpected_fault_is_500_without_internals(settings):
    app = create_app(settings)
    boom = APIRouter()

    @boom.get("/boom")
    def explode():
        raise RuntimeError("secret connection string postgresql://u:p@h/db")

    app.include_router(boom)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    body = assert_problem(r, 500)
    assert "secret" not in r.text and "postgresql" not in r.text
    assert body["incident"] in body["detail"]


def test_database_down_gives_503_problem():
    app = create_app(
        Settings(
            database_url="postgresql://nobody:x@127.0.0.1:1/nothing",
            env="test",
            db_startup_wait_seconds=0,
        )
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        health = c.get("/health")
        token = c.post("/api/v1/auth/token", data={"username": "a", "password": "b"})
    body = assert_problem(health, 503)
    assert body["database"] == "unreachable"
    assert_problem(token, 503)
    assert "nobody" not in token.text


def test_oversized_body_is_413_problem(settings):
    app = create_app(settings.model_copy(update={"max_body_bytes": 2048}))
    with TestClient(app) as c:
        r = c.post(
            "/api/v1/hazards",
            content=b"x" * 4096,
            headers={"content-type": "application/json"},
        )
    assert_problem(r, 413)


def test_statement_timeout_is_a_clear_503(settings, session, actors):
    from sqlalchemy import text

    from api.deps import get_session

    app = create_app(settings)
    app.dependency_overrides[get_session] = lambda: session
    slow = APIRouter()

    @slow.get("/slow")
    def slow_query():
        session.execute(text("SET LOCAL statement_timeout = 50"))
        session.execute(text("SELECT pg_sleep(1)"))

    app.include_router(slow)
    with TestClient(app, raise_server_exceptions=False) as c:
        body = assert_problem(c.get("/slow"), 503)
    assert "took longer" in body["detail"]


def test_values_the_database_refuses_are_400_not_500(client, actors):
    """Found by schemathesis: a NUL character, a number out of range."""
    res = client.post(
        "/api/v1/auth/token", data={"username": "a\x00b", "password": "x" * 10}
    )
    assert res.status_code == 400, res.text
    assert "NUL" in res.json()["detail"]
    res = client.get(
        "/api/v1/priorities",
        params={"offset": 10**20},
        headers=actors.analyst_a.headers,
    )
    assert res.status_code in (400, 422), res.text
    assert res.headers["content-type"].startswith("application/problem+json")

"""Security headers on every response; CORS closed unless configured."""

from starlette.testclient import TestClient

from api.main import create_app


def test_every_response_carries_the_security_headers(client, actors):
    for res in (
        client.get("/health"),
        client.get("/api/v1/hazards", headers=actors.analyst_a.headers),
        client.get("/api/v1/hazards/not-a-uuid", headers=actors.analyst_a.headers),
        client.get("/api/v1/hazards"),  # 401 problem+json
        client.get("/"),
        client.get("/ogc", params={"f": "html"}),
    ):
        csp = res.headers["content-security-policy"]
        assert (
            "script-src 'self';" in csp
            and "unsafe-inline" not in csp.split("style-src")[0]
        )
        assert "frame-ancestors 'none'" in csp
        assert res.headers["x-content-type-options"] == "nosniff"
        assert res.headers["x-frame-options"] == "DENY"
        assert res.headers["referrer-policy"]


def test_api_docs_get_the_policy_their_scripts_need(client):
    res = client.get("/docs")
    assert res.status_code == 200
    assert "https://cdn.jsdelivr.net" in res.headers["content-security-policy"]


def test_cors_is_closed_by_default_and_configurable(client, settings, session):
    preflight = {
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "GET",
    }
    res = client.options("/api/v1/hazards", headers=preflight)
    assert "access-control-allow-origin" not in res.headers
    from api.deps import get_session

    app = create_app(
        settings.model_copy(update={"cors_origins": ["https://map.example"]})
    )
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        ok = c.options(
            "/api/v1/hazards",
            headers={**preflight, "Origin": "https://map.example"},
        )
        assert ok.headers["access-control-allow-origin"] == "https://map.example"
        bad = c.options("/api/v1/hazards", headers=preflight)
        assert "access-control-allow-origin" not in bad.headers

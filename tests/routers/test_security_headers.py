"""Security headers on every response; CORS closed unless configured."""

import re

import pytest
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


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_api_docs_are_local_under_the_pages_policy(client, path):
    """The API docs load pinned files of this server only (they work offline) and need no
    inline script: the same policy as the map's pages."""
    res = client.get(path)
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/html")
    csp = res.headers["content-security-policy"]
    assert csp == client.get("/").headers["content-security-policy"]
    script = re.search(r"script-src ([^;]+)", csp).group(1)
    assert script.strip() == "'self'"
    assert "unsafe-inline" not in script and "unsafe-eval" not in csp
    assert not re.search(r"https?://|//[a-z]", res.text), "an external origin"
    assert not re.search(r"<script(?![^>]*\bsrc=)", res.text), "an inline script"
    assert not re.search(r"\son[a-z]+=", res.text), "an inline handler"
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', res.text)
    assert assets
    for asset in assets:
        got = client.get(asset)
        assert got.status_code == 200, asset
        assert got.content, asset
    if path == "/docs":
        assert "/vendor/swagger-ui/swagger-ui-bundle.js" in assets
        assert "/static/js/api-docs.js" in assets
    if path == "/redoc":
        assert "/vendor/redoc/redoc.standalone.js" in assets


def test_ogc_landing_page_still_links_the_api_docs(client):
    links = client.get("/ogc", params={"f": "json"}).json()["links"]
    assert any(
        link["rel"] == "service-doc" and link["href"].endswith("/docs")
        for link in links
    )


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

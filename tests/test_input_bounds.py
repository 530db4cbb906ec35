"""Absurd input is refused with a 4xx problem+json, and nothing stored can fail to be served.

Found in a security review: a 20-digit ``beneficiaries`` was stored, then every list of hazards
answered 500 (orjson refuses integers past 64 bits); 100,000 ``[`` raised RecursionError.
"""

import pytest
from fastapi.testclient import TestClient

from api.main import MAX_JSON_DEPTH, json_depth
from api.services import auth
from api.vocab import Role

PROBLEM = "application/problem+json"


def assert_problem(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


@pytest.fixture
def lenient(app):
    """A client that answers 500s as responses instead of raising them in the test."""
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


# ---------------------------------------------------------------------------------------
# deeply nested JSON bodies
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,depth",
    [
        (b"", 0),
        (b"{}", 1),
        (b'{"a": {"b": [1, [2]]}}', 4),
        (b'{"a": "[[[[{{{{", "b": ["]]]"]}', 2),  # brackets in strings are text
        (b'["\\"[[[", ["\\\\", ["]"]]]', 3),  # escaped quotes and backslashes
        (b'["]"' * 10 + b"[" * 5, 15),  # unclosed: every opening counts
        (b"[" * 100_000, 100_000),
        ('{"a": [[[1]]]}'.encode("utf-16"), 4),  # the parsers read UTF-16 too
    ],
)
def test_json_depth_counts_nesting_outside_strings(text, depth):
    assert json_depth(text) == depth


DEEP_BODIES = {
    "arrays": b"[" * 100_000,
    "objects": b'{"a":' * 100_000,
    "closed": b'{"properties": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "just past the limit": b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
}


@pytest.fixture
def kobo_key(session, actors):
    plain, _ = auth.create_api_key(
        session,
        organisation_code=actors.org_a,
        name="kobo-deep",
        role=Role.coordinator,
        permissions=["hazard-reports:write"],
    )
    return {"X-API-Key": plain}


@pytest.mark.parametrize("shape", list(DEEP_BODIES))
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/auth/refresh",
        "/api/v1/hazards",
        "/api/v1/activities",
        "/api/v1/priority-models",
        "/api/v1/integrations/kobo",
        "/api/v1/eo-finds",
    ],
)
def test_deep_json_is_400_on_every_route(lenient, actors, kobo_key, path, shape):
    headers = kobo_key if "integrations" in path else actors.admin.headers
    for kind in ("application/json", "application/geo+json; charset=utf-8"):
        r = lenient.post(
            path, content=DEEP_BODIES[shape], headers={**headers, "content-type": kind}
        )
        body = assert_problem(r, 400)
        assert f"at most {MAX_JSON_DEPTH}" in body["detail"]


def test_json_at_the_depth_limit_still_reaches_the_route(client, actors):
    inner = MAX_JSON_DEPTH - 1  # the object around it is the last level
    nested = b"[" * inner + b"]" * inner
    r = client.post(
        "/api/v1/auth/refresh",
        content=b'{"refresh_token": "x", "extra": ' + nested + b"}",
        headers={"content-type": "application/json"},
    )
    assert_problem(r, 401)  # judged by the route: the token is not valid


def test_deep_json_refusal_keeps_the_security_headers(lenient, actors):
    r = lenient.post(
        "/api/v1/hazards",
        content=DEEP_BODIES["arrays"],
        headers={**actors.admin.headers, "content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.headers["x-content-type-options"] == "nosniff"

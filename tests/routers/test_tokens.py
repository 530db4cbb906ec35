"""Refresh tokens (rotation, reuse detection, typ), password change, deactivation, key scopes."""

from shapely.geometry import box
from typer.testing import CliRunner

from api.services import auth
from api.vocab import Role
from tests.factories import hazard_feature
from tests.helpers import assert_problem

GEOM = box(30.0, 50.0, 30.01, 50.01)
PASSWORD = "correct horse battery"


def _sign_in(client, session, name="erin", role=Role.analyst, org=None):
    auth.create_user(
        session, username=name, password=PASSWORD, role=role, organisation_code=org
    )
    r = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sign_in_returns_a_pair_and_refresh_rotates_it(client, session, settings):
    pair = _sign_in(client, session)
    assert pair["expires_in"] == settings.access_token_minutes * 60 == 900
    assert pair["refresh_expires_in"] == settings.refresh_token_days * 86400
    # a form field, as OAuth2 clients send it
    new = client.post(
        "/api/v1/auth/refresh", data={"refresh_token": pair["refresh_token"]}
    )
    assert new.status_code == 200, new.text
    body = new.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "refresh_expires_in",
    }
    assert body["refresh_token"] != pair["refresh_token"]
    me = client.get("/api/v1/auth/me", headers=_bearer(body["access_token"]))
    assert me.status_code == 200 and me.json()["name"] == "erin"
    # or JSON; the new refresh token works once as well
    again = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]}
    )
    assert again.status_code == 200, again.text


def test_a_reused_refresh_token_revokes_its_whole_family(client, session):
    pair = _sign_in(client, session)
    first = client.post(
        "/api/v1/auth/refresh", data={"refresh_token": pair["refresh_token"]}
    ).json()
    # the spent token comes back (copied by someone): refused, and the chain is revoked
    reuse = client.post(
        "/api/v1/auth/refresh", data={"refresh_token": pair["refresh_token"]}
    )
    assert "already used" in assert_problem(reuse, 401)["detail"]
    later = client.post(
        "/api/v1/auth/refresh", data={"refresh_token": first["refresh_token"]}
    )
    assert "revoked" in assert_problem(later, 401)["detail"]


def test_refresh_and_access_tokens_are_not_interchangeable(client, session):
    pair = _sign_in(client, session)
    as_access = client.get("/api/v1/auth/me", headers=_bearer(pair["refresh_token"]))
    assert "not an access token" in assert_problem(as_access, 401)["detail"]
    as_refresh = client.post(
        "/api/v1/auth/refresh", data={"refresh_token": pair["access_token"]}
    )
    assert "not a refresh token" in assert_problem(as_refresh, 401)["detail"]
    for body in ({"refresh_token": "garbage"}, {}):
        r = client.post("/api/v1/auth/refresh", json=body)
        assert_problem(r, 401 if body else 422)


def test_password_change_revokes_access_and_refresh_tokens(client, session):
    pair = _sign_in(client, session)
    other_device = client.post(
        "/api/v1/auth/refresh", data={"refresh_token": pair["refresh_token"]}
    ).json()
    wrong = client.post(
        "/api/v1/auth/password",
        json={"current_password": "not it at all", "new_password": "a new password"},
        headers=_bearer(pair["access_token"]),
    )
    assert_problem(wrong, 403)
    r = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a new password"},
        headers=_bearer(pair["access_token"]),
    )
    assert r.status_code == 200, r.text
    fresh = r.json()
    for token in (pair["access_token"], other_device["access_token"]):
        assert_problem(client.get("/api/v1/auth/me", headers=_bearer(token)), 401)
    assert_problem(
        client.post(
            "/api/v1/auth/refresh",
            data={"refresh_token": other_device["refresh_token"]},
        ),
        401,
    )
    # the pair returned by the change works, and so does the new password
    assert client.get(
        "/api/v1/auth/me", headers=_bearer(fresh["access_token"])
    ).is_success
    assert (
        client.post(
            "/api/v1/auth/token",
            data={"username": "erin", "password": "a new password"},
        ).status_code
        == 200
    )
    assert_problem(
        client.post(
            "/api/v1/auth/token", data={"username": "erin", "password": PASSWORD}
        ),
        401,
    )


def test_admin_deactivation_revokes_both_tokens(client, session, actors):
    pair = _sign_in(client, session, name="frank")
    assert_problem(
        client.delete("/api/v1/users/frank", headers=actors.coordinator_a.headers), 403
    )
    r = client.delete("/api/v1/users/frank", headers=actors.admin.headers)
    assert r.status_code == 204, r.text
    assert_problem(
        client.get("/api/v1/auth/me", headers=_bearer(pair["access_token"])), 401
    )
    assert_problem(
        client.post(
            "/api/v1/auth/refresh", data={"refresh_token": pair["refresh_token"]}
        ),
        401,
    )
    assert_problem(
        client.delete("/api/v1/users/nobody", headers=actors.admin.headers), 404
    )


def test_cli_deactivation_bumps_the_token_version(session, monkeypatch):
    from api import cli

    user = auth.create_user(
        session, username="grace", password=PASSWORD, role=Role.analyst
    )
    before = user.token_version

    class _Ctx:
        def __enter__(self):
            return session

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(cli, "_session", _Ctx)
    result = CliRunner().invoke(cli.app, ["users", "deactivate", "grace"])
    assert result.exit_code == 0, result.output
    session.refresh(user)
    assert not user.active and user.token_version == before + 1
    missing = CliRunner().invoke(cli.app, ["users", "deactivate", "nobody"])
    assert missing.exit_code == 1 and "no user named" in missing.output


def test_api_key_writes_only_within_its_permissions(client, session, actors):
    reports_only, key = auth.create_api_key(
        session,
        organisation_code=actors.org_a,
        name="kobo",
        permissions=["hazard-reports:write"],
    )
    assert key.permissions == ["hazard-reports:write"]
    feature = hazard_feature(GEOM, actors.org_a)
    refused = client.post(
        "/api/v1/hazards", json=feature, headers={"X-API-Key": reports_only}
    )
    assert "hazards:write" in assert_problem(refused, 403)["detail"]
    # reads are governed by the role, as for users
    assert client.get("/api/v1/hazards", headers={"X-API-Key": reports_only}).is_success
    # users and keys are never managed with a key, whatever its role
    admin_key, _ = auth.create_api_key(
        session, organisation_code=actors.org_a, name="ops", role=Role.admin
    )
    assert_problem(
        client.post(
            "/api/v1/users",
            json={"username": "x", "password": "long enough", "role": "analyst"},
            headers={"X-API-Key": admin_key},
        ),
        403,
    )
    # a key without a named list gets its role's write scopes
    writer, key = auth.create_api_key(
        session, organisation_code=actors.org_a, name="sync"
    )
    assert {"hazards:write", "imports:write"} <= set(key.permissions)
    ok = client.post("/api/v1/hazards", json=feature, headers={"X-API-Key": writer})
    assert ok.status_code == 201, ok.text


def test_api_key_permissions_are_checked_when_created(client, actors):
    base = {"name": "k", "organisation": actors.org_a}
    unknown = client.post(
        "/api/v1/api-keys",
        json={**base, "permissions": ["hazards:delete"]},
        headers=actors.admin.headers,
    )
    assert "hazards:delete" in assert_problem(unknown, 422)["detail"]
    beyond = client.post(
        "/api/v1/api-keys",
        json={**base, "role": "analyst", "permissions": ["imports:write"]},
        headers=actors.admin.headers,
    )
    assert "analyst" in assert_problem(beyond, 422)["detail"]
    ok = client.post(
        "/api/v1/api-keys",
        json={**base, "permissions": ["imports:write", "restricted:read"]},
        headers=actors.admin.headers,
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["permissions"] == ["imports:write", "restricted:read"]

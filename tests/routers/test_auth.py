"""Identity: tokens, API keys, roles and organisation scoping on every write."""

from datetime import UTC, datetime, timedelta

import jwt
from shapely.geometry import box

from api.services import auth
from api.vocab import Role
from tests.factories import hazard_feature
from tests.helpers import assert_problem

GEOM = box(30.0, 50.0, 30.01, 50.01)


def test_token_for_valid_credentials(client, session):
    auth.create_user(
        session, username="Alice", password="correct horse", role=Role.analyst
    )
    r = client.post(
        "/api/v1/auth/token", data={"username": "alice", "password": "correct horse"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    assert body["refresh_token"] and body["refresh_expires_in"] == 14 * 86400
    me = client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["role"] == "analyst"


def test_wrong_password_is_401(client, session):
    auth.create_user(
        session, username="bob", password="correct horse", role=Role.analyst
    )
    r = client.post("/api/v1/auth/token", data={"username": "bob", "password": "wrong"})
    assert_problem(r, 401)


def test_passwords_are_stored_as_argon2_hashes(session):
    user = auth.create_user(
        session, username="carol", password="correct horse", role=Role.analyst
    )
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash


def test_forged_and_expired_tokens_are_401(client, settings, session):
    user = auth.create_user(
        session, username="dave", password="correct horse", role=Role.admin
    )
    forged = jwt.encode(
        {"sub": str(user.id), "tv": 0, "exp": datetime.now(UTC) + timedelta(hours=1)},
        "another-secret-of-at-least-32-bytes!!",
        algorithm="HS256",
    )
    expired = jwt.encode(
        {"sub": str(user.id), "tv": 0, "exp": datetime.now(UTC) - timedelta(seconds=5)},
        settings.secret_key.get_secret_value(),
        algorithm="HS256",
    )
    for token in (forged, expired, "not-a-token"):
        r = client.get("/api/v1/hazards", headers={"Authorization": f"Bearer {token}"})
        assert_problem(r, 401)
    assert (
        "expired"
        in client.get(
            "/api/v1/hazards", headers={"Authorization": f"Bearer {expired}"}
        ).json()["detail"]
    )


def test_deactivated_user_token_is_revoked(client, session, actors):
    user = session.get(auth.User, actors.analyst_a.principal.user_id)
    user.active = False
    session.commit()
    assert_problem(client.get("/api/v1/hazards", headers=actors.analyst_a.headers), 401)


def test_anonymous_cannot_read_or_write_operational_data(client, actors):
    assert_problem(client.get("/api/v1/hazards"), 401)
    assert_problem(
        client.post("/api/v1/hazards", json=hazard_feature(GEOM, actors.org_a)), 401
    )
    assert_problem(client.get("/api/v1/land-release/summary"), 401)
    assert_problem(client.get("/api/v1/organisations"), 401)


def test_analyst_and_eore_cannot_write_hazards(client, actors):
    for user in (actors.analyst_a, actors.eore_a):
        r = client.post(
            "/api/v1/hazards",
            json=hazard_feature(GEOM, actors.org_a),
            headers=user.headers,
        )
        assert_problem(r, 403)


def test_coordinator_writes_only_for_own_organisation(client, actors):
    own = client.post(
        "/api/v1/hazards",
        json=hazard_feature(GEOM, actors.org_a),
        headers=actors.coordinator_a.headers,
    )
    assert own.status_code == 201, own.text
    other = client.post(
        "/api/v1/hazards",
        json=hazard_feature(GEOM, actors.org_b),
        headers=actors.coordinator_a.headers,
    )
    assert actors.org_b in assert_problem(other, 403)["detail"]
    hid, etag = own.json()["id"], own.headers["etag"]
    patch = client.patch(
        f"/api/v1/hazards/{hid}",
        json={"properties": {"name": "x"}},
        headers={**actors.coordinator_b.headers, "If-Match": etag},
    )
    assert_problem(patch, 403)
    move = client.patch(
        f"/api/v1/hazards/{hid}",
        json={"properties": {"organisation": actors.org_b}},
        headers={**actors.coordinator_a.headers, "If-Match": etag},
    )
    assert_problem(move, 403)


def test_coordinator_organisation_defaults_to_own(client, actors):
    feature = hazard_feature(GEOM, actors.org_a)
    del feature["properties"]["organisation"]
    r = client.post(
        "/api/v1/hazards", json=feature, headers=actors.coordinator_a.headers
    )
    assert (
        r.status_code == 201 and r.json()["properties"]["organisation"] == actors.org_a
    )


def test_admin_writes_for_any_organisation(client, actors):
    r = client.post(
        "/api/v1/hazards",
        json=hazard_feature(GEOM, actors.org_b),
        headers=actors.admin.headers,
    )
    assert r.status_code == 201


def test_api_key_is_scoped_to_its_organisation(client, session, actors):
    plain, key = auth.create_api_key(
        session, organisation_code=actors.org_a, name="kobo"
    )
    assert key.key_hash != plain and plain not in key.key_hash
    headers = {"X-API-Key": plain}
    assert (
        client.post(
            "/api/v1/hazards", json=hazard_feature(GEOM, actors.org_a), headers=headers
        ).status_code
        == 201
    )
    assert_problem(
        client.post(
            "/api/v1/hazards", json=hazard_feature(GEOM, actors.org_b), headers=headers
        ),
        403,
    )
    assert_problem(
        client.get("/api/v1/hazards", headers={"X-API-Key": "sgk_wrong"}), 401
    )


def test_only_admins_create_users_keys_and_organisations(client, actors):
    body = {"code": "NEWORG", "name": "New", "type": "ngo_national"}
    assert_problem(
        client.post(
            "/api/v1/organisations", json=body, headers=actors.coordinator_a.headers
        ),
        403,
    )
    assert (
        client.post(
            "/api/v1/organisations", json=body, headers=actors.admin.headers
        ).status_code
        == 201
    )
    assert_problem(
        client.post("/api/v1/organisations", json=body, headers=actors.admin.headers),
        409,
    )
    user = {"username": "newbie", "password": "long enough", "role": "analyst"}
    assert_problem(
        client.post("/api/v1/users", json=user, headers=actors.coordinator_a.headers),
        403,
    )
    assert (
        client.post(
            "/api/v1/users", json=user, headers=actors.admin.headers
        ).status_code
        == 201
    )
    key = {"name": "k", "organisation": actors.org_a}
    assert_problem(
        client.post("/api/v1/api-keys", json=key, headers=actors.analyst_a.headers), 403
    )
    created = client.post("/api/v1/api-keys", json=key, headers=actors.admin.headers)
    assert created.status_code == 201 and created.json()["key"].startswith("sgk_")


def test_repeated_failed_sign_ins_are_throttled(client, session, settings, actors):
    from api.services import auth as auth_service

    auth_service.create_user(
        session, username="guessme", password="the right password", role=Role.analyst
    )
    session.commit()
    for _ in range(settings.login_max_failures):
        res = client.post(
            "/api/v1/auth/token",
            data={"username": "guessme", "password": "wrong guess"},
        )
        assert res.status_code == 401
    # now even the right password is refused until the window passes
    res = client.post(
        "/api/v1/auth/token",
        data={"username": "GuessMe", "password": "the right password"},
    )
    assert res.status_code == 429, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    assert 0 < int(res.headers["Retry-After"]) <= settings.login_window_minutes * 60 + 1
    assert "too many failed sign-ins" in res.json()["detail"]
    # other accounts are not affected (the address limit is higher)
    other = client.post(
        "/api/v1/auth/token",
        data={
            "username": actors.analyst_a.name,
            "password": "password-" + actors.analyst_a.name,
        },
    )
    assert other.status_code == 200


def test_a_success_resets_the_account_count(client, session, settings):
    from api.services import auth as auth_service

    auth_service.create_user(
        session, username="forgetful", password="the right password", role=Role.analyst
    )
    session.commit()
    for _ in range(settings.login_max_failures - 1):
        assert (
            client.post(
                "/api/v1/auth/token",
                data={"username": "forgetful", "password": "nope nope"},
            ).status_code
            == 401
        )
    assert (
        client.post(
            "/api/v1/auth/token",
            data={"username": "forgetful", "password": "the right password"},
        ).status_code
        == 200
    )
    for _ in range(settings.login_max_failures - 1):
        assert (
            client.post(
                "/api/v1/auth/token",
                data={"username": "forgetful", "password": "nope nope"},
            ).status_code
            == 401
        )
    assert (
        client.post(
            "/api/v1/auth/token",
            data={"username": "forgetful", "password": "the right password"},
        ).status_code
        == 200
    )

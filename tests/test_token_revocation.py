"""A spent refresh token sent again revokes every token of its sign-in, access tokens too.

Issue 20, item 5: before, reuse revoked the refresh tokens of the family but the access
tokens of that sign-in kept working until they expired.
"""

import jwt

from api.services import auth
from api.vocab import Role
from tests.helpers import assert_problem

PASSWORD = "correct horse battery"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _sign_in(client, name: str) -> dict:
    r = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()


def _refresh(client, token: str):
    return client.post("/api/v1/auth/refresh", data={"refresh_token": token})


def _me(client, access: str):
    return client.get("/api/v1/auth/me", headers=_bearer(access))


def test_reuse_of_a_spent_refresh_token_revokes_the_whole_sign_in(client, session):
    auth.create_user(session, username="rhea", password=PASSWORD, role=Role.analyst)
    signed_in = _sign_in(client, "rhea")
    elsewhere = _sign_in(client, "rhea")  # the same user on another device
    # spend refresh token A, get B (and a new access token)
    rotated = _refresh(client, signed_in["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    rotated = rotated.json()
    for access in (signed_in["access_token"], rotated["access_token"]):
        assert _me(client, access).status_code == 200
    # A comes back (it was copied): refused ...
    reuse = _refresh(client, signed_in["refresh_token"])
    assert "already used" in assert_problem(reuse, 401)["detail"]
    # ... and every token of that sign-in is revoked at once: both access tokens and B
    for access in (signed_in["access_token"], rotated["access_token"]):
        refused = _me(client, access)
        assert "revoked" in assert_problem(refused, 401)["detail"]
    assert (
        "revoked"
        in (assert_problem(_refresh(client, rotated["refresh_token"]), 401)["detail"])
    )
    # writes are refused too, not only /auth/me
    write = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "another long one"},
        headers=_bearer(rotated["access_token"]),
    )
    assert_problem(write, 401)
    # another sign-in of the same user is untouched
    assert _me(client, elsewhere["access_token"]).status_code == 200
    again = _refresh(client, elsewhere["refresh_token"])
    assert again.status_code == 200, again.text
    assert _me(client, again.json()["access_token"]).status_code == 200


def test_access_tokens_name_their_sign_in(client, session, settings):
    auth.create_user(session, username="remi", password=PASSWORD, role=Role.analyst)
    pair = _sign_in(client, "remi")
    key = settings.secret_key.get_secret_value()
    access = jwt.decode(pair["access_token"], key, algorithms=[auth.JWT_ALGORITHM])
    refresh = jwt.decode(pair["refresh_token"], key, algorithms=[auth.JWT_ALGORITHM])
    rotated = _refresh(client, pair["refresh_token"]).json()
    after = jwt.decode(rotated["access_token"], key, algorithms=[auth.JWT_ALGORITHM])
    # the access token carries its sign-in; a refresh keeps it
    family = str(session.get(auth.RefreshToken, refresh["jti"]).family_id)
    assert access["fam"] == after["fam"] == family
    # a second sign-in is a new family
    other = jwt.decode(
        _sign_in(client, "remi")["access_token"], key, algorithms=[auth.JWT_ALGORITHM]
    )
    assert other["fam"] != family


def test_a_forged_family_claim_is_refused(client, session, settings):
    auth.create_user(session, username="rory", password=PASSWORD, role=Role.analyst)
    pair = _sign_in(client, "rory")
    key = settings.secret_key.get_secret_value()
    claims = jwt.decode(pair["access_token"], key, algorithms=[auth.JWT_ALGORITHM])
    bad = jwt.encode({**claims, "fam": "not-a-uuid"}, key, algorithm=auth.JWT_ALGORITHM)
    assert "not valid" in assert_problem(_me(client, bad), 401)["detail"]

"""The audit log: who, when, from where, before and after; append-only; admins only."""

import pytest
from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.factories import hazard_feature


def test_writes_are_audited_with_before_and_after(client, session, actors):
    created = client.post(
        "/api/v1/hazards",
        json=hazard_feature(
            box(30.4, 50.4, 30.401, 50.401), actors.org_a, name="Before"
        ),
        headers=actors.coordinator_a.headers,
    )
    assert created.status_code == 201
    hid = created.json()["id"]
    res = client.patch(
        f"/api/v1/hazards/{hid}",
        json={"properties": {"name": "After"}},
        headers={**actors.coordinator_a.headers, "If-Match": created.headers["ETag"]},
    )
    assert res.status_code == 200, res.text
    log = client.get(
        "/api/v1/audit",
        params={"entity": "hazards", "entity_id": hid},
        headers=actors.admin.headers,
    ).json()["items"]
    actions = [e["action"] for e in log]
    assert actions[-1] == "insert" and "update" in actions
    update = next(
        e for e in log if e["action"] == "update" and "name" in (e["after"] or {})
    )
    assert update["before"]["name"] == "Before" and update["after"]["name"] == "After"
    assert update["actor"] == actors.coordinator_a.name
    assert update["actor_user_id"] == str(actors.coordinator_a.principal.user_id)
    assert update["request"] == f"PATCH /api/v1/hazards/{hid}" and update["client"]


def test_secrets_and_personal_data_are_never_copied(client, session, actors):
    res = client.post(
        "/api/v1/users",
        json={
            "username": "audited-user",
            "password": "a very secret password",
            "role": "analyst",
        },
        headers=actors.admin.headers,
    )
    assert res.status_code == 201, res.text
    log = client.get(
        "/api/v1/audit", params={"entity": "users"}, headers=actors.admin.headers
    ).json()["items"]
    text_ = str(log)
    assert "audited-user" in text_
    assert "password_hash" not in text_ and "argon2" not in text_


def test_the_log_is_append_only(client, session, actors):
    client.post(
        "/api/v1/hazards",
        json=hazard_feature(box(30.5, 50.5, 30.501, 50.501), actors.org_a),
        headers=actors.coordinator_a.headers,
    )
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("UPDATE audit_log SET actor = 'someone else'"))
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("DELETE FROM audit_log"))


def test_only_admins_read_the_log(client, actors):
    assert client.get("/api/v1/audit").status_code == 401
    assert (
        client.get("/api/v1/audit", headers=actors.coordinator_a.headers).status_code
        == 403
    )
    assert client.get("/api/v1/audit", headers=actors.admin.headers).status_code == 200

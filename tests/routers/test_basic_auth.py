"""HTTP Basic with an API key (user ``apikey``): for clients that can send nothing else,
such as QGIS 3.22, which has no "API header" authentication and ignores ``http-header:``
options. The key acts exactly as it does in ``X-API-Key``: same scopes, same audit trail."""

import base64

from shapely.geometry import Point

from api.services import auth
from api.vocab import Role
from tests.factories import hazard_feature, make_hazard, square
from tests.helpers import assert_problem


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_a_key_as_the_basic_password_reads_what_the_key_reads(
    client, session, settings, actors
):
    who, org = actors.coordinator_a.principal, actors.org_a
    make_hazard(session, settings, who, square(42.1, 12.1, 0.01), org)
    make_hazard(session, settings, who, Point(42.2, 12.2), org, hazard_type="uxo_spot")
    plain, _ = auth.create_api_key(session, organisation_code=org, name="qgis-desk")
    for cid in ("hazards", "hazard-points"):
        by_header = client.get(
            f"/ogc/collections/{cid}/items", headers={"X-API-Key": plain}
        )
        by_basic = client.get(
            f"/ogc/collections/{cid}/items", headers=basic("apikey", plain)
        )
        assert by_basic.status_code == 200, by_basic.text
        assert by_basic.json()["numberMatched"] == by_header.json()["numberMatched"] > 0
    tile = client.get("/tiles/hazards/0/0/0.mvt", headers=basic("apikey", plain))
    assert tile.status_code == 200


def test_basic_refuses_another_user_a_wrong_key_and_nothing_else_changes(
    client, session, actors
):
    plain, _ = auth.create_api_key(session, organisation_code=actors.org_a, name="k")
    url = "/ogc/collections/hazards/items"
    problem = assert_problem(client.get(url, headers=basic("admin", plain)), 401)
    assert '"apikey"' in problem["detail"]
    assert_problem(client.get(url, headers=basic("apikey", "sgk_wrong")), 401)
    assert_problem(client.get(url, headers={"Authorization": "Basic !!!"}), 401)
    # a user's password is not accepted through Basic: sign-in goes through /auth/token
    assert_problem(
        client.get(url, headers=basic(actors.coordinator_a.name, "demo-password")), 401
    )


def test_basic_keeps_the_keys_scopes_and_is_audited(client, session, actors):
    plain, _ = auth.create_api_key(
        session,
        organisation_code=actors.org_a,
        name="read-only-desk",
        role=Role.analyst,
    )
    body = hazard_feature(square(42.3, 12.3, 0.01), actors.org_a)
    refused = client.post("/api/v1/hazards", json=body, headers=basic("apikey", plain))
    assert refused.status_code == 403, refused.text

    writer, _ = auth.create_api_key(
        session, organisation_code=actors.org_a, name="writer-desk"
    )
    r = client.post("/api/v1/hazards", json=body, headers=basic("apikey", writer))
    assert r.status_code == 201, r.text
    log = client.get(
        "/api/v1/audit",
        params={"entity": "hazards", "entity_id": r.json()["id"]},
        headers=actors.admin.headers,
    ).json()["items"]
    insert = next(e for e in log if e["action"] == "insert")
    assert "writer-desk" in insert["actor"]
    assert insert["request"] == "POST /api/v1/hazards"


def test_malformed_basic_credentials_are_our_401_problem(client):
    for header in ("Basic !!!notb64", "Basic " + base64.b64encode(b"nocolon").decode()):
        problem = assert_problem(
            client.get(
                "/ogc/collections/hazards/items", headers={"Authorization": header}
            ),
            401,
        )
        assert problem["type"] != "about:blank" and "apikey" in problem["detail"]

"""Risk-education sessions: CRUD with ETags, validation, role and organisation scoping,
locations that were not safe to record, links, and the audit log."""

import uuid
from datetime import date, timedelta

import pytest
from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from api.services import auth
from api.vocab import Role
from tests.factories import make_admin_area, make_hazard
from tests.helpers import EORE_SPOT, assert_problem
from tests.helpers import EORE_URL as URL
from tests.helpers import eore_session_body as session_body

LON, LAT = EORE_SPOT


def withheld_body(pcode, **props):
    return session_body(
        lon=None,
        **{"location_safe_to_record": False, "admin": pcode, **props},
    )


def post(client, user, body, status=201):
    r = client.post(URL, json=body, headers=user.headers)
    assert r.status_code == status, r.text
    return r


def user_of(session, settings, role, org):
    name = f"{role.value}-{uuid.uuid4().hex[:6]}"
    user = auth.create_user(
        session,
        username=name,
        password="password-" + name,
        role=role,
        organisation_code=org,
    )
    token, _ = auth.issue_token(settings, user)
    return {"Authorization": f"Bearer {token}"}


def errors_at(body):
    return [e.get("pointer") for e in body.get("errors", [])]


@pytest.fixture
def area(session):
    """An administrative area around the test point."""
    return make_admin_area(
        session, "UA63EORE1", box(LON - 0.05, LAT - 0.05, LON + 0.05, LAT + 0.05), 3
    )


# --- create, read, list, patch, retire --------------------------------------------------------


def test_session_crud_with_etags(client, session, actors, area):
    r = post(client, actors.eore_a, session_body(external_id="RE-1"))
    assert r.headers["content-type"].startswith("application/geo+json")
    assert r.headers["ETag"] == '"1"'
    feature = r.json()
    sid = feature["id"]
    props = feature["properties"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [LON, LAT]}
    assert props["organisation"] == actors.org_a
    assert props["location_safe_to_record"] is True
    assert props["admin"] == area  # derived from the point
    assert props["beneficiaries_total"] == 27
    assert props["beneficiaries"][0] == {
        "sex": "female",
        "age_band": "age_5_12",
        "disability": "unknown",
        "count": 14,
    }
    assert props["messages_covered"] == ["recognise_devices", "report"]

    # re-sending the external id updates the same session
    again = post(
        client,
        actors.eore_a,
        session_body(external_id="RE-1", audience="general_community"),
        status=200,
    )
    assert again.json()["id"] == sid and again.headers["ETag"] == '"2"'
    assert again.json()["properties"]["audience"] == "general_community"

    got = client.get(f"{URL}/{sid}", headers=actors.analyst_a.headers)
    assert got.status_code == 200 and got.headers["ETag"] == '"2"'
    assert got.json()["properties"]["beneficiaries_total"] == 27

    listed = client.get(
        URL,
        params={
            "organisation": actors.org_a,
            "from": "2024-06-01",
            "to": "2024-06-30",
            "delivery_method": "school_based",
            "bbox": f"{LON - 0.01},{LAT - 0.01},{LON + 0.01},{LAT + 0.01}",
            "admin": area,
        },
        headers=actors.analyst_a.headers,
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["type"] == "FeatureCollection"
    assert listed.json()["numberMatched"] == 1
    assert listed.json()["features"][0]["id"] == sid
    for params in (
        {"from": "2024-06-15"},
        {"delivery_method": "mass_media"},
        {"audience": "children"},
        {"bbox": "30,40,31,41"},
        {"organisation": actors.org_b},
    ):
        empty = client.get(URL, params=params, headers=actors.analyst_a.headers)
        assert empty.status_code == 200 and empty.json()["numberMatched"] == 0, params

    # PATCH: If-Match required, a stale one refused, lists replaced
    patch = {
        "properties": {
            "beneficiaries": [{"sex": "female", "age_band": "age_18_plus", "count": 30}]
        }
    }
    assert_problem(
        client.patch(f"{URL}/{sid}", json=patch, headers=actors.eore_a.headers), 428
    )
    stale = assert_problem(
        client.patch(
            f"{URL}/{sid}",
            json=patch,
            headers={**actors.eore_a.headers, "If-Match": '"1"'},
        ),
        412,
    )
    assert stale["current_version"] == 2 and "changed since" in stale["detail"]
    changed = client.patch(
        f"{URL}/{sid}",
        json=patch,
        headers={**actors.eore_a.headers, "If-Match": '"2"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"3"'
    assert changed.json()["properties"]["beneficiaries_total"] == 30
    assert len(changed.json()["properties"]["beneficiaries"]) == 1
    assert changed.json()["properties"]["audience"] == "general_community"  # kept

    outside = client.patch(
        f"{URL}/{sid}",
        json={"geometry": {"type": "Point", "coordinates": [LON + 1, LAT]}},
        headers={**actors.eore_a.headers, "If-Match": '"3"'},
    )
    assert outside.status_code == 422, outside.text  # outside the programme's country
    assert "outside the programme" in outside.json()["detail"]
    east = make_admin_area(
        session, "UA63EORE2", box(LON + 0.95, LAT - 0.05, LON + 1.05, LAT + 0.05), 3
    )
    moved = client.patch(
        f"{URL}/{sid}",
        json={"geometry": {"type": "Point", "coordinates": [LON + 1, LAT]}},
        headers={**actors.eore_a.headers, "If-Match": '"3"'},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["geometry"]["coordinates"] == [LON + 1, LAT]
    assert moved.json()["properties"]["admin"] == east  # derived again from the point

    # DELETE retires (If-Match), after which the session is gone from reads
    assert_problem(client.delete(f"{URL}/{sid}", headers=actors.eore_a.headers), 428)
    assert_problem(
        client.delete(
            f"{URL}/{sid}", headers={**actors.eore_a.headers, "If-Match": '"3"'}
        ),
        412,
    )
    gone = client.delete(
        f"{URL}/{sid}", headers={**actors.eore_a.headers, "If-Match": '"4"'}
    )
    assert gone.status_code == 204
    assert_problem(client.get(f"{URL}/{sid}", headers=actors.analyst_a.headers), 404)
    assert (
        client.get(URL, headers=actors.analyst_a.headers).json()["numberMatched"] == 0
    )


def test_paging_and_order(client, actors):
    for day in ("2024-06-01", "2024-06-03", "2024-06-02"):
        post(client, actors.eore_a, session_body(session_date=day))
    page = client.get(URL, params={"limit": 2}, headers=actors.analyst_a.headers)
    body = page.json()
    assert body["numberMatched"] == 3 and body["numberReturned"] == 2
    assert [f["properties"]["session_date"] for f in body["features"]] == [
        "2024-06-03",
        "2024-06-02",
    ]
    nxt = next(link["href"] for link in body["links"] if link["rel"] == "next")
    rest = client.get(nxt, headers=actors.analyst_a.headers).json()
    assert [f["properties"]["session_date"] for f in rest["features"]] == ["2024-06-01"]


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        (
            {"beneficiaries": [{"sex": "female", "age_band": "0-4", "count": 3}]},
            "/properties/beneficiaries/0/age_band",
        ),
        (
            {"beneficiaries": [{"sex": "f", "age_band": "age_5_12", "count": 3}]},
            "/properties/beneficiaries/0/sex",
        ),
        (
            {"beneficiaries": [{"sex": "male", "age_band": "age_5_12", "count": -1}]},
            "/properties/beneficiaries/0/count",
        ),
        (
            {
                "beneficiaries": [
                    {"sex": "male", "age_band": "age_5_12", "count": 1},
                    {"sex": "male", "age_band": "age_5_12", "count": 2},
                ]
            },
            "/properties/beneficiaries/1",
        ),
        ({"delivery_method": "carrier_pigeon"}, "/properties/delivery_method"),
        ({"messages_covered": ["pray"]}, "/properties/messages_covered/0"),
        ({"ended_on": "2024-06-01"}, "/properties/ended_on"),
        ({"session_date": "2999-01-01"}, "/properties/session_date"),
        ({"hazard_ids": ["no-such-hazard"]}, "/properties/hazard_ids/0"),
        ({"accident_ids": [str(uuid.uuid4())]}, "/properties/accident_ids/0"),
        ({"settlement_id": str(uuid.uuid4())}, "/properties/settlement_id"),
        ({"admin": "NO-SUCH-PCODE"}, "/properties/admin"),
        ({"colour": "red"}, "/properties/colour"),
    ],
)
def test_invalid_sessions_name_the_field(client, actors, change, pointer):
    body = assert_problem(
        client.post(URL, json=session_body(**change), headers=actors.eore_a.headers),
        422,
    )
    assert pointer in errors_at(body), body


def test_location_and_not_safe_to_record_are_exclusive(client, actors, area):
    both = assert_problem(
        client.post(
            URL,
            json=session_body(location_safe_to_record=False, admin=area),
            headers=actors.eore_a.headers,
        ),
        422,
    )
    assert errors_at(both) == ["/geometry"]
    assert "together" in both["detail"]

    neither = assert_problem(
        client.post(URL, json=session_body(lon=None), headers=actors.eore_a.headers),
        422,
    )
    assert errors_at(neither) == ["/geometry"]
    assert "neither" in neither["detail"]

    no_area = assert_problem(
        client.post(
            URL,
            json=session_body(lon=None, location_safe_to_record=False),
            headers=actors.eore_a.headers,
        ),
        422,
    )
    assert errors_at(no_area) == ["/properties/admin"]

    bad_point = assert_problem(
        client.post(
            URL,
            json={
                **session_body(),
                "geometry": {"type": "Point", "coordinates": [500, 0]},
            },
            headers=actors.eore_a.headers,
        ),
        422,
    )
    assert errors_at(bad_point)[0].startswith("/geometry")


def test_database_refuses_a_point_with_not_safe_to_record(session, actors, area):
    """The CHECK holds even for writes that bypass the API."""
    org_id = session.execute(
        text("SELECT id FROM organisations WHERE code = :c"), {"c": actors.org_a}
    ).scalar_one()
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            text(
                "INSERT INTO eore_sessions (organisation_id, session_date, "
                "delivery_method, audience, location_safe_to_record, geom, admin_pcode) "
                "VALUES (:org, '2024-06-01', 'interpersonal', 'children', false, "
                "ST_SetSRID(ST_MakePoint(36.2, 49.1), 4326), :pcode)"
            ),
            {"org": org_id, "pcode": area},
        )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            text(
                "INSERT INTO eore_sessions (organisation_id, session_date, "
                "delivery_method, audience) "
                "VALUES (:org, '2024-06-01', 'interpersonal', 'children')"
            ),
            {"org": org_id},
        )


def test_patch_validation(client, actors, area):
    sid = post(client, actors.eore_a, session_body()).json()["id"]
    headers = {**actors.eore_a.headers, "If-Match": '"1"'}
    nothing = assert_problem(
        client.patch(f"{URL}/{sid}", json={}, headers=headers), 422
    )
    assert "nothing to change" in nothing["detail"]
    nulls = assert_problem(
        client.patch(
            f"{URL}/{sid}",
            json={"properties": {"session_date": None, "audience": None}},
            headers=headers,
        ),
        422,
    )
    assert set(errors_at(nulls)) == {
        "/properties/session_date",
        "/properties/audience",
    }
    no_point = assert_problem(
        client.patch(f"{URL}/{sid}", json={"geometry": None}, headers=headers), 422
    )
    assert errors_at(no_point) == ["/geometry"]
    both = assert_problem(
        client.patch(
            f"{URL}/{sid}",
            json={
                "geometry": {"type": "Point", "coordinates": [LON, LAT]},
                "properties": {"location_safe_to_record": False, "admin": area},
            },
            headers=headers,
        ),
        422,
    )
    assert errors_at(both) == ["/geometry"]
    # nothing was applied by the refused patches
    got = client.get(f"{URL}/{sid}", headers=actors.eore_a.headers)
    assert got.headers["ETag"] == '"1"'


# --- roles and organisations -----------------------------------------------------------------


def test_who_may_write(client, session, settings, actors):
    body = session_body()
    assert_problem(client.post(URL, json=body), 401)
    assert_problem(client.get(URL), 401)
    analyst = assert_problem(
        client.post(URL, json=body, headers=actors.analyst_a.headers), 403
    )
    assert "analyst" in analyst["detail"]
    other_org = session_body(organisation=actors.org_b)
    assert_problem(client.post(URL, json=other_org, headers=actors.eore_a.headers), 403)
    assert_problem(
        client.post(URL, json=other_org, headers=actors.coordinator_a.headers), 403
    )
    # EORE staff, coordinators (own organisation) and admins (any) write
    post(client, actors.coordinator_b, other_org)
    post(client, actors.admin, other_org)
    sid = post(client, actors.eore_a, body).json()["id"]

    eore_b = user_of(session, settings, Role.eore, actors.org_b)
    url = f"{URL}/{sid}"
    patch = {"properties": {"notes": "changed"}}
    for headers in (eore_b, actors.coordinator_b.headers, actors.analyst_a.headers):
        assert_problem(
            client.patch(url, json=patch, headers={**headers, "If-Match": '"1"'}), 403
        )
        assert_problem(client.delete(url, headers={**headers, "If-Match": '"1"'}), 403)
    # every operational role reads every organisation's sessions
    for headers in (eore_b, actors.analyst_a.headers, actors.coordinator_b.headers):
        assert client.get(url, headers=headers).status_code == 200
    ok = client.patch(
        url, json=patch, headers={**actors.coordinator_a.headers, "If-Match": '"1"'}
    )
    assert ok.status_code == 200, ok.text
    ok = client.patch(
        url,
        json={"properties": {"notes": "by the admin"}},
        headers={**actors.admin.headers, "If-Match": '"2"'},
    )
    assert ok.status_code == 200 and ok.json()["properties"]["notes"] == "by the admin"


# --- not safe to record ----------------------------------------------------------------------


def test_not_safe_to_record_never_exposes_a_location(client, session, actors, area):
    r = post(client, actors.eore_a, withheld_body(area, team="Team 3"))
    withheld = r.json()
    assert withheld["geometry"] is None
    assert withheld["properties"]["location_safe_to_record"] is False
    assert withheld["properties"]["admin"] == area
    assert withheld["properties"]["admin_name"] == f"Area {area}"
    sid = withheld["id"]

    got = client.get(f"{URL}/{sid}", headers=actors.analyst_a.headers).json()
    assert got["geometry"] is None
    near = f"{LON - 0.05},{LAT - 0.05},{LON + 0.05},{LAT + 0.05}"
    in_box = client.get(URL, params={"bbox": near}, headers=actors.analyst_a.headers)
    assert in_box.json()["numberMatched"] == 0  # never matched by a bbox
    in_area = client.get(URL, params={"admin": area}, headers=actors.analyst_a.headers)
    assert [f["id"] for f in in_area.json()["features"]] == [sid]
    assert in_area.json()["features"][0]["geometry"] is None

    # a session recorded with a point and then found not safe: the point is removed
    located = post(client, actors.eore_a, session_body(lon=36.2345, lat=49.0456))
    lid = located.json()["id"]
    switched = client.patch(
        f"{URL}/{lid}",
        json={"properties": {"location_safe_to_record": False}},
        headers={**actors.eore_a.headers, "If-Match": '"1"'},
    )
    assert switched.status_code == 200, switched.text
    assert switched.json()["geometry"] is None
    assert switched.json()["properties"]["admin"] == area
    assert "point recorded earlier was removed" in switched.json()["warnings"][0]
    stored = session.execute(
        text("SELECT geom IS NULL FROM eore_sessions WHERE id = :id"), {"id": lid}
    ).scalar_one()
    assert stored is True
    for response in (
        client.get(f"{URL}/{lid}", headers=actors.admin.headers),
        client.get(URL, headers=actors.admin.headers),
        client.get(
            "/api/v1/audit",
            params={"entity": "eore_sessions", "entity_id": lid},
            headers=actors.admin.headers,
        ),
    ):
        assert response.status_code == 200
        assert "36.2345" not in response.text and "49.0456" not in response.text

    # back to a recorded point: one must be sent
    back = client.patch(
        f"{URL}/{lid}",
        json={"properties": {"location_safe_to_record": True}},
        headers={**actors.eore_a.headers, "If-Match": '"2"'},
    )
    assert errors_at(assert_problem(back, 422)) == ["/geometry"]


# --- links -----------------------------------------------------------------------------------


def test_sessions_link_hazards_and_accidents(client, session, settings, actors):
    hazard_id = make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        box(LON, LAT, LON + 0.002, LAT + 0.002),
        actors.org_a,
        external_id="HZ-EORE-1",
    )
    accident = client.post(
        "/api/v1/accidents",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [LON, LAT]},
            "properties": {
                "occurred_on": (date.today() - timedelta(days=10)).isoformat(),
                "accident_class": "mine_erw_accident",
            },
        },
        headers=actors.coordinator_a.headers,
    )
    assert accident.status_code == 201, accident.text
    accident_id = accident.json()["id"]
    r = post(
        client,
        actors.eore_a,
        session_body(hazard_ids=["HZ-EORE-1"], accident_ids=[accident_id]),
    )
    props = r.json()["properties"]
    assert props["hazard_ids"] == [str(hazard_id)]
    assert props["accident_ids"] == [accident_id]
    by_hazard = client.get(
        URL, params={"hazard_id": str(hazard_id)}, headers=actors.analyst_a.headers
    )
    assert by_hazard.json()["numberMatched"] == 1
    unlinked = client.patch(
        f"{URL}/{r.json()['id']}",
        json={"properties": {"hazard_ids": [], "accident_ids": [accident_id]}},
        headers={**actors.eore_a.headers, "If-Match": '"1"'},
    )
    assert unlinked.status_code == 200, unlinked.text
    assert unlinked.json()["properties"]["hazard_ids"] == []
    assert unlinked.json()["properties"]["accident_ids"] == [accident_id]
    assert (
        client.get(
            URL, params={"hazard_id": str(hazard_id)}, headers=actors.analyst_a.headers
        ).json()["numberMatched"]
        == 0
    )


# --- audit -----------------------------------------------------------------------------------


def test_writes_are_audited(client, actors):
    sid = post(client, actors.eore_a, session_body(notes="first")).json()["id"]
    r = client.patch(
        f"{URL}/{sid}",
        json={
            "properties": {
                "notes": "second",
                "beneficiaries": [
                    {"sex": "male", "age_band": "age_18_plus", "count": 4}
                ],
            }
        },
        headers={**actors.eore_a.headers, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    log = client.get(
        "/api/v1/audit",
        params={"entity": "eore_sessions", "entity_id": sid},
        headers=actors.admin.headers,
    ).json()["items"]
    actions = [e["action"] for e in log]
    assert "insert" in actions and "update" in actions
    update = next(e for e in log if e["action"] == "update")
    assert update["before"]["notes"] == "first" and update["after"]["notes"] == "second"
    assert update["actor"] == actors.eore_a.name
    assert update["request"] == f"PATCH {URL}/{sid}"
    cells = client.get(
        "/api/v1/audit",
        params={"entity": "eore_session_beneficiaries"},
        headers=actors.admin.headers,
    ).json()["items"]
    assert {"insert", "delete"} <= {e["action"] for e in cells}
    assert any((e["after"] or {}).get("count") == 4 for e in cells)


def test_vocabularies_list_the_eore_code_lists(client, actors):
    r = client.get(
        "/api/v1/vocabularies", params={"lang": "uk"}, headers=actors.eore_a.headers
    )
    vocab = r.json()["vocabularies"]
    assert [c["code"] for c in vocab["eore_age_band"]] == [
        "age_5_12",
        "age_13_17",
        "age_18_plus",
        "unknown",
    ]
    assert {c["code"] for c in vocab["eore_delivery_method"]} >= {
        "interpersonal",
        "school_based",
        "mass_media",
    }
    labels = {c["code"]: c["label"] for c in vocab["eore_disability"]}
    assert labels["with_disability"] == "З інвалідністю"


def test_an_api_key_with_the_scope_records_sessions(client, session, actors):
    """A field-form bridge of an EORE team writes sessions with a key holding
    eore-sessions:write; a key without it is refused, naming the permission."""
    eore_key, _ = auth.create_api_key(
        session, organisation_code=actors.org_a, name="eore forms", role=Role.eore
    )
    r = client.post(URL, json=session_body(), headers={"X-API-Key": eore_key})
    assert r.status_code == 201, r.text
    assert r.json()["properties"]["organisation"] == actors.org_a
    reports_only, _ = auth.create_api_key(
        session,
        organisation_code=actors.org_a,
        name="reports",
        permissions=["hazard-reports:write"],
    )
    r = client.post(URL, json=session_body(), headers={"X-API-Key": reports_only})
    assert "eore-sessions:write" in assert_problem(r, 403)["detail"]

"""Hazard reports: unverified intake, the verify/accept/reject workflow, and what it may touch."""

import uuid

import pytest
from shapely.geometry import box, mapping, shape

from api.schemas.hazard_reports import AcceptBody, HazardReportFeature
from api.services import hazard_reports
from tests.factories import make_hazard
from tests.helpers import assert_problem

AREA = box(36.20, 49.10, 36.21, 49.11)
POINT = {"type": "Point", "coordinates": [36.2051, 49.1032]}
URL = "/api/v1/hazard-reports"


def report(geometry=None, **props) -> dict:
    base = {
        "source": "hotline",
        "reported_on": "2024-05-17",
        "description": "metal object at the edge of the field",
        "contamination": ["ap_mine"],
        "location_text": "behind the school",
    }
    base.update(props)
    if geometry is not None and not isinstance(geometry, dict):
        geometry = mapping(geometry)
    return {"type": "Feature", "geometry": geometry, "properties": base}


def submit(client, user, body) -> dict:
    r = client.post(URL, json=body, headers=user.headers)
    assert r.status_code == 201, r.text
    return r.json()


def hazard_count(client, actors) -> int:
    r = client.get("/api/v1/hazards?limit=1", headers=actors.admin.headers)
    assert r.status_code == 200, r.text
    return r.json()["numberMatched"]


def act(client, user, report_id, action, body=None, status=200):
    r = client.post(f"{URL}/{report_id}/{action}", json=body, headers=user.headers)
    assert r.status_code == status, r.text
    return r.json()


# --- the workflow --------------------------------------------------------------------------


def test_full_workflow_accept_creates_exactly_one_sha(client, actors):
    before = hazard_count(client, actors)
    created = submit(client, actors.eore_a, report(AREA, source="eore_session"))
    rid = created["id"]
    props = created["properties"]
    assert props["status"] == "submitted" and props["organisation"] == actors.org_a
    assert props["submitted_by"] == actors.eore_a.name and props["hazard_id"] is None
    assert hazard_count(client, actors) == before

    verified = act(client, actors.coordinator_a, rid, "verify", {"note": "called back"})
    assert verified["properties"]["status"] == "verified"
    assert verified["properties"]["verified_by"] == actors.coordinator_a.name
    assert verified["properties"]["verified_at"]
    assert hazard_count(client, actors) == before

    accepted = act(
        client,
        actors.coordinator_a,
        rid,
        "accept",
        {"create": {"hazard_type": "minefield", "name": "Field"}, "note": "NTS agrees"},
    )
    props = accepted["properties"]
    assert props["status"] == "accepted" and props["decision_note"] == "NTS agrees"
    assert props["decided_by"] == actors.coordinator_a.name and props["decided_at"]
    assert hazard_count(client, actors) == before + 1

    hazard = client.get(
        f"/api/v1/hazards/{props['hazard_id']}", headers=actors.analyst_a.headers
    ).json()
    assert hazard["properties"]["classification"] == "SHA"
    assert hazard["properties"]["hazard_type"] == "minefield"
    assert hazard["properties"]["organisation"] == actors.org_a
    assert hazard["properties"]["contamination"] == ["ap_mine"]
    assert hazard["properties"]["date_of_information"] == "2024-05-17"
    assert shape(hazard["geometry"]).equals(AREA)
    history = client.get(
        f"/api/v1/hazards/{props['hazard_id']}/history",
        headers=actors.analyst_a.headers,
    ).json()
    assert history["versions"][0]["source"] == f"hazard_report:{rid}"

    events = props["events"]
    assert [(e["action"], e["from_status"], e["to_status"]) for e in events] == [
        ("submit", None, "submitted"),
        ("verify", "submitted", "verified"),
        ("accept", "verified", "accepted"),
    ]
    assert (
        events[1]["note"] == "called back"
        and events[2]["hazard_id"] == props["hazard_id"]
    )
    assert [e["by"] for e in events] == [
        actors.eore_a.name,
        actors.coordinator_a.name,
        actors.coordinator_a.name,
    ]


def test_unverified_reports_never_appear_as_hazards(client, actors):
    bbox = {"bbox": "36.1,49.0,36.3,49.2", "limit": 1000}
    before = client.get("/api/v1/hazards", params=bbox, headers=actors.admin.headers)
    ids = [
        submit(client, actors.eore_a, report(geom))["id"]
        for geom in (AREA, POINT, box(36.22, 49.12, 36.23, 49.13))
    ]
    act(client, actors.coordinator_a, ids[0], "verify")
    act(client, actors.coordinator_a, ids[1], "verify")
    act(client, actors.coordinator_a, ids[1], "reject", {"note": "a fence post"})
    after = client.get("/api/v1/hazards", params=bbox, headers=actors.admin.headers)
    assert after.json()["numberMatched"] == before.json()["numberMatched"]
    assert {f["id"] for f in after.json()["features"]} == {
        f["id"] for f in before.json()["features"]
    }
    listed = client.get(URL, headers=actors.analyst_a.headers).json()
    statuses = {f["id"]: f["properties"]["status"] for f in listed["features"]}
    assert [statuses[i] for i in ids] == ["verified", "rejected", "submitted"]


def test_accept_link_links_and_leaves_the_hazard_alone(
    client, session, settings, actors
):
    hid = make_hazard(
        session, settings, actors.coordinator_b.principal, AREA, actors.org_b
    )
    hazard_before = client.get(
        f"/api/v1/hazards/{hid}", headers=actors.admin.headers
    ).json()
    before = hazard_count(client, actors)
    rid = submit(client, actors.eore_a, report(POINT))["id"]
    act(client, actors.coordinator_a, rid, "verify")
    accepted = act(client, actors.coordinator_a, rid, "accept", {"hazard_id": str(hid)})
    assert accepted["properties"]["status"] == "accepted"
    assert accepted["properties"]["hazard_id"] == str(hid)
    assert hazard_count(client, actors) == before
    hazard_after = client.get(
        f"/api/v1/hazards/{hid}", headers=actors.admin.headers
    ).json()
    assert (
        hazard_after["properties"]["version"] == hazard_before["properties"]["version"]
    )
    assert hazard_after["geometry"] == hazard_before["geometry"]


def test_illegal_transitions_are_409(client, actors):
    rid = submit(client, actors.eore_a, report(AREA))["id"]
    coord = actors.coordinator_a
    problem = assert_problem(
        client.post(f"{URL}/{rid}/accept", json={"create": {}}, headers=coord.headers),
        409,
    )
    assert (
        problem["current_status"] == "submitted"
        and "verify it first" in problem["detail"]
    )
    assert_problem(
        client.post(f"{URL}/{rid}/reject", json={"note": "no"}, headers=coord.headers),
        409,
    )
    act(client, coord, rid, "verify")
    assert_problem(client.post(f"{URL}/{rid}/verify", headers=coord.headers), 409)
    act(client, coord, rid, "accept", {"create": {"hazard_type": "minefield"}})
    for action, body in (
        ("verify", None),
        ("reject", {"note": "too late"}),
        ("accept", {"create": {"hazard_type": "minefield"}}),
    ):
        problem = assert_problem(
            client.post(f"{URL}/{rid}/{action}", json=body, headers=coord.headers), 409
        )
        assert problem["current_status"] == "accepted"
        assert "final" in problem["detail"]
    events = client.get(f"{URL}/{rid}", headers=coord.headers).json()["properties"]
    assert [e["action"] for e in events["events"]] == ["submit", "verify", "accept"]


def test_reject_needs_a_note_and_is_final(client, actors):
    coord = actors.coordinator_a
    rid = submit(client, actors.eore_a, report(POINT))["id"]
    act(client, coord, rid, "verify")
    assert_problem(
        client.post(f"{URL}/{rid}/reject", json={}, headers=coord.headers), 422
    )
    assert_problem(
        client.post(f"{URL}/{rid}/reject", json={"note": "   "}, headers=coord.headers),
        422,
    )
    rejected = act(client, coord, rid, "reject", {"note": "duplicate of 12 May"})
    assert rejected["properties"]["status"] == "rejected"
    assert rejected["properties"]["decision_note"] == "duplicate of 12 May"
    assert rejected["properties"]["hazard_id"] is None
    assert_problem(
        client.post(
            f"{URL}/{rid}/accept",
            json={"hazard_id": str(uuid.uuid4())},
            headers=coord.headers,
        ),
        409,
    )


# --- roles -----------------------------------------------------------------------------------


def test_roles_for_submitting_reading_and_deciding(client, actors):
    body = report(POINT)
    assert_problem(client.post(URL, json=body), 401)
    assert_problem(client.get(URL), 401)
    assert_problem(client.post(URL, json=body, headers=actors.analyst_a.headers), 403)
    assert_problem(
        client.post(
            URL,
            json=report(POINT, organisation=actors.org_b),
            headers=actors.eore_a.headers,
        ),
        403,
    )
    rid = submit(client, actors.eore_a, body)["id"]
    assert_problem(client.get(f"{URL}/{rid}"), 401)
    assert (
        client.get(f"{URL}/{rid}", headers=actors.analyst_a.headers).status_code == 200
    )
    assert (
        client.get(f"{URL}/{rid}", headers=actors.coordinator_b.headers).status_code
        == 200
    )

    for user in (actors.eore_a, actors.analyst_a, actors.coordinator_b):
        assert_problem(client.post(f"{URL}/{rid}/verify", headers=user.headers), 403)
    assert_problem(client.post(f"{URL}/{rid}/verify"), 401)
    act(client, actors.admin, rid, "verify")
    for user in (actors.eore_a, actors.analyst_a, actors.coordinator_b):
        assert_problem(
            client.post(
                f"{URL}/{rid}/reject", json={"note": "no"}, headers=user.headers
            ),
            403,
        )
    act(client, actors.coordinator_a, rid, "reject", {"note": "a fence post"})


def test_eore_staff_read_only_their_organisations_reports(client, actors):
    own = submit(client, actors.eore_a, report(POINT))["id"]
    other = submit(client, actors.coordinator_b, report(POINT, external_id="B-1"))["id"]
    seen = client.get(URL, params={"limit": 1000}, headers=actors.eore_a.headers).json()
    ids = {f["id"] for f in seen["features"]}
    assert own in ids and other not in ids
    assert_problem(client.get(f"{URL}/{other}", headers=actors.eore_a.headers), 403)
    everyone = client.get(
        URL, params={"limit": 1000}, headers=actors.analyst_a.headers
    ).json()
    assert {own, other} <= {f["id"] for f in everyone["features"]}


# --- accepting: geometry rules and atomicity ---------------------------------------------


def test_point_report_makes_only_a_spot_hazard(client, actors):
    coord = actors.coordinator_a
    rid = submit(client, actors.eore_a, report(POINT, contamination=["uxo"]))["id"]
    act(client, coord, rid, "verify")
    before = hazard_count(client, actors)
    problem = assert_problem(
        client.post(
            f"{URL}/{rid}/accept",
            json={"create": {"hazard_type": "minefield"}},
            headers=coord.headers,
        ),
        422,
    )
    assert "uxo_spot or axo_site" in problem["detail"]
    assert problem["errors"][0]["pointer"] == "/create/hazard_type"
    assert hazard_count(client, actors) == before
    detail = client.get(f"{URL}/{rid}", headers=coord.headers).json()["properties"]
    assert detail["status"] == "verified" and detail["hazard_id"] is None

    accepted = act(
        client, coord, rid, "accept", {"create": {"hazard_type": "uxo_spot"}}
    )
    hazard = client.get(
        f"/api/v1/hazards/{accepted['properties']['hazard_id']}", headers=coord.headers
    ).json()
    assert hazard["geometry"] == POINT
    assert hazard_count(client, actors) == before + 1


def test_report_without_location_takes_the_perimeter_drawn_later(client, actors):
    coord = actors.coordinator_a
    rid = submit(client, actors.eore_a, report(None, source="eore_session"))["id"]
    act(client, coord, rid, "verify")
    problem = assert_problem(
        client.post(
            f"{URL}/{rid}/accept",
            json={"create": {"hazard_type": "minefield"}},
            headers=coord.headers,
        ),
        422,
    )
    assert problem["errors"][0]["pointer"] == "/create/geometry"
    drawn = box(36.30, 49.20, 36.31, 49.21)
    accepted = act(
        client,
        coord,
        rid,
        "accept",
        {"create": {"hazard_type": "minefield", "geometry": mapping(drawn)}},
    )
    hazard = client.get(
        f"/api/v1/hazards/{accepted['properties']['hazard_id']}", headers=coord.headers
    ).json()
    assert shape(hazard["geometry"]).equals(drawn)


def test_accept_body_must_be_one_thing_and_an_sha(client, actors):
    coord = actors.coordinator_a
    rid = submit(client, actors.eore_a, report(AREA))["id"]
    act(client, coord, rid, "verify")
    for body in (
        {},
        {"hazard_id": str(uuid.uuid4()), "create": {"hazard_type": "minefield"}},
    ):
        assert_problem(
            client.post(f"{URL}/{rid}/accept", json=body, headers=coord.headers), 422
        )
    problem = assert_problem(
        client.post(
            f"{URL}/{rid}/accept",
            json={"create": {"classification": "CHA"}},
            headers=coord.headers,
        ),
        422,
    )
    assert problem["errors"][0]["pointer"] == "/create/classification"
    problem = assert_problem(
        client.post(
            f"{URL}/{rid}/accept",
            json={"hazard_id": str(uuid.uuid4())},
            headers=coord.headers,
        ),
        422,
    )
    assert problem["errors"][0]["pointer"] == "/hazard_id"


def test_failed_hazard_creation_leaves_the_report_verified(client, actors):
    coord = actors.coordinator_a
    rid = submit(client, actors.eore_a, report(AREA))["id"]
    act(client, coord, rid, "verify")
    before = hazard_count(client, actors)
    assert_problem(
        client.post(
            f"{URL}/{rid}/accept",
            json={
                "create": {
                    "hazard_type": "minefield",
                    "date_of_information": "2999-01-01",
                }
            },
            headers=coord.headers,
        ),
        422,
    )
    assert hazard_count(client, actors) == before
    detail = client.get(f"{URL}/{rid}", headers=coord.headers).json()["properties"]
    assert detail["status"] == "verified" and detail["hazard_id"] is None
    assert [e["action"] for e in detail["events"]] == ["submit", "verify"]


def test_stale_if_match_is_refused(client, actors):
    coord = actors.coordinator_a
    r = client.post(URL, json=report(AREA), headers=actors.eore_a.headers)
    rid, tag = r.json()["id"], r.headers["ETag"]
    act(client, coord, rid, "verify")
    assert_problem(
        client.post(
            f"{URL}/{rid}/reject",
            json={"note": "no"},
            headers={**coord.headers, "If-Match": tag},
        ),
        412,
    )
    current = client.get(f"{URL}/{rid}", headers=coord.headers).headers["ETag"]
    r = client.post(
        f"{URL}/{rid}/reject",
        json={"note": "no"},
        headers={**coord.headers, "If-Match": current},
    )
    assert r.status_code == 200 and r.headers["ETag"] != current


# --- informants' personal data ----------------------------------------------------------


def test_contacts_only_with_restricted_read_and_never_in_lists(client, actors):
    body = report(
        POINT,
        contacts=[
            {
                "name": "Olena Informant",
                "phone": "+380 99 123 4567",
                "consent_to_contact": True,
            }
        ],
    )
    created = client.post(URL, json=body, headers=actors.eore_a.headers)
    assert created.status_code == 201
    assert (
        "Olena" not in created.text and "contacts" not in created.json()["properties"]
    )
    rid = created.json()["id"]

    for user in (
        actors.analyst_a,
        actors.coordinator_a,
        actors.admin,
        actors.analyst_restricted,
    ):
        listed = client.get(URL, params={"limit": 1000}, headers=user.headers)
        assert "Olena" not in listed.text and "+380 99" not in listed.text
        assert all("contacts" not in f["properties"] for f in listed.json()["features"])
        assert all(
            "raw_submission" not in f["properties"] for f in listed.json()["features"]
        )

    for user in (actors.analyst_a, actors.coordinator_a, actors.admin):
        detail = client.get(f"{URL}/{rid}", headers=user.headers)
        assert "Olena" not in detail.text
        props = detail.json()["properties"]
        assert "contacts" not in props and "raw_submission" not in props
        assert props["has_contacts"] is True

    allowed = client.get(f"{URL}/{rid}", headers=actors.analyst_restricted.headers)
    props = allowed.json()["properties"]
    assert props["contacts"] == [
        {
            "name": "Olena Informant",
            "phone": "+380 99 123 4567",
            "email": None,
            "role": None,
            "consent_to_contact": True,
            "notes": None,
        }
    ]
    assert (
        props["raw_submission"]["properties"]["contacts"][0]["name"]
        == "Olena Informant"
    )


# --- re-sending and validation -----------------------------------------------------------


def test_resending_an_external_id_is_idempotent(client, actors):
    coord = actors.coordinator_a
    body = report(AREA, external_id="HOTLINE-42")
    first = client.post(URL, json=body, headers=coord.headers)
    again = client.post(URL, json=body, headers=coord.headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert "already received" in again.json()["warnings"][0]
    listed = client.get(URL, params={"limit": 1000}, headers=coord.headers).json()
    assert [f["id"] for f in listed["features"]].count(first.json()["id"]) == 1

    changed = report(AREA, external_id="HOTLINE-42", description="two objects")
    updated = client.post(URL, json=changed, headers=coord.headers)
    assert updated.status_code == 200 and updated.json()["id"] == first.json()["id"]
    assert updated.json()["properties"]["description"] == "two objects"
    assert updated.json()["properties"]["version"] == 2

    act(client, actors.admin, first.json()["id"], "verify")
    assert client.post(URL, json=changed, headers=coord.headers).status_code == 200
    problem = assert_problem(
        client.post(
            URL,
            json=report(AREA, external_id="HOTLINE-42", description="three"),
            headers=coord.headers,
        ),
        409,
    )
    assert problem["current_status"] == "verified"
    other_org = client.post(
        URL,
        json=report(AREA, external_id="HOTLINE-42"),
        headers=actors.coordinator_b.headers,
    )
    assert other_org.status_code == 201 and other_org.json()["id"] != first.json()["id"]


@pytest.mark.parametrize(
    ("geometry", "pointer"),
    [
        (
            {
                "type": "Polygon",
                "coordinates": [[[36.2, 49.1], [36.3, 49.1], [36.3, 49.2]]],
            },
            "/geometry/coordinates/0",
        ),
        (
            {"type": "LineString", "coordinates": [[36.2, 49.1], [36.3, 49.1]]},
            "/geometry/type",
        ),
        ({"type": "Point", "coordinates": [36.2, 149.1]}, "/geometry/coordinates/1"),
    ],
)
def test_invalid_geometry_is_422_with_a_pointer(client, actors, geometry, pointer):
    problem = assert_problem(
        client.post(URL, json=report(geometry), headers=actors.coordinator_a.headers),
        422,
    )
    assert problem["errors"][0]["pointer"] == pointer


def test_bowtie_is_repaired_with_a_warning(client, actors):
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[36.2, 49.1], [36.21, 49.11], [36.21, 49.1], [36.2, 49.11], [36.2, 49.1]]
        ],
    }
    r = client.post(URL, json=report(bowtie), headers=actors.coordinator_a.headers)
    assert r.status_code == 201
    assert any("repaired" in w for w in r.json()["warnings"])
    assert r.json()["geometry"]["type"] == "MultiPolygon"


def test_unknown_codes_and_future_dates_are_refused(client, actors):
    coord = actors.coordinator_a
    problem = assert_problem(
        client.post(
            URL, json=report(POINT, contamination=["tank"]), headers=coord.headers
        ),
        422,
    )
    assert problem["errors"][0]["pointer"] == "/properties/contamination/0"
    problem = assert_problem(
        client.post(
            URL, json=report(POINT, reported_on="2999-01-01"), headers=coord.headers
        ),
        422,
    )
    assert problem["errors"][0]["pointer"] == "/properties/reported_on"


def test_list_filters(client, actors):
    coord = actors.coordinator_a
    a = submit(client, coord, report(AREA, source="community_survey"))["id"]
    b = submit(client, coord, report(box(40, 40, 40.01, 40.01)))["id"]
    act(client, actors.admin, b, "verify")

    def ids(**params):
        r = client.get(URL, params={"limit": 1000, **params}, headers=coord.headers)
        assert (
            r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
        )
        return {f["id"] for f in r.json()["features"]}

    assert a in ids(source="community_survey") and b not in ids(
        source="community_survey"
    )
    assert b in ids(status="verified") and a not in ids(status="verified")
    assert a in ids(bbox="36.1,49.0,36.3,49.2") and b not in ids(
        bbox="36.1,49.0,36.3,49.2"
    )
    assert {a, b} <= ids(organisation=actors.org_a)
    assert not {a, b} & ids(organisation=actors.org_b)


# --- the service without HTTP ------------------------------------------------------------


def test_services_run_the_workflow_without_http(session, settings, actors):
    coord = actors.coordinator_a.principal
    written = hazard_reports.submit(
        session,
        principal=actors.eore_a.principal,
        feature=HazardReportFeature.model_validate(report(AREA, source="eore_session")),
        settings=settings,
    )
    assert written.created
    hazard_reports.verify(session, principal=coord, report_id=written.report_id)
    accepted = hazard_reports.accept(
        session,
        principal=coord,
        report_id=written.report_id,
        body=AcceptBody.model_validate({"create": {"hazard_type": "minefield"}}),
        settings=settings,
    )
    feature = hazard_reports.get(session, principal=coord, report_id=accepted.report_id)
    assert feature["properties"]["status"] == "accepted"
    assert feature["properties"]["hazard_id"] is not None
    assert feature["properties"]["version"] == 3

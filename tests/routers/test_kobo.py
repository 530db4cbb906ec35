"""The KoboToolbox/ODK webhook: organisation API keys only; submissions become hazard reports."""

import copy

import pytest
from shapely.geometry import shape

from api.services import auth
from api.vocab import Role
from tests.helpers import KOBO_SUBMISSION as SUBMISSION
from tests.helpers import assert_problem

URL = "/api/v1/integrations/kobo"


@pytest.fixture
def key_a(session, actors) -> dict[str, str]:
    plain, _ = auth.create_api_key(
        session, organisation_code=actors.org_a, name="kobo-a"
    )
    return {"X-API-Key": plain}


def submission(**changes) -> dict:
    body = copy.deepcopy(SUBMISSION)
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def hazard_count(client, actors) -> int:
    return client.get("/api/v1/hazards?limit=1", headers=actors.admin.headers).json()[
        "numberMatched"
    ]


def test_submission_becomes_an_unverified_report(client, actors, key_a):
    before = hazard_count(client, actors)
    r = client.post(URL, json=SUBMISSION, headers=key_a)
    assert r.status_code == 201, r.text
    assert r.headers["content-type"] == "application/geo+json"
    feature = r.json()
    props = feature["properties"]
    assert props["source"] == "kobo" and props["status"] == "submitted"
    assert props["organisation"] == actors.org_a
    assert props["external_id"] == SUBMISSION["_uuid"]
    assert props["reported_on"] == "2024-05-17"
    assert props["description"] == SUBMISSION["report/description"]
    assert props["location_text"] == "stream behind the school"
    assert props["contamination"] == ["ap_mine", "uxo", "av_mine"]  # multiple + repeat
    assert feature["geometry"] == {"type": "Point", "coordinates": [36.2051, 49.1032]}
    assert props["gps_accuracy_m"] == 4.5
    assert props["submitted_by"] == "api-key:kobo-a"
    assert "contacts" not in props and "Petro" not in r.text
    assert hazard_count(client, actors) == before

    detail = client.get(
        f"/api/v1/hazard-reports/{feature['id']}",
        headers=actors.analyst_restricted.headers,
    ).json()["properties"]
    assert detail["contacts"][0]["name"] == "Petro Informant"
    assert detail["contacts"][0]["phone"] == "+380 67 765 4321"
    assert detail["contacts"][0]["consent_to_contact"] is True
    assert detail["raw_submission"] == SUBMISSION
    plain = client.get(
        f"/api/v1/hazard-reports/{feature['id']}", headers=actors.analyst_a.headers
    )
    assert (
        "Petro" not in plain.text and "raw_submission" not in plain.json()["properties"]
    )


def test_resent_submission_is_not_a_duplicate(client, actors, key_a):
    first = client.post(URL, json=SUBMISSION, headers=key_a)
    again = client.post(URL, json=SUBMISSION, headers=key_a)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["properties"]["version"] == 1
    listed = client.get(
        "/api/v1/hazard-reports",
        params={"source": "kobo", "organisation": actors.org_a},
        headers=actors.coordinator_a.headers,
    ).json()
    assert listed["numberMatched"] == 1

    # Kobo metadata that is not part of the report does not make it a different report.
    noisy = submission(_status="submitted_via_web", _validation_status={"uid": "x"})
    assert (
        client.post(URL, json=noisy, headers=key_a).json()["properties"]["version"] == 1
    )

    rid = first.json()["id"]
    client.post(
        f"/api/v1/hazard-reports/{rid}/verify", headers=actors.coordinator_a.headers
    )
    assert client.post(URL, json=SUBMISSION, headers=key_a).status_code == 200
    edited = submission(**{"report/description": "edited after verification"})
    problem = assert_problem(client.post(URL, json=edited, headers=key_a), 409)
    assert problem["current_status"] == "verified"


def test_bearer_tokens_are_refused(client, actors, key_a):
    problem = assert_problem(
        client.post(URL, json=SUBMISSION, headers=actors.coordinator_a.headers), 401
    )
    assert "X-API-Key" in problem["detail"] and "bearer" in problem["detail"].lower()
    both = {**actors.admin.headers, **key_a}
    assert_problem(client.post(URL, json=SUBMISSION, headers=both), 401)
    assert_problem(client.post(URL, json=SUBMISSION), 401)
    assert_problem(
        client.post(URL, json=SUBMISSION, headers={"X-API-Key": "sgk_wrong"}), 401
    )
    listed = client.get("/api/v1/hazard-reports", headers=actors.admin.headers).json()
    assert listed["numberMatched"] == 0


def test_read_only_key_cannot_submit(client, session, actors):
    plain, _ = auth.create_api_key(
        session, organisation_code=actors.org_a, name="ro", role=Role.analyst
    )
    assert_problem(client.post(URL, json=SUBMISSION, headers={"X-API-Key": plain}), 403)
    bad = submission(**{"report/hazard_location": "not a point"})
    assert_problem(client.post(URL, json=bad, headers={"X-API-Key": plain}), 403)


def test_key_decides_the_receiving_organisation(client, session, actors):
    plain, _ = auth.create_api_key(
        session, organisation_code=actors.org_b, name="kobo-b"
    )
    r = client.post(URL, json=SUBMISSION, headers={"X-API-Key": plain})
    assert (
        r.status_code == 201 and r.json()["properties"]["organisation"] == actors.org_b
    )
    assert_problem(
        client.post(
            f"/api/v1/hazard-reports/{r.json()['id']}/verify",
            headers=actors.coordinator_a.headers,
        ),
        403,
    )


def test_geoshape_is_read_latitude_first(client, key_a):
    shape_text = (
        "49.10 36.20 150 3;49.10 36.21 151 8.5;49.11 36.21 149 4;49.10 36.20 150 3"
    )
    body = submission(
        **{"report/hazard_location": None, "survey/hazard_area": shape_text}
    )
    r = client.post(URL, json=body, headers=key_a)
    assert r.status_code == 201, r.text
    geometry = shape(r.json()["geometry"])
    assert geometry.geom_type == "MultiPolygon"
    assert geometry.bounds == pytest.approx((36.20, 49.10, 36.21, 49.11))
    assert r.json()["properties"]["gps_accuracy_m"] == 8.5


def test_unknown_coded_value_names_field_and_value(client, key_a):
    body = submission(**{"report/contamination": "ap_mine tank_trap"})
    problem = assert_problem(client.post(URL, json=body, headers=key_a), 422)
    assert "contamination" in problem["detail"] and "'tank_trap'" in problem["detail"]
    assert problem["errors"] == [
        {"pointer": "/report~1contamination", "message": problem["detail"]}
    ]


def test_unknown_code_in_a_repeat_points_at_the_repeat(client, key_a):
    body = submission(devices=[{"devices/device_type": "landmine-ish"}])
    problem = assert_problem(client.post(URL, json=body, headers=key_a), 422)
    assert "'landmine-ish'" in problem["detail"]
    assert problem["errors"][0]["pointer"] == "/devices"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("report/hazard_location", "49.1032 east 152 4.5", "'east' is not a number"),
        ("report/hazard_location", "36.2051 189.1 0 5", "longitude 189.1 is outside"),
        ("report/hazard_location", "149.1 36.2 0 5", "latitude 149.1 is outside"),
        ("g/hazard_area", "49.1 36.2;49.1 36.3;49.1 36.4", "zero area"),
        ("g/hazard_area", "49.1 36.2;49.2 36.3", "at least 3 distinct points"),
    ],
)
def test_invalid_geometry_points_at_the_form_field(client, key_a, key, value, message):
    body = submission(**{"report/hazard_location": None, key: value})
    problem = assert_problem(client.post(URL, json=body, headers=key_a), 422)
    assert problem["type"].endswith("/invalid-geometry")
    assert message in problem["errors"][0]["message"]
    assert problem["errors"][0]["pointer"] == "/" + key.replace("/", "~1")


def test_bad_date_is_refused(client, key_a):
    problem = assert_problem(
        client.post(URL, json=submission(today="17/05/2024"), headers=key_a), 422
    )
    assert problem["errors"][0]["pointer"] == "/today"
    problem = assert_problem(
        client.post(URL, json=submission(today="2999-01-01"), headers=key_a), 422
    )
    assert problem["errors"][0]["pointer"] == "/today"


def test_odk_central_style_submission(client, key_a):
    body = {
        "__id": "uuid:0c1f3c2a-8a51-4c4e-b3a4-6f2d1c9e8b70",
        "meta": {"instanceID": "uuid:0c1f3c2a-8a51-4c4e-b3a4-6f2d1c9e8b70"},
        "__system": {"submissionDate": "2024-05-18T09:12:44.120Z"},
        "report": {
            "description": "Rows of anti-tank mines along the track",
            "contamination": "av_mine",
            "hazard_area": {
                "type": "Polygon",
                "coordinates": [
                    [[36.20, 49.10], [36.21, 49.10], [36.21, 49.11], [36.20, 49.10]]
                ],
            },
        },
        "devices": [{"device_type": "ap_mine"}],
    }
    r = client.post(URL, json=body, headers=key_a)
    assert r.status_code == 201, r.text
    props = r.json()["properties"]
    assert props["external_id"] == "0c1f3c2a-8a51-4c4e-b3a4-6f2d1c9e8b70"
    assert props["reported_on"] == "2024-05-18"
    assert props["contamination"] == ["av_mine", "ap_mine"]
    assert shape(r.json()["geometry"]).bounds == pytest.approx(
        (36.20, 49.10, 36.21, 49.11)
    )
    assert client.post(URL, json=body, headers=key_a).status_code == 200


def test_body_must_be_a_submission_object(client, key_a):
    assert_problem(client.post(URL, json=[SUBMISSION], headers=key_a), 422)


# A submission exactly as KoboToolbox's REST service posts it (kpi's JSON export of one
# submission): every metadata member beside the answers, formhub/uuid among them.
KOBO_REST = {
    "_id": 312044877,
    "formhub/uuid": "0f2a7d4e9c8b4b5fa1d3e6c7b8a9f001",
    "start": "2024-05-17T08:59:01.295+03:00",
    "end": "2024-05-17T09:05:07.102+03:00",
    "today": "2024-05-17",
    "deviceid": "collect:Xk3pQ9rT2vW8yZ1a",
    "report/description": "Діти знайшли металевий предмет біля струмка",
    "report/contamination": "ap_mine unexploded",
    "report/location_text": "струмок за школою",
    "report/hazard_location": "49.1032 36.2051 152.0 4.5",
    "report/photo": "1715925907102.jpg",
    "devices": [{"devices/device_type": "AT", "devices/count": "2"}],
    "informant/informant_name": "Петро Інформатор",
    "informant/informant_phone": "+380 67 765 4321",
    "informant/consent_to_contact": "yes",
    "__version__": "vbV3gFpDzPLkwQ6rM8sT2n",
    "meta/instanceID": "uuid:7d1e4c2b-9a3f-4e8d-b6c5-1f0a2e3d4c5b",
    "meta/rootUuid": "uuid:7d1e4c2b-9a3f-4e8d-b6c5-1f0a2e3d4c5b",
    "_xform_id_string": "aXk9mQ2cR8vFtL4hN7bJ3p",
    "_uuid": "7d1e4c2b-9a3f-4e8d-b6c5-1f0a2e3d4c5b",
    "_attachments": [
        {
            "download_url": "https://kf.kobotoolbox.org/api/v2/assets/aXk9/data/312044877/attachments/98765/",
            "download_large_url": "https://kf.kobotoolbox.org/api/v2/assets/aXk9/data/312044877/attachments/98765/large/",
            "download_medium_url": "https://kf.kobotoolbox.org/api/v2/assets/aXk9/data/312044877/attachments/98765/medium/",
            "download_small_url": "https://kf.kobotoolbox.org/api/v2/assets/aXk9/data/312044877/attachments/98765/small/",
            "mimetype": "image/jpeg",
            "filename": "eore_ua/attachments/0f2a7d4e/7d1e4c2b/1715925907102.jpg",
            "instance": 312044877,
            "xform": 1853421,
            "id": 98765,
            "uid": "attQ3nE8wL2pXk",
            "question_xpath": "report/photo",
        }
    ],
    "_status": "submitted_via_web",
    "_geolocation": [49.1032, 36.2051],
    "_submission_time": "2024-05-17T06:05:09",
    "_tags": [],
    "_notes": [],
    "_validation_status": {},
    "_submitted_by": None,
}


@pytest.mark.parametrize("root_uuid", [True, False], ids=["rootUuid", "no-rootUuid"])
def test_real_kobo_rest_service_payload_is_accepted(client, actors, key_a, root_uuid):
    """Kobo always sends ``formhub/uuid`` beside ``_uuid``: the two are different names
    (without ``meta/rootUuid``, which forms deployed before it do not send, the external id
    fell to ``_uuid`` and the payload was refused: "names several different answers")."""
    payload = dict(KOBO_REST)
    if not root_uuid:
        del payload["meta/rootUuid"]
    r = client.post(URL, json=payload, headers=key_a)
    assert r.status_code == 201, r.text
    props = r.json()["properties"]
    assert props["external_id"] == KOBO_REST["_uuid"]
    assert props["description"] == KOBO_REST["report/description"]
    assert props["location_text"] == "струмок за школою"
    assert props["contamination"] == ["ap_mine", "uxo", "av_mine"]
    assert r.json()["geometry"] == {"type": "Point", "coordinates": [36.2051, 49.1032]}
    assert "Петро" not in r.text
    assert client.post(URL, json=payload, headers=key_a).status_code == 200


def test_an_exact_group_path_wins_over_a_last_segment_match():
    from api.ingest import kobo

    flat = {"formhub/uuid": "f", "_uuid": "u", "a/name": "x", "b/name": "y"}
    assert kobo.find_answer(flat, ["_uuid"]) == ("_uuid", "u")
    assert kobo.find_answer(flat, ["formhub/uuid"]) == ("formhub/uuid", "f")
    assert kobo.find_answer(flat, ["uuid"]) == ("formhub/uuid", "f")
    assert kobo.find_answer(flat, ["a/name"]) == ("a/name", "x")
    with pytest.raises(ValueError, match="several different answers"):
        kobo.find_answer(flat, ["name"])
    assert kobo.find_answer({"__version__": "v", "version": "2"}, ["version"]) == (
        "version",
        "2",
    )


def test_real_odk_central_odata_payload_is_accepted(client, key_a):
    """A submission as ODK Central's OData feed gives it, with its __system block."""
    body = {
        "__id": "uuid:2b6f1a7c-3d4e-4f5a-8b9c-0d1e2f3a4b5c",
        "start": "2024-05-18T11:02:10.000+03:00",
        "end": "2024-05-18T11:09:44.000+03:00",
        "today": "2024-05-18",
        "deviceid": "collect:Yq2wE4rT6yU8iO0p",
        "report": {
            "description": "Протитанкові міни вздовж ґрунтової дороги",
            "contamination": "av_mine",
            "hazard_location": {
                "type": "Point",
                "coordinates": [36.2101, 49.1102, 148.0],
                "properties": {"accuracy": 3.9},
            },
        },
        "devices": [{"device_type": "ap_mine", "count": "3"}],
        "meta": {
            "instanceID": "uuid:2b6f1a7c-3d4e-4f5a-8b9c-0d1e2f3a4b5c",
            "instanceName": "Звіт 2024-05-18",
        },
        "__system": {
            "submissionDate": "2024-05-18T09:12:44.120Z",
            "updatedAt": None,
            "submitterId": "27",
            "submitterName": "Field team 3",
            "attachmentsPresent": 0,
            "attachmentsExpected": 0,
            "status": None,
            "reviewState": None,
            "deviceId": "collect:Yq2wE4rT6yU8iO0p",
            "edits": 0,
            "formVersion": "2024051701",
        },
    }
    r = client.post(URL, json=body, headers=key_a)
    assert r.status_code == 201, r.text
    props = r.json()["properties"]
    assert props["external_id"] == "2b6f1a7c-3d4e-4f5a-8b9c-0d1e2f3a4b5c"
    assert props["description"] == "Протитанкові міни вздовж ґрунтової дороги"
    assert props["contamination"] == ["av_mine", "ap_mine"]
    assert r.json()["geometry"]["coordinates"][:2] == [36.2101, 49.1102]


def test_real_kobo_payload_outside_the_programme_is_refused_at_its_field(
    client, session, key_a
):
    """The gate of every other way in: with the programme's areas loaded, Kobo's exact
    payload is accepted inside them and refused outside (Brazil), pointing at the form's
    geopoint field."""
    from shapely.geometry import box

    from tests.factories import make_admin_area

    make_admin_area(session, "UA63", box(35.5, 48.5, 37.0, 50.0), 1)
    assert client.post(URL, json=KOBO_REST, headers=key_a).status_code == 201
    away = {
        **KOBO_REST,
        "report/hazard_location": "-15.8 -47.9 1100.0 4.5",
        "_uuid": "9e2f5d3c-0b4a-4f9e-c7d6-2a1b3c4d5e6f",
        "meta/instanceID": "uuid:9e2f5d3c-0b4a-4f9e-c7d6-2a1b3c4d5e6f",
        "meta/rootUuid": "uuid:9e2f5d3c-0b4a-4f9e-c7d6-2a1b3c4d5e6f",
    }
    problem = assert_problem(client.post(URL, json=away, headers=key_a), 422)
    assert problem["errors"][0]["pointer"] == "/report~1hazard_location"
    assert "outside the programme" in problem["errors"][0]["message"]

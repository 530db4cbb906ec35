"""Accidents and victims: roles, restricted personal data, totals, and casualty suppression."""

import json
import logging

import pytest
from sqlalchemy import inspect

from api.services.accidents import age_at
from tests.helpers import assert_problem

NAME = "Olena Testivna Kovalenko"
ADDRESS = "12 Sadova Street, Testove"
PHONE = "+380 99 123 4567"
PERSONAL_VALUES = (NAME, ADDRESS, PHONE, "1990-02-03")


def accident(lon=36.21137, lat=49.08712, **props):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "occurred_on": "2024-06-14",
            "accident_class": "mine_erw_accident",
            "device_category": "av_mine",
            "killed": 1,
            "injured": 2,
            **props,
        },
    }


def victim(**fields):
    body = {
        "sex": "female",
        "role": "civilian",
        "outcome": "injured",
        "activity_at_time": "farming",
        "personal": {
            "name": NAME,
            "date_of_birth": "1990-02-03",
            "address": ADDRESS,
            "phone": PHONE,
        },
    }
    body.update(fields)
    return body


def post_accident(client, actors, **props):
    r = client.post(
        "/api/v1/accidents",
        json=accident(**props),
        headers=actors.coordinator_a.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def post_victim(client, actors, accident_id, **fields):
    r = client.post(
        f"/api/v1/accidents/{accident_id}/victims",
        json=victim(**fields),
        headers=actors.coordinator_a.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


def assert_no_personal(response):
    text = response.text
    for value in PERSONAL_VALUES:
        assert value not in text, (value, text)


# --- accidents ---------------------------------------------------------------------------


def test_accident_crud_with_roles(client, actors):
    body = accident(external_id="ACC-1")
    assert_problem(client.post("/api/v1/accidents", json=body), 401)
    for user in (actors.analyst_a, actors.eore_a, actors.coordinator_b):
        assert_problem(
            client.post(
                "/api/v1/accidents",
                json={
                    **body,
                    "properties": {**body["properties"], "organisation": actors.org_a},
                },
                headers=user.headers,
            ),
            403,
        )
    r = client.post(
        "/api/v1/accidents", json=body, headers=actors.coordinator_a.headers
    )
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    assert r.headers["ETag"] == '"1"'
    accident_id = r.json()["id"]
    props = r.json()["properties"]
    assert props["organisation"] == actors.org_a
    assert (props["killed"], props["injured"], props["victims_recorded"]) == (1, 2, 0)
    assert r.json()["geometry"]["coordinates"] == [36.21137, 49.08712]

    # re-sending the external id updates
    again = client.post(
        "/api/v1/accidents",
        json=accident(external_id="ACC-1", injured=4),
        headers=actors.coordinator_a.headers,
    )
    assert again.status_code == 200 and again.json()["id"] == accident_id
    assert again.json()["properties"]["injured"] == 4

    assert_problem(client.get("/api/v1/accidents"), 401)
    assert_problem(client.get(f"/api/v1/accidents/{accident_id}"), 401)
    listed = client.get(
        "/api/v1/accidents",
        params={"organisation": actors.org_a, "from": "2024-06-01", "to": "2024-06-30"},
        headers=actors.eore_a.headers,
    )
    assert listed.status_code == 200
    assert listed.json()["numberMatched"] == 1
    assert listed.json()["features"][0]["id"] == accident_id
    for params in (
        {"from": "2024-06-15"},
        {"accident_class": "demining_accident"},
        {"bbox": "30,40,31,41"},
    ):
        empty = client.get(
            "/api/v1/accidents",
            params={"organisation": actors.org_a, **params},
            headers=actors.analyst_a.headers,
        )
        assert empty.json()["numberMatched"] == 0, params

    # PATCH needs If-Match, refuses a stale one, and the right writer
    url = f"/api/v1/accidents/{accident_id}"
    patch = {"properties": {"injured": 5}}
    assert_problem(
        client.patch(url, json=patch, headers=actors.coordinator_a.headers), 428
    )
    assert_problem(
        client.patch(
            url, json=patch, headers={**actors.coordinator_a.headers, "If-Match": '"1"'}
        ),
        412,
    )
    assert_problem(
        client.patch(
            url, json=patch, headers={**actors.coordinator_b.headers, "If-Match": '"2"'}
        ),
        403,
    )
    ok = client.patch(
        url, json=patch, headers={**actors.coordinator_a.headers, "If-Match": '"2"'}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["properties"]["injured"] == 5 and ok.headers["ETag"] == '"3"'
    admin = client.patch(
        url,
        json={"properties": {"accident_class": "other"}},
        headers={**actors.admin.headers, "If-Match": '"3"'},
    )
    assert (
        admin.status_code == 200
        and admin.json()["properties"]["accident_class"] == "other"
    )

    # DELETE retires
    assert_problem(
        client.delete(url, headers={**actors.analyst_a.headers, "If-Match": "*"}), 403
    )
    gone = client.delete(
        url, headers={**actors.coordinator_a.headers, "If-Match": '"4"'}
    )
    assert gone.status_code == 204
    assert_problem(client.get(url, headers=actors.admin.headers), 404)


def test_accident_input_is_checked(client, actors):
    h = actors.coordinator_a.headers
    for props, pointer in (
        ({"killed": -1}, "/properties/killed"),
        ({"accident_class": "traffic"}, "/properties/accident_class"),
        ({"occurred_on": "2999-01-01"}, "/properties/occurred_on"),
        ({"hazard_id": "NO-SUCH-HAZARD"}, "/properties/hazard_id"),
        ({"organisation": "NO-SUCH-ORG"}, "/properties/organisation"),
    ):
        problem = assert_problem(
            client.post("/api/v1/accidents", json=accident(**props), headers=h), 422
        )
        assert problem["errors"][0]["pointer"] == pointer, problem
    bad_point = accident()
    bad_point["geometry"] = {"type": "Point", "coordinates": [200, 49]}
    assert_problem(client.post("/api/v1/accidents", json=bad_point, headers=h), 422)


def test_accident_locations_are_generalised_without_the_right(client, actors):
    accident_id = post_accident(client, actors)
    url = f"/api/v1/accidents/{accident_id}"
    exact = [36.21137, 49.08712]
    for user in (actors.coordinator_a, actors.analyst_restricted, actors.admin):
        assert (
            client.get(url, headers=user.headers).json()["geometry"]["coordinates"]
            == exact
        )
    coarse = client.get(url, headers=actors.analyst_a.headers).json()
    assert coarse["geometry"]["coordinates"] == [36.21, 49.09]
    assert coarse["properties"]["location_precision"] == "generalised_0.01deg"
    listed = client.get(
        "/api/v1/accidents",
        params={"organisation": actors.org_a},
        headers=actors.eore_a.headers,
    ).json()
    assert listed["features"][0]["geometry"]["coordinates"] == [36.21, 49.09]


# --- victims and their personal data -------------------------------------------------------


def allowed_attrs(client, base, victim_id, actors):
    r = client.get(
        f"{base}/victims/{victim_id}", headers=actors.analyst_restricted.headers
    )
    return r.json()["age_band"], r.json()["age"]


def test_personal_data_only_on_single_victim_read_with_restricted_read(client, actors):
    accident_id = post_accident(client, actors)
    created = client.post(
        f"/api/v1/accidents/{accident_id}/victims",
        json=victim(),
        headers=actors.coordinator_a.headers,
    )
    assert created.status_code == 201, created.text
    assert_no_personal(created)
    assert created.json()["has_personal_data"] is True
    victim_id = created.json()["id"]
    base = f"/api/v1/accidents/{accident_id}"

    for user in (actors.analyst_a, actors.analyst_restricted, actors.coordinator_a):
        assert_no_personal(client.get(f"{base}/victims", headers=user.headers))
        assert_no_personal(client.get(base, headers=user.headers))
        assert_no_personal(
            client.get(
                "/api/v1/accidents",
                params={"organisation": actors.org_a},
                headers=user.headers,
            )
        )
    listed = client.get(f"{base}/victims", headers=actors.analyst_restricted.headers)
    assert [v["id"] for v in listed.json()["victims"]] == [victim_id]
    assert "personal" not in listed.json()["victims"][0]
    assert (
        client.get(base, headers=actors.analyst_a.headers).json()["properties"][
            "victims_recorded"
        ]
        == 1
    )

    plain = client.get(f"{base}/victims/{victim_id}", headers=actors.analyst_a.headers)
    assert plain.status_code == 200
    assert_no_personal(plain)
    assert "personal" not in plain.json()
    # without restricted:read a victim's attributes are withheld (a count of one)
    assert plain.json()["age_band"] is None and plain.json()["age"] is None
    assert allowed_attrs(client, base, victim_id, actors) == ("adult", 34)

    allowed = client.get(
        f"{base}/victims/{victim_id}", headers=actors.analyst_restricted.headers
    )
    assert allowed.status_code == 200
    assert NAME in allowed.text
    assert allowed.json()["personal"] == {
        "name": NAME,
        "date_of_birth": "1990-02-03",
        "address": ADDRESS,
        "phone": PHONE,
        "email": None,
    }
    assert_problem(client.get(f"{base}/victims/{victim_id}"), 401)
    assert_problem(client.get(f"{base}/victims"), 401)


def test_errors_and_logs_never_echo_personal_data(client, actors, caplog):
    caplog.set_level(logging.DEBUG)
    accident_id = post_accident(client, actors, killed=0, injured=1)
    url = f"/api/v1/accidents/{accident_id}/victims"
    h = actors.coordinator_a.headers
    bad_bodies = [
        victim(sex="woman"),  # vocabulary
        victim(personal={"name": NAME, "address": ADDRESS, "phone": PHONE, "x": NAME}),
        victim(personal={"name": NAME, "date_of_birth": "1990-02-31", "phone": PHONE}),
        victim(personal={"name": NAME * 30, "phone": PHONE}),  # too long
        victim(
            personal={"name": NAME, "date_of_birth": "2025-01-01"}
        ),  # after accident
        victim(age=50),  # disagrees with the date of birth
        victim(outcome="killed"),  # more killed than the accident's total
    ]
    for body in bad_bodies:
        r = client.post(url, json=body, headers=h)
        assert_problem(r, 422)
        assert_no_personal(r)
    assert_problem(
        client.post(url, json=victim(), headers=actors.analyst_restricted.headers), 403
    )
    assert_problem(
        client.post(url, json=victim(), headers=actors.coordinator_b.headers), 403
    )
    assert_problem(client.post(url, json=victim()), 401)
    ok = client.post(url, json=victim(), headers=h)
    assert ok.status_code == 201
    assert_no_personal(ok)
    for value in PERSONAL_VALUES:
        assert value not in caplog.text
    assert json.dumps(NAME) not in caplog.text


def test_victims_table_has_no_personal_columns(engine):
    inspector = inspect(engine)
    personal = {"name", "date_of_birth", "address", "phone", "email"}
    victims = {c["name"] for c in inspector.get_columns("victims")}
    accidents = {c["name"] for c in inspector.get_columns("accidents")}
    assert {"sex", "age", "age_band", "role", "outcome"} <= victims
    assert not victims & personal and not accidents & personal
    kept_apart = {c["name"] for c in inspector.get_columns("victim_personal_data")}
    assert personal <= kept_apart


def test_victim_patch_and_if_match(client, actors):
    accident_id = post_accident(client, actors, killed=1, injured=1)
    v = post_victim(client, actors, accident_id, personal=None, age=30)
    url = f"/api/v1/accidents/{accident_id}/victims/{v['id']}"
    h = actors.coordinator_a.headers
    assert_problem(client.patch(url, json={"sex": "male"}, headers=h), 428)
    assert_problem(
        client.patch(url, json={"sex": "male"}, headers={**h, "If-Match": '"7"'}), 412
    )
    assert_problem(
        client.patch(
            url,
            json={"sex": "male"},
            headers={**actors.analyst_a.headers, "If-Match": '"1"'},
        ),
        403,
    )
    r = client.patch(
        url,
        json={"outcome": "killed", "personal": {"name": NAME}},
        headers={**h, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "killed" and r.headers["ETag"] == '"2"'
    assert r.json()["has_personal_data"] is True
    assert_no_personal(r)
    restricted = client.get(url, headers=actors.analyst_restricted.headers).json()
    assert restricted["personal"]["name"] == NAME
    removed = client.patch(
        url, json={"personal": None}, headers={**h, "If-Match": '"2"'}
    )
    assert removed.json()["has_personal_data"] is False
    assert (
        client.get(url, headers=actors.analyst_restricted.headers).json()["personal"]
        is None
    )


# --- totals ----------------------------------------------------------------------------------


def test_victims_may_not_outnumber_the_accident_totals(client, actors):
    accident_id = post_accident(client, actors, killed=1, injured=0)
    url = f"/api/v1/accidents/{accident_id}"
    h = actors.coordinator_a.headers
    post_victim(client, actors, accident_id, outcome="killed", personal=None)
    for outcome in ("killed", "injured"):
        problem = assert_problem(
            client.post(
                f"{url}/victims", json=victim(outcome=outcome, personal=None), headers=h
            ),
            422,
        )
        assert problem["errors"][0]["pointer"] == "/outcome"
    # lowering a total below the victims recorded is refused
    problem = assert_problem(
        client.patch(
            url, json={"properties": {"killed": 0}}, headers={**h, "If-Match": "*"}
        ),
        422,
    )
    assert problem["errors"][0]["pointer"] == "/properties/killed"
    # raising it first makes room
    raised = client.patch(
        url, json={"properties": {"injured": 1}}, headers={**h, "If-Match": "*"}
    )
    assert raised.status_code == 200
    post_victim(client, actors, accident_id, outcome="injured", personal=None)
    assert client.get(url, headers=h).json()["properties"]["victims_recorded"] == 2


# --- age bands ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "age", "band"),
    [
        ({"age": 12, "personal": None}, 12, "child"),
        ({"age": 17, "personal": None}, 17, "child"),
        ({"age": 18, "personal": None}, 18, "adult"),
        ({"personal": {"date_of_birth": "2006-06-15"}}, 17, "child"),  # 18 the next day
        ({"personal": {"date_of_birth": "2006-06-14"}}, 18, "adult"),  # 18 that day
        ({"personal": {"date_of_birth": "2010-01-01"}, "age": 14}, 14, "child"),
        ({"personal": None}, None, "unknown"),
    ],
)
def test_age_band_is_derived_from_age_or_date_of_birth(
    client, actors, fields, age, band
):
    accident_id = post_accident(client, actors, killed=0, injured=1)
    v = post_victim(client, actors, accident_id, **fields)
    assert (v["age"], v["age_band"]) == (age, band)


def test_age_at_counts_completed_years():
    from datetime import date

    assert age_at(date(2000, 2, 29), date(2018, 2, 28)) == 17
    assert age_at(date(2000, 2, 29), date(2018, 3, 1)) == 18


# --- casualty figures --------------------------------------------------------------------


def _casualties(client, user, org, **params):
    r = client.get(
        "/api/v1/analytics/casualties",
        params={"organisation": org, **params},
        headers=user.headers,
    )
    assert r.status_code == 200, r.text
    return r.json()


def _cells(body):
    return {
        tuple(c[d] for d in body["group_by"]): (c["count"], c["suppressed"])
        for c in body["cells"]
    }


def test_small_cells_are_suppressed_without_restricted_read(client, actors):
    accident_id = post_accident(client, actors, killed=0, injured=3)
    for _ in range(3):
        post_victim(client, actors, accident_id, personal=None, age=40)
    analyst = _casualties(
        client, actors.analyst_a, actors.org_a, group_by="sex,outcome"
    )
    # the injured slice is tainted: every sex is withheld, zeros too (the total of 3 is
    # the accident's own injured)
    assert _cells(analyst) == {
        ("female", "injured"): (None, True),
        ("male", "injured"): (None, True),
        ("unknown", "injured"): (None, True),
    }
    assert analyst["total"] == {"count": 3, "suppressed": False}
    assert analyst["suppression"]["applied"] is True
    assert all(c["count"] is None for c in analyst["cells"])
    restricted = _casualties(
        client, actors.analyst_restricted, actors.org_a, group_by="sex,outcome"
    )
    assert _cells(restricted) == {("female", "injured"): (3, False)}
    assert restricted["total"] == {"count": 3, "suppressed": False}
    assert restricted["suppression"]["applied"] is False
    assert restricted["cells"][0]["labels"] == {"sex": "Female", "outcome": "Injured"}
    assert_problem(client.get("/api/v1/analytics/casualties"), 401)
    assert_problem(
        client.get(
            "/api/v1/analytics/casualties",
            params={"group_by": "sex,name"},
            headers=actors.analyst_a.headers,
        ),
        400,
    )


def test_secondary_suppression_protects_the_total(client, actors):
    # 13 injured: 3 women recorded as victims, 10 people not itemised
    accident_id = post_accident(client, actors, killed=0, injured=13)
    for _ in range(3):
        post_victim(client, actors, accident_id, personal=None, age=40)
    restricted = _casualties(
        client, actors.analyst_restricted, actors.org_a, group_by="sex"
    )
    assert _cells(restricted) == {("female",): (3, False), ("unknown",): (10, False)}
    analyst = _casualties(client, actors.analyst_a, actors.org_a, group_by="sex")
    # the total of 13 is the accident's own injured: with the 10 shown, 13 - 10 would give
    # the 3 away, so the whole tainted slice is withheld, by every breakdown
    assert _cells(analyst) == {
        ("female",): (None, True),
        ("male",): (None, True),
        ("unknown",): (None, True),
    }
    assert analyst["total"] == {"count": 13, "suppressed": False}
    by_band = _casualties(
        client, actors.analyst_a, actors.org_a, group_by="age_band,role"
    )
    assert len(_cells(by_band)) == 9
    assert all(c["suppressed"] for c in by_band["cells"])


def test_casualty_filters_and_not_itemised_totals(client, actors, session):
    from shapely.geometry import box

    from tests.factories import make_admin_area

    make_admin_area(session, "ZZ77", box(36.0, 49.0, 36.5, 49.5), level=1)
    make_admin_area(session, "ZZ78", box(30.0, 45.0, 30.5, 45.5), level=1)
    first = post_accident(client, actors, killed=2, injured=0)
    post_victim(client, actors, first, outcome="killed", personal=None, age=9)
    post_accident(client, actors, occurred_on="2023-01-10", killed=0, injured=6)
    h = actors.analyst_restricted
    everything = _casualties(client, h, actors.org_a, group_by="age_band,outcome")
    assert _cells(everything) == {
        ("child", "killed"): (1, False),
        ("unknown", "killed"): (1, False),
        ("unknown", "injured"): (6, False),
    }
    assert everything["total"]["count"] == 8  # the accidents' killed + injured
    in_2024 = _casualties(
        client, h, actors.org_a, group_by="outcome", **{"from": "2024-01-01"}
    )
    assert _cells(in_2024) == {("killed",): (2, False)}
    before = _casualties(client, h, actors.org_a, group_by="outcome", to="2023-12-31")
    assert _cells(before) == {("injured",): (6, False)}
    inside = _casualties(client, h, actors.org_a, group_by="outcome", admin="ZZ77")
    assert inside["total"]["count"] == 8
    outside = _casualties(client, h, actors.org_a, group_by="outcome", admin="ZZ78")
    assert outside["cells"] == [] and outside["total"]["count"] == 0
    other_org = _casualties(client, h, actors.org_b, group_by="outcome")
    assert other_org["cells"] == []


def test_ages_from_dates_of_birth_follow_the_accident_date(client, actors):
    accident_id = post_accident(client, actors, killed=0, injured=1)
    v = post_victim(
        client, actors, accident_id, personal={"date_of_birth": "2006-06-15"}
    )
    assert (v["age"], v["age_band"]) == (17, "child")
    h = {**actors.coordinator_a.headers, "If-Match": "*"}
    url = f"/api/v1/accidents/{accident_id}"
    r = client.patch(url, json={"properties": {"occurred_on": "2024-06-20"}}, headers=h)
    assert r.status_code == 200, r.text
    after = client.get(
        f"{url}/victims/{v['id']}", headers=actors.analyst_restricted.headers
    )
    assert (after.json()["age"], after.json()["age_band"]) == (18, "adult")
    too_early = client.patch(
        url, json={"properties": {"occurred_on": "2005-01-01"}}, headers=h
    )
    assert assert_problem(too_early, 422)["errors"][0]["pointer"] == (
        "/properties/occurred_on"
    )
    assert_no_personal(too_early)


def test_patch_to_an_external_id_already_used_is_a_conflict(client, actors):
    """Giving an accident another one's external_id: 409 naming the field (not a 500
    from the unique index); the accident keeps its own."""
    post_accident(client, actors, external_id="ACC-T1")
    second = post_accident(client, actors, external_id="ACC-T2")
    h = actors.coordinator_a.headers
    url = f"/api/v1/accidents/{second}"
    etag = client.get(url, headers=h).headers["ETag"]
    r = client.patch(
        url,
        json={"properties": {"external_id": "ACC-T1"}},
        headers={**h, "If-Match": etag},
    )
    assert_problem(r, 409)
    assert r.json()["errors"] == [
        {"pointer": "/properties/external_id", "message": "already used"}
    ]
    assert client.get(url, headers=h).json()["properties"]["external_id"] == "ACC-T2"

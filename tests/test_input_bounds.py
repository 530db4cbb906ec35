"""Absurd input is refused with a 4xx problem+json, and nothing stored can fail to be served.

Found in a security review: a 20-digit ``beneficiaries`` was stored, then every list of hazards
answered 500 (orjson refuses integers past 64 bits); 100,000 ``[`` raised RecursionError.
"""

import json

import pytest
from fastapi.testclient import TestClient

from api.jsondepth import MAX_JSON_DEPTH, json_depth
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
        assert body["errors"] == [{"pointer": "", "message": "nested too deeply"}]


def test_json_at_the_depth_limit_still_reaches_the_route(client, actors):
    inner = MAX_JSON_DEPTH - 1  # the object around it is the last level
    nested = b"[" * inner + b"]" * inner
    r = client.post(
        "/api/v1/auth/refresh",
        content=b'{"refresh_token": "x", "extra": ' + nested + b"}",
        headers={"content-type": "application/json"},
    )
    assert_problem(r, 401)  # judged by the route: the token is not valid


def test_a_json_body_too_large_without_a_length_is_413(settings):
    """Read whole to be measured, a body sent in chunks still meets the size limit."""
    from api.main import create_app

    app = create_app(settings.model_copy(update={"max_body_bytes": 2048}))
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post(
            "/api/v1/hazards",
            content=iter([b"[" * 1000] * 5),  # no Content-Length: chunked
            headers={"content-type": "application/json"},
        )
    assert "content-length" not in r.request.headers
    assert_problem(r, 413)


def test_deep_json_refusal_keeps_the_security_headers(lenient, actors):
    r = lenient.post(
        "/api/v1/hazards",
        content=DEEP_BODIES["arrays"],
        headers={**actors.admin.headers, "content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.headers["x-content-type-options"] == "nosniff"


# ---------------------------------------------------------------------------------------
# numbers out of range: 422 naming the field; nothing stored that cannot be served
# ---------------------------------------------------------------------------------------

BAD = "__BAD__"
# JSON literals: past 64 bits, past a double (Python's parser reads inf), negative, NaN
OUT_OF_RANGE = ["18446744073709551616", "99999999999999999999", "1e400", "-1", "NaN"]
NOT_JSON_NUMBERS = ["18446744073709551616", "1e400", "-1e400", "NaN", "Infinity"]

POINT = {"type": "Point", "coordinates": [36.2051, 49.1032]}
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[36.20, 49.10], [36.21, 49.10], [36.21, 49.11], [36.20, 49.11], [36.20, 49.10]]
    ],
}


def _send(client, method, path, body, literal, headers):
    text = json.dumps(body).replace(f'"{BAD}"', literal)
    assert literal in text
    return client.request(
        method,
        path,
        content=text,
        headers={**headers, "content-type": "application/json"},
    )


def _with(body: dict, pointer: str, value) -> dict:
    """A deep copy of ``body`` with ``value`` at ``pointer`` (created as needed)."""
    body = json.loads(json.dumps(body))
    parts = pointer.strip("/").split("/")
    node = body
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
        else:
            if not isinstance(node.get(part), dict | list):
                node[part] = {}
            node = node[part]
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value
    return body


@pytest.fixture
def records(client, actors):
    """One record of each kind, written through the API, for the PATCH routes."""
    h = actors.admin.headers
    org = actors.org_a

    def post(path, body):
        r = client.post(path, json=body, headers=h)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    hazard = post("/api/v1/hazards", _hazard(org))
    activity = post("/api/v1/activities", _activity(org, hazard))
    accident = post("/api/v1/accidents", _accident(org))
    victim = post(f"/api/v1/accidents/{accident}/victims", _victim())
    session_id = post("/api/v1/eore-sessions", _eore(org))
    return {
        "hazard": hazard,
        "activity": activity,
        "accident": accident,
        "victim": victim,
        "eore": session_id,
    }


def _hazard(org):
    return {
        "type": "Feature",
        "geometry": SQUARE,
        "properties": {
            "classification": "SHA",
            "hazard_type": "minefield",
            "contamination": ["ap_mine"],
            "organisation": org,
            "date_of_information": "2024-05-01",
            "estimated_area_m2": 1000,
            "beneficiaries": 12,
        },
    }


def _activity(org, hazard):
    return {
        "activity_type": "clearance",
        "organisation": org,
        "hazard_ids": [hazard],
        "status": "completed",
        "start_date": "2024-06-01",
        "end_date": "2024-06-20",
        "clearance_depth_cm": 13,
        "releases": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": SQUARE,
                    "properties": {"outcome": "cleared", "date": "2024-06-20"},
                }
            ],
        },
    }


def _accident(org):
    return {
        "type": "Feature",
        "geometry": POINT,
        "properties": {
            "organisation": org,
            "occurred_on": "2024-06-14",
            "accident_class": "mine_erw_accident",
            "killed": 1,
            "injured": 2,
        },
    }


def _victim():
    return {"sex": "male", "age": 47, "role": "civilian", "outcome": "injured"}


def _eore(org):
    return {
        "type": "Feature",
        "geometry": POINT,
        "properties": {
            "organisation": org,
            "session_date": "2024-06-14",
            "delivery_method": "school_based",
            "audience": "children",
            "beneficiaries": [{"sex": "female", "age_band": "age_5_12", "count": 14}],
        },
    }


def _eo_find(org, hazard):
    return {
        "type": "Feature",
        "geometry": POINT,
        "properties": {
            "eo_category": "ap_mine",
            "quantity": 1,
            "depth_cm": 5,
            "found_on": "2024-06-12",
            "hazard_id": hazard,
            "organisation": org,
        },
    }


def _report(org):
    return {
        "type": "Feature",
        "geometry": POINT,
        "properties": {
            "source": "hotline",
            "organisation": org,
            "reported_on": "2024-05-17",
            "gps_accuracy_m": 15,
        },
    }


def _model():
    from api.domain.priority_model import DEFAULT_MODEL

    return {"name": "bounds", "activate": False, "model": DEFAULT_MODEL}


def _cases(ids, org):
    """(method, path, valid body, pointer of a number, literals it must refuse)."""
    hazard = ids["hazard"]
    rel = "/releases/features/0/properties"
    weight = "/model/criteria/threat_to_life/weight"
    cap = "/model/criteria/threat_to_life/indicators/accidents_1km_24m/cap"
    return [
        ("POST", "/api/v1/hazards", _hazard(org), "/properties/beneficiaries"),
        (
            "POST",
            "/api/v1/hazards",
            _hazard(org),
            "/properties/beneficiaries/total",
        ),
        ("POST", "/api/v1/hazards", _hazard(org), "/properties/estimated_area_m2"),
        (
            "PATCH",
            f"/api/v1/hazards/{hazard}",
            {"properties": {"beneficiaries": {"women": 1}}},
            "/properties/beneficiaries/women",
        ),
        (
            "PATCH",
            f"/api/v1/hazards/{hazard}",
            {"properties": {}},
            "/properties/estimated_area_m2",
        ),
        (
            "POST",
            "/api/v1/activities",
            _activity(org, hazard),
            "/clearance_depth_cm",
        ),
        (
            "PATCH",
            f"/api/v1/activities/{ids['activity']}",
            {"notes": "x"},
            "/clearance_depth_cm",
        ),
        ("POST", "/api/v1/eo-finds", _eo_find(org, hazard), "/properties/quantity"),
        ("POST", "/api/v1/eo-finds", _eo_find(org, hazard), "/properties/depth_cm"),
        ("POST", "/api/v1/accidents", _accident(org), "/properties/killed"),
        ("POST", "/api/v1/accidents", _accident(org), "/properties/injured"),
        (
            "PATCH",
            f"/api/v1/accidents/{ids['accident']}",
            {"properties": {}},
            "/properties/killed",
        ),
        (
            "POST",
            f"/api/v1/accidents/{ids['accident']}/victims",
            _victim(),
            "/age",
        ),
        (
            "PATCH",
            f"/api/v1/accidents/{ids['accident']}/victims/{ids['victim']}",
            {},
            "/age",
        ),
        (
            "POST",
            "/api/v1/eore-sessions",
            _eore(org),
            "/properties/beneficiaries/0/count",
        ),
        (
            "PATCH",
            f"/api/v1/eore-sessions/{ids['eore']}",
            {
                "properties": {
                    "beneficiaries": _eore(org)["properties"]["beneficiaries"]
                }
            },
            "/properties/beneficiaries/0/count",
        ),
        ("POST", "/api/v1/hazard-reports", _report(org), "/properties/gps_accuracy_m"),
        ("POST", "/api/v1/priority-models", _model(), weight),
        ("POST", "/api/v1/priority-models", _model(), cap),
        ("POST", "/api/v1/priority-models", _model(), "/model/bands/high"),
        # coordinates: any finite number in range (the geometry intake's rules)
        ("POST", "/api/v1/hazards", _hazard(org), "/geometry/coordinates/0/1/0"),
        ("POST", "/api/v1/eo-finds", _eo_find(org, hazard), "/geometry/coordinates/1"),
        # members kept as sent: any JSON number up to 64 bits, but never past them
        ("POST", "/api/v1/activities", _activity(org, hazard), rel + "/survey_ref"),
    ]


def _listings(client, headers) -> list[str]:
    """Every list of records and every OGC collection's items, as an admin sees them."""
    paths = [
        "/api/v1/hazards",
        "/api/v1/activities",
        "/api/v1/eo-finds",
        "/api/v1/accidents",
        "/api/v1/eore-sessions",
        "/api/v1/hazard-reports",
        "/api/v1/priority-models",
        "/api/v1/priorities",
    ]
    collections = client.get("/ogc/collections", headers=headers)
    assert collections.status_code == 200, collections.text
    ids = [c["id"] for c in collections.json()["collections"]]
    assert "hazards" in ids
    return paths + [f"/ogc/collections/{c}/items" for c in ids]


def test_out_of_range_numbers_are_422_and_every_list_still_serves(
    lenient, session, actors, records
):
    h = actors.admin.headers
    for method, path, body, pointer in _cases(records, actors.org_a):
        # -1 is a fine value in a free-form member; a cap is any positive finite number
        free_form = pointer.endswith(("/survey_ref", "/cap")) or "/coord" in pointer
        for literal in NOT_JSON_NUMBERS if free_form else OUT_OF_RANGE:
            if pointer.endswith("/cap") and literal == "18446744073709551616":
                literal = "-1"
            r = _send(lenient, method, path, _with(body, pointer, BAD), literal, h)
            problem = assert_problem(r, 422)
            where = [e.get("pointer", "") for e in problem.get("errors", [])]
            field = pointer.rsplit("/", 1)[-1]
            assert any(field in w or w == pointer for w in where) or (
                field in problem["detail"]
            ), (method, path, pointer, literal, problem)
    for path in _listings(lenient, h):
        r = lenient.get(path, headers=h)
        assert r.status_code == 200, (path, r.text[:300])
        r.json()
    # and the records written before are served one by one too
    assert lenient.get(f"/api/v1/hazards/{records['hazard']}", headers=h).is_success


def test_the_bounds_themselves_are_accepted(client, actors, records):
    """The largest values allowed are stored and served (the bounds are not off by one)."""
    h = actors.admin.headers
    hazard = _hazard(actors.org_a)
    hazard["properties"].update(
        estimated_area_m2=1e12, beneficiaries={"total": 10_000_000, "girls": 0}
    )
    r = client.post("/api/v1/hazards", json=hazard, headers=h)
    assert r.status_code == 201, r.text
    props = r.json()["properties"]
    assert props["estimated_area_m2"] == 1e12
    assert props["beneficiaries"]["total"] == 10_000_000
    find = _eo_find(actors.org_a, records["hazard"])
    find["properties"].update(quantity=10_000_000, depth_cm=10_000)
    assert client.post("/api/v1/eo-finds", json=find, headers=h).status_code == 201
    activity = _activity(actors.org_a, records["hazard"])
    activity["releases"]["features"][0]["properties"]["survey_ref"] = 2**63 - 1
    activity["clearance_depth_cm"] = 10_000
    r = client.post("/api/v1/activities", json=activity, headers=h)
    assert r.status_code == 201, r.text
    assert client.get("/api/v1/activities", headers=h).status_code == 200


def test_the_database_refuses_what_the_schemas_refuse(session, actors, records):
    """CHECK constraints (migration 0015) hold the bounds whatever writes."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    statements = [
        "UPDATE hazards SET beneficiaries = '99999999999999999999'::jsonb WHERE id = :id",
        "UPDATE hazards SET beneficiaries = '{\"total\": 1e20}'::jsonb WHERE id = :id",
        "UPDATE hazards SET beneficiaries = '-1'::jsonb WHERE id = :id",
        "UPDATE hazards SET estimated_area_m2 = 'NaN' WHERE id = :id",
        "UPDATE hazards SET estimated_area_m2 = 'Infinity' WHERE id = :id",
        "UPDATE accidents SET killed = 2000000000 WHERE id = :accident",
        "UPDATE activities SET clearance_depth_cm = 1000000 WHERE id = :activity",
        "UPDATE eore_session_beneficiaries SET count = 2000000 "
        "WHERE session_id = :eore",
    ]
    ids = {
        "id": records["hazard"],
        "accident": records["accident"],
        "activity": records["activity"],
        "eore": records["eore"],
    }
    for sql in statements:
        with pytest.raises(IntegrityError, match="ck_"), session.begin_nested():
            session.execute(text(sql), ids)


def test_a_check_violation_is_422_not_500(lenient, session, actors):
    """A number only the database bounds (a Kobo geopoint's accuracy) is refused cleanly."""
    plain, _ = auth.create_api_key(
        session,
        organisation_code=actors.org_a,
        name="kobo-bounds",
        role=Role.coordinator,
        permissions=["hazard-reports:write"],
    )
    submission = {
        "_uuid": "0d5c8b70-0000-4000-8000-000000000001",
        "today": "2024-05-17",
        "report/description": "metal object near the stream",
        "report/hazard_location": "49.1032 36.2051 152.0 1e300",
    }
    r = lenient.post(
        "/api/v1/integrations/kobo", json=submission, headers={"X-API-Key": plain}
    )
    problem = assert_problem(r, 422)
    assert "gps_accuracy" in problem["detail"]


def test_a_kobo_submission_with_a_huge_number_is_served_back(lenient, session, actors):
    """The submission is kept as sent (restricted): a 20-digit member must not break it."""
    plain, _ = auth.create_api_key(
        session,
        organisation_code=actors.org_a,
        name="kobo-huge",
        role=Role.coordinator,
        permissions=["hazard-reports:write"],
    )
    submission = (
        '{"_id": 99999999999999999999, "_uuid": "0d5c8b70-0000-4000-8000-000000000002",'
        ' "today": "2024-05-17", "report/description": "metal object",'
        ' "report/hazard_location": "49.1032 36.2051 152.0 4.5"}'
    )
    r = lenient.post(
        "/api/v1/integrations/kobo",
        content=submission,
        headers={"X-API-Key": plain, "content-type": "application/json"},
    )
    assert r.status_code == 201, r.text
    report = r.json()["id"]
    h = actors.analyst_restricted.headers  # restricted:read: the submission as sent
    assert lenient.get("/api/v1/hazard-reports", headers=h).status_code == 200
    r = lenient.get(f"/api/v1/hazard-reports/{report}", headers=h)
    assert r.status_code == 200, r.text[:300]
    assert '"_id":99999999999999999999' in r.text  # exact, as JSON number text


@pytest.mark.slow
def test_migration_0015_keeps_flags_and_serves_legacy_rows(settings):
    """Rows stored before the bounds: the migration succeeds, flags them, and they serve."""
    from shapely.geometry import box
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from api.db import migrate
    from api.main import create_app
    from tests.factories import make_actors, make_hazard
    from tests.helpers import throwaway_database

    with throwaway_database("sg_bounds") as url:
        migrate.upgrade(url, "0014")
        app_settings = settings.model_copy(update={"database_url": url})
        engine = create_engine(app_settings.database_url)
        try:
            with Session(engine, expire_on_commit=False) as s:
                actors = make_actors(s, app_settings)
                poisoned = make_hazard(
                    s,
                    app_settings,
                    actors.admin.principal,
                    box(36.2, 49.1, 36.21, 49.11),
                    actors.org_a,
                )
                fine = make_hazard(
                    s,
                    app_settings,
                    actors.admin.principal,
                    box(36.3, 49.1, 36.31, 49.11),
                    actors.org_a,
                    beneficiaries=12,
                )
                s.execute(
                    text(
                        "UPDATE hazards SET beneficiaries = '99999999999999999999'::jsonb"
                        " WHERE id = :id"
                    ),
                    {"id": poisoned},
                )
                s.commit()
            migrate.upgrade(url)
            with engine.connect() as conn:
                flagged = conn.execute(
                    text(
                        "SELECT entity_id, after->>'constraint' FROM audit_log "
                        "WHERE action = 'value_out_of_bounds'"
                    )
                ).all()
                valid = dict(
                    conn.execute(
                        text(
                            "SELECT conname, convalidated FROM pg_constraint "
                            "WHERE conname LIKE 'ck_%_max' OR conname IN "
                            "('ck_hazards_beneficiaries', 'ck_hazards_estimated_area')"
                        )
                    ).all()
                )
            assert flagged == [(str(poisoned), "ck_hazards_beneficiaries")]
            assert (
                valid["ck_hazards_beneficiaries"] is False
            )  # until a person corrects it
            assert valid["ck_hazards_estimated_area"] is True
            assert valid["ck_accidents_killed_max"] is True
            with TestClient(create_app(app_settings)) as c:
                r = c.get("/api/v1/hazards", headers=actors.admin.headers)
                assert r.status_code == 200, r.text
                assert '"beneficiaries":99999999999999999999' in r.text
                assert {f["id"] for f in r.json()["features"]} == {
                    str(poisoned),
                    str(fine),
                }
                r = c.get(
                    "/ogc/collections/hazards/items", headers=actors.admin.headers
                )
                assert r.status_code == 200, r.text
        finally:
            engine.dispose()


@pytest.mark.parametrize("literal", ["NaN", "1e400", "-Infinity"])
def test_a_kobo_submission_with_a_non_json_number_is_422(
    lenient, session, actors, literal
):
    """Kept as sent, so a NaN anywhere in it is refused, naming where (was a vague 400)."""
    plain, _ = auth.create_api_key(
        session,
        organisation_code=actors.org_a,
        name="kobo-nan",
        role=Role.coordinator,
        permissions=["hazard-reports:write"],
    )
    body = {
        "_uuid": "0d5c8b70-0000-4000-8000-000000000003",
        "today": "2024-05-17",
        "group": {"reading": BAD},
        "report/description": "metal object",
        "report/hazard_location": "49.1032 36.2051 152.0 4.5",
    }
    submission = json.dumps(body).replace(f'"{BAD}"', literal)
    r = lenient.post(
        "/api/v1/integrations/kobo",
        content=submission,
        headers={"X-API-Key": plain, "content-type": "application/json"},
    )
    problem = assert_problem(r, 422)
    assert "/group/reading" in problem["detail"] and "finite" in problem["detail"]


@pytest.mark.parametrize(
    "content_types",
    [
        [("content-type", "application/json"), ("content-type", "text/plain")],
        [("content-type", "text/plain"), ("content-type", "application/json")],
        [],  # FastAPI parses a body without Content-Type as JSON
    ],
    ids=["json-first", "json-last", "none"],
)
def test_deep_json_is_400_whatever_the_content_type_headers_say(lenient, content_types):
    """A second Content-Type header (Starlette reads the first, a dict the last) or none
    at all must not carry a deep body past the check (review: /auth/refresh was a 500)."""
    for path in ("/api/v1/auth/refresh", "/api/v1/hazards"):
        r = lenient.post(path, content=DEEP_BODIES["arrays"], headers=content_types)
        assert_problem(r, 400)

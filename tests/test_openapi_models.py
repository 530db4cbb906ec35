"""Typed responses in OpenAPI: every JSON and GeoJSON success response has a schema, the
document is valid OpenAPI, and the bodies served match what is declared, so a client
generated from /openapi.json gets true models.

Bodies are checked twice: against the schema in the served document (JSON Schema 2020-12,
``$ref`` resolved in the document) and through the pydantic model that declares it.
"""

import json
import re
import uuid

import pytest
from fastapi import FastAPI, routing
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from shapely.geometry import mapping

from api.schemas.accidents import (
    AccidentCollection,
    AccidentFeatureOut,
    CasualtyFigures,
    VictimList,
    VictimOut,
)
from api.schemas.activities import ActivityList, ActivityOut
from api.schemas.analytics import Burndown, EOFindCounts, LandReleaseSummary
from api.schemas.eo_finds import EOFindCollection, EOFindFeatureOut
from api.schemas.eore import EorePlanning, EoreSessionCollection, EoreSessionFeatureOut
from api.schemas.geography import AdminAreaCollection
from api.schemas.hazard_reports import HazardReportCollection, HazardReportFeatureOut
from api.schemas.hazards import (
    HazardAsOfFeatureOut,
    HazardCollection,
    HazardFeatureOut,
    HazardHistory,
    RemainingFeature,
)
from api.schemas.imports import ImportQueued, ImportReport
from api.schemas.ogc import (
    CollectionInfo,
    Collections,
    Conformance,
    LandingPage,
    OGCFeatureCollection,
    OGCFeatureOut,
    OpenAPIDocument,
    Queryables,
)
from api.schemas.organisations import OrganisationList
from api.schemas.priorities import (
    DoNoHarmOut,
    OverrideHistory,
    PriorityModelList,
    Ranking,
)
from api.schemas.public import Publication, PublicHazards, PublicReleased
from api.schemas.system import (
    ApiKeyOut,
    AuditLog,
    Health,
    Me,
    TokenPair,
    UserOut,
    Vocabularies,
)
from api.services import auth
from tests.factories import (
    activity_body,
    hazard_feature,
    make_admin_area,
    release,
    square,
)
from tests.helpers import KOBO_SUBMISSION as SUBMISSION

JSON_MEDIA_TYPES = (
    "application/json",
    "application/geo+json",
    "application/schema+json",
)
METHODS = ("get", "put", "post", "delete", "patch")
DOC_URI = "urn:safeground:openapi"


def json_success_responses(doc: dict):
    """(operation, media type, schema) of every 2xx JSON/GeoJSON response in ``doc``."""
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            for status, response in op["responses"].items():
                if not str(status).startswith("2"):
                    continue
                for media_type, content in response.get("content", {}).items():
                    if media_type.split(";")[0].strip() in JSON_MEDIA_TYPES:
                        where = f"{method.upper()} {path} {status} {media_type}"
                        yield where, content.get("schema")


def typed(schema: dict | None) -> bool:
    """A $ref, or a schema that says something about the body (not empty, not {})."""
    if not schema:
        return False
    return "$ref" in schema or any(
        key in schema for key in ("type", "anyOf", "oneOf", "allOf", "properties")
    )


def test_every_json_success_response_has_a_schema(app):
    responses = list(json_success_responses(app.openapi()))
    offenders = [where for where, schema in responses if not typed(schema)]
    assert len(responses) >= 80  # the walk finds them (83 when this was written)
    assert offenders == [], "JSON success responses without a schema:\n" + "\n".join(
        offenders
    )


def test_the_walk_flags_an_empty_schema():
    doc = {
        "paths": {
            "/a": {
                "get": {
                    "responses": {
                        "200": {"content": {"application/json": {"schema": {}}}},
                        "404": {"content": {"application/json": {}}},
                    }
                },
                "post": {
                    "responses": {
                        "201": {
                            "content": {
                                "application/geo+json": {
                                    "schema": {"$ref": "#/components/schemas/X"}
                                }
                            }
                        }
                    }
                },
            }
        }
    }
    found = dict(json_success_responses(doc))
    assert set(found) == {
        "GET /a 200 application/json",
        "POST /a 201 application/geo+json",
    }
    assert not typed(found["GET /a 200 application/json"])
    assert typed(found["POST /a 201 application/geo+json"])


def test_the_document_is_valid_openapi(app):
    validate(app.openapi())


# --- bodies served against the declared schemas ----------------------------------------------


def _operation(doc: dict, method: str, path: str) -> tuple[str, dict]:
    """The operation of ``doc`` serving ``method path`` (literal segments win)."""
    candidates = []
    for template, item in doc["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            candidates.append((template.count("{"), template, item[method.lower()]))
    assert candidates, f"no operation for {method} {path}"
    _, template, op = min(candidates, key=lambda c: c[0])
    return template, op


def served(app, response, model, status: int = 200):
    """The body of ``response``, checked against the schema its operation declares for
    its status and media type, and through ``model``."""
    assert response.status_code == status, response.text
    doc = app.openapi()
    template, op = _operation(doc, response.request.method, response.request.url.path)
    media_type = response.headers["content-type"].split(";")[0].strip()
    declared = op["responses"][str(status)]["content"][media_type]["schema"]
    registry = Registry().with_resource(
        DOC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    schema = json.loads(
        json.dumps(declared).replace('"#/components/', f'"{DOC_URI}#/components/')
    )
    body = response.json()
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
        for e in Draft202012Validator(schema, registry=registry).iter_errors(body)
    ]
    where = f"{response.request.method} {template} {status} {media_type}"
    assert errors == [], f"{where} does not match its schema:\n" + "\n".join(errors)
    model.model_validate(body)
    return body


@pytest.fixture(autouse=True)
def served_as_returned(monkeypatch):
    """Fails a test when FastAPI passed a returned body through its response model.

    A route that returns a JSONOut/GeoJSONOut instance is served as it was built; one that
    returns a dict under ``response_model`` would be validated, filtered and serialised
    again. The models here only document: no body may pass through one.
    """
    passed: list[str] = []
    original = routing.serialize_response

    async def spy(*, field=None, **kw):
        if field is not None:
            passed.append(field.name)
        return await original(field=field, **kw)

    monkeypatch.setattr(routing, "serialize_response", spy)
    yield passed
    assert passed == [], f"bodies passed through a response model: {passed}"


def test_the_spy_sees_a_dict_passed_through_a_model(served_as_returned):
    demo = FastAPI()

    @demo.get("/x", response_model=Me)
    def x():
        return {"name": "n", "role": "admin", "organisation": None, "permissions": []}

    with TestClient(demo) as c:
        assert c.get("/x").status_code == 200
    assert len(served_as_returned) == 1
    served_as_returned.clear()


def test_a_body_that_is_not_as_declared_is_caught(app, client, actors):
    r = client.get("/api/v1/auth/me", headers=actors.coordinator_a.headers)
    r._content = json.dumps({**r.json(), "role": "pilot"}).encode()
    with pytest.raises(AssertionError, match="does not match its schema"):
        served(app, r, Me)


@pytest.fixture
def hazard_id(client, actors, session):
    make_admin_area(session, "UA99", square(36.0, 49.0, 1.0), 1, name="Oblast")
    r = client.post(
        "/api/v1/hazards",
        json=hazard_feature(square(36.2, 49.1, 0.01), actors.org_a, name="Field"),
        headers=actors.coordinator_a.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_identity_and_reference_bodies(app, client, session, actors):
    admin = actors.admin.headers
    served(app, client.get("/health"), Health)
    token = served(
        app,
        client.post(
            "/api/v1/auth/token",
            data={
                "username": actors.analyst_a.name,
                "password": "password-" + actors.analyst_a.name,
            },
        ),
        TokenPair,
    )
    served(
        app,
        client.post(
            "/api/v1/auth/refresh", data={"refresh_token": token["refresh_token"]}
        ),
        TokenPair,
    )
    served(app, client.get("/api/v1/auth/me", headers=admin), Me)
    user = {
        "username": "typed-" + uuid.uuid4().hex[:6],
        "password": "a long password",
        "role": "analyst",
        "organisation": actors.org_a,
    }
    served(app, client.post("/api/v1/users", json=user, headers=admin), UserOut, 201)
    key = {"name": "typed", "organisation": actors.org_a}
    served(
        app, client.post("/api/v1/api-keys", json=key, headers=admin), ApiKeyOut, 201
    )
    body = served(
        app, client.get("/api/v1/organisations", headers=admin), OrganisationList
    )
    assert body["organisations"]
    served(app, client.get("/api/v1/vocabularies", headers=admin), Vocabularies)
    log = served(app, client.get("/api/v1/audit", headers=admin), AuditLog)
    assert log["items"]


def test_hazard_and_land_release_bodies(app, client, actors, hazard_id):
    coordinator, reader = actors.coordinator_a.headers, actors.analyst_a.headers
    r = client.post(
        "/api/v1/activities",
        json=activity_body(
            actors.org_a,
            [hazard_id],
            [release(square(36.2, 49.1, 0.005), "cleared", date="2024-06-20")],
        ),
        headers=coordinator,
    )
    activity = served(app, r, ActivityOut, 201)
    assert activity["releases"]["features"]
    served(app, client.get("/api/v1/activities", headers=reader), ActivityList)
    served(
        app,
        client.get(f"/api/v1/activities/{activity['id']}", headers=reader),
        ActivityOut,
    )

    listed = served(
        app, client.get("/api/v1/hazards", headers=reader), HazardCollection
    )
    assert listed["features"]
    served(
        app,
        client.get(f"/api/v1/hazards/{hazard_id}", headers=reader),
        HazardFeatureOut,
    )
    then = served(
        app,
        client.get(f"/api/v1/hazards/{hazard_id}?as_of=2024-07-01", headers=reader),
        HazardAsOfFeatureOut,
    )
    assert then["properties"]["as_of"] == "2024-07-01"
    listed = served(
        app,
        client.get("/api/v1/hazards?as_of=2024-07-01", headers=reader),
        HazardCollection,
    )
    assert listed["features"] and listed["as_of"] == "2024-07-01"
    history = served(
        app,
        client.get(f"/api/v1/hazards/{hazard_id}/history", headers=reader),
        HazardHistory,
    )
    assert history["versions"]
    served(
        app,
        client.get(f"/api/v1/hazards/{hazard_id}/remaining", headers=reader),
        RemainingFeature,
    )

    summary = served(
        app,
        client.get("/api/v1/land-release/summary?group_by=month", headers=reader),
        LandReleaseSummary,
    )
    assert summary["rows"]
    served(
        app,
        client.get(
            "/api/v1/land-release/burndown?from=2024-05&to=2024-07&group_by=organisation",
            headers=reader,
        ),
        Burndown,
    )
    areas = served(
        app, client.get("/api/v1/admin-areas", headers=reader), AdminAreaCollection
    )
    assert areas["features"]


def test_field_record_bodies(app, client, actors, hazard_id):
    coordinator, reader = actors.coordinator_a.headers, actors.analyst_a.headers
    point = {"type": "Point", "coordinates": [36.205, 49.105]}
    find = {
        "type": "Feature",
        "geometry": point,
        "properties": {"eo_category": "ap_mine", "hazard_id": hazard_id},
    }
    r = client.post("/api/v1/eo-finds", json=find, headers=coordinator)
    find_id = served(app, r, EOFindFeatureOut, 201)["id"]
    served(app, client.get("/api/v1/eo-finds", headers=reader), EOFindCollection)
    served(
        app, client.get(f"/api/v1/eo-finds/{find_id}", headers=reader), EOFindFeatureOut
    )
    served(
        app,
        client.get("/api/v1/analytics/eo-finds?group_by=month", headers=reader),
        EOFindCounts,
    )

    accident = {
        "type": "Feature",
        "geometry": point,
        "properties": {
            "occurred_on": "2024-06-14",
            "accident_class": "mine_erw_accident",
            "killed": 1,
            "injured": 2,
        },
    }
    r = client.post("/api/v1/accidents", json=accident, headers=coordinator)
    accident_id = served(app, r, AccidentFeatureOut, 201)["id"]
    victim = {
        "sex": "female",
        "age": 34,
        "role": "civilian",
        "outcome": "injured",
        "personal": {"name": "A. Person", "date_of_birth": "1990-02-03"},
    }
    victims = f"/api/v1/accidents/{accident_id}/victims"
    r = client.post(victims, json=victim, headers=coordinator)
    victim_id = served(app, r, VictimOut, 201)["id"]
    served(app, client.get("/api/v1/accidents", headers=reader), AccidentCollection)
    served(app, client.get(victims, headers=reader), VictimList)
    with_personal = served(
        app,
        client.get(f"{victims}/{victim_id}", headers=actors.analyst_restricted.headers),
        VictimOut,
    )
    assert with_personal["personal"]["name"] == "A. Person"
    served(
        app, client.get("/api/v1/analytics/casualties", headers=reader), CasualtyFigures
    )

    eore = {
        "type": "Feature",
        "geometry": point,
        "properties": {
            "session_date": "2024-06-14",
            "delivery_method": "school_based",
            "audience": "children",
            "beneficiaries": [{"sex": "female", "age_band": "age_5_12", "count": 14}],
            "hazard_ids": [hazard_id],
        },
    }
    r = client.post("/api/v1/eore-sessions", json=eore, headers=actors.eore_a.headers)
    session_id = served(app, r, EoreSessionFeatureOut, 201)["id"]
    served(
        app, client.get("/api/v1/eore-sessions", headers=reader), EoreSessionCollection
    )
    served(
        app,
        client.get(f"/api/v1/eore-sessions/{session_id}", headers=reader),
        EoreSessionFeatureOut,
    )
    served(
        app, client.get("/api/v1/eore-sessions/planning", headers=reader), EorePlanning
    )


def test_hazard_report_and_kobo_bodies(app, client, session, actors):
    report = {
        "type": "Feature",
        "geometry": mapping(square(36.25, 49.15, 0.005)),
        "properties": {
            "source": "hotline",
            "reported_on": "2024-05-17",
            "contamination": ["ap_mine"],
            "location_text": "behind the school",
            "contacts": [{"name": "Informant", "phone": "+380 67 000 0000"}],
        },
    }
    url = "/api/v1/hazard-reports"
    r = client.post(url, json=report, headers=actors.eore_a.headers)
    report_id = served(app, r, HazardReportFeatureOut, 201)["id"]
    coordinator = actors.coordinator_a.headers
    served(app, client.get(url, headers=coordinator), HazardReportCollection)
    full = served(
        app,
        client.get(f"{url}/{report_id}", headers=actors.analyst_restricted.headers),
        HazardReportFeatureOut,
    )
    assert full["properties"]["contacts"]
    served(
        app,
        client.post(f"{url}/{report_id}/verify", json={}, headers=coordinator),
        HazardReportFeatureOut,
    )
    accept = {"create": {"hazard_type": "minefield"}}
    served(
        app,
        client.post(f"{url}/{report_id}/accept", json=accept, headers=coordinator),
        HazardReportFeatureOut,
    )

    plain, _ = auth.create_api_key(
        session, organisation_code=actors.org_a, name="kobo-typed"
    )
    served(
        app,
        client.post(
            "/api/v1/integrations/kobo", json=SUBMISSION, headers={"X-API-Key": plain}
        ),
        HazardReportFeatureOut,
        201,
    )


def test_import_bodies(app, client, actors):
    r = client.post(
        "/api/v1/imports",
        files={
            "file": ("rows.geojson", b'{"type": "FeatureCollection", "features": []}')
        },
        data={"kind": "hazards", "mode": "dry_run"},
        headers=actors.coordinator_a.headers,
    )
    queued = served(app, r, ImportQueued, 202)
    served(
        app,
        client.get(
            f"/api/v1/imports/{queued['id']}", headers=actors.coordinator_a.headers
        ),
        ImportReport,
    )


def test_ogc_bodies(app, client, actors, hazard_id):
    reader = actors.analyst_a.headers
    served(app, client.get("/ogc", headers=reader), LandingPage)
    served(app, client.get("/ogc/api", headers=reader), OpenAPIDocument)
    served(app, client.get("/ogc/conformance", headers=reader), Conformance)
    listed = served(app, client.get("/ogc/collections", headers=reader), Collections)
    assert listed["collections"]
    for coll in listed["collections"]:
        base = f"/ogc/collections/{coll['id']}"
        served(app, client.get(base, headers=reader), CollectionInfo)
        served(app, client.get(f"{base}/queryables", headers=reader), Queryables)
        page = served(
            app, client.get(f"{base}/items", headers=reader), OGCFeatureCollection
        )
        if page["features"]:
            feature_id = page["features"][0]["id"]
            served(
                app,
                client.get(f"{base}/items/{feature_id}", headers=reader),
                OGCFeatureOut,
            )


def test_public_bodies(app, client, actors, hazard_id):
    r = client.post("/api/v1/public/publications", headers=actors.admin.headers)
    served(app, r, Publication, 201)
    hazards = served(app, client.get("/api/v1/public/hazards"), PublicHazards)
    assert hazards["features"] and hazards["publication"]
    served(app, client.get("/api/v1/public/released"), PublicReleased)


def test_priority_bodies(app, client, actors, hazard_id):
    coordinator = actors.coordinator_a.headers
    models = served(
        app,
        client.get("/api/v1/priority-models", headers=coordinator),
        PriorityModelList,
    )
    assert models["items"]
    ranking = served(
        app, client.get("/api/v1/priorities", headers=coordinator), Ranking
    )
    assert ranking["items"]
    override = {"band": "high", "justification": "the only road to the school"}
    served(
        app,
        client.post(
            f"/api/v1/priorities/{hazard_id}/override",
            json=override,
            headers=coordinator,
        ),
        OverrideHistory,
        201,
    )
    ranking = served(
        app, client.get("/api/v1/priorities", headers=coordinator), Ranking
    )
    assert ranking["items"][0]["override"]["band"] == "high"
    served(
        app,
        client.get(f"/api/v1/priorities/{hazard_id}/overrides", headers=coordinator),
        OverrideHistory,
    )
    why = {"justification": "the council withdrew its request"}
    served(
        app,
        client.post(
            f"/api/v1/priorities/{hazard_id}/override/revoke",
            json=why,
            headers=coordinator,
        ),
        OverrideHistory,
    )
    gate = {"do_no_harm": True, "justification": "two families claim the land"}
    served(
        app,
        client.post(
            f"/api/v1/priorities/{hazard_id}/do-no-harm", json=gate, headers=coordinator
        ),
        DoNoHarmOut,
    )

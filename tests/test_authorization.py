"""Who may change what: programme-wide settings (admins only), API-key scopes end to end,
the four-eyes rule of hazard reports, and work recorded on another organisation's hazard."""

import uuid

import pytest
from shapely.geometry import box

from api.domain.priority_model import DEFAULT_MODEL
from api.services import auth
from api.services.auth import EXTRA_SCOPES, KEY_REFUSED, ROLE_SCOPES, WRITE_SCOPES
from api.vocab import Role
from tests.factories import activity_body, hazard_feature, release
from tests.helpers import assert_problem, walk_routes

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# credential exchanges: they take no caller, only the credentials in their body
NO_CALLER = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/refresh")}
AREA = box(36.20, 49.10, 36.21, 49.11)
REPORTS = "/api/v1/hazard-reports"


def key(session, org: str, *, role=Role.coordinator, permissions=None) -> dict:
    plain, _ = auth.create_api_key(
        session,
        organisation_code=org,
        name=f"key-{uuid.uuid4().hex[:6]}",
        role=role,
        permissions=permissions,
    )
    return {"X-API-Key": plain}


def write_routes(app) -> list[tuple[str, str]]:
    return sorted(
        (method, path)
        for path, methods in walk_routes(app.routes)
        if path.startswith("/api/v1/")
        for method in methods & WRITE_METHODS
    )


def segment(path: str) -> str:
    return path.removeprefix("/api/v1/").split("/")[0]


def fill(path: str) -> str:
    """Path parameters filled with ids that exist nowhere: the scope is decided first."""
    out = path
    while "{" in out:
        start, end = out.index("{"), out.index("}")
        out = out[:start] + str(uuid.uuid4()) + out[end + 1 :]
    return out


# --- 1. programme-wide settings: admins only ------------------------------------------------


def new_model(client, headers):
    return client.post(
        "/api/v1/priority-models",
        json={"name": "agriculture first", "model": DEFAULT_MODEL, "activate": True},
        headers=headers,
    )


def activate_model(client, headers, model_id):
    return client.post(
        f"/api/v1/priority-models/{model_id}/activate", json={}, headers=headers
    )


def publish(client, headers):
    return client.post("/api/v1/public/publications", headers=headers)


def active_version(client, actors) -> int:
    items = client.get("/api/v1/priority-models", headers=actors.admin.headers).json()
    return next(m["version"] for m in items["items"] if m["active"])


def test_coordinators_and_keys_cannot_create_or_activate_the_priority_model(
    client, session, actors
):
    coordinator_key = key(session, actors.org_a)  # every scope its role allows
    admin_key = key(session, actors.org_a, role=Role.admin)
    stored = new_model(client, actors.admin.headers)
    assert stored.status_code == 201, stored.text
    model_id = stored.json()["id"]
    first = client.post(
        "/api/v1/priority-models",
        json={"name": "kept inactive", "model": DEFAULT_MODEL, "activate": False},
        headers=actors.admin.headers,
    )
    assert first.status_code == 201, first.text
    before = active_version(client, actors)
    for headers in (
        actors.coordinator_a.headers,
        actors.coordinator_b.headers,
        coordinator_key,
        admin_key,
    ):
        body = assert_problem(new_model(client, headers), 403)
        assert "programme-wide" in body["detail"]
        assert_problem(activate_model(client, headers, first.json()["id"]), 403)
    assert active_version(client, actors) == before  # nothing changed
    # the admin, signed in, may
    activated = activate_model(client, actors.admin.headers, first.json()["id"])
    assert activated.status_code == 200, activated.text
    assert activated.json()["active"] and activated.json()["id"] != model_id


def test_coordinators_and_keys_cannot_publish_the_public_layer(client, session, actors):
    for headers in (
        actors.coordinator_a.headers,
        key(session, actors.org_a),
        key(session, actors.org_a, role=Role.admin),
    ):
        assert_problem(publish(client, headers), 403)
    listed = client.get("/api/v1/public/publications", headers=actors.admin.headers)
    assert listed.json()["items"] == []
    r = publish(client, actors.admin.headers)
    assert r.status_code == 201, r.text


def test_code_lists_cannot_be_written_through_the_api(app, client, actors):
    """Vocabularies are code in api/vocab.py: no write route exists, and none answers."""
    assert not [r for r in write_routes(app) if segment(r[1]) == "vocabularies"]
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = client.request(method, "/api/v1/vocabularies", headers=actors.admin.headers)
        assert_problem(r, 405)


# --- 2. API keys do only what their scopes name ----------------------------------------------


def test_every_write_route_maps_to_a_scope_or_is_refused_to_keys(app):
    routes = write_routes(app)
    assert len(routes) > 30
    unmapped = [
        (m, p)
        for m, p in routes
        if (m, p) not in NO_CALLER
        and segment(p) not in WRITE_SCOPES
        and segment(p) not in KEY_REFUSED
    ]
    assert unmapped == [], (
        "write routes with no API-key scope: add them to auth.WRITE_SCOPES "
        f"or auth.KEY_REFUSED: {unmapped}"
    )
    assert not set(WRITE_SCOPES) & set(KEY_REFUSED)
    for (first, last), scopes in EXTRA_SCOPES.items():
        assert any(
            segment(p) == first and p.rsplit("/", 1)[-1] == last for _, p in routes
        ), (first, last)
        assert scopes <= set(WRITE_SCOPES.values())


def test_a_key_without_the_matching_scope_is_refused_on_every_write_route(
    app, client, session, actors
):
    """Table-driven over every write route: a coordinator key holding every scope of its
    role but the one a route needs gets 403 naming it; routes no key may write refuse even
    an admin key with every scope."""
    every = sorted(ROLE_SCOPES[Role.coordinator])
    keys: dict[str, dict] = {}
    checked, failures = 0, []
    for method, path in write_routes(app):
        if (method, path) in NO_CALLER:
            continue
        url = fill(path)
        needed = auth.key_scopes_for(path)
        if needed is None:
            cases = [("admin key with every scope", None)]
        else:
            cases = [(f"key without {s}", s) for s in sorted(needed)]
        for label, missing in cases:
            if missing is None:
                headers = keys.setdefault(
                    "admin", key(session, actors.org_a, role=Role.admin)
                )
            else:
                headers = keys.setdefault(
                    missing,
                    key(
                        session,
                        actors.org_a,
                        permissions=[s for s in every if s != missing],
                    ),
                )
            r = client.request(method, url, json={}, headers=headers)
            checked += 1
            if r.status_code != 403 or not r.headers["content-type"].startswith(
                "application/problem+json"
            ):
                failures.append((method, path, label, r.status_code, r.text[:200]))
            elif missing is not None and missing not in r.json()["detail"]:
                failures.append((method, path, label, "detail", r.json()["detail"]))
    assert failures == []
    assert checked >= 33


EMPTY = b'{"type": "FeatureCollection", "features": []}'


def start_import(client, headers, kind):
    return client.post(
        "/api/v1/imports",
        files={"file": ("rows.geojson", EMPTY)},
        data={"kind": kind, "mode": "dry_run"},
        headers=headers,
    )


@pytest.mark.parametrize(
    "kind, scope",
    [
        ("hazards", "hazards:write"),
        ("activities", "activities:write"),
        ("releases", "activities:write"),
        ("eo_finds", "eo-finds:write"),
    ],
)
def test_an_import_key_writes_only_the_records_its_scopes_name(
    client, session, actors, kind, scope
):
    """imports:write alone no longer creates hazards (or activities, finds) by a file."""
    imports_only = key(session, actors.org_a, permissions=["imports:write"])
    assert (
        scope in assert_problem(start_import(client, imports_only, kind), 403)["detail"]
    )
    both = key(session, actors.org_a, permissions=["imports:write", scope])
    r = start_import(client, both, kind)
    assert r.status_code == 202, r.text


def submit(client, headers, **props) -> str:
    body = {
        "type": "Feature",
        "geometry": {
            "type": "Polygon",
            "coordinates": [list(map(list, AREA.exterior.coords))],
        },
        "properties": {
            "source": "hotline",
            "reported_on": "2024-05-17",
            "description": "metal object at the edge of the field",
            "contamination": ["ap_mine"],
            **props,
        },
    }
    r = client.post(REPORTS, json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def step(client, headers, rid, action, body=None):
    return client.post(f"{REPORTS}/{rid}/{action}", json=body, headers=headers)


def hazard_count(client, actors) -> int:
    r = client.get("/api/v1/hazards?limit=1", headers=actors.admin.headers)
    return r.json()["numberMatched"]


CREATE = {"create": {"hazard_type": "minefield"}}


def test_a_reports_key_cannot_turn_its_own_report_into_a_hazard(
    client, session, actors
):
    """The reproduction: a key with only hazard-reports:write submitted, verified and
    accepted its own report, creating a hazard."""
    before = hazard_count(client, actors)
    reports_key = key(session, actors.org_a, permissions=["hazard-reports:write"])
    rid = submit(client, reports_key)
    body = assert_problem(step(client, reports_key, rid, "verify"), 403)
    assert "four-eyes" in body["detail"]
    # verified by someone else, it still cannot be accepted by this key: no hazards:write
    assert step(client, actors.coordinator_a.headers, rid, "verify").status_code == 200
    body = assert_problem(step(client, reports_key, rid, "accept", CREATE), 403)
    assert "hazards:write" in body["detail"]
    assert hazard_count(client, actors) == before
    report = client.get(f"{REPORTS}/{rid}", headers=actors.admin.headers).json()
    assert report["properties"]["status"] == "verified"


def test_accept_by_key_needs_hazards_write_for_linking_too(client, session, actors):
    hid = client.post(
        "/api/v1/hazards",
        json=hazard_feature(AREA, actors.org_a),
        headers=actors.coordinator_a.headers,
    ).json()["id"]
    rid = submit(client, actors.eore_a.headers)
    assert step(client, actors.coordinator_a.headers, rid, "verify").status_code == 200
    reports_only = key(session, actors.org_a, permissions=["hazard-reports:write"])
    link = {"hazard_id": hid}
    assert (
        "hazards:write"
        in (
            assert_problem(step(client, reports_only, rid, "accept", link), 403)[
                "detail"
            ]
        )
    )
    both = key(
        session, actors.org_a, permissions=["hazard-reports:write", "hazards:write"]
    )
    r = step(client, both, rid, "accept", link)
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["hazard_id"] == hid


def test_nobody_verifies_or_accepts_their_own_report(client, session, actors):
    before = hazard_count(client, actors)
    coord = actors.coordinator_a.headers
    rid = submit(client, coord)
    assert (
        "four-eyes" in assert_problem(step(client, coord, rid, "verify"), 403)["detail"]
    )
    # an admin's own report is bound by the same rule
    own = submit(client, actors.admin.headers, organisation=actors.org_a)
    assert_problem(step(client, actors.admin.headers, own, "verify"), 403)
    # another person verifies; the submitter still cannot accept it
    assert step(client, actors.admin.headers, rid, "verify").status_code == 200
    assert (
        "four-eyes"
        in (assert_problem(step(client, coord, rid, "accept", CREATE), 403)["detail"])
    )
    assert hazard_count(client, actors) == before
    r = step(client, actors.admin.headers, rid, "accept", CREATE)
    assert r.status_code == 200, r.text
    assert hazard_count(client, actors) == before + 1
    # a full key of the organisation likewise, for what it submitted itself
    full_key = key(session, actors.org_a)
    kid = submit(client, full_key)
    assert_problem(step(client, full_key, kid, "verify"), 403)
    assert step(client, coord, kid, "verify").status_code == 200
    assert_problem(step(client, full_key, kid, "accept", CREATE), 403)


def test_a_changed_resend_makes_its_sender_an_author_too(client, session, actors):
    """Whoever changed the report by re-sending it cannot be the one who verifies it."""
    first = submit(client, actors.eore_a.headers, external_id="HR-4E")
    body = {
        "type": "Feature",
        "geometry": None,
        "properties": {
            "source": "hotline",
            "reported_on": "2024-05-18",
            "description": "changed by the coordinator",
            "contamination": ["uxo"],
            "external_id": "HR-4E",
            "location_text": "behind the school",
        },
    }
    r = client.post(REPORTS, json=body, headers=actors.coordinator_a.headers)
    assert r.status_code == 200 and r.json()["id"] == first, r.text
    assert_problem(step(client, actors.coordinator_a.headers, first, "verify"), 403)
    assert step(client, actors.admin.headers, first, "verify").status_code == 200


# --- 3. work recorded on another organisation's hazard ---------------------------------------


@pytest.fixture
def hazard_of_b(client, actors):
    r = client.post(
        "/api/v1/hazards",
        json=hazard_feature(box(30.0, 50.0, 30.01, 50.01), actors.org_b),
        headers=actors.coordinator_b.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def remaining(client, actors, hid) -> float:
    r = client.get(f"/api/v1/hazards/{hid}", headers=actors.admin.headers)
    return r.json()["properties"]["land_release"]["remaining_area_m2"]


def test_no_activity_on_another_organisations_hazard(client, actors, hazard_of_b):
    """The reproduction: coordinator A recorded a cleared release over B's hazard (201,
    remaining 0 m²) while PATCH and DELETE of that hazard were refused."""
    baseline = remaining(client, actors, hazard_of_b)
    assert baseline > 0
    over_all = [release(box(29.99, 49.99, 30.02, 50.02), "cleared")]
    body = activity_body(actors.org_a, [hazard_of_b], over_all)
    problem = assert_problem(
        client.post(
            "/api/v1/activities", json=body, headers=actors.coordinator_a.headers
        ),
        403,
    )
    assert actors.org_b in problem["detail"]
    assert remaining(client, actors, hazard_of_b) == pytest.approx(baseline)
    # as for the hazard itself
    assert_problem(
        client.patch(
            f"/api/v1/hazards/{hazard_of_b}",
            json={"properties": {"name": "x"}},
            headers=actors.coordinator_a.headers,
        ),
        403,
    )
    # its own organisation, or an admin, may
    for headers in (actors.coordinator_b.headers, actors.admin.headers):
        own = activity_body(actors.org_b, [hazard_of_b], over_all)
        r = client.post("/api/v1/activities", json=own, headers=headers)
        assert r.status_code == 201, r.text
    assert remaining(client, actors, hazard_of_b) == pytest.approx(0, abs=0.01)


def test_no_activity_patched_onto_another_organisations_hazard(
    client, actors, hazard_of_b
):
    h = actors.coordinator_a.headers
    own_hazard = client.post(
        "/api/v1/hazards",
        json=hazard_feature(box(30.1, 50.0, 30.11, 50.01), actors.org_a),
        headers=h,
    ).json()["id"]
    created = client.post(
        "/api/v1/activities",
        json=activity_body(actors.org_a, [own_hazard], []),
        headers=h,
    )
    assert created.status_code == 201, created.text
    aid = created.json()["id"]
    baseline = remaining(client, actors, hazard_of_b)
    assert_problem(
        client.patch(
            f"/api/v1/activities/{aid}",
            json={
                "hazard_ids": [hazard_of_b],
                "releases": {
                    "type": "FeatureCollection",
                    "features": [release(box(30.0, 50.0, 30.01, 50.01), "cleared")],
                },
            },
            headers={**h, "If-Match": created.headers["etag"]},
        ),
        403,
    )
    assert remaining(client, actors, hazard_of_b) == pytest.approx(baseline)
    # an activity linked to B's hazard by an admin cannot get releases from A either
    by_admin = client.post(
        "/api/v1/activities",
        json=activity_body(actors.org_a, [hazard_of_b], []),
        headers=actors.admin.headers,
    )
    assert by_admin.status_code == 201, by_admin.text
    assert_problem(
        client.patch(
            f"/api/v1/activities/{by_admin.json()['id']}",
            json={
                "releases": {
                    "type": "FeatureCollection",
                    "features": [release(box(30.0, 50.0, 30.01, 50.01), "cleared")],
                },
            },
            headers={**h, "If-Match": by_admin.headers["etag"]},
        ),
        403,
    )
    assert remaining(client, actors, hazard_of_b) == pytest.approx(baseline)

"""The hazard endpoints: create, list, read, versions, If-Match, history, remaining, retire."""

import pytest
from shapely.geometry import box, mapping, shape

from tests.factories import geod_area, hazard_feature, make_admin_area, release
from tests.helpers import assert_problem

GEOM = box(30.0, 50.0, 30.01, 50.01)


@pytest.fixture
def post(client, actors):
    def _post(geom=GEOM, org=None, user=None, **props):
        user = user or actors.coordinator_a
        return client.post(
            "/api/v1/hazards",
            json=hazard_feature(geom, org or actors.org_a, **props),
            headers=user.headers,
        )

    return _post


def test_create_returns_feature_with_etag_and_figures(post):
    r = post(
        name="Field north",
        contamination=["ap_mine", "av_mine"],
        benchmark={"type": "Point", "coordinates": [29.999, 49.999]},
    )
    assert r.status_code == 201, r.text
    assert r.headers["content-type"] == "application/geo+json"
    assert r.headers["etag"] == '"1"'
    body = r.json()
    props = body["properties"]
    assert body["type"] == "Feature" and body["id"] == props["id"]
    assert props["version"] == 1 and props["status"] == "open"
    assert props["status_source"] == "derived"
    assert props["contamination"] == ["ap_mine", "av_mine"]
    assert props["benchmark"] == {"type": "Point", "coordinates": [29.999, 49.999]}
    assert props["area_m2"] == pytest.approx(geod_area(GEOM), rel=1e-3)
    lr = props["land_release"]
    assert lr["baseline_area_m2"] == props["area_m2"] == lr["remaining_area_m2"]
    assert "warnings" not in body
    assert shape(body["geometry"]).equals(GEOM)


def test_resending_external_id_updates_instead_of_duplicating(post, client, actors):
    first = post(external_id="HA-1", name="one")
    again = post(external_id="HA-1", name="two", date_of_information="2024-06-01")
    assert first.status_code == 201 and again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["properties"]["version"] == 2
    assert again.json()["properties"]["name"] == "two"
    listed = client.get(
        "/api/v1/hazards",
        params={"organisation": actors.org_a},
        headers=actors.analyst_a.headers,
    ).json()
    assert [f["properties"]["external_id"] for f in listed["features"]].count(
        "HA-1"
    ) == 1


def test_point_only_for_spot_hazards(post):
    point = {"type": "Point", "coordinates": [30.0, 50.0]}
    assert post(geom=point, hazard_type="uxo_spot").status_code == 201
    body = assert_problem(post(geom=point, hazard_type="minefield"), 422)
    assert body["errors"][0]["pointer"] == "/geometry/type"


def test_future_date_of_information_is_refused(post):
    body = assert_problem(post(date_of_information="2999-01-01"), 422)
    assert body["errors"][0]["pointer"] == "/properties/date_of_information"


def test_unknown_organisation_is_422(post):
    body = assert_problem(post(org="NOPE", user=None), 422)
    assert body["errors"][0]["pointer"] == "/properties/organisation"


def test_read_only_members_are_ignored_with_a_warning(post):
    r = post(area_m2=1, version=99)
    assert r.status_code == 201
    assert r.json()["properties"]["version"] == 1
    assert any("read-only" in w for w in r.json()["warnings"])


def test_unknown_property_is_rejected_not_dropped(post):
    body = assert_problem(post(colour="red"), 422)
    assert body["errors"][0]["pointer"] == "/properties/colour"


def test_repaired_geometry_keeps_submitted_one_in_history(post, client, actors):
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[30, 50], [30.01, 50.01], [30.01, 50], [30, 50.01], [30, 50]]],
    }
    r = post(geom=bowtie)
    assert r.status_code == 201
    assert "self-intersection" in r.json()["warnings"][0]
    stored = shape(r.json()["geometry"])
    assert stored.is_valid and stored.geom_type == "MultiPolygon"
    hist = client.get(
        f"/api/v1/hazards/{r.json()['id']}/history", headers=actors.analyst_a.headers
    ).json()
    v1 = hist["versions"][0]
    assert v1["submitted_geometry"] == bowtie
    assert shape(v1["stored_geometry"]).equals(stored)
    assert v1["warnings"] == r.json()["warnings"]


def test_patch_needs_current_if_match(post, client, actors):
    created = post()
    hid, etag = created.json()["id"], created.headers["etag"]
    url, h = f"/api/v1/hazards/{hid}", actors.coordinator_a.headers
    assert_problem(
        client.patch(url, json={"properties": {"name": "x"}}, headers=h), 428
    )
    ok = client.patch(
        url, json={"properties": {"name": "first"}}, headers={**h, "If-Match": etag}
    )
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"'
    stale = client.patch(
        url, json={"properties": {"name": "second"}}, headers={**h, "If-Match": etag}
    )
    assert assert_problem(stale, 412)["current_version"] == 2
    assert client.get(url, headers=h).json()["properties"]["name"] == "first"


def test_older_report_is_history_only(post, client, actors):
    created = post(name="newest", date_of_information="2024-09-01")
    hid = created.json()["id"]
    url, h = f"/api/v1/hazards/{hid}", actors.coordinator_a.headers
    r = client.patch(
        url,
        json={
            "properties": {
                "name": "late old report",
                "notes": "fenced",
                "date_of_information": "2023-01-01",
            }
        },
        headers={**h, "If-Match": '"1"'},
    )
    assert r.status_code == 200
    props = r.json()["properties"]
    assert props["name"] == "newest"
    assert props["notes"] == "fenced"  # no newer report stated notes
    assert props["date_of_information"] == "2024-09-01"
    assert any("newer information" in w and "name" in w for w in r.json()["warnings"])
    versions = client.get(url + "/history", headers=h).json()["versions"]
    assert versions[1]["report"]["name"] == "late old report"
    assert versions[1]["superseded"] == ["name"]
    assert versions[1]["changes"] == {"notes": [None, "fenced"]}


def test_as_of_answers_what_was_known_then(post, client, actors):
    created = post(name="first", date_of_information="2024-01-01")
    hid = created.json()["id"]
    url, h = f"/api/v1/hazards/{hid}", actors.coordinator_a.headers
    client.patch(
        url,
        json={
            "geometry": mapping(box(30.0, 50.0, 30.02, 50.01)),
            "properties": {"name": "resurveyed", "date_of_information": "2024-06-01"},
        },
        headers={**h, "If-Match": '"1"'},
    )
    then = client.get(url, params={"as_of": "2024-03-01"}, headers=h).json()[
        "properties"
    ]
    now = client.get(url, headers=h).json()["properties"]
    assert then["name"] == "first" and now["name"] == "resurveyed"
    assert now["area_m2"] == pytest.approx(2 * then["area_m2"], rel=1e-3)
    assert then["land_release"]["remaining_area_m2"] == pytest.approx(then["area_m2"])
    before = client.get(url, params={"as_of": "2023-12-31"}, headers=h)
    assert "not known" in assert_problem(before, 404)["detail"]
    listed = client.get(
        "/api/v1/hazards",
        params={"as_of": "2024-03-01", "organisation": actors.org_a},
        headers=h,
    ).json()
    assert [f["properties"]["name"] for f in listed["features"]] == ["first"]


def test_list_filters_and_pages(post, client, actors, session):
    make_admin_area(session, "ZZ01", box(29.9, 49.9, 30.05, 50.1), 1)
    make_admin_area(session, "ZZ09", box(30.9, 49.9, 32.5, 50.5), 1)  # b and c
    post(classification="CHA", hazard_type="minefield", name="a")
    post(
        geom=box(31.0, 50.0, 31.01, 50.01),
        classification="SHA",
        hazard_type="battle_area",
        name="b",
    )
    post(
        geom=box(32.0, 50.0, 32.01, 50.01),
        org=actors.org_b,
        user=actors.admin,
        name="c",
    )
    h = actors.analyst_a.headers

    def names(**params):
        body = client.get("/api/v1/hazards", params=params, headers=h).json()
        return sorted(f["properties"]["name"] for f in body["features"])

    assert names(organisation=actors.org_a) == ["a", "b"]
    assert names(organisation=actors.org_a, classification="CHA") == ["a"]
    assert names(hazard_type="battle_area", organisation=actors.org_a) == ["b"]
    assert names(bbox="30.9,49.9,32.5,50.5") == ["b", "c"]
    assert names(admin="ZZ01") == ["a"]
    assert names(status="closed", organisation=actors.org_a) == []
    page = client.get(
        "/api/v1/hazards", params={"limit": 1, "bbox": "29,49,33,51"}, headers=h
    ).json()
    assert page["numberReturned"] == 1 and page["numberMatched"] == 3
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    second = client.get(nxt, headers=h).json()
    assert second["features"][0]["id"] != page["features"][0]["id"]
    assert_problem(
        client.get("/api/v1/hazards", params={"limit": 10_001}, headers=h), 400
    )
    assert_problem(
        client.get("/api/v1/hazards", params={"bbox": "1,2,3"}, headers=h), 400
    )
    assert_problem(
        client.get("/api/v1/hazards", params={"bbox": "1,60,3,50"}, headers=h), 400
    )


def test_admin_property_lists_pcodes(post, session):
    make_admin_area(session, "ZZ02", box(29.0, 49.0, 31.0, 51.0), 1)
    make_admin_area(session, "ZZ0201", box(29.0, 49.0, 31.0, 51.0), 2, parent="ZZ02")
    assert post().json()["properties"]["admin"] == ["ZZ02", "ZZ0201"]


def test_get_unknown_hazard_is_404(client, actors):
    r = client.get(
        "/api/v1/hazards/00000000-0000-0000-0000-000000000000",
        headers=actors.analyst_a.headers,
    )
    assert_problem(r, 404)
    assert_problem(
        client.get("/api/v1/hazards/not-a-uuid", headers=actors.analyst_a.headers), 422
    )


def test_remaining_is_hazard_minus_releases(post, client, actors):
    hid = post(classification="CHA").json()["id"]
    act = {
        "activity_type": "clearance",
        "organisation": actors.org_a,
        "hazard_ids": [hid],
        "status": "ongoing",
        "start_date": "2024-06-01",
        "releases": {
            "type": "FeatureCollection",
            "features": [release(box(30.0, 50.0, 30.005, 50.01), "cleared")],
        },
    }
    assert (
        client.post(
            "/api/v1/activities", json=act, headers=actors.coordinator_a.headers
        ).status_code
        == 201
    )
    r = client.get(f"/api/v1/hazards/{hid}/remaining", headers=actors.analyst_a.headers)
    assert r.status_code == 200
    assert shape(r.json()["geometry"]).equals(box(30.005, 50.0, 30.01, 50.01))
    props = client.get(
        f"/api/v1/hazards/{hid}", headers=actors.analyst_a.headers
    ).json()["properties"]
    assert props["status"] == "worked_on"
    assert props["land_release"]["remaining_area_m2"] == pytest.approx(
        props["area_m2"] / 2, rel=1e-3
    )


def test_set_status_wins_but_never_hides_remaining_land(post, client, actors):
    created = post(status="suspended")
    assert created.json()["properties"]["status"] == "suspended"
    assert created.json()["properties"]["status_source"] == "set"
    hid = created.json()["id"]
    r = client.patch(
        f"/api/v1/hazards/{hid}",
        json={"properties": {"status": "closed"}},
        headers={**actors.coordinator_a.headers, "If-Match": '"1"'},
    )
    assert (
        r.json()["properties"]["status"] == "open"
    )  # 79 ha remain: closed is not shown
    back = client.patch(
        f"/api/v1/hazards/{hid}",
        json={"properties": {"status": None}},
        headers={**actors.coordinator_a.headers, "If-Match": '"2"'},
    )
    assert back.json()["properties"]["status_source"] == "derived"


def test_retire_keeps_history(post, client, actors):
    hid = post().json()["id"]
    h = actors.coordinator_a.headers
    assert_problem(client.delete(f"/api/v1/hazards/{hid}", headers=h), 428)
    r = client.delete(
        f"/api/v1/hazards/{hid}",
        params={"reason": "duplicate"},
        headers={**h, "If-Match": '"1"'},
    )
    assert r.status_code == 204
    assert_problem(client.get(f"/api/v1/hazards/{hid}", headers=h), 404)
    versions = client.get(f"/api/v1/hazards/{hid}/history", headers=h).json()[
        "versions"
    ]
    assert [v["kind"] for v in versions] == ["create", "retire"]
    assert versions[1]["report"] == {"retirement_reason": "duplicate"}


def test_an_older_partial_report_keeps_the_timeline_whole(client, actors):
    """Found by schemathesis: a report dated before the creation that states a geometry and
    a classification but no organisation used to fail with a 500."""
    from shapely.geometry import box

    created = client.post(
        "/api/v1/hazards",
        json=hazard_feature(
            box(30.2, 50.2, 30.201, 50.201),
            actors.org_a,
            external_id="OLD-1",
            date_of_information="2024-05-01",
        ),
        headers=actors.coordinator_a.headers,
    )
    assert created.status_code == 201, created.text
    again = client.post(
        "/api/v1/hazards",
        json=hazard_feature(
            box(30.2, 50.2, 30.202, 50.201),
            actors.org_a,
            external_id="OLD-1",
            date_of_information="2001-01-01",
            classification="CHA",
        ),
        headers=actors.coordinator_a.headers,
    )
    assert again.status_code in (200, 201), again.text
    hid = created.json()["id"]
    now = client.get(f"/api/v1/hazards/{hid}", headers=actors.analyst_a.headers).json()
    assert now["properties"]["classification"] == "SHA"  # newer facts stay current
    then = client.get(
        f"/api/v1/hazards/{hid}",
        params={"as_of": "2010-01-01"},
        headers=actors.analyst_a.headers,
    )
    assert then.status_code == 404  # not known as an organisation's area then


def test_a_number_is_not_a_date(client, actors):
    """pydantic would read 0 as 1970-01-01; a date must be written."""
    from shapely.geometry import box

    body = hazard_feature(box(30.3, 50.3, 30.301, 50.301), actors.org_a)
    body["properties"]["date_of_information"] = 0
    res = client.post(
        "/api/v1/hazards", json=body, headers=actors.coordinator_a.headers
    )
    assert res.status_code == 422
    assert "YYYY-MM-DD" in res.text and "date_of_information" in res.text

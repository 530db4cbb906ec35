"""One gate for every way in (issue 13, item 1): a record written through the API meets the
rules a file row meets (api.ingest.gate): outside the programme's country it is refused with
the corrected position when a swap or sign flip explains it; a hazard's slivers, vertex
jumps and possible duplicates come back as warnings."""

from typing import Any

import pytest
from shapely.geometry import box, mapping, shape

from tests.factories import hazard_feature, make_admin_area
from tests.helpers import EORE_URL, eore_session_body, run_import
from tests.ingest import files as F

COUNTRY = box(30.0, 50.0, 31.0, 51.0)
INSIDE = box(30.5, 50.45, 30.501, 50.451)
SWAPPED = box(50.45, 30.5, 50.451, 30.501)  # latitude and longitude swapped: in Iraq
BRAZIL = box(-47.9, -15.8, -47.899, -15.799)


@pytest.fixture
def country(session):
    make_admin_area(session, "ZZ", COUNTRY, level=0, name="Testland")


def post(client, actors, geom, **props):
    return client.post(
        "/api/v1/hazards",
        json=hazard_feature(geom, actors.org_a, **props),
        headers=actors.coordinator_a.headers,
    )


def test_a_swapped_hazard_is_refused_with_the_corrected_position(
    client, actors, country
):
    r = post(client, actors, SWAPPED)
    assert r.status_code == 422, r.text
    p = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert p["errors"][0]["pointer"] == "/geometry"
    assert "outside the programme" in p["detail"] and "swapped" in p["detail"], p
    assert p["correction"] == "swap_lon_lat"
    assert shape(p["corrected_geometry"]).equals(INSIDE)
    # nothing stored
    listed = client.get("/api/v1/hazards", headers=actors.coordinator_a.headers)
    assert listed.json()["features"] == []


def test_a_hazard_in_another_country_is_refused_without_a_hint(client, actors, country):
    r = post(client, actors, BRAZIL)
    assert r.status_code == 422, r.text
    p = r.json()
    assert "outside the programme" in p["detail"] and "swapped" not in p["detail"]
    assert "corrected_geometry" not in p


def test_a_patch_moving_a_hazard_out_of_the_country_is_refused(client, actors, country):
    created = post(client, actors, INSIDE)
    assert created.status_code == 201, created.text
    r = client.patch(
        f"/api/v1/hazards/{created.json()['id']}",
        json={"geometry": mapping(SWAPPED)},
        headers={**actors.coordinator_a.headers, "If-Match": created.headers["ETag"]},
    )
    assert r.status_code == 422, r.text
    assert r.json()["correction"] == "swap_lon_lat"


def test_a_duplicate_is_flagged_but_not_its_own_edit(client, actors, country):
    first = post(client, actors, INSIDE)
    assert first.status_code == 201 and not first.json().get("warnings"), first.text
    second = post(client, actors, INSIDE)
    assert second.status_code == 201, second.text
    warnings = second.json()["warnings"]
    assert any(
        w.startswith(
            "possible duplicate: the same geometry as hazard " + first.json()["id"]
        )
        for w in warnings
    ), warnings
    # re-drawing a hazard is not a duplicate of itself
    moved = box(30.5, 50.45, 30.5012, 50.451)
    r = client.patch(
        f"/api/v1/hazards/{first.json()['id']}",
        json={"geometry": mapping(moved)},
        headers={**actors.coordinator_a.headers, "If-Match": first.headers["ETag"]},
    )
    assert r.status_code == 200, r.text
    assert not [w for w in r.json().get("warnings", []) if first.json()["id"] in w], (
        r.json()
    )


def test_a_vertex_jump_is_flagged(client, actors, country):
    # one mistyped vertex: 30.9 for 30.509, 28 km away from its neighbours
    geom = {
        "type": "Polygon",
        "coordinates": [
            [
                [30.5, 50.45],
                [30.9, 50.4505],
                [30.51, 50.451],
                [30.5, 50.451],
                [30.5, 50.45],
            ]
        ],
    }
    r = client.post(
        "/api/v1/hazards",
        json=hazard_feature(shape(geom), actors.org_a),
        headers=actors.coordinator_a.headers,
    )
    assert r.status_code == 201, r.text
    assert any(w.startswith("vertex jump") for w in r.json()["warnings"]), r.json()


def test_without_admin_areas_nothing_is_refused(client, actors):
    """A programme that has loaded no admin areas yet has no extent to check against."""
    r = post(client, actors, BRAZIL)
    assert r.status_code == 201, r.text


def _point(lon: float, lat: float, **props) -> dict:
    geometry = {"type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "geometry": geometry, "properties": props}


def _point_bodies(hazard_id: str) -> dict[str, tuple[str, Any]]:
    """A body for each API write located by a point, at (lon, lat) to fill in."""
    return {
        "eo find": (
            "/api/v1/eo-finds",
            lambda lon, lat: _point(
                lon, lat, eo_category="ap_mine", quantity=1, hazard_id=hazard_id
            ),
        ),
        "accident": (
            "/api/v1/accidents",
            lambda lon, lat: _point(
                lon,
                lat,
                occurred_on="2024-06-14",
                accident_class="mine_erw_accident",
                killed=0,
                injured=1,
            ),
        ),
        "eore session": (EORE_URL, lambda lon, lat: eore_session_body(lon, lat)),
        "hazard report": (
            "/api/v1/hazard-reports",
            lambda lon, lat: _point(
                lon, lat, source="hotline", reported_on="2024-05-17", description="mine"
            ),
        ),
    }


@pytest.mark.parametrize(
    "what", ["eo find", "accident", "eore session", "hazard report"]
)
def test_every_point_write_is_checked_against_the_programme(
    client, actors, country, what
):
    hazard = post(client, actors, INSIDE)
    assert hazard.status_code == 201, hazard.text
    url, body = _point_bodies(hazard.json()["id"])[what]
    h = actors.coordinator_a.headers
    swapped = client.post(url, json=body(50.4505, 30.5005), headers=h)
    assert swapped.status_code == 422, swapped.text
    p = swapped.json()
    assert "outside the programme" in p["detail"] and p["correction"] == "swap_lon_lat"
    assert p["corrected_geometry"] == {
        "type": "Point",
        "coordinates": [30.5005, 50.4505],
    }
    inside = client.post(url, json=body(30.5005, 50.4505), headers=h)
    assert inside.status_code == 201, inside.text


@pytest.mark.parametrize("what", ["eo find", "accident"])
def test_a_point_at_the_position_of_a_stored_one_is_flagged(
    client, actors, country, what
):
    """EO finds and accidents at exactly the position of another are flagged as possible
    duplicates (the same report twice), never merged; a file row of EO finds gets the
    same flag (tests/ingest/test_imports.py)."""
    hazard = post(client, actors, INSIDE)
    assert hazard.status_code == 201, hazard.text
    url, body = _point_bodies(hazard.json()["id"])[what]
    h = actors.coordinator_a.headers
    first = client.post(url, json=body(30.5005, 50.4505), headers=h)
    assert first.status_code == 201, first.text
    assert not first.json().get("warnings"), first.text
    other = client.post(url, json=body(30.5007, 50.4506), headers=h)
    assert other.status_code == 201 and not other.json().get("warnings"), other.text
    again = client.post(url, json=body(30.5005, 50.4505), headers=h)
    assert again.status_code == 201, again.text
    label = "EO find" if what == "eo find" else "accident"
    assert again.json()["warnings"] == [
        f"possible duplicate: the same position as {label} {first.json()['id']}; "
        "review before merging"
    ]
    # both are kept
    assert again.json()["id"] != first.json()["id"]
    assert client.get(f"{url}/{first.json()['id']}", headers=h).status_code == 200


def test_an_accident_moved_onto_another_is_flagged(client, actors, country):
    url, body = _point_bodies("unused")["accident"]
    h = actors.coordinator_a.headers
    first = client.post(url, json=body(30.5005, 50.4505), headers=h)
    second = client.post(url, json=body(30.6, 50.6), headers=h)
    assert first.status_code == 201 and second.status_code == 201, second.text
    moved = client.patch(
        f"{url}/{second.json()['id']}",
        json={"geometry": {"type": "Point", "coordinates": [30.5005, 50.4505]}},
        headers={**h, "If-Match": second.headers["ETag"]},
    )
    assert moved.status_code == 200, moved.text
    [warning] = moved.json()["warnings"]
    assert warning == (
        f"possible duplicate: the same position as accident {first.json()['id']}; "
        "review before merging"
    )


# ------------------------------------------------------------- implausible area (item 1)

# Testland is a one-degree square (about 7,900 km² at 50° N); its region a quarter of it.
REGION = box(30.0, 50.0, 30.5, 50.5)
# 0.8 x 0.8 degrees from inside the region across the country (about 5,000 km²): larger than
# the region it starts in, smaller than the country
ACROSS = box(30.1, 50.1, 30.9, 50.9)
# larger than the country it lies in, reaching out of it
OVER = box(29.0, 49.0, 31.5, 51.5)


@pytest.fixture
def regions(session):
    make_admin_area(session, "ZZ", COUNTRY, level=0, name="Testland")
    make_admin_area(session, "ZZ01", REGION, level=1, name="North-west")


def test_a_hazard_larger_than_the_country_it_touches_is_refused(
    client, actors, regions
):
    r = post(client, actors, OVER)
    assert r.status_code == 422, r.text
    p = r.json()
    assert p["errors"][0]["pointer"] == "/geometry"
    assert "km² of Testland" in p["detail"], p["detail"]
    assert "largest of the programme's top-level admin areas" in p["detail"]
    # the bound is the top level's (the country), not the region's
    assert post(client, actors, ACROSS).status_code == 201
    # the same through a file row, the same words
    rep = run_import(
        client,
        actors.coordinator_a,
        "h.geojson",
        F.geojson_bytes([F.feature(OVER, F.hazard_props(1, actors.org_a))]),
    )
    assert rep["counts"]["rejected"] == 1
    assert rep["errors"][0]["rule"] == "too_large"
    assert "km² of Testland" in rep["errors"][0]["message"]


def test_in_ukrainian_the_area_bound_names_the_admin_area(client, actors, regions):
    r = client.post(
        "/api/v1/hazards",
        json=hazard_feature(OVER, actors.org_a),
        headers={**actors.coordinator_a.headers, "Accept-Language": "uk"},
    )
    assert r.status_code == 422
    assert "км² одиниці Testland" in r.json()["detail"], r.json()["detail"]


def test_without_admin_areas_a_hazard_over_1000_km2_is_refused(client, actors):
    big = box(30.0, 50.0, 30.5, 50.3)  # about 1,190 km²
    r = post(client, actors, big)
    assert r.status_code == 422, r.text
    assert "more than the 1,000 km² accepted" in r.json()["detail"]
    assert post(client, actors, box(30.0, 50.0, 30.4, 50.3)).status_code == 201


def test_the_bound_can_be_configured(client, actors, regions, app, settings):
    app.state.settings = settings.model_copy(update={"max_hazard_area_km2": 2.0})
    try:
        r = post(client, actors, box(30.1, 50.1, 30.13, 50.13))  # about 7 km²
        assert r.status_code == 422, r.text
        assert "more than the 2 km² accepted" in r.json()["detail"]
        rep = run_import(
            client,
            actors.coordinator_a,
            "h.geojson",
            F.geojson_bytes(
                [
                    F.feature(
                        box(30.1, 50.1, 30.13, 50.13), F.hazard_props(2, actors.org_a)
                    )
                ]
            ),
        )
        assert "more than the 2 km² accepted" in rep["errors"][0]["message"]
    finally:
        app.state.settings = settings
    # with no fixed bound, the country bounds it: accepted
    assert post(client, actors, box(30.1, 50.1, 30.13, 50.13)).status_code == 201


@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_hazard_write_looks_up_the_programme_level_once(
    client, actors, country, session, method
):
    """The intake's area bound and the extent check share one lookup of the programme's
    top admin level (they asked for it once each)."""
    from sqlalchemy import event

    created = post(client, actors, INSIDE) if method == "patch" else None
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        if "min(level)" in statement and "admin_areas" in statement:
            seen.append(statement)

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", count)
    try:
        if created is None:
            r = post(client, actors, box(30.6, 50.6, 30.601, 50.601))
            assert r.status_code == 201, r.text
        else:
            r = client.patch(
                f"/api/v1/hazards/{created.json()['id']}",
                json={"geometry": mapping(box(30.6, 50.6, 30.601, 50.601))},
                headers={
                    **actors.coordinator_a.headers,
                    "If-Match": created.headers["ETag"],
                },
            )
            assert r.status_code == 200, r.text
    finally:
        event.remove(bind, "before_cursor_execute", count)
    assert len(seen) == 1, seen


def test_warnings_of_single_writes_are_in_the_language_asked_for(
    client, actors, country
):
    """As problems and import reports are: ``Accept-Language: uk`` gives the warnings of a
    POST and a PATCH of a hazard, and of an EO find, in Ukrainian."""
    uk = {**actors.coordinator_a.headers, "Accept-Language": "uk"}
    first = post(client, actors, INSIDE)
    assert first.status_code == 201, first.text
    second = client.post(
        "/api/v1/hazards", json=hazard_feature(INSIDE, actors.org_a), headers=uk
    )
    assert second.status_code == 201, second.text
    [warning] = second.json()["warnings"]
    assert warning.startswith("можливий дублікат небезпечної ділянки"), warning
    assert first.json()["id"] in warning
    third = post(client, actors, box(30.6, 50.6, 30.601, 50.601))
    moved = client.patch(
        f"/api/v1/hazards/{third.json()['id']}",
        json={"geometry": mapping(INSIDE)},
        headers={**uk, "If-Match": third.headers["ETag"]},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["warnings"], moved.text
    assert all("можливий дублікат" in w for w in moved.json()["warnings"])
    url, body = _point_bodies(first.json()["id"])["eo find"]
    client.post(url, json=body(30.5005, 50.4505), headers=actors.coordinator_a.headers)
    again = client.post(url, json=body(30.5005, 50.4505), headers=uk)
    assert again.status_code == 201, again.text
    [warning] = again.json()["warnings"]
    assert warning.startswith("можливий дублікат: та сама позиція"), warning
    # English stays the default
    en = post(client, actors, INSIDE)
    assert en.json()["warnings"][0].startswith("possible duplicate")

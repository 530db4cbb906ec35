"""OGC API – Features at /ogc: documents, security, paging, bbox, datetime, CQL2, HTML."""

from urllib.parse import parse_qs, urlsplit

import pytest
from shapely.geometry import box, shape
from shapely.ops import unary_union
from sqlalchemy import event

from api.services import auth
from tests.factories import (
    geod_area,
    make_activity,
    make_admin_area,
    make_hazard,
    release,
    square,
)
from tests.helpers import assert_problem

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
CQL2_TEXT = "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text"
AREA = "40,10,41,11"  # every hazard of these tests lies in this box


@pytest.fixture
def data(session, settings, actors):
    """Five hazards in AREA, releases on two of them, two admin areas."""
    who, org = actors.coordinator_a.principal, actors.org_a

    def hazard(lon, lat, **props):
        return make_hazard(session, settings, who, square(lon, lat, 0.01), org, **props)

    ids = {
        "north": hazard(
            40.1,
            10.1,
            name="North field",
            classification="CHA",
            date_of_information="2024-01-10",
            contamination=["ap_mine", "av_mine"],
            estimated_area_m2=5000,
        ),
        "south": hazard(
            40.1,
            10.5,
            name="South field",
            classification="SHA",
            date_of_information="2024-03-05",
            contamination=["uxo"],
            estimated_area_m2=20000,
        ),
        "road": hazard(
            40.5,
            10.5,
            name="Road verge",
            classification="SHA",
            hazard_type="road_route",
            date_of_information="2024-05-20",
            estimated_area_m2=1000,
        ),
        "quote": hazard(
            40.7,
            10.7,
            name="x' OR 1=1 --",
            classification="CHA",
            date_of_information="2024-07-01",
        ),
        "unnamed": hazard(
            40.9,
            10.9,
            classification="SHA",
            date_of_information="2024-09-15",
            hazard_type="battle_area",
        ),
    }
    # north: a cleared strip and an overlapping reduced strip; south: one cancelled corner
    make_activity(
        session,
        settings,
        who,
        org,
        [ids["north"], ids["south"]],
        [
            release(
                box(40.1, 10.1, 40.104, 10.11),
                "cleared",
                "2024-06-20",
                hazard_id=str(ids["north"]),
            ),
            release(
                box(40.102, 10.1, 40.106, 10.105),
                "reduced",
                "2024-06-10",
                hazard_id=str(ids["north"]),
            ),
            release(
                box(40.1, 10.5, 40.105, 10.505),
                "cancelled",
                "2024-04-01",
                hazard_id=str(ids["south"]),
            ),
        ],
    )
    make_admin_area(session, "XX01", box(40, 10, 41, 10.6), 1, name="Upper")
    make_admin_area(session, "XX02", box(40, 10.6, 41, 11), 1, name="Lower")
    return ids


def get(client, path, user=None, **params):
    headers = user.headers if user else {}
    return client.get(path, params=params, headers=headers)


def names(body):
    return sorted(f["properties"]["name"] or "" for f in body["features"])


def cql(client, actors, text, collection="hazards"):
    r = get(
        client,
        f"/ogc/collections/{collection}/items",
        actors.analyst_a,
        bbox=AREA,
        filter=text,
    )
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------------------------------
# documents and access
# ---------------------------------------------------------------------------------------


def test_landing_page_links_without_sign_in(client):
    r = client.get("/ogc")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    links = {link["rel"]: link for link in r.json()["links"]}
    assert {"self", "alternate", "service-desc", "conformance", "data"} <= set(links)
    assert links["service-desc"]["href"].endswith("/ogc/api")
    assert links["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")
    assert links["conformance"]["href"].endswith("/ogc/conformance")
    assert links["data"]["href"].endswith("/ogc/collections")
    assert client.get(links["service-desc"]["href"]).status_code == 200


def test_conformance_lists_the_implemented_classes(client):
    body = client.get("/ogc/conformance").json()
    assert CORE in body["conformsTo"] and CQL2_TEXT in body["conformsTo"]
    assert any(c.endswith("/conf/geojson") for c in body["conformsTo"])
    assert any(c.endswith("/conf/html") for c in body["conformsTo"])
    assert any(
        c.endswith("ogcapi-features-3/1.0/conf/filter") for c in body["conformsTo"]
    )


OPERATIONAL = [
    "hazards",
    "hazard-points",
    "remaining",
    "remaining-points",
    "releases",
    "admin-areas",
]
PUBLIC = ["public-hazards", "public-released"]


def test_anonymous_callers_see_no_collection_before_a_publication(client, data):
    r = client.get("/ogc/collections")
    assert r.status_code == 200
    assert r.json()["collections"] == []
    r = client.get("/ogc/collections/public-hazards/items")
    assert r.status_code == 200 and r.json()["features"] == []


def test_any_signed_in_role_sees_the_operational_collections(client, data, actors):
    for user in (actors.admin, actors.coordinator_a, actors.eore_a, actors.analyst_a):
        body = get(client, "/ogc/collections", user).json()
        ids = [c["id"] for c in body["collections"]]
        assert ids == OPERATIONAL, user.name
    hazards = body["collections"][0]
    assert hazards["itemType"] == "feature"
    assert hazards["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    rels = {(link["rel"], link["type"]) for link in hazards["links"]}
    assert ("items", "application/geo+json") in rels
    assert (
        "http://www.opengis.net/def/rel/ogc/1.0/queryables",
        "application/schema+json",
    ) in rels


def test_api_key_reads_the_collections(client, session, data, actors):
    plain, _ = auth.create_api_key(session, organisation_code=actors.org_a, name="qgis")
    r = client.get("/ogc/collections/hazards/items", headers={"X-API-Key": plain})
    assert r.status_code == 200 and r.json()["numberMatched"] == 5


@pytest.mark.parametrize(
    "path",
    [
        "/ogc/collections/hazards",
        "/ogc/collections/hazards/items",
        "/ogc/collections/remaining/items",
        "/ogc/collections/releases/queryables",
        "/ogc/collections/admin-areas/items/XX01",
    ],
)
def test_collections_need_sign_in(client, data, path):
    r = client.get(path)
    assert_problem(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"


def test_unknown_collection_and_feature_are_404(client, data, actors):
    assert_problem(get(client, "/ogc/collections/victims/items", actors.admin), 404)
    for feature in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        r = get(client, f"/ogc/collections/hazards/items/{feature}", actors.admin)
        assert_problem(r, 404)


def test_collection_extent_comes_from_the_data(client, data, actors):
    body = get(client, "/ogc/collections/hazards", actors.analyst_a).json()
    assert body["extent"]["spatial"]["bbox"][0] == pytest.approx(
        [40.1, 10.1, 40.91, 10.91]
    )
    assert body["extent"]["temporal"]["interval"][0] == [
        "2024-01-10T00:00:00Z",
        "2024-09-15T23:59:59Z",
    ]
    admin = get(client, "/ogc/collections/admin-areas", actors.analyst_a).json()
    assert admin["extent"]["spatial"]["bbox"][0] == pytest.approx([40, 10, 41, 11])
    assert "temporal" not in admin["extent"]


def test_queryables_are_a_json_schema(client, data, actors):
    r = get(client, "/ogc/collections/hazards/queryables", actors.analyst_a)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/schema+json"
    schema = r.json()
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    props = schema["properties"]
    assert props["classification"]["enum"] == ["SHA", "CHA"]
    assert props["date_of_information"] == {
        "title": "Date of information",
        "type": "string",
        "format": "date",
    }
    assert props["remaining_area_m2"]["type"] == "number"
    assert props["geometry"]["x-ogc-role"] == "primary-geometry"
    assert "benchmark" not in props and "beneficiaries" not in props


# ---------------------------------------------------------------------------------------
# items: paging, bbox, datetime
# ---------------------------------------------------------------------------------------


def test_items_page_through_next_links_until_exhausted(client, data, actors):
    url, seen, pages = "/ogc/collections/hazards/items?limit=2", [], 0
    while url:
        r = client.get(url, headers=actors.analyst_a.headers)
        assert (
            r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
        )
        body = r.json()
        assert body["numberMatched"] == 5
        assert body["numberReturned"] == len(body["features"]) <= 2
        assert body["timeStamp"].endswith("Z")
        links = {link["rel"]: link["href"] for link in body["links"]}
        assert "self" in links and "collection" in links
        seen += [f["id"] for f in body["features"]]
        url, pages = links.get("next"), pages + 1
    assert pages == 3
    assert sorted(seen) == sorted(str(i) for i in data.values())
    # newest information first, as in /api/v1/hazards
    assert seen[0] == str(data["unnamed"]) and seen[-1] == str(data["north"])


def test_next_link_keeps_the_filters(client, data, actors):
    body = get(
        client,
        "/ogc/collections/hazards/items",
        actors.analyst_a,
        limit=1,
        filter="classification = 'SHA'",
        bbox=AREA,
    ).json()
    assert body["numberMatched"] == 3
    nxt = next(link["href"] for link in body["links"] if link["rel"] == "next")
    query = parse_qs(urlsplit(nxt).query)
    assert query["filter"] == ["classification = 'SHA'"]
    assert query["bbox"] == [AREA] and query["cursor"] and "offset" not in query
    page2 = client.get(nxt, headers=actors.analyst_a.headers).json()
    assert page2["features"][0]["properties"]["classification"] == "SHA"


def test_page_past_the_end_still_counts(client, data, actors):
    body = get(
        client, "/ogc/collections/hazards/items", actors.analyst_a, offset=10
    ).json()
    assert body["numberMatched"] == 5 and body["features"] == []
    assert "next" not in {link["rel"] for link in body["links"]}


def test_feature_properties_follow_the_hazard_contract(client, data, actors):
    r = get(client, f"/ogc/collections/hazards/items/{data['north']}", actors.analyst_a)
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    feature = r.json()
    props = feature["properties"]
    assert feature["id"] == props["id"] == str(data["north"])
    assert props["classification"] == "CHA" and props["contamination"] == [
        "ap_mine",
        "av_mine",
    ]
    assert props["organisation"] == actors.org_a
    api = get(client, f"/api/v1/hazards/{data['north']}", actors.analyst_a).json()
    for name, value in api["properties"]["land_release"].items():
        if name != "computed_at":
            assert props[name] == pytest.approx(value), name
    assert props["released_area_m2"] > 0
    assert shape(feature["geometry"]).equals(square(40.1, 10.1, 0.01))


def test_bbox_selects_intersecting_features(client, data, actors):
    body = get(
        client,
        "/ogc/collections/hazards/items",
        actors.analyst_a,
        bbox="40,10,40.3,10.6",
    ).json()
    assert names(body) == ["North field", "South field"]
    assert body["numberMatched"] == 2


@pytest.mark.parametrize(
    "bbox", ["1,2,3", "a,b,c,d", "10,10,5,5,", "0,95,1,96", "20,10,10,11"]
)
def test_invalid_bbox_is_400(client, data, actors, bbox):
    r = get(client, "/ogc/collections/hazards/items", actors.analyst_a, bbox=bbox)
    assert_problem(r, 400)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2024-03-05", ["South field"]),
        ("2024-03-05T18:30:00Z", ["South field"]),
        ("2024-03-01/2024-06-01", ["Road verge", "South field"]),
        ("../2024-03-05", ["North field", "South field"]),
        ("2024-07-01/..", ["", "x' OR 1=1 --"]),
        ("2024-06-30T23:00:00-02:00/..", ["", "x' OR 1=1 --"]),
    ],
)
def test_datetime_selects_by_date_of_information(client, data, actors, value, expected):
    body = get(
        client, "/ogc/collections/hazards/items", actors.analyst_a, datetime=value
    ).json()
    assert names(body) == expected
    assert body["numberMatched"] == len(expected)


def test_datetime_on_releases_uses_the_release_date(client, data, actors):
    body = get(
        client,
        "/ogc/collections/releases/items",
        actors.analyst_a,
        datetime="2024-06-01/2024-06-15",
    ).json()
    assert [f["properties"]["outcome"] for f in body["features"]] == ["reduced"]


@pytest.mark.parametrize(
    "params",
    [
        {"datetime": "2024-13-01"},
        {"datetime": "2024-06-01/2024-01-01"},
        {"limit": "0"},
        {"limit": "ten"},
        {"offset": "-1"},
        {"f": "xml"},
        {"crs": "http://www.opengis.net/def/crs/EPSG/0/3857"},
        {"filter-lang": "cql2-json", "filter": "name = 'a'"},
        {"bbox_wrong": "1,2,3,4"},
    ],
)
def test_bad_parameters_are_400(client, data, actors, params):
    r = get(client, "/ogc/collections/hazards/items", actors.analyst_a, **params)
    body = assert_problem(r, 400)
    assert body["errors"][0]["parameter"] == next(iter(params))


def test_datetime_on_a_collection_without_time_is_400(client, data, actors):
    r = get(
        client,
        "/ogc/collections/admin-areas/items",
        actors.analyst_a,
        datetime="2024-01-01",
    )
    assert "no temporal property" in assert_problem(r, 400)["detail"]


def test_a_page_computes_geometry_in_one_statement(client, connection, data, actors):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        for collection in ("hazards", "remaining", "releases"):
            statements.clear()
            r = get(client, f"/ogc/collections/{collection}/items", actors.analyst_a)
            assert r.status_code == 200 and r.json()["numberReturned"] >= 3
            data_statements = [s for s in statements if "ST_AsGeoJSON" in s]
            assert len(data_statements) == 1, collection
            matched = r.json()["numberMatched"]
            # a full page: numberMatched from one narrow count, without geometry
            statements.clear()
            r = get(
                client,
                f"/ogc/collections/{collection}/items",
                actors.analyst_a,
                limit=1,
            )
            assert (
                r.json()["numberMatched"] == matched and r.json()["numberReturned"] == 1
            )
            counts = [s for s in statements if "count(" in s.lower()]
            assert len(counts) == 1, collection
            assert "OVER ()" not in " ".join(statements).upper()
    finally:
        event.remove(connection, "before_cursor_execute", record)


# ---------------------------------------------------------------------------------------
# CQL2
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("classification = 'CHA'", ["North field", "x' OR 1=1 --"]),
        ("classification <> 'CHA'", ["", "Road verge", "South field"]),
        ("estimated_area_m2 < 5000", ["Road verge"]),
        ("estimated_area_m2 <= 5000", ["North field", "Road verge"]),
        ("estimated_area_m2 > 5000", ["South field"]),
        ("estimated_area_m2 >= 5000", ["North field", "South field"]),
        (
            "date_of_information >= DATE('2024-05-20')",
            ["", "Road verge", "x' OR 1=1 --"],
        ),
        ("date_of_information < '2024-03-05'", ["North field"]),
        ("released_area_m2 > 0", ["North field", "South field"]),
        ("name > 'R'", ["Road verge", "South field", "x' OR 1=1 --"]),
        (
            "estimated_area_m2 < 30000000000",
            ["North field", "Road verge", "South field"],
        ),
        ("version = 1.5", []),
        (
            "version = 1",
            ["", "North field", "Road verge", "South field", "x' OR 1=1 --"],
        ),
    ],
)
def test_cql2_comparisons(client, data, actors, text, expected):
    assert names(cql(client, actors, text)) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("classification = 'SHA' AND estimated_area_m2 > 1000", ["South field"]),
        ("name = 'Road verge' OR name = 'North field'", ["North field", "Road verge"]),
        ("NOT classification = 'SHA'", ["North field", "x' OR 1=1 --"]),
        (
            "NOT (classification = 'SHA' OR estimated_area_m2 IS NULL)",
            ["North field"],
        ),
        # AND binds tighter than OR
        (
            "name = 'Road verge' OR classification = 'CHA' AND estimated_area_m2 > 0",
            ["North field", "Road verge"],
        ),
        (
            "(name = 'Road verge' OR classification = 'CHA') AND estimated_area_m2 > 0",
            ["North field", "Road verge"],
        ),
        ("name LIKE '%field'", ["North field", "South field"]),
        ("name NOT LIKE 'North%'", ["Road verge", "South field", "x' OR 1=1 --"]),
        ("name LIKE 'R_ad%'", ["Road verge"]),
        ("CASEI(name) LIKE 'north%'", ["North field"]),
        ("CASEI(name) = CASEI('SOUTH FIELD')", ["South field"]),
        ("hazard_type IN ('road_route', 'battle_area')", ["", "Road verge"]),
        ("hazard_type NOT IN ('minefield')", ["", "Road verge"]),
        ("name IS NULL", [""]),
        ("estimated_area_m2 IS NOT NULL", ["North field", "Road verge", "South field"]),
        ("estimated_area_m2 BETWEEN 1000 AND 5000", ["North field", "Road verge"]),
        ("A_CONTAINS(contamination, ('av_mine'))", ["North field"]),
        (
            "A_OVERLAPS(contamination, ('uxo', 'av_mine'))",
            ["North field", "South field"],
        ),
        ("S_INTERSECTS(geometry, POINT(40.505 10.505))", ["Road verge"]),
        ("S_INTERSECTS(geometry, BBOX(40.0, 10.0, 40.3, 10.3))", ["North field"]),
        (
            "S_WITHIN(geometry, POLYGON((40 10.4, 41 10.4, 41 10.6, 40 10.6, 40 10.4)))",
            ["Road verge", "South field"],
        ),
    ],
)
def test_cql2_logic_and_advanced_operators(client, data, actors, text, expected):
    assert names(cql(client, actors, text)) == expected


def test_property_property_comparison(client, data, actors):
    body = cql(client, actors, "area_m2 = baseline_area_m2")
    assert body["numberMatched"] == 5
    assert cql(client, actors, "released_area_m2 >= baseline_area_m2")["features"] == []


def test_long_filters_work_and_deep_nesting_is_refused(client, data, actors):
    chain = " AND ".join(["estimated_area_m2 > 0"] * 300)
    assert names(cql(client, actors, chain)) == [
        "North field",
        "Road verge",
        "South field",
    ]
    deep = "name = 'a'"
    for i in range(60):
        deep = f"name = 'a' {'OR' if i % 2 else 'AND'} ({deep})"
    r = get(client, "/ogc/collections/hazards/items", actors.analyst_a, filter=deep)
    assert "nests more than" in assert_problem(r, 400)["detail"]


def test_quotes_in_a_filter_stay_inside_the_value(client, data, actors):
    body = cql(client, actors, "name = 'x'' OR 1=1 --'")
    assert names(body) == ["x' OR 1=1 --"]
    assert body["numberMatched"] == 1
    assert cql(client, actors, "name = 'x'' OR ''1''=''1'")["features"] == []


def test_filters_on_releases_and_admin_areas(client, data, actors):
    body = cql(client, actors, f"hazard_id = '{data['north']}'", "releases")
    assert sorted(f["properties"]["outcome"] for f in body["features"]) == [
        "cleared",
        "reduced",
    ]
    props = body["features"][0]["properties"]
    assert {"activity_id", "hazard_id", "date", "outcome"} <= set(props)
    admin = cql(client, actors, "level = 1 AND name = 'Lower'", "admin-areas")
    assert [f["id"] for f in admin["features"]] == ["XX02"]
    assert admin["features"][0]["properties"]["parent_pcode"] is None


@pytest.mark.parametrize(
    "text,column",
    [
        ("name = 'a' AND", 15),
        ("name == 'a'", 7),
        ("(name = 'a'", 12),
        ("name = 'a' ; DROP TABLE hazards", 12),
    ],
)
def test_invalid_filter_is_400_with_the_position(client, data, actors, text, column):
    r = get(client, "/ogc/collections/hazards/items", actors.analyst_a, filter=text)
    body = assert_problem(r, 400)
    assert body["errors"][0]["parameter"] == "filter"
    assert body["errors"][0]["column"] == column
    assert f"column {column}" in body["detail"]


@pytest.mark.parametrize(
    "text,message",
    [
        ("password = 'x'", "unknown property 'password'"),
        ("benchmark IS NULL", "unknown property 'benchmark'"),
        ("estimated_area_m2 > 'big'", "expected a number value"),
        ("name = 3", "expected a string value"),
        ("date_of_information = DATE('2024-02-30')", "is not a date"),
        ("id = 'abc'", "is not a UUID"),
        ("contamination = 'uxo'", "A_ functions"),
        ("S_INTERSECTS(geometry, SRID=3857;POINT(1 2))", "CRS84"),
        (
            "S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))",
            "invalid geometry",
        ),
        ("S_INTERSECTS(name, POINT(1 2))", "not a geometry property"),
        ("area_m2 < baseline_area_m2 + 1", "unexpected character '+' at column 28"),
        # absurd input, once unhandled 500s
        ("area_m2 > " + "9" * 5000, "is out of range"),
        ("area_m2 < -" + "9" * 5000, "is out of range"),
        ("area_m2 > 1e400", "the number 1e400 is out of range"),
        ("S_INTERSECTS(geometry, BBOX(0, 0, 1e999, 1))", "is out of range"),
        (
            "S_INTERSECTS(geometry, LINESTRING(0 0))",
            "invalid geometry literal (LineString)",
        ),
    ],
)
def test_filter_errors_name_the_problem(client, data, actors, text, message):
    r = get(client, "/ogc/collections/hazards/items", actors.analyst_a, filter=text)
    assert message in assert_problem(r, 400)["detail"]


# ---------------------------------------------------------------------------------------
# remaining
# ---------------------------------------------------------------------------------------


def test_remaining_geometry_is_hazard_minus_releases(client, data, actors):
    body = get(
        client, "/ogc/collections/remaining/items", actors.analyst_a, bbox=AREA
    ).json()
    assert body["numberMatched"] == 5
    by_id = {f["id"]: f for f in body["features"]}
    north = square(40.1, 10.1, 0.01)
    released = unary_union(
        [box(40.1, 10.1, 40.104, 10.11), box(40.102, 10.1, 40.106, 10.105)]
    )
    expected = north.difference(released)
    got = shape(by_id[str(data["north"])]["geometry"])
    assert got.symmetric_difference(expected).area < 1e-12
    assert geod_area(got) == pytest.approx(geod_area(expected), rel=1e-6)
    props = by_id[str(data["north"])]["properties"]
    assert props["remaining_area_m2"] == pytest.approx(geod_area(expected), rel=1e-3)
    # the same geometry as the per-hazard endpoint
    single = get(client, f"/api/v1/hazards/{data['north']}/remaining", actors.analyst_a)
    assert shape(single.json()["geometry"]).equals(got)
    # a hazard without releases remains whole
    road = shape(by_id[str(data["road"])]["geometry"])
    assert road.equals(square(40.5, 10.5, 0.01))


def test_remaining_single_feature_and_filter(client, data, actors):
    r = get(
        client, f"/ogc/collections/remaining/items/{data['south']}", actors.analyst_a
    )
    expected = square(40.1, 10.5, 0.01).difference(box(40.1, 10.5, 40.105, 10.505))
    assert shape(r.json()["geometry"]).symmetric_difference(expected).area < 1e-12
    body = cql(client, actors, "released_area_m2 > 0", "remaining")
    assert names(body) == ["North field", "South field"]


# ---------------------------------------------------------------------------------------
# HTML and clients
# ---------------------------------------------------------------------------------------


def test_html_pages(client, data, actors):
    user = actors.analyst_a
    browser = {**user.headers, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    landing = client.get("/ogc", headers=browser)
    assert landing.headers["content-type"].startswith("text/html")
    assert "Safeground OGC API" in landing.text and "/ogc/collections" in landing.text
    listing = client.get("/ogc/collections", headers=browser)
    assert "Hazard areas" in listing.text and "Remaining hazard areas" in listing.text
    coll = get(client, "/ogc/collections/hazards", user, f="html")
    assert "date_of_information" in coll.text and "Queryables" in coll.text
    items = get(client, "/ogc/collections/hazards/items", user, f="html", limit=2)
    assert items.headers["content-type"].startswith("text/html")
    assert "2 of 5 matching features" in items.text and "Next page" in items.text
    item = get(
        client, f"/ogc/collections/hazards/items/{data['north']}", user, f="html"
    )
    assert "North field" in item.text
    conformance = client.get("/ogc/conformance", headers={"Accept": "text/html"})
    assert CQL2_TEXT in conformance.text


def test_html_for_anonymous_callers_says_how_to_sign_in(client, data):
    r = client.get("/ogc/collections?f=html")
    assert r.status_code == 200 and "sign in" in r.text
    assert "Hazard areas" not in r.text


def test_html_escapes_data(client, session, settings, data, actors):
    make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        square(40.3, 10.3, 0.01),
        actors.org_a,
        name="<script>alert(1)</script>",
    )
    r = get(client, "/ogc/collections/hazards/items", actors.analyst_a, f="html")
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_a_request_as_qgis_sends_it(client, data, actors):
    headers = {**actors.analyst_a.headers, "Accept": "application/geo+json"}
    r = client.get(
        "/ogc/collections/hazards/items?limit=10&bbox=40.0,10.0,40.6,10.6",
        headers=headers,
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["numberMatched"] == 3
    assert all(
        f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in body["features"]
    )
    assert any(
        link["rel"] == "self" and link["type"] == "application/geo+json"
        for link in body["links"]
    )
    # what QGIS reads first: the landing page, the API definition, the collection
    landing = client.get("/ogc", headers={"Accept": "application/json"}).json()
    api = next(link for link in landing["links"] if link["rel"] == "service-desc")
    # its paths resolve against the landing page, as clients read them
    assert (
        "/collections/{collectionId}/items" in client.get(api["href"]).json()["paths"]
    )
    assert get(client, "/ogc/collections/hazards", actors.analyst_a).status_code == 200


def test_each_collection_holds_one_geometry_type_and_no_hazard_is_left_out(
    client, session, settings, data, actors
):
    """QGIS and GDAL type a layer from its first features: a spot hazard (a Point) among
    polygons was invisible. Points have collections of their own, advertised as such."""
    from shapely.geometry import Point

    who, org = actors.coordinator_a.principal, actors.org_a
    spot = make_hazard(
        session, settings, who, Point(40.7, 10.7), org, hazard_type="uxo_spot"
    )
    types = {}
    for cid in ("hazards", "hazard-points", "remaining", "remaining-points"):
        body = get(client, f"/ogc/collections/{cid}/items", actors.analyst_a).json()
        types[cid] = {f["geometry"]["type"] for f in body["features"]}
        ids = {f["id"] for f in body["features"]}
        queryables = get(
            client, f"/ogc/collections/{cid}/queryables", actors.analyst_a
        ).json()
        fmt = queryables["properties"]["geometry"]["format"]
        if cid.endswith("points"):
            assert ids == {str(spot)}, cid
            assert fmt == "geometry-point"
        else:
            assert str(spot) not in ids and set(map(str, data.values())) <= ids, cid
            assert fmt == "geometry-multipolygon"
    assert types["hazards"] == types["remaining"] == {"MultiPolygon"}
    assert types["hazard-points"] == types["remaining-points"] == {"Point"}
    listed = get(client, "/api/v1/hazards", actors.analyst_a).json()["numberMatched"]
    counted = sum(
        get(client, f"/ogc/collections/{cid}/items", actors.analyst_a).json()[
            "numberMatched"
        ]
        for cid in ("hazards", "hazard-points")
    )
    assert counted == listed


def test_public_layer_collections_for_anyone_once_published(client, data, actors):
    r = client.post("/api/v1/public/publications", headers=actors.admin.headers)
    assert r.status_code == 201, r.text
    anonymous = client.get("/ogc/collections").json()
    assert [c["id"] for c in anonymous["collections"]] == PUBLIC
    signed_in = get(client, "/ogc/collections", actors.analyst_a).json()
    assert [c["id"] for c in signed_in["collections"]] == OPERATIONAL + PUBLIC
    items = client.get("/ogc/collections/public-hazards/items")
    assert items.status_code == 200, items.text
    features = items.json()["features"]
    assert features and items.json()["numberMatched"] == len(features)
    for feature in features:
        assert feature["geometry"]["type"] == "MultiPolygon"
        assert set(feature["properties"]) <= {
            "id",
            "classification",
            "hazard_type",
            "status",
            "marking",
            "last_update",
            "what_to_do",
            "change",
            "admin",
            "area_m2",
        }
    # the same areas as the public API's own GeoJSON of the latest publication
    api = client.get("/api/v1/public/hazards").json()["features"]
    assert {f["id"] for f in features} == {f["id"] for f in api}
    ours = unary_union([shape(f["geometry"]) for f in features])
    theirs = unary_union([shape(f["geometry"]) for f in api])
    # (the public GeoJSON rounds to 7 decimals, the OGC API to 9)
    assert ours.symmetric_difference(theirs).area < 1e-4 * theirs.area
    # CQL2 works on them, anonymously
    r = client.get(
        "/ogc/collections/public-hazards/items",
        params={"filter": "classification = 'CHA'"},
    )
    assert r.status_code == 200, r.text
    assert {f["properties"]["classification"] for f in r.json()["features"]} == {"CHA"}
    # operational collections stay closed
    assert_problem(client.get("/ogc/collections/hazards/items"), 401)


def test_a_limit_above_the_maximum_is_the_maximum(client, data, actors, settings):
    """OGC API - Features 7.15.3: a larger limit is not an error (clients ask for more)."""
    r = get(
        client,
        "/ogc/collections/hazards/items",
        actors.analyst_a,
        limit=str(settings.max_limit + 1),
    )
    assert r.status_code == 200, r.text
    assert r.json()["numberReturned"] == r.json()["numberMatched"]


def test_openapi_types_the_items_parameters_as_gdal_reads_them(client, settings):
    """GDAL's OAPIF driver pages by ``limit``'s maximum and pushes CQL2 down only when the
    API description types them (it paged by 10 and filtered on the client)."""
    spec = client.get("/openapi.json").json()
    parameters = {
        p["name"]: p["schema"]
        for p in spec["paths"]["/ogc/collections/{collectionId}/items"]["get"][
            "parameters"
        ]
    }
    assert parameters["limit"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": settings.max_limit,
        "default": settings.default_limit,
    }
    assert parameters["offset"]["type"] == "integer"
    assert parameters["filter-lang"]["enum"] == ["cql2-text", "cql-text"]


def test_property_filters_as_query_parameters(client, data, actors):
    """OGC API - Features Part 1 7.15.5: ``name=value`` on a queryable filters by it."""
    body = get(
        client, "/ogc/collections/hazards/items", actors.analyst_a, classification="CHA"
    ).json()
    assert names(body) == names(cql(client, actors, "classification = 'CHA'"))
    both = get(
        client,
        "/ogc/collections/hazards/items",
        actors.analyst_a,
        classification="SHA",
        filter="estimated_area_m2 > 5000",
    ).json()
    assert names(both) == ["South field"]
    assert_problem(
        get(
            client,
            "/ogc/collections/hazards/items",
            actors.analyst_a,
            estimated_area_m2="big",
        ),
        400,
    )
    # a list property filters only through CQL2 (A_CONTAINS...), never silently
    assert_problem(
        get(
            client,
            "/ogc/collections/hazards/items",
            actors.analyst_a,
            contamination="uxo",
        ),
        400,
    )


def test_the_ogc_api_description_has_paths_from_its_landing_page(client, actors):
    landing = client.get("/ogc", params={"f": "json"}).json()
    desc = next(link for link in landing["links"] if link["rel"] == "service-desc")
    assert desc["href"].endswith("/ogc/api")
    doc = get(client, "/ogc/api", actors.analyst_a).json()
    assert doc["servers"][0]["url"].endswith("/ogc")
    assert "/collections/{collectionId}/items" in doc["paths"]
    assert not any(path.startswith("/api/v1") for path in doc["paths"])
    hazards = doc["paths"]["/collections/hazards/items"]["get"]["parameters"]
    by_name = {p["name"]: p for p in hazards}
    assert by_name["classification"]["schema"] == {"type": "string"}
    assert by_name["filter-lang"]["schema"]["enum"] == ["cql2-text", "cql-text"]
    assert "collectionId" not in by_name
    # anonymous callers are told only of what they may read
    anonymous = client.get("/ogc/api").json()
    assert "/collections/hazards/items" not in anonymous["paths"]

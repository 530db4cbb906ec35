"""Organisations, admin areas, vocabularies and the OpenAPI document."""

from shapely.geometry import box

from tests.factories import make_admin_area


def test_organisations_list(client, actors):
    body = client.get("/api/v1/organisations", headers=actors.analyst_a.headers).json()
    codes = {o["code"]: o for o in body["organisations"]}
    assert codes[actors.org_a]["type"] == "ngo_international"
    assert codes[actors.org_a]["type_label"] == "International NGO"


def test_admin_areas_by_level_and_parent(client, actors, session):
    make_admin_area(session, "ZZ01", box(0, 0, 1, 1), 1)
    make_admin_area(session, "ZZ0101", box(0, 0, 0.5, 1), 2, parent="ZZ01")
    make_admin_area(session, "ZZ0102", box(0.5, 0, 1, 1), 2, parent="ZZ01")
    h = actors.analyst_a.headers
    level1 = client.get("/api/v1/admin-areas", params={"level": 1}, headers=h).json()
    assert [f["properties"]["pcode"] for f in level1["features"]] == ["ZZ01"]
    children = client.get(
        "/api/v1/admin-areas", params={"parent": "ZZ01"}, headers=h
    ).json()
    assert children["numberMatched"] == 2
    assert {f["properties"]["parent_pcode"] for f in children["features"]} == {"ZZ01"}
    assert children["features"][0]["geometry"]["type"] == "MultiPolygon"


def test_vocabularies_in_two_languages(client, actors):
    h = actors.analyst_a.headers
    en = client.get("/api/v1/vocabularies", headers=h).json()
    uk = client.get("/api/v1/vocabularies", params={"lang": "uk"}, headers=h).json()
    assert {"en", "uk"} <= set(en["languages"])
    cha = {v["code"]: v["label"] for v in uk["vocabularies"]["classification"]}["CHA"]
    assert cha == "Підтверджена небезпечна територія"
    # every code has a label in every language catalogue
    for body in (en, uk):
        for terms in body["vocabularies"].values():
            assert all(
                t["label"] != t["code"] or t["code"] in ("SHA", "CHA") for t in terms
            )


def test_openapi_documents_every_write_with_an_example(client):
    spec = client.get("/openapi.json").json()
    writes = [
        (path, method, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method in ("post", "patch")
    ]
    assert len(writes) >= 8
    for path, method, op in writes:
        if "requestBody" not in op:
            continue  # an action without a body (e.g. POST /imports/{id}/retry)
        media = next(iter(op["requestBody"]["content"].values()))
        schema = media.get("schema", {})
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        in_properties = all(
            "examples" in p for p in schema.get("properties", {}).values()
        )
        assert "examples" in media or "example" in media or in_properties, (
            method,
            path,
        )
    assert client.get("/docs").status_code == 200

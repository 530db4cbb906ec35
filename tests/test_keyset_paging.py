"""Keyset paging: ``next`` links carry an opaque cursor, and following them visits every row
once even when rows are inserted at the front between pages; page queries have no OFFSET."""

import base64
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from sqlalchemy import event

from tests.factories import hazard_feature, make_admin_area, make_hazard, square
from tests.helpers import assert_problem

DATES = ["2024-05-01", "2024-05-01", "2024-05-01", "2024-04-01", "2024-03-01"]
DATES += ["2024-03-01", "2024-02-01", "2023-12-31"]


def _next(body: dict) -> str | None:
    return next((lk["href"] for lk in body["links"] if lk["rel"] == "next"), None)


def _follow(client, url, headers, between=lambda: None) -> list[str]:
    """Every feature id reached by following ``next`` from ``url``."""
    seen: list[str] = []
    while url:
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [f["id"] for f in body["features"]]
        url = _next(body)
        between()
    return seen


@pytest.fixture
def hazards(session, settings, actors):
    """Eight hazards of org A, three of them with the same date (ties broken by id)."""
    return {
        str(
            make_hazard(
                session,
                settings,
                actors.coordinator_a.principal,
                square(30 + i * 0.02, 50, 0.01),
                actors.org_a,
                date_of_information=day,
            )
        )
        for i, day in enumerate(DATES)
    }


def test_following_next_visits_every_hazard_once_with_inserts_at_the_front(
    client, actors, hazards
):
    inserted = []

    def insert_newest():
        r = client.post(
            "/api/v1/hazards",
            json=hazard_feature(
                square(31, 51 + len(inserted) * 0.02, 0.01),
                actors.org_a,
                date_of_information="2025-01-01",
            ),
            headers=actors.coordinator_a.headers,
        )
        assert r.status_code == 201, r.text
        inserted.append(r.json()["id"])

    seen = _follow(
        client,
        f"/api/v1/hazards?limit=3&organisation={actors.org_a}",
        actors.analyst_a.headers,
        between=insert_newest,
    )
    assert len(seen) == len(set(seen)), "a row came twice"
    assert set(seen) == hazards  # the rows inserted at the front come after the cursor


def test_next_link_carries_a_cursor_instead_of_offset(client, actors, hazards):
    h = actors.analyst_a.headers
    first = client.get(
        f"/api/v1/hazards?limit=3&offset=2&organisation={actors.org_a}", headers=h
    ).json()
    query = parse_qs(urlsplit(_next(first)).query)
    assert "offset" not in query and query["limit"] == ["3"]
    assert query["organisation"] == [actors.org_a] and query["cursor"]
    prev = [lk for lk in first["links"] if lk["rel"] == "prev"]
    assert prev and "offset=0" in prev[0]["href"]  # prev stays offset-based
    second = client.get(_next(first), headers=h).json()
    assert second["numberMatched"] == first["numberMatched"] == len(DATES)
    assert not [lk for lk in second["links"] if lk["rel"] == "prev"]
    by_offset = client.get(
        f"/api/v1/hazards?limit=3&offset=5&organisation={actors.org_a}", headers=h
    ).json()
    assert [f["id"] for f in second["features"]] == [
        f["id"] for f in by_offset["features"]
    ]
    assert _next(second) is None  # the last page has no next link


def _cursor(payload: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        base64.urlsafe_b64encode(b"[1, 2").decode(),
        _cursor({"v": 1, "l": "hazards", "k": ["2024-05-01"], "n": 3}),
        _cursor({"v": 1, "l": "hazards", "k": ["yesterday", "x"], "n": 3}),
        _cursor({"v": 1, "l": "hazards", "k": [None, None], "n": 3}),
        _cursor({"v": 1, "l": "accidents", "k": ["2024-05-01", None], "n": 3}),
        _cursor({"v": 9, "l": "hazards", "k": ["2024-05-01", None], "n": 3}),
        _cursor({"v": 1, "l": "hazards", "k": [20240501, "a"], "n": -1}),
    ],
)
def test_a_malformed_or_tampered_cursor_is_a_400_problem(client, actors, cursor):
    body = assert_problem(
        client.get(
            "/api/v1/hazards",
            params={"cursor": cursor},
            headers=actors.analyst_a.headers,
        ),
        400,
    )
    assert body["detail"].startswith("cursor: ")


def test_cursor_and_offset_exclude_each_other(client, actors, hazards):
    h = actors.analyst_a.headers
    first = client.get("/api/v1/hazards?limit=2", headers=h).json()
    body = assert_problem(client.get(_next(first) + "&offset=4", headers=h), 400)
    assert body["detail"].startswith("cursor: ")


def test_the_page_query_after_a_cursor_has_no_offset_and_uses_the_index(
    client, actors, hazards, connection
):
    h = actors.analyst_a.headers
    first = client.get("/api/v1/hazards?limit=3", headers=h).json()
    statements: list[tuple[str, dict]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM hazards h" in statement and "ORDER BY" in statement:
            statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        assert client.get(_next(first), headers=h).status_code == 200
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    [(sql, parameters)] = statements
    assert "OFFSET" not in sql.upper()
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = "\n".join(
        r[0]
        for r in connection.exec_driver_sql("EXPLAIN " + sql, parameters).fetchall()
    )
    connection.exec_driver_sql("RESET enable_seqscan")
    assert "ix_hazards_current_by_doi" in plan, plan
    assert "Index Cond: (date_of_information <=" in plan, plan
    assert "Sort" not in plan, plan  # the index gives the order: no sort of every row


def test_admin_areas_follow_next_with_inserts_at_the_front(client, actors, session):
    pcodes = [f"KP{i:02d}" for i in range(7)]
    for i, pcode in enumerate(pcodes):
        make_admin_area(session, pcode, square(40 + i * 0.1, 10, 0.05), 1 + i % 2)
    added = []

    def insert_first():
        added.append(f"KP0{len(added)}A")
        make_admin_area(session, "AA" + added[-1], square(40.55, 9.95, 0.01), 0)

    seen = _follow(
        client,
        "/api/v1/admin-areas?limit=2&bbox=39.9,9.9,41.0,10.1",
        actors.analyst_a.headers,
        between=insert_first,
    )
    assert sorted(seen) == pcodes  # once each, and in (level, pcode) order:
    assert seen == sorted(pcodes, key=lambda p: (1 + int(p[2:]) % 2, p))


def test_ogc_items_next_link_has_a_cursor_and_visits_every_feature_once(
    client, actors, hazards, session, settings
):
    h = actors.analyst_a.headers
    url = f"/ogc/collections/hazards/items?limit=3&organisation={actors.org_a}"
    first = client.get(url, headers=h).json()
    query = parse_qs(urlsplit(_next(first)).query)
    assert query["cursor"] and "offset" not in query
    assert first["numberMatched"] == len(DATES)

    def insert_newest():
        make_hazard(
            session,
            settings,
            actors.coordinator_a.principal,
            square(33, 51, 0.01),
            actors.org_a,
            date_of_information="2025-06-01",
        )

    seen = _follow(client, url, h, between=insert_newest)
    assert len(seen) == len(set(seen)) and set(seen) == hazards
    assert_problem(client.get(url + "&cursor=AAAA", headers=h), 400)


def test_audit_log_next_links_visit_every_entry_once_while_writes_go_on(
    client, actors, hazards
):
    h = actors.admin.headers
    every = client.get("/api/v1/audit?limit=1000&entity=hazards", headers=h).json()
    expected = [e["id"] for e in every["items"]]
    assert len(expected) >= len(DATES)

    def write():  # each write adds audit entries at the front
        r = client.post(
            "/api/v1/hazards",
            json=hazard_feature(square(34, 51, 0.01), actors.org_a),
            headers=actors.coordinator_a.headers,
        )
        assert r.status_code == 201, r.text

    seen, url = [], "/api/v1/audit?limit=3&entity=hazards"
    while url:
        body = client.get(url, headers=h).json()
        seen += [e["id"] for e in body["items"]]
        url = _next(body)
        write()
    assert seen == expected


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/accidents",
        "/api/v1/activities",
        "/api/v1/eo-finds",
        "/api/v1/eore-sessions",
        "/api/v1/hazard-reports",
        "/api/v1/audit",
        "/api/v1/public/publications",
    ],
)
def test_every_list_refuses_a_cursor_of_another_list(client, actors, path):
    cursor = _cursor({"v": 1, "l": "hazards", "k": ["2024-05-01", None], "n": 3})
    body = assert_problem(
        client.get(path, params={"cursor": cursor}, headers=actors.admin.headers), 400
    )
    assert body["detail"].startswith("cursor: ")


@pytest.mark.parametrize("status", [None, "open"])
def test_hazards_as_of_page_by_cursor(client, actors, hazards, status):
    """As of a date the order is the state's start, then the id; with ``status`` the list
    is filtered after the figures are computed, and the cursor is applied there."""
    h = actors.analyst_a.headers
    query = f"as_of=2030-01-01&organisation={actors.org_a}"
    query += f"&status={status}" if status else ""
    whole = client.get(f"/api/v1/hazards?{query}", headers=h).json()
    assert whole["numberMatched"] == len(DATES)
    first = client.get(f"/api/v1/hazards?{query}&limit=3", headers=h).json()
    assert "cursor=" in _next(first)
    seen = _follow(client, f"/api/v1/hazards?{query}&limit=3", h)
    assert seen == [f["id"] for f in whole["features"]]

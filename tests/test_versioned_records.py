"""Versioned records (api/services/versioned.py): one ETag, one If-Match check, one row lock.

For each resource edited under If-Match (hazards, activities, accidents, victims,
risk-education sessions, hazard reports): the ETag is the quoted version, the current ETag lets
a change through, a stale one is refused with a 412 problem that names the kind of record (a
stale victim is "the victim", not "the hazard"), and a missing one is refused with 428 where
the header is required (it is optional on hazard-report decisions).
"""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.db.models import Organisation
from api.errors import NotFound, PreconditionFailed, PreconditionRequired
from api.services import versioned
from tests.factories import activity_body, hazard_feature, make_org, release
from tests.helpers import EORE_URL, assert_problem, eore_session_body

ETAG = re.compile(
    r'^"[0-9]+"$'
)  # the format clients have stored: a quoted version number
AREA = box(30.0, 50.0, 30.01, 50.01)
ACCIDENT = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [36.21137, 49.08712]},
    "properties": {
        "occurred_on": "2024-06-14",
        "accident_class": "mine_erw_accident",
        "killed": 1,
        "injured": 2,
    },
}


def created(response) -> str:
    assert response.status_code == 201, response.text
    return response.json()["id"]


def new_hazard(client, actors) -> str:
    body = hazard_feature(AREA, actors.org_a)
    r = client.post("/api/v1/hazards", json=body, headers=actors.coordinator_a.headers)
    return f"/api/v1/hazards/{created(r)}"


def new_activity(client, actors) -> str:
    hazard_id = new_hazard(client, actors).rsplit("/", 1)[1]
    body = activity_body(actors.org_a, [hazard_id], [release(AREA, "cleared")])
    r = client.post(
        "/api/v1/activities", json=body, headers=actors.coordinator_a.headers
    )
    return f"/api/v1/activities/{created(r)}"


def new_accident(client, actors) -> str:
    r = client.post(
        "/api/v1/accidents", json=ACCIDENT, headers=actors.coordinator_a.headers
    )
    return f"/api/v1/accidents/{created(r)}"


def new_victim(client, actors) -> str:
    accident = new_accident(client, actors)
    body = {"sex": "female", "role": "civilian", "outcome": "injured"}
    r = client.post(
        f"{accident}/victims", json=body, headers=actors.coordinator_a.headers
    )
    return f"{accident}/victims/{created(r)}"


def new_eore_session(client, actors) -> str:
    r = client.post(
        EORE_URL, json=eore_session_body(), headers=actors.coordinator_a.headers
    )
    return f"{EORE_URL}/{created(r)}"


@dataclass
class Resource:
    kind: str  # how the 412 names it
    create: Callable[..., str]  # (client, actors) -> the record's URL
    patch: dict  # a change any version accepts


RESOURCES = [
    Resource("hazard", new_hazard, {"properties": {"notes": "checked"}}),
    Resource("activity", new_activity, {"notes": "checked"}),
    Resource("accident", new_accident, {"properties": {"notes": "checked"}}),
    Resource("victim", new_victim, {"sex": "male"}),
    Resource(
        "risk-education session", new_eore_session, {"properties": {"notes": "ok"}}
    ),
]


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.kind)
def test_if_match_on_each_versioned_record(client, actors, resource):
    h = actors.coordinator_a.headers
    url = resource.create(client, actors)
    read = client.get(url, headers=h)
    assert read.status_code == 200, read.text
    assert read.headers["ETag"] == '"1"' and ETAG.match(read.headers["ETag"])

    missing = assert_problem(client.patch(url, json=resource.patch, headers=h), 428)
    assert resource.kind in missing["detail"]

    current = client.patch(
        url, json=resource.patch, headers={**h, "If-Match": read.headers["ETag"]}
    )
    assert current.status_code == 200, current.text
    assert current.headers["ETag"] == '"2"'

    stale = assert_problem(
        client.patch(url, json=resource.patch, headers={**h, "If-Match": '"1"'}), 412
    )
    assert stale["detail"].startswith(
        f"the {resource.kind} has changed since you read it (now version 2)"
    )
    assert stale["current_version"] == 2
    assert stale["type"].endswith("stale-version")
    assert client.get(url, headers=h).headers["ETag"] == '"2"'  # nothing was written


@pytest.mark.parametrize(
    "resource", [r for r in RESOURCES if r.kind != "victim"], ids=lambda r: r.kind
)
def test_stale_retirement_names_the_kind(client, actors, resource):
    h = actors.coordinator_a.headers
    url = resource.create(client, actors)
    client.patch(url, json=resource.patch, headers={**h, "If-Match": '"1"'})
    stale = assert_problem(client.delete(url, headers={**h, "If-Match": '"1"'}), 412)
    assert stale["detail"].startswith(f"the {resource.kind} has changed")
    assert client.delete(url, headers={**h, "If-Match": '"2"'}).status_code == 204
    assert_problem(client.get(url, headers=h), 404)


def test_stale_victim_is_not_called_a_hazard(client, actors):
    """The issue's case: victims reused the hazards' check and its wording."""
    url = new_victim(client, actors)
    h = {**actors.coordinator_a.headers, "If-Match": '"7"'}
    stale = assert_problem(client.patch(url, json={"sex": "male"}, headers=h), 412)
    assert "victim" in stale["detail"] and "hazard" not in stale["detail"]
    assert stale["current_version"] == 1


def test_if_match_on_hazard_report_decisions(client, actors):
    coord = actors.coordinator_a.headers
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [36.2051, 49.1032]},
        "properties": {
            "source": "hotline",
            "reported_on": "2024-05-17",
            "contamination": ["ap_mine"],
        },
    }
    r = client.post("/api/v1/hazard-reports", json=body, headers=actors.eore_a.headers)
    url = f"/api/v1/hazard-reports/{created(r)}"
    tag = client.get(url, headers=coord).headers["ETag"]
    assert tag == r.headers["ETag"] == '"1"'

    verified = client.post(f"{url}/verify", headers={**coord, "If-Match": tag})
    assert verified.status_code == 200, verified.text
    assert verified.headers["ETag"] == '"2"'

    stale = assert_problem(
        client.post(
            f"{url}/reject", json={"note": "no"}, headers={**coord, "If-Match": tag}
        ),
        412,
    )
    assert stale["detail"].startswith(
        "the hazard report has changed since you read it (now version 2)"
    )
    assert stale["current_version"] == 2
    # If-Match stays optional on decisions: without it the decision is taken
    rejected = client.post(f"{url}/reject", json={"note": "no"}, headers=coord)
    assert rejected.status_code == 200, rejected.text
    assert rejected.headers["ETag"] == '"3"'


# ---- the functions themselves -------------------------------------------------------------


def test_etag_is_the_quoted_version():
    assert versioned.etag(1) == '"1"' and versioned.etag(42) == '"42"'


@pytest.mark.parametrize("header", ['"3"', "*", '"1", "3"', ' "2" ,"3" '])
def test_check_if_match_accepts_the_current_version_or_any(header):
    versioned.check_if_match(header, 3, "victim")  # no exception


@pytest.mark.parametrize("header", ['"2"', "3", 'W/"3"', '"1", "2"', ""])
def test_check_if_match_refuses_other_versions(header):
    with pytest.raises(PreconditionFailed) as refused:
        versioned.check_if_match(header, 3, "activity")
    assert str(refused.value).startswith("the activity has changed since you read it")
    assert refused.value.extensions == {"current_version": 3}


def test_check_if_match_without_header():
    with pytest.raises(PreconditionRequired) as required:
        versioned.check_if_match(None, 3, "accident")
    assert "accident" in str(required.value)
    versioned.check_if_match(None, 3, "hazard report", required=False)


def test_lock_names_the_kind_when_missing(session):
    missing = uuid.uuid4()
    with pytest.raises(NotFound, match=f"^no organisation {missing}$"):
        versioned.lock(session, Organisation, missing, "organisation")
    with pytest.raises(NotFound, match="^gone$"):
        versioned.lock(session, Organisation, missing, "organisation", not_found="gone")


def test_lock_holds_the_row_until_the_transaction_ends(engine):
    """A second writer cannot take the row while the first holds it (FOR UPDATE)."""
    with Session(engine) as setup:
        code = make_org(setup)
        setup.commit()
        org_id = setup.query(Organisation.id).filter_by(code=code).scalar()
    try:
        with Session(engine) as first, engine.connect() as second:
            record = versioned.lock(first, Organisation, org_id, "organisation")
            assert record.code == code
            taken = text(
                "SELECT id FROM organisations WHERE id = :id FOR UPDATE NOWAIT"
            )
            with pytest.raises(OperationalError, match="could not obtain lock"):
                second.execute(taken, {"id": org_id})
            second.rollback()
            first.rollback()  # the lock ends with the transaction
            assert second.execute(taken, {"id": org_id}).scalar() == org_id
            second.rollback()
    finally:
        with engine.begin() as conn:
            conn.execute(
                text("DELETE FROM organisations WHERE id = :id"), {"id": org_id}
            )

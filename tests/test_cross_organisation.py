"""Cross-organisation effects through side doors (issue 20, item 6).

A coordinator (or key) of organisation B may not change organisation A's records, directly
(PATCH/DELETE: 403) nor through another write. The rule, per write that names A's record:

* refused with 403 unless admin or A's own coordinator, because it changes A's record:
  - an activity or release on A's hazard (remaining area, status: test_authorization.py);
  - an accident linked to A's hazard, on create or by PATCH (a linked accident counts in
    the hazard's threat-to-life indicator at any distance: its priority moves);
  - a find recorded in A's activity (a find of an activity is a result of its work);
  - a priority override, its revocation, the do-no-harm gate on A's hazard (tasking
    decisions on a hazard are its organisation's or an admin's);
  - an import row that would update A's hazard by external_id, or replace the releases of
    A's activity (rejected row, A's record unchanged);
* allowed, because the link changes nothing of A's hazard (version, ETag, status, area
  figures, priority indicators, overrides, gate): a find linked only to A's hazard, B's
  hazard report accepted into (linked to) A's hazard, B's EORE session linked to it.

Each case checks A's hazard before and after. The refused cases that were allowed before
(accident linked, accident patched to link, find in A's activity) fail on the old code.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from shapely.geometry import box
from sqlalchemy import text

from api.services import priorities
from api.vocab import Role
from tests.factories import _user, activity_body, make_activity, make_hazard, release
from tests.helpers import run_import
from tests.ingest import files as F

HAZARD_A = box(30.0, 50.0, 30.01, 50.01)
FAR = (30.2, 50.2)  # about 25 km away: an unlinked accident there does not count for it
NEAR = (30.005, 50.005)
# within the 24 months the threat-to-life indicator counts
RECENT = (date.today() - timedelta(days=30)).isoformat()


def _accident(hazard_id=None, lon_lat=FAR, **props) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(lon_lat)},
        "properties": {
            "occurred_on": RECENT,
            "accident_class": "mine_erw_accident",
            "device_category": "ap_mine",
            "killed": 0,
            "injured": 1,
            **({"hazard_id": str(hazard_id)} if hazard_id else {}),
            **props,
        },
    }


def _find(**props) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(NEAR)},
        "properties": {"eo_category": "ap_mine", "found_on": "2024-06-01", **props},
    }


@dataclass
class World:
    client: Any
    session: Any
    settings: Any
    actors: Any
    hazard: uuid.UUID  # organisation A's hazard
    activity: uuid.UUID  # organisation A's activity on it
    hazard_ext: str


@pytest.fixture
def world(client, session, settings, actors) -> World:
    a = actors.coordinator_a.principal
    hid = make_hazard(
        session, settings, a, HAZARD_A, actors.org_a, external_id="A-HAZ-1"
    )
    act = make_activity(
        session,
        settings,
        a,
        actors.org_a,
        [hid],
        [release(box(30.0, 50.0, 30.002, 50.002), "cleared")],
        external_id="A-ACT-1",
    )
    priorities.refresh(session, [hid])
    session.commit()
    return World(client, session, settings, actors, hid, act.id, "A-HAZ-1")


def snapshot(w: World) -> tuple:
    """Everything of A's hazard another organisation's write could move."""
    r = w.client.get(f"/api/v1/hazards/{w.hazard}", headers=w.actors.admin.headers)
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    w.session.expire_all()
    q = {"h": w.hazard}
    indicators = w.session.execute(
        text(
            "SELECT accidents_1km_24m, threat_class, area_m2 FROM hazard_indicators "
            "WHERE hazard_id = :h"
        ),
        q,
    ).one()
    overrides = w.session.execute(
        text("SELECT count(*) FROM priority_overrides WHERE hazard_id = :h"), q
    ).scalar()
    gate = w.session.execute(
        text("SELECT do_no_harm FROM priority_flags WHERE hazard_id = :h"), q
    ).scalar()
    activity = w.client.get(
        f"/api/v1/activities/{w.activity}", headers=w.actors.admin.headers
    ).headers.get("etag")
    return (
        r.headers["etag"],
        props["version"],
        props["status"],
        props["land_release"],
        tuple(indicators),
        overrides,
        gate,
        activity,
    )


# ------------------------------------------------------------------------------ the writes


def _org(w: World, user) -> str:
    """The organisation ``user`` writes for: their own; B for an admin (writing for B)."""
    return w.actors.org_a if user is w.actors.coordinator_a else w.actors.org_b


def accident_linked(w: World, user):
    return w.client.post(
        "/api/v1/accidents",
        json=_accident(w.hazard, organisation=_org(w, user)),
        headers=user.headers,
    )


def accident_linked_by_external_id(w: World, user):
    return w.client.post(
        "/api/v1/accidents",
        json=_accident(w.hazard_ext, organisation=_org(w, user)),
        headers=user.headers,
    )


def accident_patched_to_link(w: World, user):
    own = w.client.post(
        "/api/v1/accidents",
        json=_accident(organisation=_org(w, user)),
        headers=user.headers,
    )
    assert own.status_code == 201, own.text
    return w.client.patch(
        f"/api/v1/accidents/{own.json()['id']}",
        json={"properties": {"hazard_id": str(w.hazard)}},
        headers={**user.headers, "If-Match": own.headers["etag"]},
    )


def find_in_their_activity(w: World, user):
    return w.client.post(
        "/api/v1/eo-finds",
        json=_find(activity_id=str(w.activity), organisation=_org(w, user)),
        headers=user.headers,
    )


def find_on_their_hazard(w: World, user):
    return w.client.post(
        "/api/v1/eo-finds", json=_find(hazard_id=str(w.hazard)), headers=user.headers
    )


def override(w: World, user):
    return w.client.post(
        f"/api/v1/priorities/{w.hazard}/override",
        json={"band": "high", "justification": "our survey says the road is used"},
        headers=user.headers,
    )


def override_revoked(w: World, user):
    set_by_a = w.client.post(
        f"/api/v1/priorities/{w.hazard}/override",
        json={"band": "low", "justification": "organisation A's own decision"},
        headers=w.actors.coordinator_a.headers,
    )
    assert set_by_a.status_code == 201, set_by_a.text
    before = snapshot(w)
    r = w.client.post(
        f"/api/v1/priorities/{w.hazard}/override/revoke",
        json={"justification": "we disagree with this decision"},
        headers=user.headers,
    )
    return r, before


def do_no_harm(w: World, user):
    return w.client.post(
        f"/api/v1/priorities/{w.hazard}/do-no-harm",
        json={"do_no_harm": True, "justification": "a land dispute we heard of"},
        headers=user.headers,
    )


def release_on_their_hazard(w: World, user):
    body = activity_body(_org(w, user), [w.hazard], [release(HAZARD_A, "cleared")])
    return w.client.post("/api/v1/activities", json=body, headers=user.headers)


def report_accepted_into_their_hazard(w: World, user):
    """A report received by B (submitted by B's EORE officer) accepted into A's hazard."""
    eore_b = _user(w.session, w.settings, Role.eore, w.actors.org_b)
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(NEAR)},
        "properties": {
            "source": "eore_session",
            "reported_on": "2024-05-17",
            "description": "children saw a mine by the field",
        },
    }
    r = w.client.post("/api/v1/hazard-reports", json=body, headers=eore_b.headers)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = w.client.post(
        f"/api/v1/hazard-reports/{rid}/verify", json={}, headers=user.headers
    )
    assert r.status_code == 200, r.text
    return w.client.post(
        f"/api/v1/hazard-reports/{rid}/accept",
        json={"hazard_id": str(w.hazard), "note": "the same field as A's hazard"},
        headers=user.headers,
    )


def eore_session_linked_to_their_hazard(w: World, user):
    """B's risk-education session near A's hazard, linked to it (by B's EORE officer)."""
    from tests.helpers import EORE_URL as URL
    from tests.helpers import eore_session_body as session_body

    eore_b = _user(w.session, w.settings, Role.eore, w.actors.org_b)
    body = session_body(*NEAR, hazard_ids=[str(w.hazard)])
    return w.client.post(URL, json=body, headers=eore_b.headers)


def import_updating_their_hazard(w: World, user):
    props = F.hazard_props(0, w.actors.org_a, external_id=w.hazard_ext, name="renamed")
    rep = run_import(
        w.client,
        user,
        "theirs.geojson",
        F.geojson_bytes([F.feature(box(30.0, 50.0, 30.02, 50.02), props)]),
    )
    return rep


def import_replacing_their_releases(w: World, user):
    rep = run_import(
        w.client,
        user,
        "rel.geojson",
        F.geojson_bytes(
            [
                F.feature(
                    HAZARD_A,
                    {
                        "activity_id": str(w.activity),
                        "outcome": "cleared",
                        "release_date": "2024-06-21",
                    },
                )
            ]
        ),
        kind="releases",
        organisation=w.actors.org_b,
    )
    return rep


@dataclass
class Case:
    write: Callable
    refused: bool  # 403 for B; allowed (and A's hazard unchanged) otherwise


CASES = {
    "accident linked to their hazard": Case(accident_linked, True),
    "accident linked by their external_id": Case(accident_linked_by_external_id, True),
    "accident patched to link their hazard": Case(accident_patched_to_link, True),
    "find recorded in their activity": Case(find_in_their_activity, True),
    "priority override on their hazard": Case(override, True),
    "override revoked on their hazard": Case(override_revoked, True),
    "do-no-harm gate on their hazard": Case(do_no_harm, True),
    "release on their hazard": Case(release_on_their_hazard, True),
    "find linked only to their hazard": Case(find_on_their_hazard, False),
    "report accepted into their hazard": Case(report_accepted_into_their_hazard, False),
    "EORE session linked to their hazard": Case(
        eore_session_linked_to_their_hazard, False
    ),
}
IMPORTS = {
    "import updating their hazard by external_id": import_updating_their_hazard,
    "import replacing their activity's releases": import_replacing_their_releases,
}


@pytest.mark.parametrize("name", list(CASES))
def test_another_organisation_cannot_change_their_hazard(world, name):
    case = CASES[name]
    before = snapshot(world)
    result = case.write(world, world.actors.coordinator_b)
    if isinstance(result, tuple):
        result, before = result
    if case.refused:
        assert result.status_code == 403, (name, result.status_code, result.text[:400])
        problem = result.json()
        assert problem["type"].endswith("/forbidden")
        assert world.actors.org_a in problem["detail"], problem
    else:
        assert result.status_code in (200, 201), (name, result.text[:400])
    assert snapshot(world) == before, name


@pytest.mark.parametrize("name", list(IMPORTS))
def test_imports_cannot_change_their_records(world, name):
    before = snapshot(world)
    rep = IMPORTS[name](world, world.actors.coordinator_b)
    assert rep["counts"]["rejected"] == 1, rep
    assert rep["counts"]["updated"] == 0 and rep["counts"]["created"] == 0, rep
    assert snapshot(world) == before, name


@pytest.mark.parametrize(
    "name",
    [
        "accident linked to their hazard",
        "accident patched to link their hazard",
        "find recorded in their activity",
        "priority override on their hazard",
    ],
)
def test_the_hazards_organisation_and_admins_may(world, name):
    """The same writes by A's coordinator or an admin are allowed: the refusal is about
    whose hazard it is, not the write."""
    for user in (world.actors.coordinator_a, world.actors.admin):
        result = CASES[name].write(world, user)
        assert result.status_code in (200, 201), (name, user.name, result.text[:400])


def test_a_linked_accident_moves_the_hazards_priority(world):
    """Why linking an accident is refused: linked, it counts for the hazard 25 km away."""
    before = snapshot(world)[4][0]
    r = accident_linked(world, world.actors.coordinator_a)
    assert r.status_code == 201, r.text
    assert snapshot(world)[4][0] == before + 1


def test_an_unlinked_accident_of_another_organisation_is_recorded(world):
    """B may record an accident anywhere, near A's hazard too, without linking it: within
    1 km it counts for the hazard by where it happened, which is not a claim on the hazard."""
    before = snapshot(world)[4][0]
    r = world.client.post(
        "/api/v1/accidents",
        json=_accident(lon_lat=NEAR),
        headers=world.actors.coordinator_b.headers,
    )
    assert r.status_code == 201, r.text
    assert snapshot(world)[4][0] == before + 1

"""Casualty suppression that survives differencing, and victim rows by permission (issue 20,
item 3).

The fixture has small cells in several months, organisations and accident classes. A caller
without ``restricted:read`` asks every question it may ask about them (every fixed period
touching the data, every organisation and accident-class filter, every grouping); from the
answers, plus each accident's own killed and injured (public on the accident), we build the
linear system an attacker would (each count shown is a sum of atoms:
month x organisation x class x sex x age band x role x outcome) and check that no withheld
atom lies in its row space, i.e. that no combination of answers (differences of periods,
of groupings, of filters) gives it away.
"""

from datetime import date
from itertools import combinations, product

import numpy as np
import pytest

from api.services.accidents import DIMENSIONS, aggregate, fixed_period
from tests.helpers import assert_problem

URL = "/api/v1/analytics/casualties"
CLASSES = ("mine_erw_accident", "demining_accident")
SEXES, BANDS, ROLES, OUTCOMES = (
    ("female", "male", "unknown"),
    ("child", "adult", "unknown"),
    ("civilian", "deminer", "unknown"),
    ("killed", "injured"),
)


def _accident(client, coordinator, on, cls="mine_erw_accident", killed=0, injured=0):
    r = client.post(
        "/api/v1/accidents",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [36.21137, 49.08712]},
            "properties": {
                "occurred_on": on,
                "accident_class": cls,
                "killed": killed,
                "injured": injured,
            },
        },
        headers=coordinator.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _victims(client, coordinator, accident_id, n, **fields):
    body = {"sex": "male", "role": "civilian", "outcome": "injured", "age": 40}
    body.update(fields)
    for _ in range(n):
        r = client.post(
            f"/api/v1/accidents/{accident_id}/victims",
            json=body,
            headers=coordinator.headers,
        )
        assert r.status_code == 201, r.text


@pytest.fixture
def fixture(client, actors):
    """August: 10 men injured; September: 1 boy injured (the issue's case), 6 killed not
    itemised, and in org B 8 injured; October: 7 women; November: 2 deminers killed at a
    demining accident; December 2023: 3 injured not itemised."""
    a, b = actors.coordinator_a, actors.coordinator_b
    aug = _accident(client, a, "2024-08-10", injured=10)
    _victims(client, a, aug, 10)
    sep = _accident(client, a, "2024-09-03", injured=1)
    _victims(client, a, sep, 1, age=9)
    _accident(client, a, "2024-09-20", killed=6)
    _accident(client, b, "2024-09-21", injured=8)
    octo = _accident(client, a, "2024-10-05", injured=7)
    _victims(client, a, octo, 7, sex="female")
    nov = _accident(client, a, "2024-11-11", "demining_accident", killed=2)
    _victims(client, a, nov, 2, role="deminer", outcome="killed")
    _accident(client, a, "2023-12-24", injured=3)
    return actors


PERIODS = [
    ("2023-12-01", "2023-12-31"),
    ("2024-08-01", "2024-08-31"),
    ("2024-09-01", "2024-09-30"),
    ("2024-10-01", "2024-10-31"),
    ("2024-11-01", "2024-11-30"),
    ("2023-10-01", "2023-12-31"),
    ("2024-07-01", "2024-09-30"),
    ("2024-10-01", "2024-12-31"),
    ("2023-01-01", "2023-12-31"),
    ("2024-01-01", "2024-12-31"),
    (None, None),
]
DOMAINS = {"sex": SEXES, "age_band": BANDS, "role": ROLES, "outcome": OUTCOMES}
MONTHS = ("2023-12", "2024-08", "2024-09", "2024-10", "2024-11")
GROUPINGS = [
    list(c) for r in range(1, len(DIMENSIONS) + 1) for c in combinations(DIMENSIONS, r)
]


def _months(period):
    start, end = period
    return [m for m in MONTHS if start is None or start[:7] <= m <= end[:7]]


def _ask(client, user, period, org, cls, group_by):
    params = {"group_by": ",".join(group_by)}
    if period[0]:
        params.update({"from": period[0], "to": period[1]})
    if org:
        params["organisation"] = org
    if cls:
        params["accident_class"] = cls
    r = client.get(URL, params=params, headers=user.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_no_withheld_cell_is_recovered_by_differencing(client, fixture):
    actors = fixture
    orgs = {actors.org_a: 0, actors.org_b: 1}
    # the unknowns: every atom the questions below can touch
    universe = [
        (m, o, c, s, band, role, out)
        for m in MONTHS
        for o in orgs
        for c in CLASSES
        for s in SEXES
        for band in BANDS
        for role in ROLES
        for out in OUTCOMES
    ]
    # the truth, as a caller with restricted:read sees it (no suppression), atom by atom
    truth = {}
    for m, period in zip(MONTHS, PERIODS[:5], strict=True):
        for org in orgs:
            for cls in CLASSES:
                body = _ask(
                    client, actors.analyst_restricted, period, org, cls, DIMENSIONS
                )
                for cell in body["cells"]:
                    key = (m, org, cls, *(cell[d] for d in DIMENSIONS))
                    truth[key] = cell["count"]
    # a slice (month x organisation x class x outcome) with an atom of 1..4 is tainted:
    # every atom of it, zeros included, must stay unknown
    tainted = {(a[0], a[1], a[2], a[6]) for a, n in truth.items() if 0 < n < 5}
    withheld = {a for a in universe if (a[0], a[1], a[2], a[6]) in tainted}
    assert ("2024-09", actors.org_a, "mine_erw_accident", "male", "child", "civilian",
            "injured") in withheld  # fmt: skip
    assert len(withheld) >= 3

    rows, values, zero = [], [], set()
    suppressed_seen = 0
    for period in PERIODS:
        months = _months(period)
        for org in (None, *orgs):
            for cls in (None, *CLASSES):
                selected = [
                    a
                    for a in universe
                    if a[0] in months
                    and (org is None or a[1] == org)
                    and (cls is None or a[2] == cls)
                ]
                for group_by in GROUPINGS:
                    body = _ask(client, actors.analyst_a, period, org, cls, group_by)
                    assert body["suppression"]["applied"] is True
                    bounds = [
                        None if p is None else date.fromisoformat(p) for p in period
                    ]
                    assert body["period"] == fixed_period(*bounds)
                    listed = {tuple(c[d] for d in group_by): c for c in body["cells"]}
                    at = [3 + DIMENSIONS.index(d) for d in group_by]
                    for values_ in product(*(DOMAINS[d] for d in group_by)):
                        members = [
                            a for a in selected if tuple(a[i] for i in at) == values_
                        ]
                        cell = listed.get(values_)
                        if cell is None:  # not listed: every atom in it is zero
                            zero.update(members)
                        elif not cell["suppressed"]:
                            rows.append(members)
                            values.append(cell["count"])
                        else:
                            suppressed_seen += 1
                    if not body["total"]["suppressed"]:
                        rows.append(selected)
                        values.append(body["total"]["count"])
    assert suppressed_seen > 0
    # the attacker also knows each accident's killed and injured, with its date,
    # organisation and class: the total of every slice
    for m in MONTHS:
        for org in orgs:
            for cls in CLASSES:
                for out in OUTCOMES:
                    members = [
                        a
                        for a in universe
                        if (a[0], a[1], a[2], a[6]) == (m, org, cls, out)
                    ]
                    rows.append(members)
                    values.append(sum(truth.get(a, 0) for a in members))
    # the answers are true where shown
    for members, value in zip(rows, values, strict=True):
        assert sum(truth.get(a, 0) for a in members) == value
    # what the answers determine: an atom is derived when its unit vector lies in the row
    # space of the equations (atoms known to be zero removed)
    free = [a for a in universe if a not in zero]
    index = {a: i for i, a in enumerate(free)}
    matrix = np.zeros((len(rows), len(free)))
    for r, members in enumerate(rows):
        for a in members:
            if a in index:
                matrix[r, index[a]] = 1
    rank = np.linalg.matrix_rank(matrix)
    derived = []
    assert not withheld & zero, "a withheld cell was shown to be zero"
    for atom in withheld:
        unit = np.zeros((1, len(free)))
        unit[0, index[atom]] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            derived.append(atom)
    assert derived == [], f"withheld counts recovered by differencing: {derived}"
    # and the visible atoms are derivable (the system is not empty by accident)
    assert rank > 0


def test_answers_do_not_depend_on_how_a_tainted_slice_is_split():
    """The rule's proof, checked on the pure aggregation: redistribute the people of a
    tainted slice among its sex x age band x role combinations (keeping it tainted) and
    every answer to every grouping of every period stays the same."""
    boy = ("2024-09", "o", "m", "male", "child", "civilian", "injured")
    base = {
        ("2024-08", "o", "m", "male", "adult", "civilian", "injured"): 10,
        boy: 1,
        ("2024-09", "o", "m", "female", "adult", "civilian", "injured"): 7,
        ("2024-09", "o", "m", "unknown", "unknown", "unknown", "killed"): 6,
    }
    combos = list(product(SEXES, BANDS, ROLES))
    for a, b in product(combos, repeat=2):
        if a == b:
            continue
        split = {
            k: n for k, n in base.items() if k[6] != "injured" or k[0] != "2024-09"
        }
        split[("2024-09", "o", "m", *a, "injured")] = 3
        split[("2024-09", "o", "m", *b, "injured")] = 5
        for group_by in GROUPINGS:
            for months in (["2024-08"], ["2024-08", "2024-09"], ["2024-09"], None):

                def shown(atoms, months=months, group_by=group_by):
                    picked = {
                        k: n
                        for k, n in atoms.items()
                        if months is None or k[0] in months
                    }
                    cells, total = aggregate(picked, group_by)
                    return (
                        {k: None if h else n for k, (n, h) in cells.items() if h or n},
                        total,
                    )

                assert shown(split) == shown(base), (a, b, group_by, months)


@pytest.mark.parametrize(
    ("params", "pointer"),
    [
        ({"from": "2024-08-01", "to": "2024-09-30"}, "from"),  # two months
        ({"from": "2024-08-01"}, "from"),  # cumulative from August
        ({"to": "2024-09-30"}, "to"),  # cumulative up to September
        ({"from": "2024-08-15", "to": "2024-09-14"}, "from"),  # overlapping months
        ({"from": "2024-02-01", "to": "2024-04-30"}, "from"),  # not a calendar quarter
        ({"from": "2024-01-01", "to": "2025-12-31"}, "from"),  # two years
    ],
)
def test_other_ranges_are_refused_without_restricted_read(
    client, actors, params, pointer
):
    problem = assert_problem(
        client.get(URL, params=params, headers=actors.analyst_a.headers), 400
    )
    assert "calendar month" in problem["detail"] and "quarter" in problem["detail"]
    assert problem["errors"][0]["parameter"] == pointer
    r = client.get(URL, params=params, headers=actors.analyst_restricted.headers)
    assert r.status_code == 200, r.text


def test_areas_are_refused_without_restricted_read(client, actors):
    problem = assert_problem(
        client.get(URL, params={"admin": "UA63"}, headers=actors.analyst_a.headers), 400
    )
    assert problem["errors"][0]["parameter"] == "admin"


@pytest.mark.parametrize(
    ("start", "end", "name"),
    [
        ("2024-02-01", "2024-02-29", "2024-02"),
        ("2024-10-01", "2024-12-31", "2024-Q4"),
        ("2024-01-01", "2024-03-31", "2024-Q1"),
        ("2024-01-01", "2024-12-31", "2024"),
        ("2024-01-01", "2024-01-31", "2024-01"),
        ("2024-02-01", "2024-02-28", None),
        ("2024-02-02", "2024-02-29", None),
        ("2024-11-01", "2025-01-31", None),
    ],
)
def test_fixed_period(start, end, name):
    assert fixed_period(date.fromisoformat(start), date.fromisoformat(end)) == name


def test_victim_rows_withheld_without_restricted_read_exact_with_it(client, actors):
    accident_id = _accident(client, actors.coordinator_a, "2024-09-03", injured=1)
    r = client.post(
        f"/api/v1/accidents/{accident_id}/victims",
        json={
            "sex": "male",
            "age": 9,
            "role": "civilian",
            "outcome": "injured",
            "activity_at_time": "herding",
        },  # fmt: skip
        headers=actors.coordinator_a.headers,
    )
    assert r.status_code == 201, r.text
    # the writer gets back what it sent
    written = r.json()
    assert (written["sex"], written["age"], written["attributes"]) == (
        "male",
        9,
        "exact",
    )
    victim_id = r.json()["id"]
    base = f"/api/v1/accidents/{accident_id}/victims"
    attrs = ("sex", "age", "age_band", "role", "outcome", "activity_at_time")
    for user in (
        actors.analyst_a,
        actors.eore_a,
        actors.coordinator_a,
        actors.coordinator_b,
    ):
        listed = client.get(base, headers=user.headers)
        one = client.get(f"{base}/{victim_id}", headers=user.headers)
        for row in (listed.json()["victims"][0], one.json()):
            assert {a: row[a] for a in attrs} == dict.fromkeys(attrs), row
            assert row["attributes"] == "withheld"
        assert '"herding"' not in listed.text + one.text
    for response in (
        client.get(base, headers=actors.analyst_restricted.headers).json()["victims"][
            0
        ],
        client.get(
            f"{base}/{victim_id}", headers=actors.analyst_restricted.headers
        ).json(),
    ):
        assert {a: response[a] for a in attrs} == {
            "sex": "male",
            "age": 9,
            "age_band": "child",
            "role": "civilian",
            "outcome": "injured",
            "activity_at_time": "herding",
        }
        assert response["attributes"] == "exact"


def test_the_issue_case(client, fixture):
    """August: male 10 shown; the third quarter (August and September) cannot show male 11
    nor anything that, less August, gives September's boy away; September says no child."""
    actors = fixture

    def cells(period, group_by):
        body = _ask(client, actors.analyst_a, period, None, None, group_by)
        return {tuple(c[d] for d in group_by): c["count"] for c in body["cells"]}

    assert cells(("2024-08-01", "2024-08-31"), ["sex"]) == {("male",): 10}
    quarter = cells(("2024-07-01", "2024-09-30"), ["sex", "outcome"])
    assert quarter[("male", "injured")] is None
    assert quarter[("female", "injured")] is None  # zeros withheld alike
    assert quarter[("unknown", "killed")] == 6  # September's killed slice is untainted
    september = cells(("2024-09-01", "2024-09-30"), ["age_band", "outcome"])
    assert september[("child", "injured")] is None
    assert september[("adult", "injured")] is None
    assert september[("unknown", "injured")] is None
    by_outcome = cells(("2024-09-01", "2024-09-30"), ["outcome"])
    assert by_outcome == {("injured",): 9, ("killed",): 6}  # the accidents' own totals

"""The date-of-information rule as pure functions."""

from datetime import date

from api.domain.history import (
    GEOMETRY,
    Report,
    changes,
    fold,
    state_on,
    superseded,
    timeline,
)


def r(version, day, kind="update", **stated):
    return Report(version, date.fromisoformat(day), kind, stated)


CREATE = r(
    1, "2024-09-01", "create", name="newest", classification="SHA", **{GEOMETRY: 1}
)


def test_fold_applies_reports_in_date_of_information_order():
    state = fold([CREATE, r(2, "2024-10-01", name="renamed")])
    assert state.values["name"] == "renamed"
    assert state.date_of_information == date(2024, 10, 1)
    assert state.version == 2


def test_older_report_does_not_overwrite_newer_fact():
    late = r(2, "2023-01-01", name="late old report")
    state = fold([CREATE, late])
    assert state.values["name"] == "newest"
    assert state.date_of_information == date(2024, 9, 1)
    assert superseded(late, state) == ["name"]


def test_older_report_still_sets_fields_no_newer_report_stated():
    late = r(2, "2023-01-01", name="late", notes="marked with painted stones")
    state = fold([CREATE, late])
    assert state.values["notes"] == "marked with painted stones"
    assert superseded(late, state) == ["name"]


def test_same_date_of_information_applies_in_recording_order():
    state = fold([CREATE, r(2, "2024-09-01", name="same day, later")])
    assert state.values["name"] == "same day, later"


def test_fold_does_not_depend_on_input_order():
    reports = [CREATE, r(2, "2023-01-01", name="a"), r(3, "2025-01-01", name="b")]
    assert fold(reports).values == fold(list(reversed(reports))).values


def test_retirement_applies_whatever_its_date():
    state = fold([CREATE, r(2, "2020-01-01", "retire")])
    assert state.retired


def test_timeline_gives_one_state_per_date_valid_until_the_next():
    entries = timeline(
        [CREATE, r(2, "2025-01-01", name="b"), r(3, "2025-01-01", name="c")]
    )
    assert [(e.valid_from, e.valid_to) for e in entries] == [
        (date(2024, 9, 1), date(2025, 1, 1)),
        (date(2025, 1, 1), None),
    ]
    assert entries[1].state.values["name"] == "c"
    assert entries[0].state.values["name"] == "newest"


def test_state_on_a_date_uses_only_reports_dated_by_then():
    reports = [CREATE, r(2, "2025-01-01", name="b")]
    assert state_on(reports, date(2024, 12, 31)).values["name"] == "newest"
    assert state_on(reports, date(2025, 1, 1)).values["name"] == "b"
    assert state_on(reports, date(2024, 1, 1)) is None


def test_changes_lists_only_fields_that_differ():
    before = fold([CREATE])
    after = fold([CREATE, r(2, "2024-10-01", name="x", classification="SHA")])
    assert changes(before, after) == {"name": ["newest", "x"]}

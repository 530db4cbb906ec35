"""The date-of-information rule: how reports about a hazard fold into its state.

Every report (create, update, retire) is kept. The state of a hazard on a date D is the fold of
the reports whose date of information is on or before D, taken in order of date of information
and, for equal dates, in the order they were recorded. Each report sets only the fields it
states, so a field holds the value from the most recent report (by date of information) that
stated it. Consequences:

* a late report with an older date of information is kept, and changes the current state only
  in fields that no newer report has stated (newer facts are never overwritten);
* a report with the same date of information as the current one applies (it was received later);
* retirement is about the record, not the ground: it applies from its date onward whatever
  reports came before.

This module is pure: reports in, states out.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

GEOMETRY = (
    "geometry"  # key under which a report's geometry (its version number) is folded
)


@dataclass(frozen=True)
class Report:
    """One version of a hazard as recorded: what it stated, and when that was true."""

    version: int
    date_of_information: date
    kind: str  # create | update | retire
    stated: dict[
        str, Any
    ]  # field -> value; GEOMETRY -> version number owning the geometry


@dataclass
class State:
    """The folded state: field values, the date each was stated, and the last report applied."""

    values: dict[str, Any] = field(default_factory=dict)
    stated_on: dict[str, date] = field(default_factory=dict)
    version: int = 0
    date_of_information: date | None = None
    retired: bool = False


def _order(reports: Iterable[Report]) -> list[Report]:
    return sorted(reports, key=lambda r: (r.date_of_information, r.version))


def fold(reports: Iterable[Report]) -> State:
    """Fold reports into the current state by the date-of-information rule."""
    state = State()
    for report in _order(reports):
        _apply(state, report)
    return state


def _apply(state: State, report: Report) -> None:
    if report.kind == "retire":
        state.retired = True
    else:
        for key, value in report.stated.items():
            state.values[key] = value
            state.stated_on[key] = report.date_of_information
    state.version = max(state.version, report.version)
    if (
        state.date_of_information is None
        or report.date_of_information > state.date_of_information
    ):
        state.date_of_information = report.date_of_information


@dataclass(frozen=True)
class TimelineEntry:
    """The state valid from ``valid_from`` until ``valid_to`` (exclusive; None = still valid)."""

    valid_from: date
    valid_to: date | None
    state: State


def timeline(reports: Sequence[Report]) -> list[TimelineEntry]:
    """States after each distinct date of information, each valid until the next one."""
    ordered = _order(reports)
    entries: list[tuple[date, State]] = []
    state = State()
    for i, report in enumerate(ordered):
        _apply(state, report)
        last_of_day = i + 1 == len(ordered) or ordered[i + 1].date_of_information != (
            report.date_of_information
        )
        if last_of_day:
            snapshot = State(
                values=dict(state.values),
                stated_on=dict(state.stated_on),
                version=state.version,
                date_of_information=state.date_of_information,
                retired=state.retired,
            )
            entries.append((report.date_of_information, snapshot))
    return [
        TimelineEntry(
            valid_from=day,
            valid_to=entries[i + 1][0] if i + 1 < len(entries) else None,
            state=snap,
        )
        for i, (day, snap) in enumerate(entries)
    ]


def state_on(reports: Sequence[Report], day: date) -> State | None:
    """The state as known on ``day``: None if no report is dated on or before it."""
    known = [r for r in reports if r.date_of_information <= day]
    return fold(known) if known else None


def changes(before: State, after: State) -> dict[str, list[Any]]:
    """Fields whose current value differs between two states, as ``[before, after]``."""
    keys = set(before.values) | set(after.values)
    out = {
        k: [before.values.get(k), after.values.get(k)]
        for k in sorted(keys)
        if before.values.get(k) != after.values.get(k)
    }
    if before.retired != after.retired:
        out["retired"] = [before.retired, after.retired]
    return out


def superseded(report: Report, after: State) -> list[str]:
    """Fields the report stated that newer reports keep from taking effect."""
    return sorted(k for k, v in report.stated.items() if after.values.get(k) != v)

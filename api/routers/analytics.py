"""Land-release analytics: burn-down over month ends, and counts of EO finds."""

import re
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import LanguageDep, ReaderDep, SessionDep
from api.errors import BadRequest, problem_responses
from api.responses import JSONOut
from api.schemas.analytics import Burndown, EOFindCounts
from api.services import analytics

router = APIRouter(tags=["analytics"])

BurndownGroupBy = Literal["admin1", "admin2", "organisation", "contamination", "method"]
EOGroupBy = Literal["eo_category", "month", "admin1", "organisation"]
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _bad(name: str, message: str) -> BadRequest:
    """A 400 problem naming the query parameter ``name``."""
    return BadRequest(
        f"{name}: {message}",
        errors=[{"parameter": name, "in": "query", "message": message}],
    )


def _month(name: str, value: str) -> date:
    """The first day of the month ``YYYY-MM`` given in parameter ``name``."""
    m = MONTH.match(value)
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        raise _bad(name, f"must be a month YYYY-MM, got {value!r}")
    return date(int(m.group(1)), int(m.group(2)), 1)


def _day(name: str, value: str | None) -> date | None:
    """The ISO date ``YYYY-MM-DD`` given in parameter ``name``."""
    if value is None:
        return None
    try:
        if not DAY.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(name, f"must be a date YYYY-MM-DD, got {value!r}") from None


@router.get(
    "/land-release/burndown",
    response_model=Burndown,
    response_class=JSONOut,
    responses=problem_responses(400, 401, 422),
)
def land_release_burndown(
    session: SessionDep,
    principal: ReaderDep,
    language: LanguageDep,
    from_: Annotated[
        str,
        Query(alias="from", description="first month, YYYY-MM", examples=["2024-01"]),
    ],
    to: Annotated[
        str,
        Query(
            description="last month, YYYY-MM (at most 120 months)", examples=["2024-12"]
        ),
    ],
    group_by: Annotated[
        BurndownGroupBy | None, Query(description="one series per group")
    ] = None,
    organisation: Annotated[
        str | None, Query(description="only this organisation")
    ] = None,
    admin: Annotated[
        str | None, Query(description="only hazards touching this P-code")
    ] = None,
):
    """Baseline, cancelled, reduced, cleared, released and remaining m² at each month end.

    Each point is the land as known on that date (hazard states valid then, releases dated
    on or before it) and equals ``/land-release/summary?as_of=<date>`` for the same
    ``group_by``. Without ``group_by`` a single series with key ``all``. The points are read
    from the land-release history the database keeps current on every write, so 120 months
    cost about what one does.
    """
    first, last = _month("from", from_), _month("to", to)
    if last < first:
        raise _bad("to", "is before from")
    if (
        last.year - first.year
    ) * 12 + last.month - first.month + 1 > analytics.MAX_MONTHS:
        raise _bad("to", f"the range may span at most {analytics.MAX_MONTHS} months")
    return JSONOut(
        analytics.burndown(
            session,
            first=first,
            last=last,
            group_by=group_by,
            organisation=organisation,
            admin=admin,
            language=language,
        )
    )


@router.get(
    "/analytics/eo-finds",
    response_model=EOFindCounts,
    response_class=JSONOut,
    responses=problem_responses(400, 401, 422),
)
def eo_find_counts(
    session: SessionDep,
    principal: ReaderDep,
    language: LanguageDep,
    group_by: Annotated[EOGroupBy, Query(description="how to group the counts")] = (
        "eo_category"
    ),
    from_: Annotated[
        str | None, Query(alias="from", description="found on or after, YYYY-MM-DD")
    ] = None,
    to: Annotated[
        str | None, Query(description="found on or before, YYYY-MM-DD")
    ] = None,
    organisation: Annotated[
        str | None, Query(description="only this organisation")
    ] = None,
):
    """Number of finds and of items (sum of quantity) per group. Counts only, no locations."""
    first, last = _day("from", from_), _day("to", to)
    if first and last and last < first:
        raise _bad("to", "is before from")
    return JSONOut(
        analytics.eo_finds(
            session,
            group_by=group_by,
            first=first,
            last=last,
            organisation=organisation,
            language=language,
        )
    )

"""Programme-level land-release figures."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import AsOfDep, LanguageDep, ReaderDep, SessionDep
from api.errors import problem_responses
from api.responses import JSONOut
from api.schemas.analytics import LandReleaseSummary
from api.services import summary

router = APIRouter(prefix="/land-release", tags=["land release"])

GroupBy = Literal[
    "admin1", "admin2", "organisation", "contamination", "method", "month"
]


@router.get(
    "/summary",
    response_model=LandReleaseSummary,
    response_class=JSONOut,
    responses=problem_responses(400, 401, 422),
)
def land_release_summary(
    session: SessionDep,
    principal: ReaderDep,
    language: LanguageDep,
    group_by: Annotated[GroupBy, Query(description="how to group the rows")] = "admin1",
    as_of: AsOfDep = None,
    organisation: Annotated[
        str | None, Query(description="only this organisation")
    ] = None,
    admin: Annotated[
        str | None, Query(description="only hazards touching this P-code")
    ] = None,
):
    """Baseline, cancelled, reduced, cleared, released and remaining m² per group.

    ``admin1``, ``admin2``, ``organisation`` and ``contamination`` group hazards (released +
    remaining = baseline in every row; with ``contamination`` a hazard counts in each of its
    types). ``method`` and ``month`` split the baseline by how or when each m² was released,
    with the unreleased remainder in the row whose key is null. ``totals`` are programme
    totals. ``as_of`` answers as known on that date.
    """
    return JSONOut(
        summary.summarise(
            session,
            group_by=group_by,
            as_of=as_of,
            organisation=organisation,
            admin=admin,
            language=language,
        )
    )

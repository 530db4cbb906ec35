"""Hazard reports: unverified intake and its workflow (submitted → verified → accepted or
rejected). Reports never appear among hazards; accepting one links or creates a hazard."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from sqlalchemy.orm import Session

from api.deps import (
    BBoxDep,
    LanguageDep,
    PageDep,
    PrincipalDep,
    ReaderDep,
    SessionDep,
    SettingsDep,
)
from api.errors import problem_responses
from api.responses import GeoJSONOut, JSONOut, feature_collection
from api.routers.versioned import (
    ChangeDep,
    versioned,
)
from api.schemas.hazard_reports import (
    ACCEPT_EXAMPLES,
    REPORT_EXAMPLES,
    AcceptBody,
    HazardReportCollection,
    HazardReportFeature,
    HazardReportFeatureOut,
    RejectBody,
    TransitionNote,
)
from api.services import hazard_reports
from api.services.auth import Principal, require_reader
from api.services.hazard_reports import ReportFilters
from api.vocab import DEFAULT_LANGUAGE, ReportSource, ReportStatus

router = APIRouter(prefix="/hazard-reports", tags=["hazard reports"])


def written(
    session: Session,
    principal: Principal | None,
    result: hazard_reports.Written,
    status: int = 200,
    language: str = DEFAULT_LANGUAGE,
) -> JSONOut:
    """The report as the caller may see it, with ``warnings`` and its ETag."""
    feature = hazard_reports.get(
        session, principal=require_reader(principal), report_id=result.report_id
    )
    return versioned(
        feature,
        status=status,
        warnings=result.warnings,
        version=result.version,
        language=language,
    )


@router.post(
    "",
    status_code=201,
    response_model=HazardReportFeatureOut,
    response_class=GeoJSONOut,
    responses={
        200: {
            "description": "this external_id was received before: the stored report",
            "model": HazardReportFeatureOut,
        },
        **problem_responses(401, 403, 409, 422),
    },
)
def submit_hazard_report(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    language: LanguageDep,
    feature: Annotated[HazardReportFeature, Body(openapi_examples=REPORT_EXAMPLES)],
):
    """Submit a hazard report (hotline call, risk-education session, community survey).

    Coordinators and EORE staff submit for their own organisation, admins for any. The
    report is *unverified*: it is not a hazard and never appears in ``/hazards``. Informants'
    contacts (``properties.contacts``) are stored apart and read back only with
    ``restricted:read``. Re-sending the same ``external_id`` returns the stored report (200).
    """
    result = hazard_reports.submit(
        session, principal=principal, feature=feature, settings=settings
    )
    return written(session, principal, result, 201 if result.created else 200, language)


@router.get(
    "",
    response_model=HazardReportCollection,
    response_class=GeoJSONOut,
    responses=problem_responses(400, 401, 422),
)
def list_hazard_reports(
    request: Request,
    session: SessionDep,
    principal: ReaderDep,
    page: PageDep,
    bbox: BBoxDep,
    status: ReportStatus | None = None,
    source: ReportSource | None = None,
    organisation: Annotated[
        str | None, Query(description="code of the receiving organisation")
    ] = None,
):
    """Reports as a FeatureCollection, newest first. EORE staff see their organisation's.

    Lists never carry informants' contacts or the raw submission; read one report for those
    (with ``restricted:read``).
    """
    filters = ReportFilters(
        status=status.value if status else None,
        source=source.value if source else None,
        organisation=organisation,
        bbox=bbox,
    )
    features, matched = hazard_reports.search(
        session,
        principal=principal,
        filters=filters,
        limit=page.limit,
        offset=page.offset,
        after=page.cursor,
    )
    return GeoJSONOut(
        feature_collection(
            request, features, matched=matched, limit=page.limit, offset=page.offset
        )
    )


@router.get(
    "/{report_id}",
    response_model=HazardReportFeatureOut,
    response_class=GeoJSONOut,
    responses=problem_responses(401, 403, 404, 422),
)
def get_hazard_report(report_id: uuid.UUID, session: SessionDep, principal: ReaderDep):
    """One report with its workflow log (``events``).

    With ``restricted:read`` it also carries ``contacts`` and ``raw_submission``.
    """
    return versioned(
        hazard_reports.get(session, principal=principal, report_id=report_id)
    )


@router.post(
    "/{report_id}/verify",
    response_model=HazardReportFeatureOut,
    response_class=GeoJSONOut,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def verify_hazard_report(
    report_id: uuid.UUID,
    change: ChangeDep,
    body: Annotated[
        TransitionNote | None,
        Body(
            openapi_examples={
                "checked": {
                    "summary": "Checked by phone with the informant",
                    "value": {"note": "Called back; location confirmed on the map"},
                }
            }
        ),
    ] = None,
):
    """Record that the report was checked (submitted → verified).

    Coordinators of the receiving organisation and admins only, and never whoever submitted
    or re-sent the report, user or API key (four-eyes rule: 403). ``If-Match`` is optional;
    when sent, a stale ETag is refused (412).
    """
    result = hazard_reports.verify(
        change.session,
        principal=change.principal,
        report_id=report_id,
        note=body.note if body else None,
        if_match=change.if_match,
    )
    return written(change.session, change.principal, result, 200, change.language)


@router.post(
    "/{report_id}/accept",
    response_model=HazardReportFeatureOut,
    response_class=GeoJSONOut,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def accept_hazard_report(
    report_id: uuid.UUID,
    change: ChangeDep,
    settings: SettingsDep,
    body: Annotated[AcceptBody, Body(openapi_examples=ACCEPT_EXAMPLES)],
):
    """Accept a verified report (verified → accepted).

    ``{"hazard_id": ...}`` links it to an existing hazard and changes nothing on that
    hazard. ``{"create": {...}}`` creates one new SHA from the report's geometry (or from
    ``create.geometry``, the perimeter drawn after verification) for the accepting
    coordinator's organisation, and links it. A report located by a single point can only
    make a ``uxo_spot`` or ``axo_site`` hazard (422 otherwise). ``properties.hazard_id`` of
    the answer is the linked hazard.

    Not by whoever submitted or re-sent the report (four-eyes rule: 403); an API key needs
    ``hazards:write`` besides ``hazard-reports:write``, as the report becomes part of a hazard.
    """
    result = hazard_reports.accept(
        change.session,
        principal=change.principal,
        report_id=report_id,
        body=body,
        settings=settings,
        if_match=change.if_match,
    )
    return written(change.session, change.principal, result, 200, change.language)


@router.post(
    "/{report_id}/reject",
    response_model=HazardReportFeatureOut,
    response_class=GeoJSONOut,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def reject_hazard_report(
    report_id: uuid.UUID,
    change: ChangeDep,
    body: Annotated[
        RejectBody,
        Body(
            openapi_examples={
                "duplicate": {
                    "summary": "Already known",
                    "value": {"note": "Duplicate of the report of 12 May"},
                }
            }
        ),
    ],
):
    """Reject a verified report (verified → rejected); ``note`` saying why is required."""
    result = hazard_reports.reject(
        change.session,
        principal=change.principal,
        report_id=report_id,
        note=body.note,
        if_match=change.if_match,
    )
    return written(change.session, change.principal, result, 200, change.language)

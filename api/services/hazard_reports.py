"""Hazard reports: unverified intake, its workflow, and acceptance into hazards.

A hazard report is information, not yet a hazard area (domain.md §1.3). Reports come from the
public hotline, risk-education sessions, community surveys and field forms (the Kobo webhook);
they are never listed as hazards. The organisation that received a report decides on it:

    submitted --verify--> verified --accept--> accepted   (linked to a hazard)
                                   --reject--> rejected   (with a note)

Accepting either links the report to an existing hazard (nothing is added to that hazard) or
creates a new SHA through ``api.services.hazards.create_hazard`` with the report's geometry, in
the same transaction as the report's own change. Every transition is logged with who, when and
the note (``hazard_report_events``).

Who may do what:

* submit: admins (for any organisation), coordinators and EORE staff (for their own);
* read: every signed-in role; EORE staff only their own organisation's reports;
* verify, accept, reject: coordinators of the receiving organisation, and admins;
* informants' contacts and the raw submission: only with ``restricted:read``, and only in a
  single report (never in lists);
* a reported point: exact for callers who see exact locations (``auth.sees_exact_locations``),
  snapped to the 0.01° grid for the others, whose ``bbox`` and counts work on that point.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import paging
from api.db.models import Hazard, Organisation
from api.db.models.hazard_reports import (
    HazardReport,
    HazardReportContact,
    HazardReportEvent,
    ReportAction,
)
from api.errors import (
    Conflict,
    Forbidden,
    InvalidGeometry,
    InvalidInput,
)
from api.ingest import kobo
from api.schemas.common import servable
from api.schemas.hazard_reports import AcceptBody, AcceptCreate, HazardReportFeature
from api.schemas.hazards import HazardFeatureCreate
from api.services import extent, hazards
from api.services.auth import (
    Principal,
    can_read_restricted,
    require_reader,
    require_scope,
    require_writer,
    sees_exact_locations,
)
from api.services.filters import bbox_param, location_params, seen_bbox_sql
from api.services.versioned import check_if_match, lock, read_one
from api.settings import Settings
from api.spatial.intake import (
    IntakeProblem,
    intake_geometry,
    to_geojson,
)
from api.vocab import (
    POINT_HAZARD_TYPES,
    Classification,
    Contamination,
    ReportSource,
    ReportStatus,
    Role,
)

FUTURE_TOLERANCE = timedelta(days=1)  # "today" in a time zone ahead of UTC
KIND = "hazard report"  # how 404s and 412s name the record
SUBMITTER_ROLES = frozenset({Role.admin, Role.coordinator, Role.eore})
HAZARD_SOURCE_PREFIX = (
    "hazard_report:"  # hazard_versions.source of hazards made from reports
)

# action: (statuses it may start from, status it leads to)
TRANSITIONS: dict[ReportAction, tuple[frozenset[ReportStatus], ReportStatus]] = {
    ReportAction.verify: (frozenset({ReportStatus.submitted}), ReportStatus.verified),
    ReportAction.accept: (frozenset({ReportStatus.verified}), ReportStatus.accepted),
    ReportAction.reject: (frozenset({ReportStatus.verified}), ReportStatus.rejected),
}


# --- results and helpers ------------------------------------------------------------------


@dataclass
class Written:
    """What a write did: the report, whether it was new, and the warnings."""

    report_id: uuid.UUID
    version: int
    created: bool = False
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReportFilters:
    """Filters of ``GET /hazard-reports``; every member is optional."""

    status: str | None = None
    source: str | None = None
    organisation: str | None = None
    bbox: tuple[float, float, float, float] | None = None


def _require_submitter(principal: Principal | None, org: Organisation) -> Principal:
    principal = require_reader(principal)
    if principal.role not in SUBMITTER_ROLES:
        raise Forbidden(
            f"the {principal.role.value} role cannot submit hazard reports "
            "(coordinators, EORE staff and admins can)"
        )
    if principal.role != Role.admin and principal.organisation_id != org.id:
        raise Forbidden(
            f"you submit reports for your own organisation "
            f"({principal.organisation_code}), not for {org.code}"
        )
    return principal


def _receiving_org(
    session: Session, code: str | None, principal: Principal | None
) -> Organisation:
    if code is None:
        require_reader(principal)  # anonymous: 401 before "organisation is required"
    return hazards.resolve_org(session, code, principal)


def _fingerprint(source: str, fields: kobo.ReportFields) -> str:
    """SHA-256 of what a submission says, to tell an identical re-send from a change."""
    content = {
        "source": source,
        "reported_on": fields.reported_on.isoformat() if fields.reported_on else None,
        "description": fields.description,
        "contamination": fields.contamination,
        "location_text": fields.location_text,
        "geometry": fields.geometry,
        "gps_accuracy_m": fields.gps_accuracy_m,
        "contacts": fields.contacts,
    }
    canonical = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _intake(
    geometry: Any,
    *,
    pointer: str,
    settings: Settings,
    field_pointer: str | None,
    level: int | None,
):
    """Run the geometry intake; ``field_pointer`` re-points errors at a form field."""
    try:
        return intake_geometry(
            geometry,
            pointer=pointer,
            allow_point=True,
            max_vertices=settings.max_vertices,
            max_area_m2=extent.max_hazard_area_m2(settings, level)
            if isinstance(geometry, dict) and geometry.get("type") != "Point"
            else None,
        )
    except IntakeProblem as exc:
        errors = exc.errors
        if field_pointer is not None:
            errors = [
                {"pointer": field_pointer, "message": e["message"]} for e in errors
            ]
        raise InvalidGeometry(
            f"{errors[0]['pointer']}: {errors[0]['message']}", errors=errors
        ) from exc


def _event(
    session: Session,
    report: HazardReport,
    action: ReportAction,
    principal: Principal | None,
    *,
    from_status: str | None,
    note: str | None = None,
    hazard_id: uuid.UUID | None = None,
) -> None:
    session.add(
        HazardReportEvent(
            report_id=report.id,
            seq=report.version,
            action=action.value,
            from_status=from_status,
            to_status=report.status,
            actor=principal.name if principal else "system",
            actor_user_id=principal.user_id if principal else None,
            actor_api_key_id=principal.api_key_id if principal else None,
            note=note,
            hazard_id=hazard_id,
        )
    )


def _set_content(
    session: Session,
    report: HazardReport,
    fields: kobo.ReportFields,
    geometry,
    *,
    source: str,
    raw: dict[str, Any] | None,
    fingerprint: str,
    warnings: list[str],
) -> None:
    report.source = source
    if fields.reported_on is not None:  # _store dates an undated report today
        report.reported_on = fields.reported_on
    report.description = fields.description
    report.contamination = list(fields.contamination)
    report.geom = from_shape(geometry, srid=4326) if geometry is not None else None
    report.location_text = fields.location_text
    report.gps_accuracy_m = fields.gps_accuracy_m
    report.raw_submission = raw
    report.content_sha256 = fingerprint
    report.warnings = warnings
    session.execute(
        delete(HazardReportContact)
        .where(HazardReportContact.report_id == report.id)
        .execution_options(synchronize_session=False)
    )
    for seq, contact in enumerate(fields.contacts, start=1):
        session.add(HazardReportContact(report_id=report.id, seq=seq, **contact))


# --- submitting ------------------------------------------------------------------------------


def _store(
    session: Session,
    *,
    principal: Principal | None,
    settings: Settings,
    org: Organisation,
    source: str,
    fields: kobo.ReportFields,
    raw: dict[str, Any] | None,
    form_fields: bool = False,
) -> Written:
    """Store a submission, or recognise a re-send of one already received.

    ``fields.pointers`` locate each field in what was sent; with ``form_fields`` the
    geometry was read from a form answer (a string), so intake errors point at the answer.
    """
    principal = _require_submitter(principal, org)
    fingerprint = _fingerprint(
        source, fields
    )  # as sent, before any default is filled in
    warnings = list(fields.warnings)
    geometry = None
    if fields.geometry is not None:
        pointer = fields.pointers.get("geometry", "/geometry")
        level = extent.programme_level(session)
        intake = _intake(
            fields.geometry,
            pointer=pointer,
            settings=settings,
            field_pointer=pointer if form_fields else None,
            level=level,
        )
        geometry = intake.geometry
        extent.check(
            session,
            geometry,
            pointer=pointer,
            area_bound=extent.area_bound_by_programme(settings),
            level=level,
            area_m2=intake.area_m2,
        )
        warnings.extend(intake.warnings)
    today = datetime.now(UTC).date()
    if fields.reported_on is None:
        fields.reported_on = today
        warnings.append(f"reported_on not given; recorded as today ({today})")
    if fields.reported_on > today + FUTURE_TOLERANCE:
        raise InvalidInput(
            f"reported_on {fields.reported_on} is in the future",
            errors=[
                {
                    "pointer": fields.pointers.get("reported_on", "/"),
                    "message": "a report cannot be dated in the future",
                }
            ],
        )

    if fields.external_id:
        existing = session.scalar(
            select(HazardReport)
            .where(
                HazardReport.organisation_id == org.id,
                HazardReport.external_id == fields.external_id,
            )
            .with_for_update()
        )
        if existing is not None:
            return _resend(
                session,
                existing,
                principal=principal,
                fields=fields,
                geometry=geometry,
                source=source,
                raw=raw,
                fingerprint=fingerprint,
                warnings=warnings,
            )

    report = HazardReport(
        id=uuid.uuid4(),
        organisation_id=org.id,
        external_id=fields.external_id,
        status=ReportStatus.submitted.value,
        version=1,
        submitted_by=principal.name,
        submitted_by_user_id=principal.user_id,
        submitted_by_api_key_id=principal.api_key_id,
    )
    session.add(report)
    _set_content(
        session,
        report,
        fields,
        geometry,
        source=source,
        raw=raw,
        fingerprint=fingerprint,
        warnings=warnings,
    )
    _event(session, report, ReportAction.submit, principal, from_status=None)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        if "external_id" in str(exc.orig):
            raise Conflict(
                "a report with this external_id arrived at the same moment; send it again",
                errors=[{"pointer": "/properties/external_id", "message": "in use"}],
            ) from exc
        raise
    return Written(report.id, report.version, True, warnings)


def _resend(
    session: Session,
    report: HazardReport,
    *,
    principal: Principal,
    fields: kobo.ReportFields,
    geometry,
    source: str,
    raw: dict[str, Any] | None,
    fingerprint: str,
    warnings: list[str],
) -> Written:
    """The sender used this external_id before: the same report, or a change to it."""
    report_id, version, status = report.id, report.version, report.status
    if report.content_sha256 == fingerprint:
        session.rollback()  # release the row lock; nothing changes
        return Written(
            report_id,
            version,
            False,
            [f"already received (report {report_id}); nothing changed"],
        )
    if status != ReportStatus.submitted:
        session.rollback()
        raise Conflict(
            f"report {report_id} with external_id {fields.external_id!r} is already "
            f"{status}; a changed re-send cannot replace it. Ask the receiving "
            "organisation's coordinator, or send it as a new report with a new id",
            report_id=str(report_id),
            current_status=status,
        )
    _set_content(
        session,
        report,
        fields,
        geometry,
        source=source,
        raw=raw,
        fingerprint=fingerprint,
        warnings=warnings,
    )
    report.version += 1
    report.updated_at = func.now()
    _event(
        session,
        report,
        ReportAction.resubmit,
        principal,
        from_status=report.status,
        note="the sender changed the report",
    )
    session.commit()
    return Written(
        report.id,
        report.version,
        False,
        [*warnings, "a changed re-send of a report not yet verified: it was updated"],
    )


def submit(
    session: Session,
    *,
    principal: Principal | None,
    feature: HazardReportFeature,
    settings: Settings,
) -> Written:
    """Receive a report sent through the API (a GeoJSON Feature).

    Re-sending a report with the same ``external_id`` returns the stored one (200) when
    nothing changed, updates it while it is still only submitted, and is a conflict once a
    coordinator has verified or decided it.
    """
    props = feature.properties
    org = _receiving_org(session, props.organisation, principal)
    fields = kobo.ReportFields(
        external_id=props.external_id,
        reported_on=props.reported_on,
        description=props.description,
        contamination=[c.value for c in dict.fromkeys(props.contamination)],
        location_text=props.location_text,
        geometry=feature.geometry,
        gps_accuracy_m=props.gps_accuracy_m,
        contacts=[c.model_dump() for c in props.contacts],
        pointers={
            "geometry": "/geometry",
            "reported_on": "/properties/reported_on",
            "external_id": "/properties/external_id",
        },
    )
    return _store(
        session,
        principal=principal,
        settings=settings,
        org=org,
        source=props.source.value,
        fields=fields,
        raw=feature.model_dump(mode="json", exclude_unset=True),
    )


def submit_kobo(
    session: Session,
    *,
    principal: Principal,
    submission: dict[str, Any],
    settings: Settings,
) -> Written:
    """Receive one KoboToolbox/ODK submission for the organisation of ``principal``'s key.

    The form's fields are mapped with the ``kobo`` profile (``api/ingest/profiles``); an
    unknown coded value or a malformed geopoint is a 422 naming the field, the value and a
    JSON pointer into the submission. The submission is kept as sent (restricted).
    """
    if principal.organisation_id is None:
        raise Forbidden("this key belongs to no organisation")
    org = session.get_one(Organisation, principal.organisation_id)
    _require_submitter(principal, org)  # before reading the form: 403 beats 422
    try:
        # kept as sent: NaN and infinity (Python's parser reads them) are not JSON
        servable(submission, "", integers=False)
        fields = kobo.map_report(
            submission, codes={"contamination": [c.value for c in Contamination]}
        )
    except kobo.MappingProblem as exc:
        error = {"pointer": exc.pointer, "message": exc.message}
        if exc.field == "geometry":
            raise InvalidGeometry(exc.message, errors=[error]) from exc
        raise InvalidInput(exc.message, errors=[error]) from exc
    except ValueError as exc:
        raise InvalidInput(
            str(exc), errors=[{"pointer": "", "message": str(exc)}]
        ) from exc
    return _store(
        session,
        principal=principal,
        settings=settings,
        org=org,
        source=ReportSource.kobo.value,
        fields=fields,
        raw=submission,
        form_fields=True,
    )


# --- reading ---------------------------------------------------------------------------------

# A reported point is where someone saw an item: located like an EO find, it is exact for
# callers who see exact locations (``auth.sees_exact_locations``) and snapped to the 0.01°
# grid for the others, and every filter and count works on the point they see. Reported
# areas (rough polygons) are shown as drawn.
SEEN_GEOM = (
    "(CASE WHEN CAST(:exact AS boolean) OR GeometryType(r.geom) <> 'POINT' THEN r.geom "
    "ELSE ST_SnapToGrid(r.geom, :grid) END)"
)

# Never hazard_report_contacts nor raw_submission: those are read apart, with restricted:read.
COLUMNS = f"""
r.id, r.external_id, o.code AS organisation, r.source, r.status, r.reported_on,
r.description, r.contamination, r.location_text, r.gps_accuracy_m, r.hazard_id,
r.submitted_by, r.verified_by, r.verified_at, r.decided_by, r.decided_at, r.decision_note,
r.version, r.created_at, r.updated_at, ST_AsGeoJSON({SEEN_GEOM}, 9) AS geometry,
CASE WHEN r.geom IS NULL THEN NULL
     WHEN CAST(:exact AS boolean) OR GeometryType(r.geom) <> 'POINT' THEN 'exact'
     ELSE 'generalised_0.01deg' END AS location_precision
"""
FROM_SQL = """
FROM hazard_reports r
JOIN organisations o ON o.id = r.organisation_id
"""
SELECT_SQL = "SELECT " + COLUMNS + FROM_SQL
DETAIL_SQL = (
    "SELECT "
    + COLUMNS
    + """, r.organisation_id, r.warnings AS intake_warnings,
       EXISTS (SELECT 1 FROM hazard_report_contacts c WHERE c.report_id = r.id)
           AS has_contacts"""
    + FROM_SQL
    + " WHERE r.id = :id"
)

FILTER_SQL = """
WHERE (CAST(:status AS text) IS NULL OR r.status = :status)
  AND (CAST(:source AS text) IS NULL OR r.source = :source)
  AND (CAST(:organisation AS text) IS NULL OR o.code = :organisation)
  AND (CAST(:own_org AS uuid) IS NULL OR r.organisation_id = CAST(:own_org AS uuid))
  AND {bbox}
""".format(bbox=seen_bbox_sql("r.geom", SEEN_GEOM))


def _own_org_only(principal: Principal) -> uuid.UUID | None:
    """EORE staff read only their own organisation's reports."""
    if principal.role == Role.eore:
        if principal.organisation_id is None:
            raise Forbidden(
                "EORE staff read their organisation's reports; you have none"
            )
        return principal.organisation_id
    return None


def _feature(row: dict[str, Any]) -> dict[str, Any]:
    props = {k: row[k] for k in row if k != "geometry"}
    geometry = row["geometry"]
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": orjson.Fragment(geometry) if geometry is not None else None,
        "properties": props,
    }


ORDER = paging.Keyset(
    "hazard-reports",
    (
        paging.Key("r.reported_on", "reported_on", "date", desc=True),
        paging.Key("r.created_at", "created_at", "datetime", desc=True),
        paging.Key("r.id", "id", "uuid"),
    ),
)


def search(
    session: Session,
    *,
    principal: Principal | None,
    filters: ReportFilters,
    limit: int,
    offset: int,
    after: str | None = None,
) -> tuple[list[dict], int]:
    """A page of reports as Features (never with contacts), and the number matched."""
    principal = require_reader(principal)
    window = ORDER.window(after=after, limit=limit, offset=offset)
    params = {
        "status": filters.status,
        "source": filters.source,
        "organisation": filters.organisation,
        "bbox": bbox_param(filters.bbox),
        "own_org": _own_org_only(principal),
        **location_params(sees_exact_locations(principal)),
        **window.params,
    }
    matched = session.execute(
        text("SELECT count(*)" + FROM_SQL + FILTER_SQL),
        params,
    ).scalar_one()
    sql = text(SELECT_SQL + FILTER_SQL + window.sql)
    rows = session.execute(sql, params).mappings().all()
    return window.items([_feature(dict(r)) for r in rows], rows), int(matched)


def get(
    session: Session, *, principal: Principal | None, report_id: uuid.UUID
) -> dict[str, Any]:
    """One report as a Feature with its workflow log.

    ``contacts`` and ``raw_submission`` are present only for callers with
    ``restricted:read``.
    """
    principal = require_reader(principal)
    row = read_one(
        session,
        text(DETAIL_SQL),
        {"id": report_id, **location_params(sees_exact_locations(principal))},
        f"no {KIND} {report_id}",
    )
    own = _own_org_only(principal)
    if own is not None and row["organisation_id"] != own:
        raise Forbidden("EORE staff read only their own organisation's reports")
    del row["organisation_id"]
    feature = _feature(row)
    events = session.scalars(
        select(HazardReportEvent)
        .where(HazardReportEvent.report_id == report_id)
        .order_by(HazardReportEvent.seq)
    )
    feature["properties"]["events"] = [
        {
            "seq": e.seq,
            "action": e.action,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "at": e.at,
            "by": e.actor,
            "note": e.note,
            "hazard_id": e.hazard_id,
        }
        for e in events
    ]
    if can_read_restricted(principal):
        contacts = session.scalars(
            select(HazardReportContact)
            .where(HazardReportContact.report_id == report_id)
            .order_by(HazardReportContact.seq)
        )
        feature["properties"]["contacts"] = [
            {
                "name": c.name,
                "phone": c.phone,
                "email": c.email,
                "role": c.role,
                "consent_to_contact": c.consent_to_contact,
                "notes": c.notes,
            }
            for c in contacts
        ]
        feature["properties"]["raw_submission"] = session.scalar(
            select(HazardReport.raw_submission).where(HazardReport.id == report_id)
        )
    return feature


# --- the workflow ----------------------------------------------------------------------------


def _require_decider(
    session: Session, principal: Principal | None, report: HazardReport
) -> Principal:
    """Coordinators of the receiving organisation, and admins."""
    org = session.get_one(Organisation, report.organisation_id)
    require_writer(principal, org.id, org.code)
    return require_reader(principal)


def _require_second_pair_of_eyes(
    session: Session, principal: Principal, report: HazardReport, action: ReportAction
) -> None:
    """Verify and accept are done by someone other than whoever wrote the report.

    The four-eyes rule of the acceptance chain (domain.md §1.13: a supervisor's verification,
    then acceptance): whoever submitted the report or changed it by a re-send, user or API
    key, cannot verify or accept it. Rejecting is not a way to make a hazard and stays open.
    """
    if action not in (ReportAction.verify, ReportAction.accept):
        return
    authors = session.execute(
        select(
            HazardReportEvent.actor_user_id, HazardReportEvent.actor_api_key_id
        ).where(
            HazardReportEvent.report_id == report.id,
            HazardReportEvent.action.in_(
                [ReportAction.submit.value, ReportAction.resubmit.value]
            ),
        )
    ).all()
    users = {u for u, _ in authors} | {report.submitted_by_user_id}
    keys = {k for _, k in authors} | {report.submitted_by_api_key_id}
    if (principal.user_id is not None and principal.user_id in users) or (
        principal.api_key_id is not None and principal.api_key_id in keys
    ):
        raise Forbidden(
            f"you submitted this report, so someone else must {action.value} it "
            "(four-eyes rule: a report is checked and accepted by a second person)"
        )


def _check_transition(report: HazardReport, action: ReportAction) -> None:
    sources, _ = TRANSITIONS[action]
    status = ReportStatus(report.status)
    if status in sources:
        return
    allowed = [a.value for a, (froms, _) in TRANSITIONS.items() if status in froms]
    if status in (ReportStatus.accepted, ReportStatus.rejected):
        hint = "the decision on it is final"
    elif action in (ReportAction.accept, ReportAction.reject):
        hint = "verify it first (POST .../verify)"
    else:
        hint = "it has been verified already"
    raise Conflict(
        f"cannot {action.value} a report that is {status.value}: {hint}",
        current_status=status.value,
        allowed_actions=allowed,
    )


def _apply(
    session: Session,
    report: HazardReport,
    action: ReportAction,
    principal: Principal,
    *,
    note: str | None,
    hazard_id: uuid.UUID | None = None,
) -> None:
    """Move ``report`` along ``action`` and log it (the caller has checked it may)."""
    from_status = report.status
    report.status = TRANSITIONS[action][1].value
    if action == ReportAction.verify:
        report.verified_by = principal.name
        report.verified_at = func.now()
    else:
        report.decided_by = principal.name
        report.decided_at = func.now()
        report.decision_note = note
        report.hazard_id = hazard_id
    report.version += 1
    report.updated_at = func.now()
    _event(
        session,
        report,
        action,
        principal,
        from_status=from_status,
        note=note,
        hazard_id=hazard_id,
    )


def _start(
    session: Session,
    principal: Principal | None,
    report_id: uuid.UUID,
    action: ReportAction,
    if_match: str | None,
) -> tuple[HazardReport, Principal]:
    report = lock(session, HazardReport, report_id, KIND)
    try:
        principal = _require_decider(session, principal, report)
        if action == ReportAction.accept:
            # accepting links the report to a hazard or creates one: a hazard write
            require_scope(
                principal, "hazards:write", "accepting a report into a hazard"
            )
        _require_second_pair_of_eyes(session, principal, report, action)
        # If-Match is optional on transitions; when sent it must name the current version
        check_if_match(if_match, report.version, KIND, required=False)
        _check_transition(report, action)
    except Exception:
        session.rollback()
        raise
    return report, principal


def verify(
    session: Session,
    *,
    principal: Principal | None,
    report_id: uuid.UUID,
    note: str | None = None,
    if_match: str | None = None,
) -> Written:
    """Record that a coordinator checked the report (submitted → verified)."""
    report, principal = _start(
        session, principal, report_id, ReportAction.verify, if_match
    )
    _apply(session, report, ReportAction.verify, principal, note=note)
    session.commit()
    return Written(report.id, report.version)


def reject(
    session: Session,
    *,
    principal: Principal | None,
    report_id: uuid.UUID,
    note: str,
    if_match: str | None = None,
) -> Written:
    """Reject a verified report; the note saying why is required."""
    if not note or not note.strip():
        raise InvalidInput(
            "a rejection needs a note saying why",
            errors=[{"pointer": "/note", "message": "required"}],
        )
    report, principal = _start(
        session, principal, report_id, ReportAction.reject, if_match
    )
    _apply(session, report, ReportAction.reject, principal, note=note.strip())
    session.commit()
    return Written(report.id, report.version)


def accept(
    session: Session,
    *,
    principal: Principal | None,
    report_id: uuid.UUID,
    body: AcceptBody,
    settings: Settings,
    if_match: str | None = None,
) -> Written:
    """Accept a verified report: link it to a hazard, or create an SHA from it.

    ``{"hazard_id": ...}`` links the report and changes nothing on the hazard (no version,
    status, figure or priority indicator reads reports), so the hazard may be another
    organisation's: the decision is the receiving organisation's (tests/
    test_cross_organisation.py checks the hazard is unchanged). ``{"create":
    {...}}`` creates one hazard (classification SHA) with the report's geometry, or the
    perimeter given in ``create.geometry``, for the accepting coordinator's organisation;
    the report is accepted and linked in the same transaction.
    """
    if (body.hazard_id is None) == (body.create is None):
        raise InvalidInput(
            "send either hazard_id (link to an existing hazard) or create (a new SHA)",
            errors=[{"pointer": "", "message": "exactly one of hazard_id, create"}],
        )
    report, principal = _start(
        session, principal, report_id, ReportAction.accept, if_match
    )
    try:
        if body.create is None:  # then hazard_id is given (checked above): a link
            hazard = session.get(Hazard, body.hazard_id)
            if hazard is None or hazard.retired_at is not None:
                raise InvalidInput(
                    f"no hazard {body.hazard_id}",
                    errors=[{"pointer": "/hazard_id", "message": "unknown hazard"}],
                )
            _apply(
                session,
                report,
                ReportAction.accept,
                principal,
                note=body.note,
                hazard_id=hazard.id,
            )
            session.commit()
            return Written(report.id, report.version)
        feature = _hazard_feature(session, report, body.create, principal, settings)
    except Exception:
        session.rollback()
        raise
    return _accept_creating(session, report, principal, feature, body.note, settings)


def _hazard_feature(
    session: Session,
    report: HazardReport,
    create: AcceptCreate,
    principal: Principal,
    settings: Settings,
) -> HazardFeatureCreate:
    """The Feature ``create_hazard`` receives, checked with pointers into the accept body."""
    if create.classification != Classification.SHA:
        raise InvalidInput(
            "a hazard created from a report is a suspected hazardous area (SHA); "
            "reclassify it as CHA once survey finds direct evidence",
            errors=[{"pointer": "/create/classification", "message": "must be SHA"}],
        )
    if create.geometry is not None:
        intake = _intake(
            create.geometry,
            pointer="/create/geometry",
            settings=settings,
            field_pointer=None,
            level=extent.programme_level(session),
        )
        geometry, pointer = create.geometry, "/create/geometry"
        is_point = intake.geometry.geom_type == "Point"
    elif report.geom is not None:
        shape = to_shape(report.geom)
        geometry, pointer = to_geojson(shape), "/create/hazard_type"
        is_point = shape.geom_type == "Point"
    else:
        raise InvalidInput(
            "the report has no geometry; send create.geometry with the perimeter drawn "
            "after verification, or link the report to an existing hazard",
            errors=[{"pointer": "/create/geometry", "message": "required"}],
        )
    if is_point and create.hazard_type not in POINT_HAZARD_TYPES:
        raise InvalidGeometry(
            "the report locates a single point, and a point makes a hazard only of "
            "hazard_type uxo_spot or axo_site; send create.geometry with the perimeter "
            "for an area hazard, or link the report to an existing hazard",
            errors=[
                {
                    "pointer": pointer,
                    "message": "a Point needs hazard_type uxo_spot or axo_site, "
                    f"not {create.hazard_type.value if create.hazard_type else None!r}",
                }
            ],
        )
    org_code = create.organisation or principal.organisation_code
    if org_code is None:
        org_code = session.get_one(Organisation, report.organisation_id).code
    org = _receiving_org(session, org_code, principal)
    if create.external_id is not None:
        existing = session.scalar(
            select(Hazard.id).where(
                Hazard.organisation_id == org.id,
                Hazard.external_id == create.external_id,
                Hazard.retired_at.is_(None),
            )
        )
        if existing is not None:
            raise Conflict(
                f"hazard {existing} already has external_id {create.external_id!r}; "
                'to attach this report to it, accept with {"hazard_id": ...}',
                errors=[{"pointer": "/create/external_id", "message": "already used"}],
            )
    properties: dict[str, Any] = {
        "classification": Classification.SHA.value,
        "organisation": org.code,
        "contamination": [c.value for c in create.contamination]
        if create.contamination is not None
        else list(report.contamination),
        "date_of_information": (
            create.date_of_information or report.reported_on
        ).isoformat(),
    }
    for name in ("hazard_type", "name", "external_id", "evidence", "notes"):
        value = getattr(create, name)
        if value is not None:
            properties[name] = value.value if hasattr(value, "value") else value
    return HazardFeatureCreate.model_validate(
        {"type": "Feature", "geometry": geometry, "properties": properties}
    )


def _accept_creating(
    session: Session,
    report: HazardReport,
    principal: Principal,
    feature: HazardFeatureCreate,
    note: str | None,
    settings: Settings,
) -> Written:
    """Create the hazard and accept the report in one transaction (one commit)."""
    try:
        result = hazards.create_hazard(
            session,
            feature=feature,
            principal=principal,
            settings=settings,
            source=f"{HAZARD_SOURCE_PREFIX}{report.id}",
            commit=False,
        )
        _apply(
            session,
            report,
            ReportAction.accept,
            principal,
            note=note,
            hazard_id=result.id,
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    return Written(report.id, report.version, False, result.warnings)

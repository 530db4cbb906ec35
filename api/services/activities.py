"""Land-release activities and their release polygons.

Attribution of a release polygon to a hazard: the hazard named in its ``hazard_id`` property;
otherwise, when the activity addresses one hazard, that hazard; otherwise every linked hazard it
overlaps (one row each, since each hazard's accounting subtracts only its own releases). A
polygon touching none of the hazards it may release is refused, with the words a file row of
releases gets (``gate.releases_touching``); one touching its hazard lies in the programme's
extent as the hazard does. A hazard re-surveyed away from an earlier release keeps that
release, counted as lying outside it.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import shapely
from geoalchemy2.shape import from_shape
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from api import paging
from api.db.models import Activity, ActivityHazard, Hazard, Organisation, ReleasePolygon
from api.errors import Conflict, Forbidden, InvalidGeometry, InvalidInput, NotFound
from api.ingest import gate
from api.schemas.activities import ActivityCreate, ActivityPatch, ReleaseCollection
from api.services import land_release
from api.services.auth import Principal, organisation_by_code, require_writer
from api.services.hazards import hazard_ids_for
from api.services.versioned import (
    external_id_guard,
    next_version,
    open_for_change,
    retire,
    save,
)
from api.settings import Settings
from api.spatial.intake import IntakeProblem, intake_geometry
from api.vocab import ActivityType, ReleaseOutcome, Role

KIND = "activity"  # how 404s and 412s name the record
EXPECTED_OUTCOMES = {
    ActivityType.non_technical_survey: {ReleaseOutcome.cancelled},
    ActivityType.technical_survey: {ReleaseOutcome.reduced, ReleaseOutcome.cancelled},
    ActivityType.clearance: {ReleaseOutcome.cleared, ReleaseOutcome.reduced},
    ActivityType.battle_area_clearance: {
        ReleaseOutcome.cleared,
        ReleaseOutcome.reduced,
    },
    ActivityType.eod_spot_task: {ReleaseOutcome.cleared},
}
OUTSIDE_WARN_M2 = 0.01


@dataclass
class ActivityWriteResult:
    """What an activity write did."""

    id: uuid.UUID
    version: int
    created: bool
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Release:
    index: int
    hazard_ids: list[uuid.UUID]
    outcome: str
    date: date
    geometry: Any
    submitted: Any
    properties: dict
    warnings: list[str]


def _resolve_hazards(
    session: Session, refs: list[str], pointer: str
) -> list[uuid.UUID]:
    found = hazard_ids_for(session, refs)
    missing = [(i, r) for i, r in enumerate(refs) if r not in found]
    if missing:
        raise InvalidInput(
            f"unknown hazard {missing[0][1]!r}",
            errors=[
                {"pointer": f"{pointer}/{i}", "message": f"no hazard {r!r}"}
                for i, r in missing
            ],
        )
    return list(dict.fromkeys(found[r] for r in refs))


def _require_hazard_writer(
    session: Session, principal: Principal | None, hazard_ids: list[uuid.UUID]
) -> None:
    """Recording work on a hazard changes what remains of it (a cleared release can close it),
    so it needs the right to edit that hazard: admins, or coordinators of its organisation
    (as PATCH and DELETE of the hazard). The caller has passed ``require_writer`` already."""
    if principal is None or principal.role == Role.admin or not hazard_ids:
        return
    rows = session.execute(
        select(Hazard.id, Hazard.organisation_id, Organisation.code)
        .join(Organisation, Organisation.id == Hazard.organisation_id)
        .where(Hazard.id.in_(hazard_ids))
    ).all()
    foreign = [
        (hid, code) for hid, org_id, code in rows if org_id != principal.organisation_id
    ]
    if foreign:
        hid, code = foreign[0]
        raise Forbidden(
            f"hazard {hid} belongs to {code}: an activity or release on it is recorded by "
            f"{code} or an admin, as for editing it (you write for "
            f"{principal.organisation_code})"
        )


def _prepare_releases(
    session: Session,
    releases: ReleaseCollection | None,
    *,
    activity_type: str,
    hazard_ids: list[uuid.UUID],
    default_date: date | None,
    settings: Settings,
) -> list[_Release]:
    if releases is None:
        return []
    today = datetime.now(UTC).date() + timedelta(days=1)
    prepared, errors = [], []
    for i, feature in enumerate(releases.features):
        base = f"/releases/features/{i}"
        props = feature.properties
        try:
            intake = intake_geometry(
                feature.geometry,
                pointer=f"{base}/geometry",
                max_vertices=settings.max_vertices,
            )
        except IntakeProblem as exc:
            errors.extend(exc.errors)
            continue
        day = props.date or default_date
        if day is None:
            errors.append(
                {
                    "pointer": f"{base}/properties/date",
                    "message": "date is required when the activity has no end_date",
                }
            )
            continue
        if day > today:
            errors.append(
                {
                    "pointer": f"{base}/properties/date",
                    "message": f"release date {day.isoformat()} is in the future",
                }
            )
            continue
        warnings = list(intake.warnings)
        if props.outcome not in EXPECTED_OUTCOMES[ActivityType(activity_type)]:
            warnings.append(
                f"{base}: outcome {props.outcome.value!r} is unusual for a {activity_type}"
            )
        extra = dict(props.model_extra or {})
        targets = hazard_ids
        if props.hazard_id:
            target = hazard_ids_for(session, [props.hazard_id]).get(props.hazard_id)
            if target is None or target not in hazard_ids:
                errors.append(
                    {
                        "pointer": f"{base}/properties/hazard_id",
                        "message": f"{props.hazard_id!r} is not one of the activity's "
                        "hazards",
                    }
                )
                continue
            targets = [target]
        prepared.append(
            _Release(
                i,
                targets,
                props.outcome.value,
                day,
                intake.geometry,
                feature.geometry,
                extra,
                warnings,
            )
        )
    if errors:
        raise InvalidGeometry(
            f"{len(errors)} release polygon problem(s); first at {errors[0]['pointer']}: "
            f"{errors[0]['message']}",
            errors=errors,
        )
    return _attribute(session, prepared, hazard_ids)


def _attribute(session: Session, releases: list[_Release], hazard_ids: list[uuid.UUID]):
    """Refuse a release touching none of its hazards (the import's rule, one query), and
    narrow a release of several linked hazards to those its polygon touches."""
    touching = gate.releases_touching(
        session, [(r.index, r.geometry, r.hazard_ids) for r in releases]
    )
    errors = []
    for r in releases:
        hit = touching.get(r.index)
        if not hit:
            errors.append(
                {
                    "pointer": f"/releases/features/{r.index}/geometry",
                    "message": gate.RELEASE_TOUCHES_NONE,
                }
            )
            continue
        if len(r.hazard_ids) > 1:
            r.hazard_ids = [h for h in r.hazard_ids if str(h) in hit]
            if len(r.hazard_ids) > 1:
                r.warnings.append(
                    f"/releases/features/{r.index}: counted for each of the "
                    f"{len(r.hazard_ids)} linked hazards it overlaps"
                )
    if errors:
        raise InvalidGeometry(errors[0]["message"], errors=errors)
    return releases


def _store_releases(
    session: Session, activity: Activity, releases: list[_Release]
) -> None:
    for r in releases:
        geom = from_shape(r.geometry, srid=4326)
        area = func.sg_area_m2(func.ST_GeomFromWKB(shapely.to_wkb(r.geometry), 4326))
        for hid in r.hazard_ids:
            session.add(
                ReleasePolygon(
                    activity_id=activity.id,
                    hazard_id=hid,
                    feature_index=r.index,
                    outcome=r.outcome,
                    date=r.date,
                    geom=geom,
                    area_m2=area,
                    properties=r.properties,
                    submitted_geometry=r.submitted if r.warnings else None,
                    warnings=r.warnings,
                )
            )


def _retire_releases(session: Session, activity_id: uuid.UUID) -> set[uuid.UUID]:
    hazard_ids = set(
        session.scalars(
            update(ReleasePolygon)
            .where(
                ReleasePolygon.activity_id == activity_id,
                ReleasePolygon.retired_at.is_(None),
            )
            .values(retired_at=func.now())
            .returning(ReleasePolygon.hazard_id)
        )
    )
    return hazard_ids


def _link(session: Session, activity_id: uuid.UUID, hazard_ids: list[uuid.UUID]) -> set:
    old = set(
        session.scalars(
            delete(ActivityHazard)
            .where(ActivityHazard.activity_id == activity_id)
            .returning(ActivityHazard.hazard_id)
        )
    )
    for hid in hazard_ids:
        session.add(ActivityHazard(activity_id=activity_id, hazard_id=hid))
    return old


def _outside_warnings(session: Session, activity_id: uuid.UUID) -> list[str]:
    rows = session.execute(
        text(
            "SELECT r.feature_index, h.name, h.id, r.outside_area_m2 "
            "FROM release_polygons r JOIN hazards h ON h.id = r.hazard_id "
            "WHERE r.activity_id = :a AND r.retired_at IS NULL "
            "AND r.outside_area_m2 > :t ORDER BY r.feature_index"
        ),
        {"a": activity_id, "t": OUTSIDE_WARN_M2},
    ).all()
    return [
        f"/releases/features/{i}: {outside:.1f} m² lie outside hazard {name or hid}; "
        "that part is not counted against it"
        for i, name, hid, outside in rows
    ]


def _external_id_taken() -> Conflict:
    return Conflict(
        "another activity of this organisation already has that external_id",
        errors=[{"pointer": "/external_id", "message": "already used"}],
    )


def _commit(session: Session, commit: bool = True) -> None:
    """Commit (or, inside a larger unit of work such as an import, only flush)."""
    save(session, commit=commit, external_id_taken=_external_id_taken())


def create_activity(
    session: Session,
    *,
    body: ActivityCreate,
    principal: Principal | None,
    settings: Settings,
    is_demo: bool = False,
    commit: bool = True,
) -> ActivityWriteResult:
    """Create an activity with its releases, or replace the one with the same external_id."""
    code = body.organisation or (principal.organisation_code if principal else None)
    if code is None:
        raise InvalidInput(
            "organisation is required",
            errors=[{"pointer": "/organisation", "message": "required"}],
        )
    try:
        org = organisation_by_code(session, code)
    except NotFound as exc:
        raise InvalidInput(
            f"unknown organisation {code!r}",
            errors=[{"pointer": "/organisation", "message": "unknown"}],
        ) from exc
    require_writer(principal, org.id, org.code)
    hazard_ids = _resolve_hazards(session, body.hazard_ids, "/hazard_ids")
    _require_hazard_writer(session, principal, hazard_ids)
    releases = _prepare_releases(
        session,
        body.releases,
        activity_type=body.activity_type.value,
        hazard_ids=hazard_ids,
        default_date=body.end_date,
        settings=settings,
    )
    activity: Activity | None = None
    if body.external_id:
        activity = session.scalar(
            select(Activity)
            .where(
                Activity.organisation_id == org.id,
                Activity.external_id == body.external_id,
                Activity.retired_at.is_(None),
            )
            .with_for_update()
        )
    created = activity is None
    if activity is None:
        activity = Activity(
            organisation_id=org.id,
            version=1,
            is_demo=is_demo,
            created_by=principal.user_id if principal else None,
        )
        session.add(activity)
    else:
        next_version(activity)
    activity.external_id = body.external_id
    activity.activity_type = body.activity_type.value
    activity.status = body.status.value
    activity.start_date = body.start_date
    activity.end_date = body.end_date
    activity.methods = [m.value for m in dict.fromkeys(body.methods)]
    activity.clearance_depth_cm = body.clearance_depth_cm
    activity.notes = body.notes
    session.flush()
    touched = set(hazard_ids)
    if not created:
        touched |= _retire_releases(session, activity.id)
    touched |= _link(session, activity.id, hazard_ids)
    _store_releases(session, activity, releases)
    session.flush()
    land_release.recompute(session, touched)
    warnings = [w for r in releases for w in r.warnings] + _outside_warnings(
        session, activity.id
    )
    _commit(session, commit)
    return ActivityWriteResult(activity.id, activity.version, created, warnings)


def update_activity(
    session: Session,
    *,
    activity_id: uuid.UUID,
    body: ActivityPatch,
    principal: Principal | None,
    settings: Settings,
    if_match: str | None,
    commit: bool = True,
) -> ActivityWriteResult:
    """Change an activity; sent ``releases`` replace the previous ones (kept as retired)."""
    activity = open_for_change(
        session, Activity, activity_id, KIND, principal=principal, if_match=if_match
    )
    sent = body.model_fields_set
    touched: set[uuid.UUID] = set(
        session.scalars(
            select(ActivityHazard.hazard_id).where(
                ActivityHazard.activity_id == activity.id
            )
        )
    )
    hazard_ids = list(touched)
    if "hazard_ids" in sent and body.hazard_ids is not None:
        hazard_ids = _resolve_hazards(session, body.hazard_ids, "/hazard_ids")
        _require_hazard_writer(session, principal, hazard_ids)
        touched |= _link(session, activity.id, hazard_ids)
        touched |= set(hazard_ids)
    for name in (
        "external_id",
        "activity_type",
        "status",
        "start_date",
        "end_date",
        "clearance_depth_cm",
        "notes",
        "methods",
    ):
        if name in sent:
            value = getattr(body, name)
            if name == "methods":
                value = [m.value for m in dict.fromkeys(value or [])]
            elif hasattr(value, "value"):
                value = value.value
            if name in ("activity_type", "status") and value is None:
                raise InvalidInput(
                    f"{name} cannot be removed",
                    errors=[{"pointer": f"/{name}", "message": "required"}],
                )
            setattr(activity, name, value)
    if (
        activity.start_date
        and activity.end_date
        and activity.end_date < activity.start_date
    ):
        raise InvalidInput(
            "end_date is before start_date",
            errors=[{"pointer": "/end_date", "message": "before start_date"}],
        )
    releases: list[_Release] = []
    if "releases" in sent:
        _require_hazard_writer(session, principal, hazard_ids)
        releases = _prepare_releases(
            session,
            body.releases,
            activity_type=activity.activity_type,
            hazard_ids=hazard_ids,
            default_date=activity.end_date,
            settings=settings,
        )
        touched |= _retire_releases(session, activity.id)
        _store_releases(session, activity, releases)
    next_version(activity)
    with external_id_guard(session, _external_id_taken()):  # a PATCH to a taken id
        session.flush()
    land_release.recompute(session, touched)
    warnings = [w for r in releases for w in r.warnings] + _outside_warnings(
        session, activity.id
    )
    _commit(session, commit)
    return ActivityWriteResult(activity.id, activity.version, False, warnings)


def retire_activity(
    session: Session,
    *,
    activity_id: uuid.UUID,
    principal: Principal | None,
    if_match: str | None,
) -> ActivityWriteResult:
    """Retire an activity and its releases; the hazards' figures are recomputed."""
    activity = open_for_change(
        session, Activity, activity_id, KIND, principal=principal, if_match=if_match
    )
    touched = _retire_releases(session, activity.id) | set(
        session.scalars(
            select(ActivityHazard.hazard_id).where(
                ActivityHazard.activity_id == activity.id
            )
        )
    )
    retire(activity)
    session.flush()
    land_release.recompute(session, touched)
    _commit(session)
    return ActivityWriteResult(activity.id, activity.version, False, [])


ACTIVITY_SELECT = """
SELECT a.id, a.external_id, a.activity_type, a.status, o.code AS organisation,
       a.start_date, a.end_date, a.methods, a.clearance_depth_cm, a.notes, a.version,
       a.is_demo, a.created_at, a.updated_at,
       ARRAY(SELECT ah.hazard_id FROM activity_hazards ah WHERE ah.activity_id = a.id
             ORDER BY ah.hazard_id) AS hazard_ids
FROM activities a
JOIN organisations o ON o.id = a.organisation_id
"""

ACTIVITY_FILTER = """
WHERE a.retired_at IS NULL
  AND (CAST(:organisation AS text) IS NULL OR o.code = :organisation)
  AND (CAST(:activity_type AS text) IS NULL OR a.activity_type = :activity_type)
  AND (CAST(:status AS text) IS NULL OR a.status = :status)
  AND (CAST(:hazard AS uuid) IS NULL OR EXISTS (
        SELECT 1 FROM activity_hazards ah WHERE ah.activity_id = a.id
           AND ah.hazard_id = CAST(:hazard AS uuid)))
  AND (CAST(:updated_since AS timestamptz) IS NULL OR a.updated_at >= :updated_since)
"""

RELEASES_SQL = """
SELECT r.activity_id, r.id, r.hazard_id, r.feature_index, r.outcome, r.date, r.area_m2,
       r.effective_area_m2, r.outside_area_m2, r.properties, r.warnings,
       ST_AsGeoJSON(r.geom, 9) AS geometry
FROM release_polygons r
WHERE r.activity_id = ANY(CAST(:ids AS uuid[])) AND r.retired_at IS NULL
ORDER BY r.activity_id, r.feature_index, r.hazard_id
"""


def _with_releases(session: Session, rows: list[dict]) -> list[dict]:
    by_id = {
        r["id"]: {**r, "releases": {"type": "FeatureCollection", "features": []}}
        for r in rows
    }
    if not by_id:
        return []
    for rel in session.execute(
        text(RELEASES_SQL), {"ids": [str(i) for i in by_id]}
    ).mappings():
        props = {
            **rel["properties"],
            "id": rel["id"],
            "hazard_id": rel["hazard_id"],
            "outcome": rel["outcome"],
            "date": rel["date"],
            "area_m2": rel["area_m2"],
            "counted_area_m2": rel["effective_area_m2"],
            "outside_area_m2": rel["outside_area_m2"],
        }
        if rel["warnings"]:
            props["warnings"] = rel["warnings"]
        by_id[rel["activity_id"]]["releases"]["features"].append(
            {
                "type": "Feature",
                "id": rel["id"],
                "geometry": orjson.Fragment(rel["geometry"]),
                "properties": props,
            }
        )
    return list(by_id.values())


def get_activity(session: Session, activity_id: uuid.UUID) -> dict:
    """One activity with its releases; NotFound if unknown or retired."""
    row = (
        session.execute(
            text(ACTIVITY_SELECT + " WHERE a.id = :id AND a.retired_at IS NULL"),
            {"id": activity_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no activity {activity_id}")
    return _with_releases(session, [dict(row)])[0]


ORDER = paging.Keyset(
    "activities",
    (
        paging.Key("a.start_date", "start_date", "date", desc=True, nulls="last"),
        paging.Key("a.id", "id", "uuid"),
    ),
)


def search(
    session: Session,
    *,
    filters: dict[str, Any],
    limit: int,
    offset: int,
    after: str | None = None,
) -> tuple[list[dict], int]:
    """A page of activities with their releases, and the number matched."""
    window = ORDER.window(after=after, limit=limit, offset=offset)
    params = {
        "organisation": None,
        "activity_type": None,
        "status": None,
        "hazard": None,
        "updated_since": None,
        **filters,
        **window.params,
    }
    matched = session.execute(
        text(
            "SELECT count(*) FROM activities a JOIN organisations o ON o.id = a.organisation_id"
            + ACTIVITY_FILTER
        ),
        params,
    ).scalar_one()
    sql = text(ACTIVITY_SELECT + ACTIVITY_FILTER + window.sql)
    rows = session.execute(sql, params).mappings().all()
    listed = _with_releases(session, [dict(r) for r in rows[:limit]])
    return window.items(listed, rows), int(matched)

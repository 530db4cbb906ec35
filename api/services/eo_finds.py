"""Explosive-ordnance finds.

Exact find locations are restricted in public products. Inside the platform, admins,
coordinators and anyone with ``restricted:read`` see them exactly; other roles see them
snapped to a 0.01° grid (about 1 km), flagged with ``location_precision``.

Whatever such a caller asks is answered from the snapped point, never the exact one: ``bbox``
matches the point as returned, and so does ``numberMatched``, so narrowing a box (halving it
again and again, keeping the half that still matches) finds the grid point and nothing finer
(``api/services/filters.py``, shared with accidents, hazard reports and EORE sessions).

Links across organisations: a find recorded in an activity (``activity_id``) is a result of
that activity's work, so it is recorded by the activity's organisation or an admin (403
otherwise). A find linked only to a hazard (``hazard_id``) may name another organisation's
hazard: an EOD team of any operator may find an item there, and the link changes nothing of
the hazard (no version, status, area figure or priority indicator reads finds).
"""

import uuid
from typing import Any

from geoalchemy2.shape import from_shape
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import paging
from api.db.models import Activity, EOFind, Hazard, Organisation
from api.errors import Conflict, Forbidden, InvalidGeometry, InvalidInput, NotFound
from api.ingest import gate
from api.schemas.eo_finds import EOFindFeature
from api.services import extent
from api.services.auth import (
    Principal,
    organisation_by_code,
    require_writer,
    sees_exact_locations,
)
from api.services.filters import location_params, seen_bbox_sql, seen_point_sql
from api.services.filters import point_feature as _feature
from api.services.hazards import hazard_ids_for
from api.services.versioned import read_one
from api.spatial.intake import IntakeProblem, intake_geometry


def create(
    session: Session,
    *,
    feature: EOFindFeature,
    principal: Principal | None,
    is_demo: bool = False,
    commit: bool = True,
    origin: dict[str, Any] | None = None,
    gated: bool = False,
) -> tuple[uuid.UUID, bool, list[str]]:
    """Record a find (or update the one with the same external_id); returns id, created.

    ``gated``: the programme extent was checked already (an import checks its batch).
    """
    props = feature.properties
    try:
        intake = intake_geometry(
            feature.geometry, pointer="/geometry", allow_point=True, allow_polygon=False
        )
    except IntakeProblem as exc:
        raise InvalidGeometry(exc.errors[0]["message"], errors=exc.errors) from exc
    point = intake.geometry
    if not gated:
        extent.check(session, point)
    activity = hazard_id = None
    if props.activity_id:
        activity = session.get(Activity, props.activity_id)
        if activity is None or activity.retired_at is not None:
            raise InvalidInput(
                "unknown activity",
                errors=[
                    {
                        "pointer": "/properties/activity_id",
                        "message": f"no activity {props.activity_id}",
                    }
                ],
            )
    if props.hazard_id:
        hazard_id = hazard_ids_for(session, [props.hazard_id]).get(props.hazard_id)
        if hazard_id is None:
            raise InvalidInput(
                "unknown hazard",
                errors=[
                    {
                        "pointer": "/properties/hazard_id",
                        "message": f"no hazard {props.hazard_id!r}",
                    }
                ],
            )
    if activity is None and hazard_id is None:
        raise InvalidInput(
            "a find belongs to an activity or a hazard",
            errors=[
                {
                    "pointer": "/properties/activity_id",
                    "message": "give activity_id or hazard_id",
                }
            ],
        )
    if props.organisation:
        try:
            org = organisation_by_code(session, props.organisation)
        except NotFound as exc:
            raise InvalidInput(
                "unknown organisation",
                errors=[{"pointer": "/properties/organisation", "message": "unknown"}],
            ) from exc
    elif activity is not None:
        org = session.get_one(Organisation, activity.organisation_id)
    elif principal is not None and principal.organisation_id:
        org = session.get_one(Organisation, principal.organisation_id)
    else:  # no activity: a hazard (checked above)
        hazard = session.get_one(Hazard, hazard_id)
        org = session.get_one(Organisation, hazard.organisation_id)
    require_writer(principal, org.id, org.code)
    if activity is not None and activity.organisation_id != org.id:
        # a find made in an activity is a result of that activity's work: recorded by the
        # activity's organisation or an admin (a find linked only to another
        # organisation's hazard is allowed: it changes nothing of that hazard)
        owner = session.get_one(Organisation, activity.organisation_id)
        try:
            require_writer(principal, owner.id, owner.code)
        except Forbidden as exc:
            raise Forbidden(
                f"activity {activity.id} belongs to {owner.code}: its finds are recorded "
                f"by {owner.code} or an admin",
                errors=[
                    {
                        "pointer": "/properties/activity_id",
                        "message": f"an activity of {owner.code}",
                    }
                ],
            ) from exc
    find: EOFind | None = None
    if props.external_id:
        find = session.scalar(
            select(EOFind).where(
                EOFind.organisation_id == org.id,
                EOFind.external_id == props.external_id,
                EOFind.retired_at.is_(None),
            )
        )
    created = find is None
    if find is None:
        find = EOFind(
            organisation_id=org.id,
            is_demo=is_demo,
            created_by=principal.user_id if principal else None,
        )
        session.add(find)
    find.external_id = props.external_id
    find.activity_id = activity.id if activity else None
    find.hazard_id = hazard_id
    find.eo_category = props.eo_category.value
    find.model = props.model
    find.quantity = props.quantity
    find.condition = props.condition.value if props.condition else None
    find.depth_cm = props.depth_cm
    find.found_on = props.found_on
    find.disposal_method = (
        props.disposal_method.value if props.disposal_method else None
    )
    find.notes = props.notes
    find.geom = from_shape(point, srid=4326)
    if origin is not None:
        find.origin = origin
    try:
        if commit:
            session.commit()
        else:
            session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("external_id already used for another find") from exc
    warnings = list(intake.warnings)  # Z/M values dropped
    if not gated:  # an import flags its batch at once
        warnings.extend(gate.same_position_finds(session, [find.id]).get(find.id, []))
    if hazard_id is not None:
        inside = session.execute(
            text(
                "SELECT ST_DWithin(h.geom::geography, f.geom::geography, 100) "
                "FROM hazards h, eo_finds f WHERE h.id = :h AND f.id = :f"
            ),
            {"h": hazard_id, "f": find.id},
        ).scalar()
        if not inside:
            warnings.append(
                "the find lies more than 100 m from its hazard; check the position"
            )
    return find.id, created, warnings


SELECT_SQL = """
SELECT f.id, f.external_id, o.code AS organisation, f.activity_id, f.hazard_id, f.eo_category,
       f.model, f.quantity, f.condition, f.depth_cm, f.found_on, f.disposal_method, f.notes,
       f.is_demo, f.created_at,
       ST_AsGeoJSON({seen}, 9) AS geometry
FROM eo_finds f
JOIN organisations o ON o.id = f.organisation_id
""".format(seen=seen_point_sql("f.geom"))

# every spatial test on what the caller sees (location_params)
FILTER_SQL = """
WHERE f.retired_at IS NULL
  AND {bbox}
  AND (CAST(:organisation AS text) IS NULL OR o.code = :organisation)
  AND (CAST(:eo_category AS text) IS NULL OR f.eo_category = :eo_category)
  AND (CAST(:activity_id AS uuid) IS NULL OR f.activity_id = CAST(:activity_id AS uuid))
  AND (CAST(:hazard_id AS uuid) IS NULL OR f.hazard_id = CAST(:hazard_id AS uuid))
""".format(bbox=seen_bbox_sql("f.geom"))


ORDER = paging.Keyset(
    "eo-finds",
    (
        paging.Key("f.found_on", "found_on", "date", desc=True, nulls="last"),
        paging.Key("f.id", "id", "uuid"),
    ),
)


def search(
    session: Session,
    *,
    principal: Principal,
    filters: dict[str, Any],
    limit: int,
    offset: int,
    after: str | None = None,
) -> tuple[list[dict], int]:
    """A page of finds as Features, and the number matched."""
    exact = sees_exact_locations(principal)
    window = ORDER.window(after=after, limit=limit, offset=offset)
    params = {
        "bbox": None,
        "organisation": None,
        "eo_category": None,
        "activity_id": None,
        "hazard_id": None,
        **filters,
        **location_params(exact),
        **window.params,
    }
    matched = session.execute(
        text(
            "SELECT count(*) FROM eo_finds f JOIN organisations o ON o.id = f.organisation_id"
            + FILTER_SQL
        ),
        params,
    ).scalar_one()
    sql = text(SELECT_SQL + FILTER_SQL + window.sql)
    rows = session.execute(sql, params).mappings().all()
    return window.items([_feature(dict(r), exact) for r in rows], rows), int(matched)


def get(session: Session, *, principal: Principal, find_id: uuid.UUID) -> dict:
    """One find as a Feature."""
    exact = sees_exact_locations(principal)
    row = read_one(
        session,
        text(SELECT_SQL + " WHERE f.id = :id AND f.retired_at IS NULL"),
        {"id": find_id, **location_params(exact)},
        f"no EO find {find_id}",
    )
    return _feature(row, exact)

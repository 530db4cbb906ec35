"""Risk-education (EORE) sessions, and where risk education is due (the planning view).

Who may do what:

* read sessions and the planning view: every signed-in role (operational data);
* write: the ``eore`` and ``coordinator`` roles for their own organisation, admins for any
  (api.md: ``eore`` keeps the risk-education records).

Where a session was: a Point, or, when the team judged it not safe to record one, only the
administrative area (domain.md §1.9 and §5.2: "not safe to record GPS"). Such a session
never has a point stored, so no response, export or log can show one; switching a session to
"not safe to record" removes the point it had (the write says so in ``warnings``).

Every write goes through the ORM, so the audit listener (``api.audit``) records it.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from api import paging
from api.db.models import (
    Accident,
    AdminArea,
    EoreBeneficiaryCount,
    EoreSession,
    EoreSessionAccident,
    EoreSessionHazard,
    Settlement,
)
from api.errors import (
    BadRequest,
    Forbidden,
    InvalidGeometry,
    InvalidInput,
)
from api.schemas.eore import (
    BeneficiaryCell,
    EoreSessionFeature,
    EoreSessionPatch,
    EoreSessionPropertiesPatch,
)
from api.services import extent
from api.services.auth import Principal, require_reader, sees_exact_locations
from api.services.filters import bbox_param, bbox_sql, location_params, seen_point_sql
from api.services.hazards import hazard_ids_for, resolve_org
from api.services.versioned import (
    commit,
    next_version,
    open_for_change,
    read_one,
    refuse_removal,
    retire,
    undone_on_refusal,
)
from api.spatial.intake import IntakeProblem, intake_geometry
from api.vocab import EoreAgeBand, EoreDisability, Role, Sex

FUTURE_TOLERANCE = timedelta(days=1)  # "today" in a time zone ahead of UTC
KIND = "risk-education session"  # how 404s and 412s name the record
WRITER_ROLES = (Role.eore, Role.coordinator)
REQUIRED = ("session_date", "delivery_method", "audience", "location_safe_to_record")
WITHHELD_WARNING = (
    "the location is not safe to record: the point recorded earlier was removed"
)


def require_eore_writer(
    principal: Principal | None, organisation_id: uuid.UUID, code: str
) -> Principal:
    """Admins write sessions for anyone; EORE staff and coordinators for their own org."""
    principal = require_reader(principal)
    if principal.role == Role.admin:
        return principal
    if principal.role not in WRITER_ROLES:
        raise Forbidden(
            f"the {principal.role.value} role cannot record risk-education sessions"
        )
    if principal.organisation_id != organisation_id:
        raise Forbidden(
            f"{principal.role.value} users record sessions only for their own "
            f"organisation ({principal.organisation_code}), not for {code}"
        )
    return principal


# --- writing ---------------------------------------------------------------------------------


def _refuse(pointer: str, message: str, detail: str | None = None) -> InvalidInput:
    return InvalidInput(
        detail or f"{pointer}: {message}",
        errors=[{"pointer": pointer, "message": message}],
    )


def _check_dates(session_date: date, ended_on: date | None) -> None:
    if session_date > datetime.now(UTC).date() + FUTURE_TOLERANCE:
        raise _refuse("/properties/session_date", "must not be in the future")
    if ended_on is not None and ended_on < session_date:
        raise _refuse("/properties/ended_on", "must not be before session_date")


def _point(session: Session, geometry: Any, warnings: list[str]) -> Point:
    """The session's place, inside the programme."""
    try:
        result = intake_geometry(
            geometry, pointer="/geometry", allow_point=True, allow_polygon=False
        )
    except IntakeProblem as exc:
        raise InvalidGeometry(exc.errors[0]["message"], errors=exc.errors) from exc
    point = result.geometry
    if not isinstance(point, Point):  # allow_polygon=False: the gate passes points only
        raise InvalidGeometry(
            "a session is located by a Point",
            errors=[{"pointer": "/geometry", "message": "not a Point"}],
        )
    extent.check(session, point)
    warnings.extend(result.warnings)  # Z/M values dropped
    return point


def _admin_exists(session: Session, pcode: str) -> str:
    if session.scalar(select(AdminArea.pcode).where(AdminArea.pcode == pcode)) is None:
        raise _refuse(
            "/properties/admin",
            f"no administrative area with P-code {pcode!r}",
            "unknown administrative area",
        )
    return pcode


def _admin_of(session: Session, point: Any) -> str | None:
    """The P-code of the most detailed administrative area containing ``point``."""
    return session.scalar(
        select(AdminArea.pcode)
        .where(func.ST_Intersects(AdminArea.geom, point))
        .order_by(AdminArea.level.desc(), AdminArea.pcode)
        .limit(1)
    )


@dataclass
class _Location:
    geom: Point | None
    admin: str | None
    warnings: list[str]


def _location(
    session: Session,
    *,
    safe: bool,
    geometry_sent: bool,
    geometry: Any,
    admin_sent: bool,
    admin: str | None,
    current: EoreSession | None,
) -> _Location:
    """Where the session is stored: a point, or (not safe to record) its admin area only."""
    warnings: list[str] = []
    if not safe:
        if geometry_sent and geometry is not None:
            raise _refuse(
                "/geometry",
                "must be null when location_safe_to_record is false: "
                "send the administrative area (admin) instead of a point",
                "a location and 'not safe to record' were sent together",
            )
        if current is not None and current.geom is not None and not geometry_sent:
            warnings.append(WITHHELD_WARNING)
        area = admin if admin_sent else (current.admin_pcode if current else None)
        if area is None:
            raise _refuse(
                "/properties/admin",
                "required when location_safe_to_record is false: "
                "the P-code of the area where the session took place",
                "a session without a recorded location needs its administrative area",
            )
        return _Location(None, _admin_exists(session, area), warnings)
    if geometry_sent:
        if geometry is None:
            raise _refuse(
                "/geometry",
                "a Point is required; if it was not safe to record the location, "
                "set location_safe_to_record to false and send admin",
                "neither a location nor 'not safe to record' was sent",
            )
        point = _point(session, geometry, warnings)
    elif current is not None and current.geom is not None:
        point = None  # unchanged
    else:
        raise _refuse(
            "/geometry",
            "a Point is required; if it was not safe to record the location, "
            "set location_safe_to_record to false and send admin",
            "neither a location nor 'not safe to record' was sent",
        )
    if admin_sent and admin is not None:
        pcode: str | None = _admin_exists(session, admin)
    elif point is not None:  # derived from a new point when not given
        pcode = _admin_of(session, from_shape(point, srid=4326))
    elif admin_sent and current is not None:  # admin: null re-derives it
        pcode = _admin_of(session, current.geom)
    else:
        pcode = current.admin_pcode if current is not None else None
    return _Location(point, pcode, warnings)


def _settlement(session: Session, settlement_id: uuid.UUID | None) -> uuid.UUID | None:
    if settlement_id is not None and session.get(Settlement, settlement_id) is None:
        raise _refuse(
            "/properties/settlement_id",
            f"no settlement {settlement_id}",
            "unknown settlement",
        )
    return settlement_id


def _hazards(session: Session, refs: list[str]) -> set[uuid.UUID]:
    found = hazard_ids_for(session, refs)
    errors = [
        {"pointer": f"/properties/hazard_ids/{i}", "message": f"no hazard {ref!r}"}
        for i, ref in enumerate(refs)
        if ref not in found
    ]
    if errors:
        raise InvalidInput("unknown hazard(s)", errors=errors[:20])
    return set(found.values())


def _accidents(session: Session, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    live = set(
        session.scalars(
            select(Accident.id).where(
                Accident.id.in_(ids), Accident.retired_at.is_(None)
            )
        )
    )
    errors = [
        {"pointer": f"/properties/accident_ids/{i}", "message": f"no accident {a}"}
        for i, a in enumerate(ids)
        if a not in live
    ]
    if errors:
        raise InvalidInput("unknown accident(s)", errors=errors[:20])
    return live


def _check_cells(cells: list[BeneficiaryCell]) -> None:
    seen: dict[tuple[str, str, str], int] = {}
    for i, cell in enumerate(cells):
        key = (cell.sex.value, cell.age_band.value, cell.disability.value)
        if key in seen:
            raise _refuse(
                f"/properties/beneficiaries/{i}",
                f"the cell {'/'.join(key)} is already given at "
                f"/properties/beneficiaries/{seen[key]}; send each cell once",
                "a beneficiary cell appears twice",
            )
        seen[key] = i


def _replace_beneficiaries(
    session: Session, session_id: uuid.UUID, cells: list[BeneficiaryCell]
) -> None:
    """Replace the beneficiary cells through the ORM (so that the audit log sees them)."""
    for row in session.scalars(
        select(EoreBeneficiaryCount).where(
            EoreBeneficiaryCount.session_id == session_id
        )
    ):
        session.delete(row)
    session.flush()
    for cell in cells:
        session.add(
            EoreBeneficiaryCount(
                session_id=session_id,
                sex=cell.sex.value,
                age_band=cell.age_band.value,
                disability=cell.disability.value,
                count=cell.count,
            )
        )


def _replace_links(
    session: Session,
    model: type[EoreSessionHazard] | type[EoreSessionAccident],
    column: str,
    session_id: uuid.UUID,
    wanted: set[uuid.UUID],
) -> None:
    """Make the session's links of one kind exactly ``wanted`` (ORM, so audited)."""
    current = {
        getattr(row, column): row
        for row in session.scalars(select(model).where(model.session_id == session_id))
    }
    for target, row in current.items():
        if target not in wanted:
            session.delete(row)
    for target in wanted - current.keys():
        session.add(model(session_id=session_id, **{column: target}))


def _create(
    session: Session, *, feature: EoreSessionFeature, principal: Principal | None
) -> tuple[uuid.UUID, bool, list[str]]:
    principal = require_reader(principal)
    props = feature.properties
    org = resolve_org(session, props.organisation, principal)
    require_eore_writer(principal, org.id, org.code)
    _check_dates(props.session_date, props.ended_on)
    _check_cells(props.beneficiaries)
    record = None
    if props.external_id:
        record = session.scalar(
            select(EoreSession)
            .where(
                EoreSession.organisation_id == org.id,
                EoreSession.external_id == props.external_id,
                EoreSession.retired_at.is_(None),
            )
            .with_for_update()
        )
    created = record is None
    where = _location(
        session,
        safe=props.location_safe_to_record,
        geometry_sent=True,
        geometry=feature.geometry,
        admin_sent=props.admin is not None,
        admin=props.admin,
        current=None,
    )
    settlement_id = _settlement(session, props.settlement_id)
    hazards = _hazards(session, props.hazard_ids)
    accidents = _accidents(session, props.accident_ids)
    if record is None:
        record = EoreSession(organisation_id=org.id, created_by=principal.user_id)
        session.add(record)
    else:
        next_version(record)
    record.external_id = props.external_id
    record.team = props.team
    record.session_date = props.session_date
    record.ended_on = props.ended_on
    record.delivery_method = props.delivery_method.value
    record.audience = props.audience.value
    record.language = props.language
    record.messages_covered = [m.value for m in props.messages_covered]
    record.location_safe_to_record = props.location_safe_to_record
    record.geom = from_shape(where.geom, srid=4326) if where.geom else None
    record.admin_pcode = where.admin
    record.settlement_id = settlement_id
    record.notes = props.notes
    session.flush()
    _replace_beneficiaries(session, record.id, props.beneficiaries)
    _replace_links(session, EoreSessionHazard, "hazard_id", record.id, hazards)
    _replace_links(session, EoreSessionAccident, "accident_id", record.id, accidents)
    commit(session, "session")
    return record.id, created, where.warnings


def _open_for_change(
    session: Session,
    session_id: uuid.UUID,
    principal: Principal | None,
    if_match: str | None,
) -> EoreSession:
    require_reader(principal)  # 401 before 404
    return open_for_change(
        session,
        EoreSession,
        session_id,
        KIND,
        principal=principal,
        if_match=if_match,
        may_write=require_eore_writer,
    )


def _update(
    session: Session,
    *,
    session_id: uuid.UUID,
    patch: EoreSessionPatch,
    principal: Principal | None,
    if_match: str | None,
) -> list[str]:
    record = _open_for_change(session, session_id, principal, if_match)
    props = patch.properties or EoreSessionPropertiesPatch()
    given = props.model_fields_set
    geometry_sent = "geometry" in patch.model_fields_set
    if not geometry_sent and not given:
        raise InvalidInput("nothing to change: send geometry and/or properties")
    refuse_removal(given, REQUIRED, props)
    session_date = props.session_date if "session_date" in given else None
    ended_on = props.ended_on if "ended_on" in given else record.ended_on
    _check_dates(session_date or record.session_date, ended_on)
    safe = record.location_safe_to_record
    if "location_safe_to_record" in given and props.location_safe_to_record is not None:
        safe = props.location_safe_to_record  # never null here: refuse_removal
    where = _location(
        session,
        safe=safe,
        geometry_sent=geometry_sent,
        geometry=patch.geometry,
        admin_sent="admin" in given,
        admin=props.admin,
        current=record,
    )
    if props.beneficiaries is not None:
        _check_cells(props.beneficiaries)
    if "settlement_id" in given:
        record.settlement_id = _settlement(session, props.settlement_id)
    if "hazard_ids" in given:
        _replace_links(
            session,
            EoreSessionHazard,
            "hazard_id",
            record.id,
            _hazards(session, props.hazard_ids or []),
        )
    if "accident_ids" in given:
        _replace_links(
            session,
            EoreSessionAccident,
            "accident_id",
            record.id,
            _accidents(session, props.accident_ids or []),
        )
    if "beneficiaries" in given:
        _replace_beneficiaries(session, record.id, props.beneficiaries or [])
    record.location_safe_to_record = safe
    if not safe:
        record.geom = None
    elif where.geom is not None:
        record.geom = from_shape(where.geom, srid=4326)
    record.admin_pcode = where.admin
    if session_date is not None:
        record.session_date = session_date
    record.ended_on = ended_on
    for name in ("delivery_method", "audience"):
        if name in given:
            setattr(record, name, getattr(props, name).value)
    if "messages_covered" in given:
        record.messages_covered = [m.value for m in props.messages_covered or []]
    for name in ("external_id", "team", "language", "notes"):
        if name in given:
            setattr(record, name, getattr(props, name))
    next_version(record)
    commit(session, "session")
    return where.warnings


def _retire(
    session: Session,
    *,
    session_id: uuid.UUID,
    principal: Principal | None,
    if_match: str | None,
) -> None:
    record = _open_for_change(session, session_id, principal, if_match)
    retire(record)
    commit(session, "session")


def create_session(
    session: Session, *, feature: EoreSessionFeature, principal: Principal | None
) -> tuple[uuid.UUID, bool, list[str]]:
    """Record a session, or update the one with the same external_id.

    Returns the id, whether it was created, and warnings about adjustments.
    """
    with undone_on_refusal(session):
        return _create(session, feature=feature, principal=principal)


def update_session(
    session: Session,
    *,
    session_id: uuid.UUID,
    patch: EoreSessionPatch,
    principal: Principal | None,
    if_match: str | None,
) -> list[str]:
    """Change a session (If-Match required); returns warnings about adjustments."""
    with undone_on_refusal(session):
        return _update(
            session,
            session_id=session_id,
            patch=patch,
            principal=principal,
            if_match=if_match,
        )


def retire_session(
    session: Session,
    *,
    session_id: uuid.UUID,
    principal: Principal | None,
    if_match: str | None,
) -> None:
    """Retire a session recorded in error or twice (If-Match required); nothing is deleted."""
    with undone_on_refusal(session):
        _retire(session, session_id=session_id, principal=principal, if_match=if_match)


# --- reading ---------------------------------------------------------------------------------

# The point is read only when it was safe to record (the CHECK also keeps it null otherwise).
SELECT_SQL = """
SELECT s.id, s.external_id, o.code AS organisation, s.team, s.session_date, s.ended_on,
       s.delivery_method, s.audience, s.language, s.messages_covered,
       s.location_safe_to_record, s.admin_pcode AS admin, aa.name AS admin_name,
       s.settlement_id, cs.name AS settlement_name, s.notes, s.version,
       s.created_at, s.updated_at,
       COALESCE((SELECT json_agg(json_build_object(
                    'sex', b.sex, 'age_band', b.age_band, 'disability', b.disability,
                    'count', b.count))
                 FROM eore_session_beneficiaries b WHERE b.session_id = s.id), '[]')
           AS beneficiaries,
       ARRAY(SELECT l.hazard_id FROM eore_session_hazards l
             WHERE l.session_id = s.id ORDER BY l.hazard_id) AS hazard_ids,
       ARRAY(SELECT l.accident_id FROM eore_session_accidents l
             WHERE l.session_id = s.id ORDER BY l.accident_id) AS accident_ids,
       CASE WHEN s.location_safe_to_record THEN ST_AsGeoJSON(s.geom, 9) END AS geometry
FROM eore_sessions s
JOIN organisations o ON o.id = s.organisation_id
LEFT JOIN admin_areas aa ON aa.pcode = s.admin_pcode
LEFT JOIN context_settlements cs ON cs.id = s.settlement_id
"""

# a session not safe to record has no point (LOCATION_RULE), so no box holds it
FILTER_SQL = """
WHERE s.retired_at IS NULL
  AND {bbox}
  AND (CAST(:organisation AS text) IS NULL OR o.code = :organisation)
  AND (CAST(:date_from AS date) IS NULL OR s.session_date >= CAST(:date_from AS date))
  AND (CAST(:date_to AS date) IS NULL OR s.session_date <= CAST(:date_to AS date))
  AND (CAST(:delivery_method AS text) IS NULL OR s.delivery_method = :delivery_method)
  AND (CAST(:audience AS text) IS NULL OR s.audience = :audience)
  AND (CAST(:hazard_id AS uuid) IS NULL OR EXISTS (
        SELECT 1 FROM eore_session_hazards l
        WHERE l.session_id = s.id AND l.hazard_id = CAST(:hazard_id AS uuid)))
  AND (CAST(:settlement_id AS uuid) IS NULL
       OR s.settlement_id = CAST(:settlement_id AS uuid))
  AND (CAST(:admin AS text) IS NULL OR s.admin_pcode = :admin OR EXISTS (
        SELECT 1 FROM admin_areas f
        WHERE f.pcode = :admin
          AND ST_Intersects(f.geom, COALESCE(s.geom, (
                SELECT ST_PointOnSurface(x.geom) FROM admin_areas x
                WHERE x.pcode = s.admin_pcode)))))
""".format(bbox=bbox_sql("s.geom"))


@dataclass
class SessionFilters:
    """Filters of ``GET /eore-sessions``; every member is optional."""

    bbox: tuple[float, float, float, float] | None = None
    organisation: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    delivery_method: str | None = None
    audience: str | None = None
    admin: str | None = None
    hazard_id: uuid.UUID | None = None
    settlement_id: uuid.UUID | None = None

    def params(self) -> dict[str, Any]:
        """Bound parameters of ``FILTER_SQL``."""
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise BadRequest("from is later than to")
        return {
            "bbox": bbox_param(self.bbox),
            "organisation": self.organisation,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "delivery_method": self.delivery_method,
            "audience": self.audience,
            "admin": self.admin,
            "hazard_id": self.hazard_id,
            "settlement_id": self.settlement_id,
        }


_ORDER = {
    "sex": [s.value for s in Sex],
    "age_band": [a.value for a in EoreAgeBand],
    "disability": [d.value for d in EoreDisability],
}


def _cell_order(cell: dict[str, Any]) -> tuple[int, ...]:
    return tuple(_ORDER[k].index(cell[k]) for k in ("sex", "age_band", "disability"))


def _feature(row: dict[str, Any]) -> dict[str, Any]:
    props = {k: row[k] for k in row if k != "geometry"}
    cells = sorted(props["beneficiaries"], key=_cell_order)
    props["beneficiaries"] = cells
    props["beneficiaries_total"] = sum(c["count"] for c in cells)
    geometry = row["geometry"] if row["location_safe_to_record"] else None
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": orjson.Fragment(geometry) if geometry is not None else None,
        "properties": props,
    }


SESSION_ORDER = paging.Keyset(
    "eore-sessions",
    (
        paging.Key("s.session_date", "session_date", "date", desc=True),
        paging.Key("s.id", "id", "uuid"),
    ),
)


def search_sessions(
    session: Session,
    *,
    principal: Principal,
    filters: SessionFilters,
    limit: int,
    offset: int,
    after: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """A page of sessions as Features (newest first), and the number matched."""
    require_reader(principal)
    window = SESSION_ORDER.window(after=after, limit=limit, offset=offset)
    params = {**filters.params(), **window.params}
    matched = session.execute(
        text(
            "SELECT count(*) FROM eore_sessions s "
            "JOIN organisations o ON o.id = s.organisation_id" + FILTER_SQL
        ),
        params,
    ).scalar_one()
    sql = text(SELECT_SQL + FILTER_SQL + window.sql)
    rows = session.execute(sql, params).mappings().all()
    return window.items([_feature(dict(r)) for r in rows], rows), int(matched)


def get_session(
    session: Session, *, principal: Principal, session_id: uuid.UUID
) -> dict[str, Any]:
    """One session as a Feature."""
    require_reader(principal)
    row = read_one(
        session,
        text(SELECT_SQL + " WHERE s.id = :id AND s.retired_at IS NULL"),
        {"id": session_id},
        f"no {KIND} {session_id}",
    )
    return _feature(row)


# --- planning: where risk education is due ---------------------------------------------------

# metres per degree of latitude (its smallest value) and of longitude at the equator
_M_LAT, _M_LON = 110_574.0, 111_320.0

# Accident locations are restricted (domain.md §5.2). For callers who may not see them exactly
# (``auth.sees_exact_locations``) every accident figure here is computed from the point they
# do see, snapped to the 0.01° grid (``filters.location_params``): which settlements an
# accident exposes at any ``distance_m``, how many, the order, and the distance, which they
# get only as a band (``nearest_accident_band``), never in metres: distances from a few
# settlements would otherwise place the accident to a few metres.
NEAREST_ACCIDENT_BANDS = ("< 1 km", "1–5 km", "5–10 km", "> 10 km")


def distance_band(metres: float | None) -> str | None:
    """The band of a distance: below 1 km, 1 to 5 km, 5 to 10 km (inclusive), beyond."""
    if metres is None:
        return None
    if metres < 1000:
        return NEAREST_ACCIDENT_BANDS[0]
    if metres < 5000:
        return NEAREST_ACCIDENT_BANDS[1]
    return NEAREST_ACCIDENT_BANDS[2] if metres <= 10000 else NEAREST_ACCIDENT_BANDS[3]


# One statement. A settlement is exposed when an open hazard (not closed, not handed over) or
# an accident of the last :accident_months months lies within :distance_m of it. It is
# reached when a session of the last :eore_months months
#   * names it (settlement_id), or
#   * has its point within :reach_m of it, or
#   * was not safe to record and lies in an administrative area that contains it, or
#   * is linked to a hazard or accident that exposes it.
# Distances are on the WGS 84 ellipsoid (geography); each distance test is preceded by a
# bounding-box test on the geometry's GiST index, the box widened at the highest latitude the
# distance can reach.
PLANNING_SQL = """
WITH exposed AS (
    SELECT s.id, s.external_id, s.name, s.population, s.geom,
           hz.n AS open_hazards, hz.nearest AS nearest_hazard_m, hz.ids AS hazard_ids,
           ac.n AS recent_accidents, ac.nearest AS nearest_accident_m,
           ac.ids AS accident_ids
    FROM context_settlements s
    CROSS JOIN LATERAL (
        SELECT cos(radians(LEAST(89.0, abs(ST_Y(s.geom)) + :distance_m / :m_lat + 0.01)))
               AS coslat
    ) e
    CROSS JOIN LATERAL (
        SELECT count(*) AS n, min(ST_Distance(h.geom::geography, s.geom::geography)) AS nearest,
               array_agg(h.id) AS ids
        FROM hazards h
        WHERE h.geom && ST_Expand(s.geom, :distance_m / (:m_lon * e.coslat),
                                  :distance_m / :m_lat)
          AND h.retired_at IS NULL
          AND h.status NOT IN ('closed', 'handed_over')
          AND ST_DWithin(h.geom::geography, s.geom::geography, :distance_m)
    ) hz
    CROSS JOIN LATERAL (
        SELECT count(*) AS n,
               min(ST_Distance({seen}::geography, s.geom::geography)) AS nearest,
               array_agg(a.id) AS ids
        FROM accidents a
        WHERE a.geom && ST_Expand(s.geom, :distance_m / (:m_lon * e.coslat) + :pad,
                                  :distance_m / :m_lat + :pad)
          AND a.retired_at IS NULL
          AND a.occurred_on >= CAST(:accidents_since AS date)
          AND ST_DWithin({seen}::geography, s.geom::geography, :distance_m)
    ) ac
    WHERE (hz.n > 0 OR ac.n > 0)
      AND (CAST(:admin AS text) IS NULL OR EXISTS (
            SELECT 1 FROM admin_areas f
            WHERE f.pcode = :admin AND ST_Intersects(f.geom, s.geom)))
      AND (CAST(:min_population AS integer) IS NULL
           OR s.population >= CAST(:min_population AS integer))
), due AS (
    SELECT x.*,
           (SELECT max(es.session_date) FROM eore_sessions es
            WHERE es.retired_at IS NULL AND es.settlement_id = x.id) AS last_session_on
    FROM exposed x
    CROSS JOIN LATERAL (
        SELECT cos(radians(LEAST(89.0, abs(ST_Y(x.geom)) + :reach_m / :m_lat + 0.01)))
               AS coslat
    ) e
    -- one NOT EXISTS per way of being reached, so that each can use its own index
    WHERE NOT EXISTS (
            SELECT 1 FROM eore_sessions es
            WHERE es.settlement_id = x.id AND es.retired_at IS NULL
              AND es.session_date >= CAST(:sessions_since AS date))
      AND NOT EXISTS (
            SELECT 1 FROM eore_sessions es
            WHERE es.geom && ST_Expand(x.geom, :reach_m / (:m_lon * e.coslat),
                                       :reach_m / :m_lat)
              AND es.retired_at IS NULL
              AND es.session_date >= CAST(:sessions_since AS date)
              AND ST_DWithin(es.geom::geography, x.geom::geography, :reach_m))
      AND NOT EXISTS (
            SELECT 1 FROM admin_areas aa
            JOIN eore_sessions es ON es.admin_pcode = aa.pcode
            WHERE aa.geom && x.geom AND ST_Intersects(aa.geom, x.geom)
              AND NOT es.location_safe_to_record AND es.retired_at IS NULL
              AND es.session_date >= CAST(:sessions_since AS date))
      AND NOT EXISTS (
            SELECT 1 FROM eore_session_hazards l
            JOIN eore_sessions es ON es.id = l.session_id
            WHERE l.hazard_id = ANY(x.hazard_ids) AND es.retired_at IS NULL
              AND es.session_date >= CAST(:sessions_since AS date))
      AND NOT EXISTS (
            SELECT 1 FROM eore_session_accidents l
            JOIN eore_sessions es ON es.id = l.session_id
            WHERE l.accident_id = ANY(x.accident_ids) AND es.retired_at IS NULL
              AND es.session_date >= CAST(:sessions_since AS date))
)
SELECT d.id, d.external_id, d.name, d.population, d.open_hazards,
       round(d.nearest_hazard_m::numeric, 1)::float8 AS nearest_hazard_m,
       d.recent_accidents,
       round(d.nearest_accident_m::numeric, 1)::float8 AS nearest_accident_m,
       d.last_session_on,
       (SELECT a.pcode FROM admin_areas a WHERE ST_Intersects(a.geom, d.geom)
        ORDER BY a.level DESC, a.pcode LIMIT 1) AS admin,
       ST_X(d.geom) AS lon, ST_Y(d.geom) AS lat,
       d.open_hazards + d.recent_accidents AS keyset_exposure,
       LEAST(d.nearest_hazard_m, d.nearest_accident_m) AS keyset_nearest,
       count(*) OVER () AS matched
FROM due d
WHERE TRUE
""".format(seen=seen_point_sql("a.geom"))
# the ranking, largest population first (unknown last), then exposure, then nearness
PLANNING_ORDER = paging.Keyset(
    "eore-planning",
    (
        paging.Key("d.population", "population", "int", desc=True, nulls="last"),
        paging.Key(
            "d.open_hazards + d.recent_accidents", "keyset_exposure", "int", desc=True
        ),
        paging.Key(
            "LEAST(d.nearest_hazard_m, d.nearest_accident_m)",
            "keyset_nearest",
            "float",
            nulls="last",
        ),
        paging.Key("d.id", "id", "uuid"),
    ),
)

PLANNING_COLUMNS = (
    "rank",
    "id",
    "external_id",
    "name",
    "population",
    "admin",
    "open_hazards",
    "nearest_hazard_m",
    "recent_accidents",
    "nearest_accident_m",
    "nearest_accident_band",
    "last_session_on",
    "lon",
    "lat",
)


@dataclass
class PlanningParameters:
    """The knobs of the planning view."""

    distance_m: int = 5000
    accident_months: int = 12
    eore_months: int = 6
    reach_m: int = 2000
    admin: str | None = None
    min_population: int | None = None


def _months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (clamped to the month's last day)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def planning(
    session: Session,
    *,
    principal: Principal,
    params: PlanningParameters,
    limit: int,
    offset: int,
    today: date | None = None,
    after: str | None = None,
) -> tuple[list[dict[str, Any]], int, dict[str, Any]]:
    """Settlements exposed to hazards or recent accidents and not reached lately.

    Ranked by population (largest first; unknown population last). Returns the page of
    rows, the number matched, and the parameters as applied (with the cut-off dates).
    """
    require_reader(principal)
    exact = sees_exact_locations(principal)
    today = today or datetime.now(UTC).date()
    accidents_since = _months_before(today, params.accident_months)
    sessions_since = _months_before(today, params.eore_months)
    bound = {
        "distance_m": params.distance_m,
        "reach_m": params.reach_m,
        "accidents_since": accidents_since,
        "sessions_since": sessions_since,
        "admin": params.admin,
        "min_population": params.min_population,
        "m_lat": _M_LAT,
        "m_lon": _M_LON,
        **location_params(exact),
    }
    window = PLANNING_ORDER.window(after=after, limit=limit, offset=offset)
    rows = (
        session.execute(text(PLANNING_SQL + window.sql), {**bound, **window.params})
        .mappings()
        .all()
    )
    out = []
    matched = 0
    for i, row in enumerate(rows[:limit]):
        item = dict(row)
        # the window count counts the rows after the cursor (all of them by offset)
        matched = int(item.pop("matched")) + (window.start if window.after else 0)
        item["rank"] = window.start + i + 1
        item["nearest_accident_band"] = distance_band(item["nearest_accident_m"])
        if not exact:
            item["nearest_accident_m"] = None
        out.append({k: item[k] for k in PLANNING_COLUMNS})
    if not out and window.start > 0:  # past the end: no row for the window count
        matched = session.execute(
            text("SELECT count(*) FROM (" + PLANNING_SQL + ") q"), bound
        ).scalar_one()
    applied = {
        "distance_m": params.distance_m,
        "accident_months": params.accident_months,
        "accidents_since": accidents_since.isoformat(),
        "eore_months": params.eore_months,
        "sessions_since": sessions_since.isoformat(),
        "reach_m": params.reach_m,
        "admin": params.admin,
        "min_population": params.min_population,
    }
    return window.items(out, rows), int(matched), applied

"""Accidents, their victims, and casualty figures disaggregated with small-cell suppression.

Who may do what:

* read accidents and victims: every signed-in role (anonymous callers get 401);
* write: coordinators for their own organisation, admins for any;
* link to a hazard (``hazard_id``): a linked accident counts in that hazard's threat-to-life
  indicator wherever it lies, so it moves the hazard's priority: only admins and the hazard's
  organisation may link one to it (403 otherwise, as for editing the hazard). An accident
  within 1 km of a hazard counts for it unlinked, whoever records it: that is where it
  happened, not a claim on the hazard;
* victims' personal data (name, date of birth, address, phone, email): written with the victim,
  stored in ``victim_personal_data`` and returned **only** to callers with ``restricted:read``,
  and only by the single-victim read. Lists, accident Features, write responses and error
  bodies never carry it, and nothing here logs it;
* victims' attributes (sex, age, age band, role, outcome, activity): only to callers with
  ``restricted:read`` (null otherwise, ``attributes``: ``withheld``), and in the response to
  the write that set them: with the accident's date each is a casualty count of one;
* casualty figures: to callers without ``restricted:read`` only for fixed periods, with
  every breakdown of a slice holding a count of 1 to 4 withheld (rule and proof at
  "casualty figures").

Exact accident locations are restricted like EO finds (domain.md §5.2: exact accident points
in small communities let victims be re-identified): admins, coordinators and callers with
``restricted:read`` see them exactly; other roles see them snapped to a 0.01° grid, and their
``bbox`` and ``admin`` filters and counts work on that snapped point (``AccidentFilters``).

Totals and victims: ``killed`` and ``injured`` on an accident are the reported totals, which may
include people not (yet) itemised; victims are the known individuals. The victims recorded with
each outcome may never outnumber the accident's total for it: a victim write or an accident
change that would break this is refused (422).
"""

import calendar
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import product
from typing import Any

from geoalchemy2.shape import from_shape
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from api import paging
from api.db.models import Accident, Hazard, Organisation, Victim, VictimPersonalData
from api.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidGeometry,
    InvalidInput,
    NotFound,
)
from api.ingest import gate
from api.schemas.accidents import (
    AccidentFeature,
    AccidentPatch,
    AccidentPropertiesPatch,
    VictimCreate,
    VictimPatch,
    VictimPersonal,
)
from api.services import extent, priorities
from api.services.auth import (
    Principal,
    can_read_restricted,
    require_reader,
    require_writer,
    sees_exact_locations,
)
from api.services.filters import (
    bbox_param,
    location_params,
    seen_bbox_sql,
    seen_point_sql,
)
from api.services.filters import (
    point_feature as _feature,
)
from api.services.hazards import hazard_ids_for, resolve_org
from api.services.versioned import (
    check_if_match,
    commit,
    external_id_guard,
    lock,
    next_version,
    open_for_change,
    read_one,
    refuse_removal,
    retire,
    undone_on_refusal,
)
from api.spatial.intake import IntakeProblem, intake_geometry
from api.vocab import AgeBand, CasualtyOutcome, Role, Sex, VictimRole, label

FUTURE_TOLERANCE = timedelta(days=1)  # "today" in a time zone ahead of UTC
CHILD_AGE_LIMIT = 18
SUPPRESSION_THRESHOLD = (
    5  # counts 1..4 are suppressed for callers without restricted:read
)
DIMENSIONS = ("sex", "age_band", "role", "outcome")
PERSONAL_FIELDS = ("name", "date_of_birth", "address", "phone", "email")
ACCIDENT, VICTIM = "accident", "victim"  # how 404s and 412s name the records


# --- ages ------------------------------------------------------------------------------------


def age_at(born: date, on: date) -> int:
    """Completed years from ``born`` to ``on``."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def age_band(age: int | None) -> AgeBand:
    """``child`` under 18, ``adult`` from 18, ``unknown`` without an age."""
    if age is None:
        return AgeBand.unknown
    return AgeBand.child if age < CHILD_AGE_LIMIT else AgeBand.adult


# --- accidents: writing ----------------------------------------------------------------------


def _check_date(value: date, pointer: str) -> None:
    if value > datetime.now(UTC).date() + FUTURE_TOLERANCE:
        raise InvalidInput(
            "the accident date lies in the future",
            errors=[{"pointer": pointer, "message": "must not be in the future"}],
        )


def _point(session: Session, geometry: Any, warnings: list[str] | None = None):
    """The accident's point, inside the programme; what the intake changed (Z/M
    dropped) goes to ``warnings``."""
    try:
        result = intake_geometry(
            geometry, pointer="/geometry", allow_point=True, allow_polygon=False
        )
    except IntakeProblem as exc:
        raise InvalidGeometry(exc.errors[0]["message"], errors=exc.errors) from exc
    extent.check(session, result.geometry)
    if warnings is not None:
        warnings.extend(result.warnings)
    return result.geometry


def _hazard(session: Session, ref: str | None) -> uuid.UUID | None:
    if ref is None:
        return None
    hazard_id = hazard_ids_for(session, [ref]).get(ref)
    if hazard_id is None:
        raise InvalidInput(
            "unknown hazard",
            errors=[
                {"pointer": "/properties/hazard_id", "message": f"no hazard {ref!r}"}
            ],
        )
    return hazard_id


def _require_hazard_link(
    session: Session, principal: Principal | None, hazard_id: uuid.UUID | None
) -> None:
    """Linking an accident to a hazard changes that hazard's priority (a linked accident
    counts in its threat to life at any distance), so it needs the right to edit the hazard:
    admins, or the hazard's organisation (as PATCH of the hazard)."""
    if hazard_id is None or principal is None or principal.role == Role.admin:
        return
    hazard = session.get(Hazard, hazard_id)
    if hazard is None or hazard.organisation_id == principal.organisation_id:
        return
    code = session.get_one(Organisation, hazard.organisation_id).code
    raise Forbidden(
        f"hazard {hazard_id} belongs to {code}: an accident linked to it counts in its "
        f"priority, so it is linked by {code} or an admin, as for editing it (record the "
        "accident without hazard_id: within 1 km it counts for the hazard anyway)",
        errors=[{"pointer": "/properties/hazard_id", "message": f"a hazard of {code}"}],
    )


def _itemised(session: Session, accident_id: uuid.UUID) -> dict[str, int]:
    """Victims recorded per outcome."""
    rows = session.execute(
        select(Victim.outcome, func.count())
        .where(Victim.accident_id == accident_id)
        .group_by(Victim.outcome)
    ).all()
    return {outcome: int(n) for outcome, n in rows}


def _check_totals(
    itemised: dict[str, int], killed: int, injured: int, pointer: str | None = None
) -> None:
    """Victims per outcome may not outnumber the accident's reported totals."""
    errors = []
    for outcome, total in (("killed", killed), ("injured", injured)):
        n = itemised.get(outcome, 0)
        if n > total:
            errors.append(
                {
                    "pointer": pointer or f"/properties/{outcome}",
                    "message": f"{n} victim(s) recorded as {outcome}, more than the "
                    f"accident's total of {total}; raise the total first",
                }
            )
    if errors:
        raise InvalidInput(
            "the victims recorded outnumber the accident's reported totals",
            errors=errors,
        )


def _create_accident(
    session: Session,
    *,
    feature: AccidentFeature,
    principal: Principal | None,
    warnings: list[str] | None = None,
) -> tuple[uuid.UUID, bool]:
    """Record an accident, or update the one with the same external_id; returns id, created.
    What the intake changed is appended to ``warnings`` when given."""
    principal = require_reader(principal)
    props = feature.properties
    point = _point(session, feature.geometry, warnings)
    _check_date(props.occurred_on, "/properties/occurred_on")
    org = resolve_org(session, props.organisation, principal)
    require_writer(principal, org.id, org.code)
    hazard_id = _hazard(session, props.hazard_id)
    accident: Accident | None = None
    if props.external_id:
        accident = session.scalar(
            select(Accident)
            .where(
                Accident.organisation_id == org.id,
                Accident.external_id == props.external_id,
                Accident.retired_at.is_(None),
            )
            .with_for_update()
        )
    created = accident is None
    if accident is None or accident.hazard_id != hazard_id:
        _require_hazard_link(session, principal, hazard_id)
    before: set[uuid.UUID] = set()
    if accident is None:
        accident = Accident(organisation_id=org.id, created_by=principal.user_id)
        session.add(accident)
    else:
        before = priorities.hazards_near_accident(session, accident.id)
        _check_totals(_itemised(session, accident.id), props.killed, props.injured)
        next_version(accident)
    accident.external_id = props.external_id
    accident.occurred_on = props.occurred_on
    accident.accident_class = props.accident_class.value
    accident.device_category = (
        props.device_category.value if props.device_category else None
    )
    accident.killed = props.killed
    accident.injured = props.injured
    accident.hazard_id = hazard_id
    accident.notes = props.notes
    accident.geom = from_shape(point, srid=4326)
    session.flush()
    if warnings is not None:
        warnings.extend(gate.same_position_accidents(session, accident.id))
    priorities.refresh(
        session, before | priorities.hazards_near_accident(session, accident.id)
    )
    commit(session, "accident")
    return accident.id, created


def _require_accident_writer(
    session: Session, principal: Principal | None, accident: Accident
) -> Principal:
    org = session.get_one(Organisation, accident.organisation_id)
    require_writer(principal, org.id, org.code)
    return require_reader(principal)


def _open_for_change(
    session: Session,
    accident_id: uuid.UUID,
    principal: Principal | None,
    if_match: str | None,
) -> Accident:
    return open_for_change(
        session, Accident, accident_id, ACCIDENT, principal=principal, if_match=if_match
    )


def _update_accident(
    session: Session,
    *,
    accident_id: uuid.UUID,
    patch: AccidentPatch,
    principal: Principal | None,
    if_match: str | None,
    warnings: list[str] | None = None,
) -> int:
    """Change an accident (If-Match required); returns the new version."""
    accident = _open_for_change(session, accident_id, principal, if_match)
    before = priorities.hazards_near_accident(session, accident.id)  # where it was
    props = patch.properties or AccidentPropertiesPatch()
    given = props.model_fields_set
    if "geometry" not in patch.model_fields_set and not given:
        raise InvalidInput("nothing to change: send geometry and/or properties")
    refuse_removal(given, ("occurred_on", "accident_class", "killed", "injured"), props)
    if "geometry" in patch.model_fields_set:
        accident.geom = from_shape(_point(session, patch.geometry, warnings), srid=4326)
    # refuse_removal let no required member through as null: the checks below only narrow
    if "occurred_on" in given and props.occurred_on is not None:
        _check_date(props.occurred_on, "/properties/occurred_on")
        accident.occurred_on = props.occurred_on
        _rederive_ages(session, accident)
    if "accident_class" in given and props.accident_class is not None:
        accident.accident_class = props.accident_class.value
    if "device_category" in given:
        accident.device_category = (
            props.device_category.value if props.device_category else None
        )
    if "killed" in given and props.killed is not None:
        accident.killed = props.killed
    if "injured" in given and props.injured is not None:
        accident.injured = props.injured
    if "killed" in given or "injured" in given:
        _check_totals(
            _itemised(session, accident.id),
            accident.killed,
            accident.injured,
        )
    if "hazard_id" in given:
        hazard_id = _hazard(session, props.hazard_id)
        if hazard_id != accident.hazard_id:
            _require_hazard_link(session, principal, hazard_id)
        accident.hazard_id = hazard_id
    if "external_id" in given:
        accident.external_id = props.external_id
    if "notes" in given:
        accident.notes = props.notes
    next_version(accident)
    taken = Conflict(
        "another accident of this organisation already has that external_id",
        errors=[{"pointer": "/properties/external_id", "message": "already used"}],
    )
    with external_id_guard(session, taken):
        session.flush()
    if "geometry" in patch.model_fields_set and warnings is not None:
        warnings.extend(gate.same_position_accidents(session, accident.id))
    priorities.refresh(
        session, before | priorities.hazards_near_accident(session, accident.id)
    )
    commit(session, "accident")
    return accident.version


def _retire_accident(
    session: Session,
    *,
    accident_id: uuid.UUID,
    principal: Principal | None,
    if_match: str | None,
) -> None:
    """Retire an accident recorded in error or twice; nothing is deleted."""
    accident = _open_for_change(session, accident_id, principal, if_match)
    before = priorities.hazards_near_accident(session, accident.id)
    retire(accident)
    session.flush()
    priorities.refresh(session, before)
    commit(session, "accident")


# --- accidents: reading ----------------------------------------------------------------------

# Never victim_personal_data: personal data is read apart, with restricted:read.
SELECT_SQL = """
SELECT a.id, a.external_id, o.code AS organisation, a.occurred_on, a.accident_class,
       a.device_category, a.killed, a.injured, a.hazard_id, a.notes, a.version,
       a.created_at, a.updated_at,
       (SELECT count(*) FROM victims v WHERE v.accident_id = a.id) AS victims_recorded,
       ST_AsGeoJSON({seen}, 9) AS geometry
FROM accidents a
JOIN organisations o ON o.id = a.organisation_id
""".format(seen=seen_point_sql("a.geom"))

# Spatial tests are on the point as the caller sees it (exact, or snapped to the grid:
# ``filters.location_params``), so a box or an area never tells more than the point shown.
FILTER_SQL = """
WHERE a.retired_at IS NULL
  AND {bbox}
  AND (CAST(:organisation AS text) IS NULL OR o.code = :organisation)
  AND (CAST(:date_from AS date) IS NULL OR a.occurred_on >= CAST(:date_from AS date))
  AND (CAST(:date_to AS date) IS NULL OR a.occurred_on <= CAST(:date_to AS date))
  AND (CAST(:accident_class AS text) IS NULL OR a.accident_class = :accident_class)
  AND (CAST(:admin AS text) IS NULL OR EXISTS (
        SELECT 1 FROM admin_areas aa
        WHERE aa.pcode = :admin AND ST_Intersects(aa.geom, {seen})))
""".format(bbox=seen_bbox_sql("a.geom"), seen=seen_point_sql("a.geom"))


@dataclass
class AccidentFilters:
    """Filters of ``GET /accidents`` and of the casualty figures; every member is optional."""

    bbox: tuple[float, float, float, float] | None = None
    organisation: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    accident_class: str | None = None
    admin: str | None = None

    def params(self, exact: bool = False) -> dict[str, Any]:
        """Bound parameters of ``FILTER_SQL``; ``exact``: spatial tests on the exact points
        (``auth.sees_exact_locations``), else on the snapped ones."""
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise BadRequest("from is later than to")
        return {
            "bbox": bbox_param(self.bbox),
            "organisation": self.organisation,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "accident_class": self.accident_class,
            "admin": self.admin,
            **location_params(exact),
        }


ORDER = paging.Keyset(
    "accidents",
    (
        paging.Key("a.occurred_on", "occurred_on", "date", desc=True),
        paging.Key("a.id", "id", "uuid"),
    ),
)


def search_accidents(
    session: Session,
    *,
    principal: Principal,
    filters: AccidentFilters,
    limit: int,
    offset: int,
    after: str | None = None,
) -> tuple[list[dict], int]:
    """A page of accidents as Features (never with victims' data), and the number matched."""
    exact = sees_exact_locations(principal)
    window = ORDER.window(after=after, limit=limit, offset=offset)
    params = {**filters.params(exact), **window.params}
    matched = session.execute(
        text(
            "SELECT count(*) FROM accidents a "
            "JOIN organisations o ON o.id = a.organisation_id" + FILTER_SQL
        ),
        params,
    ).scalar_one()
    sql = text(SELECT_SQL + FILTER_SQL + window.sql)
    rows = session.execute(sql, params).mappings().all()
    return window.items([_feature(dict(r), exact) for r in rows], rows), int(matched)


def get_accident(
    session: Session, *, principal: Principal, accident_id: uuid.UUID
) -> dict[str, Any]:
    """One accident as a Feature."""
    exact = sees_exact_locations(principal)
    row = read_one(
        session,
        text(SELECT_SQL + " WHERE a.id = :id AND a.retired_at IS NULL"),
        {"id": accident_id, **location_params(exact)},
        f"no accident {accident_id}",
    )
    return _feature(row, exact)


# --- victims ---------------------------------------------------------------------------------


def _live_accident(session: Session, accident_id: uuid.UUID) -> Accident:
    accident = session.scalar(select(Accident).where(Accident.id == accident_id))
    if accident is None or accident.retired_at is not None:
        raise NotFound(f"no {ACCIDENT} {accident_id}")
    return accident


def _derive_age(
    age: int | None, born: date | None, accident: Accident, age_given: bool
) -> int | None:
    """The age at the accident: as given, else from the date of birth. 422 if they disagree."""
    if born is not None and born > accident.occurred_on:
        raise InvalidInput(
            "the date of birth is after the accident",
            errors=[
                {
                    "pointer": "/personal/date_of_birth",
                    "message": "must not be after the accident date",
                }
            ],
        )
    derived = age_at(born, accident.occurred_on) if born is not None else None
    if age_given and age is not None:
        if derived is not None and derived != age:
            raise InvalidInput(
                "age and date of birth disagree",
                errors=[
                    {
                        "pointer": "/age",
                        "message": "does not match personal.date_of_birth at the "
                        "accident date; send one of them",
                    }
                ],
            )
        return age
    return derived


def _set_personal(
    session: Session, victim_id: uuid.UUID, personal: VictimPersonal | None
) -> None:
    """Replace the personal data of a victim (None, or all members empty, removes it)."""
    row = session.get(VictimPersonalData, victim_id)
    values = personal.model_dump() if personal is not None else {}
    if not any(v is not None for v in values.values()):
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = VictimPersonalData(victim_id=victim_id)
        session.add(row)
    for name in PERSONAL_FIELDS:
        setattr(row, name, values.get(name))


def _rederive_ages(session: Session, accident: Accident) -> None:
    """After the accident date changes, ages derived from dates of birth follow it."""
    rows = session.execute(
        select(Victim, VictimPersonalData.date_of_birth)
        .join(VictimPersonalData, VictimPersonalData.victim_id == Victim.id)
        .where(
            Victim.accident_id == accident.id,
            VictimPersonalData.date_of_birth.is_not(None),
        )
    ).all()
    for victim, born in rows:
        if born is None:  # none is: the query asks for a date of birth
            continue
        if born > accident.occurred_on:
            raise InvalidInput(
                "a victim's date of birth is after the new accident date",
                errors=[
                    {
                        "pointer": "/properties/occurred_on",
                        "message": "earlier than a victim's date of birth",
                    }
                ],
            )
        victim.age = age_at(born, accident.occurred_on)
        victim.age_band = age_band(victim.age).value
        victim.version += 1


def _create_victim(
    session: Session,
    *,
    accident_id: uuid.UUID,
    body: VictimCreate,
    principal: Principal | None,
) -> uuid.UUID:
    """Record a victim of an accident, with their personal data stored apart."""
    principal = require_reader(principal)
    accident = lock(session, Accident, accident_id, ACCIDENT)
    _require_accident_writer(session, principal, accident)
    born = body.personal.date_of_birth if body.personal else None
    age = _derive_age(body.age, born, accident, age_given=True)
    itemised = _itemised(session, accident.id)
    itemised[body.outcome.value] = itemised.get(body.outcome.value, 0) + 1
    _check_totals(itemised, accident.killed, accident.injured, "/outcome")
    victim = Victim(
        accident_id=accident.id,
        sex=body.sex.value,
        age=age,
        age_band=age_band(age).value,
        role=body.role.value,
        outcome=body.outcome.value,
        activity_at_time=body.activity_at_time,
        created_by=principal.user_id,
    )
    session.add(victim)
    session.flush()
    _set_personal(session, victim.id, body.personal)
    commit(session, "victim")
    return victim.id


def _update_victim(
    session: Session,
    *,
    accident_id: uuid.UUID,
    victim_id: uuid.UUID,
    patch: VictimPatch,
    principal: Principal | None,
    if_match: str | None,
) -> int:
    """Change a victim (If-Match required); returns the new version."""
    require_reader(principal)
    accident = lock(session, Accident, accident_id, ACCIDENT)
    _require_accident_writer(session, principal, accident)
    victim = lock(
        session,
        Victim,
        victim_id,
        VICTIM,
        Victim.accident_id == accident_id,
        not_found=f"no {VICTIM} {victim_id} in {ACCIDENT} {accident_id}",
    )
    check_if_match(if_match, victim.version, VICTIM)
    given = patch.model_fields_set
    if not given:
        raise InvalidInput("nothing to change")
    nulls = [
        f
        for f in ("sex", "role", "outcome")
        if f in given and getattr(patch, f) is None
    ]
    if nulls:
        raise InvalidInput(
            "these members cannot be removed",
            errors=[{"pointer": f"/{f}", "message": "may not be null"} for f in nulls],
        )
    if "personal" in given:
        born = patch.personal.date_of_birth if patch.personal else None
    else:
        born = session.scalar(
            select(VictimPersonalData.date_of_birth).where(
                VictimPersonalData.victim_id == victim.id
            )
        )
    if "age" in given:
        age = _derive_age(patch.age, born, accident, age_given=True)
    elif "personal" in given and born is not None:
        age = _derive_age(None, born, accident, age_given=False)
    else:
        age = victim.age
    victim.age = age
    victim.age_band = age_band(age).value
    for name in ("sex", "role", "outcome"):
        if name in given:
            setattr(victim, name, getattr(patch, name).value)
    if "activity_at_time" in given:
        victim.activity_at_time = patch.activity_at_time
    if "outcome" in given:
        session.flush()
        _check_totals(
            _itemised(session, accident.id),
            accident.killed,
            accident.injured,
            "/outcome",
        )
    if "personal" in given:
        _set_personal(session, victim.id, patch.personal)
    next_version(victim)
    commit(session, "victim")
    return victim.version


VICTIM_COLUMNS = """
SELECT v.id, v.accident_id, v.sex, v.age, v.age_band, v.role, v.outcome, v.activity_at_time,
       v.version, v.created_at, v.updated_at,
       EXISTS (SELECT 1 FROM victim_personal_data p WHERE p.victim_id = v.id)
           AS has_personal_data
FROM victims v
"""


# A victim's attributes, joined with the accident's date, organisation and class, are a
# casualty count of one: without restricted:read they are withheld (null), the age band too,
# or a victim row would give away the atoms the casualty figures withhold.
VICTIM_ATTRIBUTES = ("sex", "age", "age_band", "role", "outcome", "activity_at_time")


def _victim_row(row: Any, attributes: bool) -> dict[str, Any]:
    victim = dict(row)
    if not attributes:
        victim.update(dict.fromkeys(VICTIM_ATTRIBUTES))
    victim["attributes"] = "exact" if attributes else "withheld"
    return victim


def list_victims(
    session: Session, *, principal: Principal, accident_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The victims of an accident, never with personal data; sex, age, age band, role,
    outcome and activity only for callers with ``restricted:read``."""
    _live_accident(session, accident_id)
    rows = session.execute(
        text(VICTIM_COLUMNS + " WHERE v.accident_id = :id ORDER BY v.created_at, v.id"),
        {"id": accident_id},
    ).mappings()
    attributes = can_read_restricted(principal)
    return [_victim_row(r, attributes) for r in rows]


def get_victim(
    session: Session,
    *,
    principal: Principal,
    accident_id: uuid.UUID,
    victim_id: uuid.UUID,
    with_personal: bool = True,
    writer: bool = False,
) -> dict[str, Any]:
    """One victim; ``personal`` is present only for callers with ``restricted:read``, and so
    are its attributes, except in the response to the write that set them (``writer``)."""
    _live_accident(session, accident_id)
    row = (
        session.execute(
            text(VICTIM_COLUMNS + " WHERE v.id = :id AND v.accident_id = :accident"),
            {"id": victim_id, "accident": accident_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no victim {victim_id} in accident {accident_id}")
    victim = _victim_row(row, writer or can_read_restricted(principal))
    if with_personal and can_read_restricted(principal):
        personal = session.get(VictimPersonalData, victim_id)
        victim["personal"] = (
            {name: getattr(personal, name) for name in PERSONAL_FIELDS}
            if personal is not None
            else None
        )
    return victim


def create_accident(session: Session, **kw: Any) -> tuple[uuid.UUID, bool]:
    """Record an accident, or update the one with the same external_id; returns id, created."""
    with undone_on_refusal(session):
        return _create_accident(session, **kw)


def update_accident(session: Session, **kw: Any) -> int:
    """Change an accident (If-Match required); returns the new version."""
    with undone_on_refusal(session):
        return _update_accident(session, **kw)


def retire_accident(session: Session, **kw: Any) -> None:
    """Retire an accident recorded in error or twice; nothing is deleted."""
    with undone_on_refusal(session):
        _retire_accident(session, **kw)


def create_victim(session: Session, **kw: Any) -> uuid.UUID:
    """Record a victim of an accident, with their personal data stored apart."""
    with undone_on_refusal(session):
        return _create_victim(session, **kw)


def update_victim(session: Session, **kw: Any) -> int:
    """Change a victim (If-Match required); returns the new version."""
    with undone_on_refusal(session):
        return _update_victim(session, **kw)


# --- casualty figures ------------------------------------------------------------------------
#
# Suppression that survives differencing (callers without ``restricted:read``).
#
# Atoms: every figure is a sum of *atoms*, the counts of one calendar month x organisation x
# accident class x sex x age band x role x outcome. A *slice* is the atoms of one month x
# organisation x accident class x outcome; its total is public anyway (the accidents' own
# ``killed`` and ``injured``, with their dates, organisation and class). A slice holding an
# atom that counts 1 to 4 is *tainted*: its status depends on its own atoms only, never on
# the question asked.
#
# Rule: a count broken down by sex, age band or role is withheld when it includes any atom,
# zero or not, of a tainted slice, and every combination of the grouped values is then listed
# (withheld), so neither the count nor whether it is zero shows. Counts by outcome only, and
# the total, are sums of whole slices and are shown.
#
# Why it holds: every count shown is a sum of whole slices (public on the accidents) or of
# atoms of untainted slices; the cells listed depend on the same. So every answer to every
# question is unchanged when the people of a tainted slice are redistributed among its 27
# sex x age band x role combinations in any way that keeps it tainted, and for every atom of
# a tainted slice such a redistribution changes its value (move one person out of it if it
# holds 2 to 4; into it from another combination if it holds 1 and the slice more; its only
# person to an empty combination if it holds the slice's only person; if it is 0, one person
# from a tainted atom into it; if 5 or more, one person between it and a tainted atom). No
# combination of answers (differences of periods, groupings, organisations or classes, with
# the accidents' totals) therefore determines a withheld count. Periods (calendar months,
# quarters, years, all time), organisation and accident class select whole slices; a range
# that splits a month, and an ``admin`` area (not whole slices), are refused with 400.

PERIODS_ALLOWED = (
    "without restricted:read, casualty figures are answered for a calendar month "
    "(from=2024-08-01&to=2024-08-31), a calendar quarter (from=2024-07-01&to=2024-09-30), "
    "a calendar year (from=2024-01-01&to=2024-12-31) or all time (neither from nor to)"
)
SUPPRESSION_RULE = (
    "a slice is the casualties of one calendar month, organisation, accident class and "
    "outcome; a slice holding a sex x age band x role combination of 1 to 4 people is "
    "tainted, and every count by sex, age band or role that includes any part of a tainted "
    "slice is withheld; counts by outcome only and the total are shown (they are the "
    "accidents' own totals); so no combination of answers reveals a withheld count"
)


def parse_group_by(value: str | None) -> list[str]:
    """The dimensions to group by, in the order given; 400 names an unknown one."""
    if value is None:
        return list(DIMENSIONS)
    dims = [d.strip() for d in value.split(",") if d.strip()]
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise BadRequest(
            f"group_by accepts {', '.join(DIMENSIONS)}; not {', '.join(unknown)}",
            errors=[{"parameter": "group_by", "in": "query", "message": "unknown"}],
        )
    if len(set(dims)) != len(dims):
        raise BadRequest("group_by names a dimension twice")
    return dims


def fixed_period(date_from: date | None, date_to: date | None) -> str | None:
    """The name of the fixed period ``[date_from, date_to]`` (``2024-08``, ``2024-Q3``,
    ``2024``, or ``all`` for neither bound); None when it is not one."""
    if date_from is None and date_to is None:
        return "all"
    if date_from is None or date_to is None or date_from.day != 1:
        return None
    y, m = date_from.year, date_from.month
    last = {
        1: date(y, m, calendar.monthrange(y, m)[1]),
        3: date(y, m + 2, calendar.monthrange(y, m + 2)[1]) if m % 3 == 1 else None,
        12: date(y, 12, 31) if m == 1 else None,
    }
    if date_to == last[1]:
        return f"{y}-{m:02d}"
    if date_to == last[3]:
        return f"{y}-Q{(m + 2) // 3}"
    if date_to == last[12]:
        return str(y)
    return None


def check_question(principal: Principal, filters: AccidentFilters) -> str | None:
    """For callers without ``restricted:read``: 400 unless the question selects whole
    atoms (a fixed period, no ``admin`` area or box). Returns the period's name."""
    if can_read_restricted(principal):
        return None
    period = fixed_period(filters.date_from, filters.date_to)
    if period is None:
        raise BadRequest(
            PERIODS_ALLOWED + "; other ranges need restricted:read",
            errors=[
                {
                    "parameter": "from" if filters.date_from else "to",
                    "in": "query",
                    "message": "not a calendar month, quarter or year",
                }
            ],
        )
    if filters.admin is not None or filters.bbox is not None:
        raise BadRequest(
            "without restricted:read, casualty figures are not broken down by area "
            "(admin); they are answered by period, organisation and accident class",
            errors=[{"parameter": "admin", "in": "query", "message": "not allowed"}],
        )
    return period


CASUALTY_SQL = (
    """
WITH acc AS (
    SELECT a.id, a.killed, a.injured, a.organisation_id, a.accident_class,
           to_char(a.occurred_on, 'YYYY-MM') AS month
    FROM accidents a JOIN organisations o ON o.id = a.organisation_id
"""
    + FILTER_SQL
    + """
), itemised AS (
    SELECT acc.month, acc.organisation_id, acc.accident_class,
           v.sex, v.age_band, v.role, v.outcome, count(*) AS n
    FROM victims v JOIN acc ON acc.id = v.accident_id
    GROUP BY acc.month, acc.organisation_id, acc.accident_class,
             v.sex, v.age_band, v.role, v.outcome
), rest AS (
    SELECT acc.month, acc.organisation_id, acc.accident_class, t.outcome,
           t.total - (SELECT count(*) FROM victims v
                      WHERE v.accident_id = acc.id AND v.outcome = t.outcome) AS n
    FROM acc CROSS JOIN LATERAL (VALUES ('killed', acc.killed), ('injured', acc.injured))
         AS t(outcome, total)
)
SELECT month, organisation_id, accident_class, sex, age_band, role, outcome, n
FROM itemised
UNION ALL
SELECT month, organisation_id, accident_class, 'unknown', 'unknown', 'unknown', outcome,
       sum(n)
FROM rest GROUP BY month, organisation_id, accident_class, outcome HAVING sum(n) > 0
"""
)

ATOM_KEYS = ("month", "organisation_id", "accident_class", *DIMENSIONS)


def atoms(session: Session, filters: AccidentFilters, exact: bool) -> dict[tuple, int]:
    """The non-zero atoms selected by ``filters``, keyed by ``ATOM_KEYS``."""
    out: dict[tuple, int] = {}
    for row in session.execute(text(CASUALTY_SQL), filters.params(exact)).mappings():
        key = tuple(str(row[k]) for k in ATOM_KEYS)
        out[key] = out.get(key, 0) + int(row["n"])
    return {k: n for k, n in out.items() if n > 0}


def withheld_atom(n: int) -> bool:
    """An atom of 1 to 4 taints its slice."""
    return 0 < n < SUPPRESSION_THRESHOLD


BREAKDOWNS = ("sex", "age_band", "role")
DOMAINS = {
    "sex": [v.value for v in Sex],
    "age_band": [v.value for v in AgeBand],
    "role": [v.value for v in VictimRole],
    "outcome": [v.value for v in CasualtyOutcome],
}


def aggregate(
    atom_counts: dict[tuple, int], group_by: list[str]
) -> tuple[dict[tuple[str, ...], tuple[int, bool]], tuple[int, bool]]:
    """Cells and total built from atoms: (count, withheld) by the slice rule above. A
    withheld outcome lists every combination of the grouped values, zeros included."""
    index = [ATOM_KEYS.index(d) for d in group_by]
    out_at = ATOM_KEYS.index("outcome")
    tainted = {key[out_at] for key, n in atom_counts.items() if withheld_atom(n)}
    if not any(d in BREAKDOWNS for d in group_by):
        tainted = set()  # whole slices: the accidents' own totals
    cells: dict[tuple[str, ...], tuple[int, bool]] = {}
    for key, n in atom_counts.items():
        cell = tuple(key[i] for i in index)
        cells[cell] = (cells.get(cell, (0, False))[0] + n, False)
    for cell in product(*(DOMAINS[d] for d in group_by)):
        outcome = dict(zip(group_by, cell, strict=True)).get("outcome")
        if tainted if outcome is None else outcome in tainted:
            cells[cell] = (cells.get(cell, (0, False))[0], True)
    return cells, (sum(atom_counts.values()), False)


def casualties(
    session: Session,
    *,
    principal: Principal,
    group_by: list[str],
    filters: AccidentFilters,
    language: str,
) -> dict[str, Any]:
    """Casualties by the requested dimensions, suppressed for callers without the right."""
    apply = not can_read_restricted(principal)
    period = check_question(principal, filters)
    cells, (total, total_hidden) = aggregate(
        atoms(session, filters, sees_exact_locations(principal)), group_by
    )
    vocab_of = {
        "sex": "sex",
        "age_band": "age_band",
        "role": "victim_role",
        "outcome": "casualty_outcome",
    }
    out = []
    for key in sorted(cells):
        cell: dict[str, Any] = dict(zip(group_by, key, strict=True))
        cell["labels"] = {
            d: label(vocab_of[d], v, language)
            for d, v in zip(group_by, key, strict=True)
        }
        withheld = apply and cells[key][1]
        if not withheld and cells[key][0] == 0:
            continue  # zero cells are listed only when withheld (whether zero is secret)
        cell["count"] = None if withheld else cells[key][0]
        cell["suppressed"] = withheld
        out.append(cell)
    total_hidden = apply and total_hidden
    return {
        "group_by": group_by,
        "period": period,
        "cells": out,
        "total": {"count": None if total_hidden else total, "suppressed": total_hidden},
        "suppression": {
            "applied": apply,
            "threshold": SUPPRESSION_THRESHOLD,
            "rule": SUPPRESSION_RULE
            if apply
            else "none: the caller has restricted:read",
        },
        "not_itemised": (
            "people counted in accidents' killed/injured totals but not recorded as "
            "victims are counted with sex, age_band and role 'unknown'"
        ),
    }

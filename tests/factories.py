"""Builders for test data: organisations, users with tokens, hazards and activities."""

import uuid
from dataclasses import dataclass
from typing import Any

from pyproj import Geod
from shapely.geometry import box, mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from api.schemas.activities import ActivityCreate
from api.schemas.hazards import HazardFeatureCreate
from api.schemas.organisations import OrganisationCreate
from api.services import activities, auth, hazards, organisations
from api.settings import Settings
from api.vocab import OrganisationType, Role

GEOD = Geod(ellps="WGS84")


def geod_area(geom: BaseGeometry) -> float:
    """Independent ellipsoidal area (pyproj, geodesic edges) of a lon/lat geometry."""
    return 0.0 if geom.is_empty else abs(GEOD.geometry_area_perimeter(geom)[0])


@dataclass
class User:
    """A test user: its principal and the HTTP headers that authenticate it."""

    name: str
    principal: auth.Principal
    headers: dict[str, str]


@dataclass
class Actors:
    """The organisations and users most tests need."""

    org_a: str
    org_b: str
    admin: User
    coordinator_a: User
    coordinator_b: User
    eore_a: User
    analyst_a: User
    analyst_restricted: User


def _user(
    session: Session,
    settings: Settings,
    role: Role,
    org: str | None,
    restricted: bool = False,
) -> User:
    name = f"{role.value}-{uuid.uuid4().hex[:6]}"
    user = auth.create_user(
        session,
        username=name,
        password="password-" + name,
        role=role,
        organisation_code=org,
        restricted=restricted,
    )
    token, _ = auth.issue_token(settings, user)
    principal = auth.principal_from_token(session, settings, token)
    return User(name, principal, {"Authorization": f"Bearer {token}"})


def make_org(
    session: Session,
    code: str | None = None,
    type_: OrganisationType = OrganisationType.ngo_international,
) -> str:
    code = code or "ORG" + uuid.uuid4().hex[:5].upper()
    organisations.create(
        session, data=OrganisationCreate(code=code, name=f"Org {code}", type=type_)
    )
    return code


def make_actors(session: Session, settings: Settings) -> Actors:
    org_a, org_b = make_org(session), make_org(session)
    return Actors(
        org_a=org_a,
        org_b=org_b,
        admin=_user(session, settings, Role.admin, None),
        coordinator_a=_user(session, settings, Role.coordinator, org_a),
        coordinator_b=_user(session, settings, Role.coordinator, org_b),
        eore_a=_user(session, settings, Role.eore, org_a),
        analyst_a=_user(session, settings, Role.analyst, org_a),
        analyst_restricted=_user(
            session, settings, Role.analyst, org_a, restricted=True
        ),
    )


def hazard_feature(geom: BaseGeometry | dict | None, org: str, **props: Any) -> dict:
    """A hazard Feature as a client would send it."""
    base = {
        "classification": "SHA",
        "hazard_type": "minefield",
        "contamination": ["ap_mine"],
        "organisation": org,
        "date_of_information": "2024-05-01",
    }
    base.update(props)
    geometry = mapping(geom) if isinstance(geom, BaseGeometry) else geom
    return {"type": "Feature", "geometry": geometry, "properties": base}


def make_hazard(
    session: Session,
    settings: Settings,
    principal: auth.Principal,
    geom: BaseGeometry,
    org: str,
    **props: Any,
) -> uuid.UUID:
    feature = HazardFeatureCreate.model_validate(hazard_feature(geom, org, **props))
    return hazards.create_hazard(
        session, feature=feature, principal=principal, settings=settings
    ).id


def release(
    geom: BaseGeometry, outcome: str, date: str = "2024-06-20", **props
) -> dict:
    return {
        "type": "Feature",
        "geometry": mapping(geom),
        "properties": {"outcome": outcome, "date": date, **props},
    }


def activity_body(
    org: str, hazard_ids: list, releases: list[dict], **fields: Any
) -> dict:
    body = {
        "activity_type": "clearance",
        "organisation": org,
        "hazard_ids": [str(h) for h in hazard_ids],
        "status": "completed",
        "start_date": "2024-06-01",
        "end_date": "2024-06-20",
        "methods": ["manual"],
        "releases": {"type": "FeatureCollection", "features": releases},
    }
    body.update(fields)
    return body


def make_activity(
    session: Session,
    settings: Settings,
    principal: auth.Principal,
    org: str,
    hazard_ids: list,
    releases: list[dict],
    **fields: Any,
):
    body = ActivityCreate.model_validate(
        activity_body(org, hazard_ids, releases, **fields)
    )
    return activities.create_activity(
        session, body=body, principal=principal, settings=settings
    )


def make_activity_unless_apart(*args: Any, **fields: Any):
    """``make_activity``, or None when its release touches none of its hazards: every write
    refuses such a release (``gate.RELEASE_TOUCHES_NONE``), so a property test drawing
    releases anywhere goes on with the next one."""
    from api.errors import InvalidGeometry
    from api.ingest import gate

    try:
        return make_activity(*args, **fields)
    except InvalidGeometry as exc:
        assert exc.errors and exc.errors[0]["message"] == gate.RELEASE_TOUCHES_NONE, exc
        return None


def square(lon: float, lat: float, size: float) -> BaseGeometry:
    return box(lon, lat, lon + size, lat + size)


def make_admin_area(
    session: Session,
    pcode: str,
    geom: BaseGeometry,
    level: int,
    parent: str | None = None,
    name: str | None = None,
) -> str:
    """Insert an administrative area (imports do this in production)."""
    from geoalchemy2.shape import from_shape
    from shapely.geometry import MultiPolygon

    from api.db.models import AdminArea

    multi = geom if geom.geom_type == "MultiPolygon" else MultiPolygon([geom])
    session.add(
        AdminArea(
            pcode=pcode,
            name=name or f"Area {pcode}",
            level=level,
            parent_pcode=parent,
            geom=from_shape(multi, srid=4326),
        )
    )
    session.flush()
    return pcode

"""Organisations."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import Organisation
from api.errors import Conflict
from api.schemas.organisations import OrganisationCreate


def create(
    session: Session, *, data: OrganisationCreate, is_demo: bool = False
) -> Organisation:
    """Create an organisation; its code must be unused."""
    org = Organisation(
        code=data.code, name=data.name, type=data.type.value, is_demo=is_demo
    )
    session.add(org)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(
            f"an organisation with code {data.code!r} already exists",
            errors=[{"pointer": "/code", "message": "already used"}],
        ) from exc
    return org


def list_all(session: Session) -> list[Organisation]:
    """Every organisation, by code."""
    return list(session.scalars(select(Organisation).order_by(Organisation.code)))

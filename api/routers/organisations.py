"""Organisations."""

from typing import Annotated

from fastapi import APIRouter, Body

from api.deps import LanguageDep, PrincipalDep, ReaderDep, SessionDep
from api.errors import problem_responses
from api.responses import JSONOut
from api.schemas.organisations import (
    ORGANISATION_EXAMPLE,
    OrganisationCreate,
    OrganisationList,
    OrganisationOut,
)
from api.services import organisations
from api.services.auth import require_admin
from api.vocab import label

router = APIRouter(prefix="/organisations", tags=["organisations"])


def _out(org, language: str) -> dict:
    out = OrganisationOut.model_validate(org, from_attributes=True).model_dump()
    out["type_label"] = label("organisation_type", org.type, language)
    return out


@router.post(
    "",
    status_code=201,
    response_model=OrganisationOut,
    response_class=JSONOut,
    responses=problem_responses(401, 403, 409, 422),
)
def create_organisation(
    session: SessionDep,
    principal: PrincipalDep,
    language: LanguageDep,
    body: Annotated[
        OrganisationCreate,
        Body(openapi_examples={"ngo": {"value": ORGANISATION_EXAMPLE}}),
    ],
):
    """Register an organisation (admin only)."""
    require_admin(principal)
    return JSONOut(
        _out(organisations.create(session, data=body), language), status_code=201
    )


@router.get(
    "",
    response_model=OrganisationList,
    response_class=JSONOut,
    responses=problem_responses(401),
)
def list_organisations(
    session: SessionDep, principal: ReaderDep, language: LanguageDep
):
    """Every organisation, by code."""
    items = [_out(o, language) for o in organisations.list_all(session)]
    return JSONOut(
        {
            "organisations": items,
            "numberMatched": len(items),
            "numberReturned": len(items),
        }
    )

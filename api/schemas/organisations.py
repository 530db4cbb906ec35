"""Organisation bodies."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.vocab import OrganisationType


class OrganisationCreate(BaseModel):
    """A new organisation."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(..., min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(..., min_length=1, max_length=300)
    type: OrganisationType


class OrganisationOut(BaseModel):
    """An organisation as stored."""

    id: uuid.UUID
    code: str
    name: str
    type: OrganisationType
    type_label: str | None = None
    is_demo: bool
    created_at: datetime


ORGANISATION_EXAMPLE = {
    "code": "HALO",
    "name": "The HALO Trust",
    "type": "ngo_international",
}


class OrganisationList(BaseModel):
    """Every organisation, by code."""

    organisations: list[OrganisationOut]
    numberMatched: int  # noqa: N815 - as the feature collections
    numberReturned: int  # noqa: N815

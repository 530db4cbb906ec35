"""Health, identity (sign-in, users, API keys), vocabularies and the audit log: request and
response bodies."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import Link
from api.vocab import Role


class Health(BaseModel):
    """The service and its database are up."""

    status: Literal["ok"]
    database: Literal["ok"]
    postgis: str = Field(description="PostGIS library version")


class TokenPair(BaseModel):
    """A bearer access token and a refresh token (shown once; not cached)."""

    access_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="seconds")
    refresh_token: str
    refresh_expires_in: int = Field(description="seconds")


class Me(BaseModel):
    """The signed-in caller."""

    name: str
    role: Role
    organisation: str | None = Field(description="organisation code")
    permissions: list[str]


class PasswordChange(BaseModel):
    """The current password and the new one."""

    current_password: str = Field(
        ..., min_length=1, max_length=1000, examples=["a-long-password"]
    )
    new_password: str = Field(
        ..., min_length=8, max_length=1000, examples=["another-long-password"]
    )


class UserCreate(BaseModel):
    """A new user (admins only)."""

    username: str = Field(..., min_length=1, max_length=100)
    password: str = Field(..., min_length=8, max_length=1000)
    role: Role
    organisation: str | None = None
    restricted: bool = False


class ApiKeyCreate(BaseModel):
    """A new API key for one organisation (admins only)."""

    name: str = Field(..., min_length=1, max_length=100)
    organisation: str
    role: Role = Role.coordinator
    restricted: bool = False
    permissions: list[str] | None = Field(
        None,
        description="what the key may do: write scopes (hazards:write, activities:write, "
        "eo-finds:write, accidents:write, hazard-reports:write, imports:write, "
        "priorities:write) and restricted:read; default: every write scope of its role",
        examples=[["hazard-reports:write"]],
    )


class UserOut(BaseModel):
    """A user as created."""

    id: str
    username: str
    role: Role
    organisation: str | None = Field(description="organisation code")
    restricted: bool


class ApiKeyOut(BaseModel):
    """An API key as created; ``key`` is shown this once, only its hash is stored."""

    id: str
    name: str
    organisation: str = Field(description="organisation code")
    role: Role
    permissions: list[str]
    key: str


class VocabularyEntry(BaseModel):
    """A code and its label in the caller's language."""

    code: str
    label: str


class Vocabularies(BaseModel):
    """Every code list with labels."""

    language: str
    languages: list[str] = Field(description="languages with labels, default first")
    vocabularies: dict[str, list[VocabularyEntry]]


class AuditEntryOut(BaseModel):
    """One write: who, when, from where, what changed."""

    id: int
    at: datetime
    actor: str
    actor_user_id: str | None
    api_key_id: str | None
    client: str | None
    request: str | None
    entity: str
    entity_id: str | None
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditLog(BaseModel):
    """Audit entries, newest first."""

    items: list[AuditEntryOut]
    links: list[Link] = []

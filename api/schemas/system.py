"""Health, identity, vocabularies and the audit log (response bodies)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

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

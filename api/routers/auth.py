"""Sign-in, the caller's identity, users and API keys."""

from typing import Annotated

from fastapi import APIRouter, Body, Form, Request
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, ReaderDep, SessionDep, SettingsDep
from api.errors import Unauthorized, problem_responses
from api.responses import JSONOut
from api.services import auth
from api.vocab import Role

router = APIRouter(tags=["identity"])


@router.post(
    "/auth/token",
    response_class=JSONOut,
    responses=problem_responses(401, 422, 429),
    summary="Exchange a username and password for an access token",
)
def create_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(examples=["coordinator1"])],
    password: Annotated[str, Form(examples=["a-long-password"])],
):
    """OAuth2 password flow: returns ``access_token``, ``token_type`` and ``expires_in``.

    Repeated failures are throttled (429 with Retry-After): per account and per address.
    """
    client = request.client.host if request.client else None
    auth.check_throttle(session, settings, username, client)
    user = auth.authenticate(session, username, password)
    auth.record_attempt(session, username, client, succeeded=user is not None)
    if user is None:
        raise Unauthorized("unknown user or wrong password")
    token, lifetime = auth.issue_token(settings, user)
    return {"access_token": token, "token_type": "bearer", "expires_in": lifetime}


@router.get("/auth/me", response_class=JSONOut, responses=problem_responses(401))
def who_am_i(principal: ReaderDep):
    """The signed-in caller: name, role, organisation and permissions."""
    return {
        "name": principal.name,
        "role": principal.role.value,
        "organisation": principal.organisation_code,
        "permissions": sorted(principal.permissions),
    }


class UserCreate(BaseModel):
    """A new user (admins only)."""

    username: str = Field(..., min_length=1, max_length=100)
    password: str = Field(..., min_length=8, max_length=1000)
    role: Role
    organisation: str | None = None
    restricted: bool = False


@router.post(
    "/users",
    status_code=201,
    response_class=JSONOut,
    responses=problem_responses(401, 403, 409, 422),
)
def create_user(
    session: SessionDep,
    principal: PrincipalDep,
    body: Annotated[
        UserCreate,
        Body(
            openapi_examples={
                "coordinator": {
                    "value": {
                        "username": "coordinator1",
                        "password": "a-long-password",
                        "role": "coordinator",
                        "organisation": "HALO",
                    }
                }
            }
        ),
    ],
):
    """Create a user (admin only). Passwords are stored as argon2 hashes."""
    auth.require_admin(principal)
    user = auth.create_user(
        session,
        username=body.username,
        password=body.password,
        role=body.role,
        organisation_code=body.organisation,
        restricted=body.restricted,
    )
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "organisation": body.organisation,
        "restricted": user.restricted,
    }


class ApiKeyCreate(BaseModel):
    """A new API key for one organisation (admins only)."""

    name: str = Field(..., min_length=1, max_length=100)
    organisation: str
    role: Role = Role.coordinator
    restricted: bool = False


@router.post(
    "/api-keys",
    status_code=201,
    response_class=JSONOut,
    responses=problem_responses(401, 403, 404, 422),
)
def create_api_key(
    session: SessionDep,
    principal: PrincipalDep,
    body: Annotated[
        ApiKeyCreate,
        Body(
            openapi_examples={
                "kobo": {
                    "value": {
                        "name": "kobo-webhook",
                        "organisation": "HALO",
                        "role": "coordinator",
                    }
                }
            }
        ),
    ],
):
    """Create an API key; the key is shown once and only its hash is stored."""
    admin = auth.require_admin(principal)
    plain, key = auth.create_api_key(
        session,
        organisation_code=body.organisation,
        name=body.name,
        role=body.role,
        restricted=body.restricted,
        created_by=admin.user_id,
    )
    return {
        "id": key.id,
        "name": key.name,
        "organisation": body.organisation,
        "role": key.role,
        "key": plain,
    }

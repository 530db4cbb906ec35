"""Sign-in, the caller's identity, users and API keys."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Form, Request, Response

from api.deps import PrincipalDep, ReaderDep, SessionDep, SettingsDep
from api.errors import (
    Forbidden,
    InvalidInput,
    Unauthorized,
    problem_responses,
)
from api.responses import JSONOut
from api.schemas.system import (
    ApiKeyCreate,
    ApiKeyOut,
    Me,
    PasswordChange,
    TokenPair,
    UserCreate,
    UserOut,
)
from api.services import auth

router = APIRouter(tags=["identity"])

# Answers carrying a token or a key: never stored by a browser or a proxy (RFC 6749 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _secret(body: dict, status_code: int = 200) -> JSONOut:
    return JSONOut(body, status_code=status_code, headers=NO_STORE)


@router.post(
    "/auth/token",
    response_model=TokenPair,
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
    """OAuth2 password flow: returns ``access_token``, ``token_type``, ``expires_in``
    (seconds), ``refresh_token`` and ``refresh_expires_in``.

    The access token is short-lived; exchange the refresh token at
    ``POST /api/v1/auth/refresh`` for a new pair. Repeated failures are throttled (429 with
    Retry-After): per account and per address; anonymous requests are also rate-limited.
    """
    client = request.client.host if request.client else None
    auth.check_throttle(session, settings, username, client)
    user = auth.authenticate(session, username, password)
    auth.record_attempt(session, username, client, succeeded=user is not None)
    if user is None:
        raise Unauthorized("unknown user or wrong password")
    return _secret(auth.token_pair(session, settings, user))


async def _refresh_token_field(request: Request) -> str:
    """``refresh_token`` from a form or a JSON object."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    value = None
    if kind == "application/json":
        try:
            data = await request.json()
        except (ValueError, RecursionError) as exc:
            raise InvalidInput("the request body is not valid JSON") from exc
        value = data.get("refresh_token") if isinstance(data, dict) else None
    elif kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        value = (await request.form()).get("refresh_token")
    if not isinstance(value, str) or not value:
        raise InvalidInput(
            "send refresh_token as a form field or as a member of a JSON object",
            errors=[{"pointer": "/refresh_token", "message": "required"}],
        )
    return value


_REFRESH_SCHEMA = {
    "type": "object",
    "required": ["refresh_token"],
    "properties": {
        "refresh_token": {
            "type": "string",
            "examples": ["the refresh_token of the last /auth/token or /auth/refresh"],
        }
    },
}


@router.post(
    "/auth/refresh",
    response_model=TokenPair,
    response_class=JSONOut,
    responses=problem_responses(401, 422, 429),
    summary="Exchange a refresh token for a new access token and refresh token",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": _REFRESH_SCHEMA},
                "application/json": {"schema": _REFRESH_SCHEMA},
            },
        }
    },
)
def refresh_tokens(
    session: SessionDep,
    settings: SettingsDep,
    refresh_token: Annotated[str, Depends(_refresh_token_field)],
):
    """Rotation: returns a new pair as ``/auth/token`` does, and the refresh token sent is
    spent. Sending a spent one again revokes every token of that sign-in (it was copied).
    Password changes and deactivation revoke refresh tokens as they do access tokens."""
    return _secret(auth.refresh(session, settings, refresh_token))


@router.post(
    "/auth/password",
    response_model=TokenPair,
    response_class=JSONOut,
    responses=problem_responses(401, 403, 422, 429),
    summary="Change your password (revokes every token you hold)",
)
def change_password(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: ReaderDep,
    body: PasswordChange,
):
    """Change the signed-in user's password. Every access and refresh token issued before
    stops working at once (other devices must sign in again); the answer is a new pair
    for this client, as from ``/auth/token``. A wrong current password counts as a failed
    sign-in for throttling."""
    if principal.user_id is None:
        raise Forbidden("an API key has no password; sign in as a user")
    client = request.client.host if request.client else None
    auth.check_throttle(session, settings, principal.name, client)
    try:
        user = auth.change_password(
            session, principal.user_id, body.current_password, body.new_password
        )
    except Forbidden:
        auth.record_attempt(session, principal.name, client, succeeded=False)
        raise
    return _secret(auth.token_pair(session, settings, user))


@router.get(
    "/auth/me",
    response_model=Me,
    response_class=JSONOut,
    responses=problem_responses(401),
)
def who_am_i(principal: ReaderDep):
    """The signed-in caller: name, role, organisation and permissions."""
    return JSONOut(
        {
            "name": principal.name,
            "role": principal.role.value,
            "organisation": principal.organisation_code,
            "permissions": sorted(principal.permissions),
        }
    )


@router.post(
    "/users",
    status_code=201,
    response_model=UserOut,
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
    return JSONOut(
        {
            "id": user.id,
            "username": user.username,
            "role": user.role,
            "organisation": body.organisation,
            "restricted": user.restricted,
        },
        status_code=201,
    )


@router.delete(
    "/users/{username}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404),
)
def deactivate_user(session: SessionDep, principal: PrincipalDep, username: str):
    """Deactivate a user (admin only): no more sign-ins, and every access and refresh token
    they hold is revoked at once. History keeps the account."""
    auth.require_admin(principal)
    auth.deactivate_user(session, username)
    return Response(status_code=204)


@router.post(
    "/api-keys",
    status_code=201,
    response_model=ApiKeyOut,
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
    """Create an API key; the key is shown once and only its hash is stored.

    A key writes only where its ``permissions`` allow (403 naming the missing one)."""
    admin = auth.require_admin(principal)
    plain, key = auth.create_api_key(
        session,
        organisation_code=body.organisation,
        name=body.name,
        role=body.role,
        restricted=body.restricted,
        created_by=admin.user_id,
        permissions=body.permissions,
    )
    return _secret(
        {
            "id": key.id,
            "name": key.name,
            "organisation": body.organisation,
            "role": key.role,
            "permissions": key.permissions,
            "key": plain,
        },
        status_code=201,
    )

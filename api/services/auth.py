"""Identity: password hashing, tokens, API keys, and who may do what."""

import hashlib
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, false, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import ApiKey, LoginAttempt, Organisation, User
from api.db.models.identity import RefreshToken
from api.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from api.settings import Settings
from api.vocab import Role

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password")
JWT_ALGORITHM = "HS256"
API_KEY_PREFIX = "sgk_"
RESTRICTED_READ = "restricted:read"

# Named write scopes of API keys: the first path segment under /api/v1 a write goes to, and the
# scope it needs. A key writes only where one of its scopes allows (and its role, as for users).
WRITE_SCOPES = {
    "hazards": "hazards:write",
    "activities": "activities:write",
    "eo-finds": "eo-finds:write",
    "accidents": "accidents:write",
    "hazard-reports": "hazard-reports:write",
    "integrations": "hazard-reports:write",
    "imports": "imports:write",
    "priorities": "priorities:write",
    "eore-sessions": "eore-sessions:write",
}
# writes that need more than their segment's scope: (first segment, last segment) -> scopes.
# Accepting a hazard report makes it part of a hazard (links it, or creates one).
EXTRA_SCOPES = {
    ("hazard-reports", "accept"): frozenset({"hazards:write"}),
}
# first path segments under /api/v1 that no API key may write, and why: identity, and the
# programme-wide settings (priority model, public layer, code lists), which are an admin's
# signed-in decision, never an organisation's integration. Every write route of the API is
# either here or in WRITE_SCOPES (tests/test_authorization.py walks them).
KEY_REFUSED = {
    "auth": "sign-in and passwords are for users",
    "users": "users are managed by admins signed in",
    "api-keys": "keys are managed by admins signed in",
    "organisations": "organisations are managed by admins signed in",
    "priority-models": "the priority model is a programme-wide setting (admins)",
    "public": "publishing the public layer is a programme-wide decision (admins)",
    "vocabularies": "code lists are programme-wide settings (admins)",
}
# an import writes records of its kind: a key needs their scope besides imports:write
IMPORT_SCOPES = {
    "hazards": "hazards:write",
    "activities": "activities:write",
    "releases": "activities:write",
    "eo_finds": "eo-finds:write",
}
PERMISSIONS = frozenset({RESTRICTED_READ, *WRITE_SCOPES.values()})
# the scopes a key of each role gets when none are named (what the role may write)
ROLE_SCOPES = {
    Role.admin: frozenset(WRITE_SCOPES.values()),
    Role.coordinator: frozenset(WRITE_SCOPES.values()),
    Role.eore: frozenset({"hazard-reports:write", "eore-sessions:write"}),
    Role.analyst: frozenset(),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user or an API key, with role, organisation and permissions."""

    role: Role
    organisation_id: uuid.UUID | None
    organisation_code: str | None
    restricted: bool
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    name: str = ""
    scopes: frozenset[str] | None = None  # an API key's write scopes; None: the role's

    @property
    def permissions(self) -> frozenset[str]:
        """Named permissions: ``restricted:read`` and, for an API key, its write scopes."""
        named = frozenset({RESTRICTED_READ}) if self.restricted else frozenset()
        return named | (self.scopes or frozenset())


def can_read_restricted(principal: Principal | None) -> bool:
    """Whether ``principal`` holds ``restricted:read``: the one place this is decided.

    Restricted data: victims' personal data, informants' contacts and raw submissions of
    hazard reports, cells of accident statistics small enough to identify a victim, and
    (see ``sees_exact_locations``) exact EO-find and accident locations.
    """
    return principal is not None and RESTRICTED_READ in principal.permissions


def sees_exact_locations(principal: Principal | None) -> bool:
    """Whether ``principal`` may see exact EO-find and accident locations.

    ``restricted:read`` grants it; so do the admin and coordinator roles, whose work (tasking
    clearance, disposing of the items) needs the exact position (domain.md §5.2 withholds it
    from public products and from read-only roles).
    """
    return can_read_restricted(principal) or (
        principal is not None and principal.role in (Role.admin, Role.coordinator)
    )


def key_scopes_for(path: str) -> frozenset[str] | None:
    """The scopes an API key needs to write to ``path``; None when no key may write there."""
    if not path.startswith("/api/v1/"):
        return None
    parts = [p for p in path.removeprefix("/api/v1/").split("/") if p]
    if not parts or parts[0] not in WRITE_SCOPES:
        return None
    return frozenset({WRITE_SCOPES[parts[0]]}) | EXTRA_SCOPES.get(
        (parts[0], parts[-1]), frozenset()
    )


def require_key_scope(principal: Principal | None, method: str, path: str) -> None:
    """Refuse (403) a write by an API key that lacks the scopes for ``path``.

    Users are governed by their role alone; reads by keys by their role and
    ``restricted:read``.
    """
    if principal is None or principal.api_key_id is None:
        return
    if method in ("GET", "HEAD", "OPTIONS"):
        return
    needed = key_scopes_for(path)
    if needed is None:
        segment = path.removeprefix("/api/v1/").split("/")[0]
        why = KEY_REFUSED.get(segment)
        raise Forbidden(
            f"API keys cannot call {method} {path}"
            + (f" ({why})" if why else "")
            + "; sign in as a user (POST /api/v1/auth/token)"
        )
    for scope in sorted(needed):
        require_scope(principal, scope, f"{method} {path}")


def require_scope(principal: Principal, scope: str, what: str) -> None:
    """Refuse (403) an API key without ``scope`` for ``what``; users pass (their role decides).

    Services call it where one write reaches into another kind of record (accepting a
    hazard report creates or links a hazard), so a key's scopes hold end to end.
    """
    if principal.api_key_id is None:
        return
    if scope not in (principal.scopes or frozenset()):
        held = ", ".join(sorted(principal.permissions)) or "none"
        raise Forbidden(
            f"this API key lacks the {scope} permission for {what} (it has: {held})"
        )


def hash_password(password: str) -> str:
    """Argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Check ``password`` against an argon2 hash, in constant time."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None."""
    user = session.scalar(
        select(User).where(func.lower(User.username) == username.lower())
    )
    if user is None:
        verify_password(
            _DUMMY_HASH, password
        )  # same work whether or not the user exists
        return None
    if not user.active or not verify_password(user.password_hash, password):
        return None
    return user


LOGIN_MEMORY = timedelta(days=1)  # sign-in attempts are kept this long


def _retry_after(until: datetime) -> int:
    return max(1, math.ceil((until - datetime.now(UTC)).total_seconds()))


def check_throttle(
    session: Session, settings: Settings, username: str, client: str | None
) -> None:
    """Refuse (429 with Retry-After) a sign-in while this address has failed too often.

    Two counts, neither of which lets someone elsewhere lock the owner out:

    * **this account from this address**: after ``login_max_failures`` failures since the
      last success (within a day), each further try waits ``login_backoff_seconds``,
      doubled with every failure (30 s, 60 s, 120 s...) up to ``login_window_minutes``,
      counted from the last failure. Failures from other addresses do not count, so the
      owner signs in from theirs at once however many guesses come from elsewhere.
    * **this address, any account**: ``login_max_failures_per_client`` failures within
      ``login_window_minutes`` stop it until the oldest of them is that old.

    Checked before the password, so guessing stops even when the guess is right.
    """
    now = datetime.now(UTC)
    window = timedelta(minutes=settings.login_window_minutes)
    name = username.lower()
    from_here = (
        LoginAttempt.client == client if client else LoginAttempt.client.is_(None)
    )
    pair = (LoginAttempt.username == name, from_here)
    last_ok = session.scalar(
        select(func.max(LoginAttempt.at)).where(*pair, LoginAttempt.succeeded)
    )
    since = max(now - LOGIN_MEMORY, last_ok) if last_ok else now - LOGIN_MEMORY
    failures, last_failure = session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            *pair, ~LoginAttempt.succeeded, LoginAttempt.at > since
        )
    ).one()
    excess = failures - settings.login_max_failures
    if excess >= 0:
        delay = min(
            settings.login_backoff_seconds * 2 ** min(excess, 32),
            window.total_seconds(),
        )
        until = last_failure + timedelta(seconds=delay)
        if until > now:
            wait = _retry_after(until)
            raise TooManyRequests(
                f"too many failed sign-ins for this account from your address; "
                f"try again in {wait} s",
                retry_after=wait,
            )
    if client:
        count, first = session.execute(
            select(func.count(), func.min(LoginAttempt.at)).where(
                from_here, ~LoginAttempt.succeeded, LoginAttempt.at > now - window
            )
        ).one()
        if count >= settings.login_max_failures_per_client:
            wait = _retry_after(first + window)
            raise TooManyRequests(
                f"too many failed sign-ins from your address; try again in {wait} s",
                retry_after=wait,
            )


def record_attempt(
    session: Session, username: str, client: str | None, succeeded: bool
) -> None:
    """Remember a sign-in attempt (and forget those older than ``LOGIN_MEMORY``)."""
    session.add(
        LoginAttempt(username=username.lower(), client=client, succeeded=succeeded)
    )
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.at < func.now() - LOGIN_MEMORY)
    )
    session.commit()


def issue_token(
    settings: Settings, user: User, family_id: uuid.UUID | None = None
) -> tuple[str, int]:
    """A signed access token for ``user`` and its lifetime in seconds.

    ``family_id`` names the sign-in it belongs to (claim ``fam``, the family of its refresh
    tokens): when that family is revoked (a spent refresh token sent again) the access
    token is refused too (``principal_from_token``).
    """
    lifetime = settings.access_token_minutes * 60
    now = datetime.now(UTC)
    claims = {
        "sub": str(user.id),
        "tv": user.token_version,
        "iat": now,
        "exp": now + timedelta(seconds=lifetime),
        "typ": "access",
    }
    if family_id is not None:
        claims["fam"] = str(family_id)
    token = jwt.encode(
        claims, settings.secret_key.get_secret_value(), algorithm=JWT_ALGORITHM
    )
    return token, lifetime


def issue_refresh_token(
    session: Session,
    settings: Settings,
    user: User,
    family_id: uuid.UUID | None = None,
) -> tuple[str, int]:
    """A refresh token for ``user`` (recorded by id, single use) and its lifetime in seconds.

    ``family_id`` joins it to the chain it replaces; a new sign-in starts a new family.
    """
    lifetime = settings.refresh_token_days * 86400
    now = datetime.now(UTC)
    record = RefreshToken(
        id=uuid.uuid4(),
        user_id=user.id,
        family_id=family_id or uuid.uuid4(),
        expires_at=now + timedelta(seconds=lifetime),
    )
    session.add(record)
    session.flush()
    claims = {
        "sub": str(user.id),
        "tv": user.token_version,
        "jti": str(record.id),
        "iat": now,
        "exp": record.expires_at,
        "typ": "refresh",
    }
    token = jwt.encode(
        claims, settings.secret_key.get_secret_value(), algorithm=JWT_ALGORITHM
    )
    return token, lifetime


def token_pair(
    session: Session,
    settings: Settings,
    user: User,
    family_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The token response: an access token and a refresh token, committed.

    Both belong to the sign-in ``family_id`` (a new sign-in, when None, starts one).
    """
    family_id = family_id or uuid.uuid4()
    access, lifetime = issue_token(settings, user, family_id)
    refresh, refresh_lifetime = issue_refresh_token(session, settings, user, family_id)
    session.commit()
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": lifetime,
        "refresh_token": refresh,
        "refresh_expires_in": refresh_lifetime,
    }


def refresh(session: Session, settings: Settings, token: str) -> dict[str, Any]:
    """Exchange a refresh token for a new pair; the old one is spent (rotation).

    A spent token presented again means it was copied: every token of its family (the
    sign-in) is revoked, refresh tokens and access tokens alike (``principal_from_token``
    refuses an access token whose ``fam`` is revoked), so both the thief and the user must
    sign in again. Revocation by ``token_version`` (password change, deactivation) applies
    as to access tokens.
    """
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            options={"require": ["sub", "exp", "tv"]},
        )
        if claims.get("typ") != "refresh":
            raise Unauthorized(
                "this is not a refresh token (an access token is sent as "
                "Authorization: Bearer, never to /auth/refresh)"
            )
        user_id, token_id = uuid.UUID(claims["sub"]), uuid.UUID(str(claims["jti"]))
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("the refresh token has expired; sign in again") from exc
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise Unauthorized("the refresh token is not valid") from exc
    record = session.scalar(
        select(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.user_id == user_id)
        .with_for_update()
    )
    if record is None or record.revoked_at is not None:
        raise Unauthorized("the refresh token has been revoked; sign in again")
    if record.used_at is not None:
        session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.family_id == record.family_id,
                RefreshToken.revoked_at.is_(None),
            )
            .values(revoked_at=func.now())
        )
        session.commit()
        raise Unauthorized(
            "the refresh token was already used; every token of this sign-in is "
            "revoked: sign in again"
        )
    user = session.get(User, user_id)
    if user is None or not user.active or user.token_version != claims["tv"]:
        raise Unauthorized("the refresh token has been revoked; sign in again")
    record.used_at = datetime.now(UTC)
    session.execute(
        delete(RefreshToken).where(RefreshToken.expires_at < func.now())
    )  # forget the expired ones
    return token_pair(session, settings, user, record.family_id)


def revoke_tokens(session: Session, user: User) -> None:
    """Invalidate every access and refresh token of ``user`` (not committed)."""
    user.token_version += 1
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


def change_password(
    session: Session, user_id: uuid.UUID, current: str, new: str
) -> User:
    """Replace a user's password after checking the current one; revokes every token."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise Unauthorized("the account is not active")
    if not verify_password(user.password_hash, current):
        raise Forbidden("the current password is not correct")
    if len(new) < 8:
        raise InvalidInput(
            "the new password must have at least 8 characters",
            errors=[{"pointer": "/new_password", "message": "at least 8 characters"}],
        )
    if new == current:
        raise InvalidInput(
            "the new password is the same as the current one",
            errors=[{"pointer": "/new_password", "message": "same as the current"}],
        )
    user.password_hash = hash_password(new)
    revoke_tokens(session, user)
    session.commit()
    return user


def deactivate_user(session: Session, username: str) -> User:
    """Deactivate a user: no sign-in, and every token they hold is revoked at once."""
    user = session.scalar(
        select(User).where(func.lower(User.username) == username.lower())
    )
    if user is None:
        raise NotFound(f"no user named {username!r}")
    user.active = False
    revoke_tokens(session, user)
    session.commit()
    return user


def _principal_for_user(session: Session, user: User) -> Principal:
    code = None
    if user.organisation_id:
        code = session.scalar(
            select(Organisation.code).where(Organisation.id == user.organisation_id)
        )
    return Principal(
        role=Role(user.role),
        organisation_id=user.organisation_id,
        organisation_code=code,
        restricted=user.restricted,
        user_id=user.id,
        name=user.username,
    )


def _principal_for_key(api_key: ApiKey, organisation_code: str) -> Principal:
    held = frozenset(api_key.permissions or [])
    return Principal(
        role=Role(api_key.role),
        organisation_id=api_key.organisation_id,
        organisation_code=organisation_code,
        restricted=RESTRICTED_READ in held,
        api_key_id=api_key.id,
        name=f"api-key:{api_key.name}",
        scopes=(held - {RESTRICTED_READ}) & ROLE_SCOPES[Role(api_key.role)],
    )


def principal_from_token(session: Session, settings: Settings, token: str) -> Principal:
    """Resolve a bearer token; expired, forged or revoked tokens raise Unauthorized."""
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            options={"require": ["sub", "exp", "tv"]},
        )
        user_id = uuid.UUID(claims["sub"])
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized(
            "the access token has expired; get a new one with the refresh token "
            "(POST /api/v1/auth/refresh)"
        ) from exc
    except (jwt.PyJWTError, ValueError) as exc:
        raise Unauthorized("the access token is not valid") from exc
    if claims.get("typ") != "access":
        raise Unauthorized(
            "this is not an access token (a refresh token is sent only to "
            "POST /api/v1/auth/refresh)"
        )
    try:
        family_id = uuid.UUID(str(claims["fam"])) if "fam" in claims else None
    except ValueError as exc:
        raise Unauthorized("the access token is not valid") from exc
    # the sign-in is revoked once any token of its family is (reuse of a spent refresh
    # token revokes them all); tokens issued before ``fam`` existed lack it and expire soon
    family_revoked = (
        select(RefreshToken.id)
        .where(
            RefreshToken.family_id == family_id,
            RefreshToken.user_id == user_id,
            RefreshToken.revoked_at.is_not(None),
        )
        .exists()
        if family_id is not None
        else false()
    )
    # one round trip per request: the user, their organisation's code and the sign-in's state
    row = session.execute(
        select(
            User.id,
            User.username,
            User.role,
            User.organisation_id,
            User.restricted,
            User.active,
            User.token_version,
            Organisation.code,
            family_revoked.label("family_revoked"),
        )
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(User.id == user_id)
    ).first()
    if row is None or not row.active or row.token_version != claims["tv"]:
        raise Unauthorized("the access token has been revoked")
    if row.family_revoked:
        raise Unauthorized(
            "the access token has been revoked with every token of its sign-in (a spent "
            "refresh token of it was sent again); sign in again"
        )
    return Principal(
        role=Role(row.role),
        organisation_id=row.organisation_id,
        organisation_code=row.code,
        restricted=row.restricted,
        user_id=row.id,
        name=row.username,
    )


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def principal_from_api_key(session: Session, key: str) -> Principal:
    """Resolve an ``X-API-Key``; unknown or revoked keys raise Unauthorized."""
    row = session.execute(
        select(ApiKey, Organisation.code)
        .join(Organisation, Organisation.id == ApiKey.organisation_id)
        .where(ApiKey.key_hash == _digest(key), ApiKey.revoked_at.is_(None))
    ).first()
    if row is None:
        raise Unauthorized("the API key is not valid")
    api_key, code = row
    session.execute(
        update(ApiKey).where(ApiKey.id == api_key.id).values(last_used_at=func.now())
    )
    session.commit()
    return _principal_for_key(api_key, code)


def principal_for_import(
    session: Session, user_id: uuid.UUID | None, api_key_id: uuid.UUID | None
) -> Principal:
    """The principal who asked for an import, as they are now (a revoked one may not write)."""
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise Unauthorized("the user who started the import is no longer active")
        return _principal_for_user(session, user)
    row = session.execute(
        select(ApiKey, Organisation.code)
        .join(Organisation, Organisation.id == ApiKey.organisation_id)
        .where(ApiKey.id == api_key_id, ApiKey.revoked_at.is_(None))
    ).first()
    if row is None:
        raise Unauthorized("the API key that started the import has been revoked")
    api_key, code = row
    return _principal_for_key(api_key, code)


def organisation_by_code(session: Session, code: str) -> Organisation:
    """The organisation with ``code``; NotFound names the code."""
    org = session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise NotFound(f"no organisation with code {code!r}")
    return org


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    organisation_code: str | None = None,
    restricted: bool = False,
    is_demo: bool = False,
) -> User:
    """Create a user with an argon2-hashed password."""
    if len(password) < 8:
        raise InvalidInput("the password must have at least 8 characters")
    if role in (Role.coordinator, Role.eore) and not organisation_code:
        raise InvalidInput(
            f"a {role.value} belongs to an organisation; give --org CODE"
        )
    org_id = (
        organisation_by_code(session, organisation_code).id
        if organisation_code
        else None
    )
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        organisation_id=org_id,
        restricted=restricted,
        is_demo=is_demo,
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"a user named {username!r} already exists") from exc
    return user


def create_api_key(
    session: Session,
    *,
    organisation_code: str,
    name: str,
    role: Role = Role.coordinator,
    restricted: bool = False,
    created_by: uuid.UUID | None = None,
    permissions: list[str] | None = None,
) -> tuple[str, ApiKey]:
    """Create an API key for one organisation; the plain key is returned once, never stored.

    ``permissions`` names what the key may do (``hazards:write``, ``imports:write``,
    ``restricted:read``…); None gives it every write scope its role allows.
    """
    org = organisation_by_code(session, organisation_code)
    if permissions is None:
        held = set(ROLE_SCOPES[role]) | ({RESTRICTED_READ} if restricted else set())
    else:
        unknown = sorted(set(permissions) - PERMISSIONS)
        if unknown:
            raise InvalidInput(
                f"unknown permission(s) {', '.join(unknown)}; known: "
                + ", ".join(sorted(PERMISSIONS)),
                errors=[{"pointer": "/permissions", "message": "unknown permission"}],
            )
        beyond = sorted(set(permissions) - ROLE_SCOPES[role] - {RESTRICTED_READ})
        if beyond:
            raise InvalidInput(
                f"the {role.value} role cannot be given {', '.join(beyond)}",
                errors=[{"pointer": "/permissions", "message": "beyond the role"}],
            )
        held = set(permissions) | ({RESTRICTED_READ} if restricted else set())
    plain = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        organisation_id=org.id,
        key_prefix=plain[:10],
        key_hash=_digest(plain),
        role=role.value,
        permissions=sorted(held),
        created_by=created_by,
    )
    session.add(key)
    session.commit()
    return plain, key


def require_reader(principal: Principal | None) -> Principal:
    """Operational data is for signed-in users of any role."""
    if principal is None:
        raise Unauthorized("sign in to read operational data (POST /api/v1/auth/token)")
    return principal


def require_admin(principal: Principal | None) -> Principal:
    """Only administrators pass."""
    principal = require_reader(principal)
    if principal.role != Role.admin:
        raise Forbidden(f"this needs the admin role; you are {principal.role.value}")
    return principal


# imports of data every organisation shares (the programme's admin areas, the context
# layers every ranking reads): programme-wide, so an admin's, signed in
PROGRAMME_IMPORTS = {
    "admin_areas": "importing administrative areas",
    "context": "importing context layers",
}


# context layers a coordinator brings in from the area they work in (settlements, roads,
# facilities, land use): signed-in coordinators and admins; every import is audited with its
# user. Security zones (which close hazards to work) and admin areas stay an admin's.
FIELD_CONTEXT_LAYERS = frozenset({"settlements", "roads", "facilities", "land_use"})


def require_import_scope(
    principal: Principal, kind: str, context: str | None = None
) -> None:
    """Refuse (403) an API key importing records its scopes do not name (``IMPORT_SCOPES``),
    anyone but a signed-in admin importing programme-wide data (``PROGRAMME_IMPORTS``), and
    anyone but a signed-in coordinator or admin importing field context layers
    (``FIELD_CONTEXT_LAYERS``)."""
    if kind == "context" and context in FIELD_CONTEXT_LAYERS:
        what = f"importing the {context} context layer"
        if principal.api_key_id is not None:
            raise Forbidden(f"{what}: API keys cannot; a coordinator or admin signs in")
        if principal.role not in (Role.admin, Role.coordinator):
            raise Forbidden(
                f"{what} needs the coordinator or admin role; you are "
                f"{principal.role.value}"
            )
    elif kind in PROGRAMME_IMPORTS:
        require_programme_admin(principal, PROGRAMME_IMPORTS[kind])
    if kind in IMPORT_SCOPES:
        require_scope(principal, IMPORT_SCOPES[kind], f"importing {kind}")


def require_programme_admin(principal: Principal | None, what: str) -> Principal:
    """Programme-wide settings (the priority model, the public layer, code lists): an admin
    signed in. There is no national-authority role; API keys belong to one organisation and
    never change what every organisation sees."""
    principal = require_reader(principal)
    if principal.api_key_id is not None:
        raise Forbidden(
            f"{what} is a programme-wide setting: API keys cannot change it; "
            "an admin signs in to do it"
        )
    if principal.role != Role.admin:
        raise Forbidden(
            f"{what} is a programme-wide setting and needs the admin role; "
            f"you are {principal.role.value}"
        )
    return principal


def require_writer(
    principal: Principal | None, organisation_id: uuid.UUID, code: str
) -> None:
    """Admins write for anyone; coordinators only for their own organisation."""
    principal = require_reader(principal)
    if principal.role == Role.admin:
        return
    if principal.role != Role.coordinator:
        raise Forbidden(
            f"the {principal.role.value} role cannot change operational records"
        )
    if principal.organisation_id != organisation_id:
        raise Forbidden(
            f"coordinators write only for their own organisation "
            f"({principal.organisation_code}), not for {code}"
        )

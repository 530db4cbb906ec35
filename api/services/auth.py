"""Identity: password hashing, tokens, API keys, and who may do what."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import ApiKey, LoginAttempt, Organisation, User
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

    @property
    def permissions(self) -> frozenset[str]:
        """Named permissions beyond the role."""
        return frozenset({RESTRICTED_READ}) if self.restricted else frozenset()


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


def check_throttle(
    session: Session, settings: Settings, username: str, client: str | None
) -> None:
    """Refuse (429) a sign-in while an account or an address has too many recent failures.

    Counted within ``login_window_minutes``: failures of the account since its last success,
    and failures from the address. Checked before the password, so guessing stops even when
    the guess is right.
    """
    window = timedelta(minutes=settings.login_window_minutes)
    since = datetime.now(UTC) - window
    name = username.lower()
    last_ok = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == name, LoginAttempt.succeeded
        )
    )
    account = session.execute(
        select(func.count(), func.min(LoginAttempt.at)).where(
            LoginAttempt.username == name,
            ~LoginAttempt.succeeded,
            LoginAttempt.at > max(since, last_ok)
            if last_ok
            else LoginAttempt.at > since,
        )
    ).one()
    by_client = (
        session.execute(
            select(func.count(), func.min(LoginAttempt.at)).where(
                LoginAttempt.client == client,
                ~LoginAttempt.succeeded,
                LoginAttempt.at > since,
            )
        ).one()
        if client
        else (0, None)
    )
    for (count, first), limit, what in (
        (account, settings.login_max_failures, "this account"),
        (by_client, settings.login_max_failures_per_client, "your address"),
    ):
        if count >= limit:
            wait = int((first + window - datetime.now(UTC)).total_seconds()) + 1
            raise TooManyRequests(
                f"too many failed sign-ins for {what}; try again in {max(wait, 1)} s",
                retry_after=max(wait, 1),
            )


def record_attempt(
    session: Session, username: str, client: str | None, succeeded: bool
) -> None:
    """Remember a sign-in attempt (and forget those older than a day)."""
    session.add(
        LoginAttempt(username=username.lower(), client=client, succeeded=succeeded)
    )
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.at < func.now() - timedelta(days=1))
    )
    session.commit()


def issue_token(settings: Settings, user: User) -> tuple[str, int]:
    """A signed access token for ``user`` and its lifetime in seconds."""
    lifetime = settings.access_token_minutes * 60
    now = datetime.now(UTC)
    claims = {
        "sub": str(user.id),
        "tv": user.token_version,
        "iat": now,
        "exp": now + timedelta(seconds=lifetime),
        "typ": "access",
    }
    token = jwt.encode(
        claims, settings.secret_key.get_secret_value(), algorithm=JWT_ALGORITHM
    )
    return token, lifetime


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
    return Principal(
        role=Role(api_key.role),
        organisation_id=api_key.organisation_id,
        organisation_code=organisation_code,
        restricted=RESTRICTED_READ in (api_key.permissions or []),
        api_key_id=api_key.id,
        name=f"api-key:{api_key.name}",
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
        raise Unauthorized("the access token has expired; request a new one") from exc
    except (jwt.PyJWTError, ValueError) as exc:
        raise Unauthorized("the access token is not valid") from exc
    # one round trip per request: the user and their organisation's code together
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
        )
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
        .where(User.id == user_id)
    ).first()
    if row is None or not row.active or row.token_version != claims["tv"]:
        raise Unauthorized("the access token has been revoked")
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
) -> tuple[str, ApiKey]:
    """Create an API key for one organisation; the plain key is returned once, never stored."""
    org = organisation_by_code(session, organisation_code)
    plain = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        organisation_id=org.id,
        key_prefix=plain[:10],
        key_hash=_digest(plain),
        role=role.value,
        permissions=[RESTRICTED_READ] if restricted else [],
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

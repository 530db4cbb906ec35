"""Request dependencies: the database session, the caller, and common query parameters."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request
from fastapi.security import (
    APIKeyHeader,
    HTTPBasic,
    HTTPBasicCredentials,
    OAuth2PasswordBearer,
)
from sqlalchemy.orm import Session

from api import audit
from api.errors import BadRequest, InvalidBBox, Unauthorized
from api.services.auth import (
    Principal,
    principal_from_api_key,
    principal_from_token,
    require_key_scope,
    require_reader,
)
from api.settings import Settings
from api.vocab import pick_language


def get_session(request: Request) -> Iterator[Session]:
    """Yield a Session; closing it rolls back anything a service did not commit."""
    with request.app.state.sessionmaker() as session:
        yield session


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)
# For clients that can send nothing but a user name and password (QGIS 3.22's OGC API and
# vector-tile layers): HTTP Basic with the user name "apikey" and an API key as password.
BASIC_USER = "apikey"


class ApiKeyBasic(HTTPBasic):
    """HTTP Basic whose malformed credentials are our 401 problem, not FastAPI's."""

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:  # type: ignore[override]
        """The credentials, None without a Basic header; a 401 problem when malformed."""
        try:
            return await super().__call__(request)
        except HTTPException:
            raise Unauthorized(
                "malformed HTTP Basic credentials: send base64 of "
                f'"{BASIC_USER}:" followed by an API key'
            ) from None


basic_scheme = ApiKeyBasic(
    auto_error=False,
    description=f'An API key as the password of the user "{BASIC_USER}"',
)


def get_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
    basic: Annotated[HTTPBasicCredentials | None, Depends(basic_scheme)],
) -> Principal | None:
    """The caller, from a bearer token, an API key (``X-API-Key``, or HTTP Basic with the
    user ``apikey``); None when anonymous.

    Also tells the audit log who writes through this request's session, and from where.
    """
    principal = None
    if token:
        principal = principal_from_token(session, settings, token)
        # end the read: its connection goes back to the pool while the route waits for a
        # worker thread (holding it there starves the pool under load: every thread then
        # waits for a connection that a thread-less request holds)
        session.commit()
    elif api_key or basic:
        if api_key is None:
            if basic is None or basic.username != BASIC_USER:
                raise Unauthorized(
                    f'HTTP Basic takes an API key as the password of the user "{BASIC_USER}"'
                )
            api_key = basic.password
        principal = principal_from_api_key(session, api_key)
        require_key_scope(principal, request.method, request.url.path)
    audit.actor(
        session,
        name=principal.name if principal else "anonymous",
        user_id=principal.user_id if principal else None,
        api_key_id=principal.api_key_id if principal else None,
        client=request.client.host if request.client else None,
        request=f"{request.method} {request.url.path}",
    )
    return principal


PrincipalDep = Annotated[Principal | None, Depends(get_principal)]


def get_reader(principal: PrincipalDep) -> Principal:
    """A signed-in caller of any role (operational data is not public)."""
    return require_reader(principal)


ReaderDep = Annotated[Principal, Depends(get_reader)]


@dataclass
class Page:
    """``limit``, and ``offset`` or ``cursor`` (from a ``next`` link), of a collection
    request."""

    limit: int
    offset: int
    cursor: str | None = None


def get_page(
    settings: SettingsDep,
    limit: Annotated[
        int | None, Query(ge=1, description="page size (default 100)")
    ] = None,
    offset: Annotated[int, Query(ge=0, description="items to skip")] = 0,
    cursor: Annotated[
        str | None,
        Query(description="where the page starts: the opaque value of a next link"),
    ] = None,
) -> Page:
    """Paging parameters, bounded by the configured maximum."""
    limit = settings.default_limit if limit is None else limit
    if limit > settings.max_limit:
        raise BadRequest(f"limit {limit} exceeds the maximum of {settings.max_limit}")
    if cursor is not None and offset:
        raise BadRequest(
            "cursor: a cursor replaces offset: send one or the other",
            errors=[{"parameter": "cursor", "in": "query", "message": "with offset"}],
        )
    return Page(limit, offset, cursor)


PageDep = Annotated[Page, Depends(get_page)]


def get_bbox(
    bbox: Annotated[
        str | None,
        Query(
            description="minLon,minLat,maxLon,maxLat in EPSG:4326",
            examples=["36,49,37,50"],
        ),
    ] = None,
) -> tuple[float, float, float, float] | None:
    """Parse and check ``bbox``."""
    if bbox is None:
        return None
    try:
        values = [float(v) for v in bbox.split(",")]
    except ValueError as exc:
        raise InvalidBBox(f"bbox must be four numbers, got {bbox!r}") from exc
    if len(values) != 4:
        raise InvalidBBox(
            f"bbox must be four numbers minLon,minLat,maxLon,maxLat; got {bbox!r}"
        )
    min_lon, min_lat, max_lon, max_lat = values
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise InvalidBBox("bbox longitudes must lie within -180..180")
    if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise InvalidBBox("bbox latitudes must lie within -90..90")
    if min_lat > max_lat:
        raise InvalidBBox("bbox minLat is greater than maxLat")
    if min_lon > max_lon:
        raise InvalidBBox(
            "bbox crosses the antimeridian; send two boxes, one each side"
        )
    return min_lon, min_lat, max_lon, max_lat


BBoxDep = Annotated[tuple[float, float, float, float] | None, Depends(get_bbox)]

AsOfDep = Annotated[
    date | None,
    Query(description="Answer as known on this date (reports dated on or before it)"),
]


def get_language(
    request: Request,
    accept_language: Annotated[str | None, Header()] = None,
    lang: Annotated[str | None, Query(description="language code, e.g. en, uk")] = None,
) -> str:
    """The response language: ``lang``, else Accept-Language, else English. The answer
    then varies with Accept-Language, and says so (``api.caching.CachingHeaders``)."""
    request.state.vary_language = True
    return pick_language(accept_language, lang)


LanguageDep = Annotated[str, Depends(get_language)]
IfMatchDep = Annotated[
    str | None, Header(description="ETag of the version the change is based on")
]

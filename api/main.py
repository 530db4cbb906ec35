"""The FastAPI application factory."""

import asyncio
import logging
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse

from api import __version__, web
from api.caching import CachingHeaders
from api.db.engine import make_engine, make_sessionmaker, wait_for_database
from api.errors import (
    BadRequest,
    PayloadTooLarge,
    ProblemError,
    add_exception_handlers,
    problem_body,
    problem_response,
)
from api.jsondepth import MAX_JSON_DEPTH, json_depth
from api.ratelimit import RateLimit
from api.routers import (
    accidents,
    activities,
    admin_areas,
    analytics,
    audit,
    auth,
    eo_finds,
    eore,
    exports,
    hazard_reports,
    hazards,
    health,
    imports,
    integrations,
    land_release,
    ogc,
    organisations,
    priorities,
    public,
    tiles,
    vocabularies,
)
from api.settings import DEV_SECRET, Settings, get_settings

logger = logging.getLogger(__name__)

DESCRIPTION = """
Mine-risk data for humanitarian mine action: hazard areas with their history, land-release
activities and exact remaining-area accounting (m² on the WGS 84 ellipsoid).

Sign in with **POST /api/v1/auth/token** (the *Authorize* button), or send an organisation's API
key as `X-API-Key`. Errors are RFC 9457 `application/problem+json`.
"""


UPLOAD_PATHS = {"/api/v1/imports"}

# No inline scripts, nothing from elsewhere but map images; the same for the interactive API
# docs (Swagger UI and ReDoc, served from /vendor and started by a file: see api.web).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: {images}; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def content_security_policy(settings: Settings) -> str:
    """The policy of every page, API docs included: images also from the base map's origin
    (``{s}`` subdomains become a ``*.`` wildcard); no base map, no other origin."""
    url = urlsplit(settings.basemap_url.replace("{s}", "*"))
    origin = f"{url.scheme}://{url.netloc}" if url.scheme and url.netloc else ""
    return CSP.format(images=origin).replace(" ;", ";")


class SecurityHeaders:
    """Security headers on every response (pure ASGI, so problem+json answers get them too)."""

    def __init__(self, app, csp: str) -> None:
        self.app = app
        self.csp = csp

    async def __call__(self, scope, receive, send):
        """Add the headers to the response start."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        policy = self.csp

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in (
                    (b"content-security-policy", policy.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"strict-origin-when-cross-origin"),
                    (b"x-frame-options", b"DENY"),
                ):
                    if name not in present:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse request bodies larger than ``max_body_bytes`` (413 problem+json).

    Pure ASGI: checks Content-Length, and counts the bytes of bodies sent without one.
    """

    def __init__(self, app, max_bytes: int, upload_bytes: int = 0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = max(upload_bytes, max_bytes)

    async def __call__(self, scope, receive, send):
        """Pass the request on, or answer 413 once the body is known to be too large."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.upload_bytes if scope["path"] in UPLOAD_PATHS else self.max_bytes
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            return await self._refuse(scope, receive, send, limit)
        received = 0

        async def counting_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(f"the request body exceeds {limit} bytes")
            return message

        return await self.app(scope, counting_receive, send)

    async def _refuse(self, scope, receive, send, limit: int):
        request = Request(scope, receive)
        err = PayloadTooLarge(f"the request body exceeds {limit} bytes")
        settings = scope["app"].state.settings
        body = problem_body(
            request,
            status=413,
            title=err.title,
            type_=f"{settings.problem_base_uri.rstrip('/')}/{err.type_slug}",
            detail=err.detail,
        )
        await problem_response(request, 413, body)(scope, receive, send)


def _is_json(scope) -> bool:
    """Whether a reader may parse the body as JSON: FastAPI does when no Content-Type is
    sent, and with several Content-Type headers a route may read any of them (Starlette
    reads the first, a dict of the headers the last), so any JSON one counts."""
    kinds = [
        value.split(b";")[0].strip().lower()
        for name, value in scope["headers"]
        if name.lower() == b"content-type"
    ]
    return not kinds or any(
        kind.startswith(b"application/")
        and (kind == b"application/json" or kind.endswith(b"+json"))
        for kind in kinds
    )


async def _send_problem(scope, send, err: ProblemError) -> None:
    """Answer ``err`` as problem+json from a middleware (outside the exception handlers)."""
    request = Request(scope)
    settings = scope["app"].state.settings
    body = problem_body(
        request,
        status=err.status,
        title=err.title,
        type_=f"{settings.problem_base_uri.rstrip('/')}/{err.type_slug}",
        detail=err.detail,
        errors=err.errors,
        extensions=err.extensions,
    )

    async def no_body():
        return {"type": "http.disconnect"}

    response = problem_response(request, err.status, body, err.headers)
    await response(scope, no_body, send)


class JSONDepthLimit:
    """Refuse JSON bodies nested deeper than ``max_depth`` (400 problem+json), on every route.

    Python's JSON parser recurses once per level: 100,000 ``[`` raise RecursionError, and a
    document nested past 255 levels can be stored but not served again (orjson stops there).
    Pure ASGI: the body (already capped by BodyLimit) is read, measured and replayed.
    """

    def __init__(self, app, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope, receive, send):
        """Measure a JSON body before any route parses it."""
        if scope["type"] != "http" or not _is_json(scope):
            return await self.app(scope, receive, send)
        messages = []
        try:
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request" or not message.get("more_body"):
                    break
        except ProblemError as err:  # BodyLimit counting a body sent without a length
            return await _send_problem(scope, send, err)
        body = b"".join(m.get("body", b"") for m in messages)
        if len(body) > 1_000_000:  # up to the body limit: off the event loop
            depth = await anyio.to_thread.run_sync(json_depth, body)
        else:
            depth = json_depth(body)
        if depth > self.max_depth:
            too_deep = BadRequest(
                f"the JSON body nests arrays and objects {depth} levels deep; at most "
                f"{self.max_depth} are accepted",
                errors=[{"pointer": "", "message": "nested too deeply"}],
            )
            return await _send_problem(scope, send, too_deep)

        async def replay():
            return messages.pop(0) if messages else await receive()

        return await self.app(scope, replay, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for ``settings`` (read from the environment when None)."""
    settings = settings or get_settings()
    from api.privacy import install as redact_checked_points

    redact_checked_points()  # no log line may carry a point sent to /public/check

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.secret_key.get_secret_value() == DEV_SECRET:
            logger.warning(
                "SAFEGROUND_SECRET_KEY is not set: using the development secret"
            )
        if not hasattr(app.state, "engine"):
            app.state.engine = make_engine(settings)
            app.state.sessionmaker = make_sessionmaker(app.state.engine)
        await asyncio.to_thread(
            wait_for_database, app.state.engine, settings.db_startup_wait_seconds
        )
        yield
        app.state.engine.dispose()

    app = FastAPI(
        title="Safeground",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by api.web.mount_docs from local, pinned files
        redoc_url=None,
    )
    app.state.settings = settings
    add_exception_handlers(app)
    app.add_middleware(JSONDepthLimit)  # innermost: after the rate and size limits
    app.add_middleware(RateLimit, settings=settings)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        upload_bytes=settings.max_upload_bytes + 1024 * 1024,  # + multipart framing
    )
    if settings.cors_origins:  # closed by default: same-origin only
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "X-API-Key"],
            expose_headers=["ETag", "Location"],
        )
    app.add_middleware(CachingHeaders)  # private unless public; Vary
    app.add_middleware(SecurityHeaders, csp=content_security_policy(settings))

    v1 = APIRouter(prefix="/api/v1")
    for module in (
        auth,
        organisations,
        admin_areas,
        hazards,
        activities,
        eo_finds,
        accidents,
        eore,
        hazard_reports,
        integrations,
        exports,
        land_release,
        analytics,
        vocabularies,
        imports,
        priorities,
        audit,
        public,
    ):
        v1.include_router(module.router)
    app.include_router(health.router)
    app.include_router(v1)
    app.include_router(ogc.router)
    ogc.describe_parameters(app, settings)
    app.include_router(tiles.router)

    web.mount_docs(app)
    web.mount(app, settings)
    if not any(getattr(r, "path", None) == "/" for r in app.routes):

        @app.get("/", response_class=HTMLResponse, include_in_schema=False)
        def home():  # the web map is not installed: point to the API docs
            return HTMLResponse(LANDING)

    return app


LANDING = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Safeground</title>
<body style="font-family:sans-serif;max-width:40em;margin:2em auto">
<h1>Safeground</h1><p>Mine-risk data platform API.</p>
<ul><li><a href="/docs">API documentation (OpenAPI)</a></li><li><a href="/redoc">ReDoc</a></li>
<li><a href="/health">Health</a></li></ul></body></html>"""

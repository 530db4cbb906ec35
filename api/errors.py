"""RFC 9457 problem details: the error types and the handlers that render them."""

import logging
import uuid
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, ClassVar, TypeVar, cast

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import HTTPExceptionHandler

from api.messages import translate_problem
from api.vocab import pick_language

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"

E = TypeVar("E", bound=Exception)


class ProblemError(Exception):
    """Base for errors rendered as RFC 9457 problem details."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    type_slug: ClassVar[str] = "internal"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers
        self.extensions = extensions


class BadRequest(ProblemError):
    """The request is malformed (a query parameter, a header)."""

    status, title, type_slug = 400, "Bad request", "bad-request"


class InvalidBBox(BadRequest):
    """The bbox parameter is not minLon,minLat,maxLon,maxLat within range."""

    title, type_slug = "Invalid bbox", "invalid-bbox"


class Unauthorized(ProblemError):
    """No credentials, or credentials that are not valid."""

    status, title, type_slug = 401, "Authentication required", "unauthorized"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(ProblemError):
    """Authenticated, but the role or organisation does not allow this."""

    status, title, type_slug = 403, "Forbidden", "forbidden"


class TooManyRequests(ProblemError):
    """Too many attempts (sign-in throttling); ``Retry-After`` says when to try again."""

    status, title, type_slug = 429, "Too many requests", "too-many-requests"

    def __init__(self, detail: str, *, retry_after: int, **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": str(retry_after)})
        super().__init__(detail, **kw)


class NotFound(ProblemError):
    """The resource does not exist (or is retired)."""

    status, title, type_slug = 404, "Not found", "not-found"


class Conflict(ProblemError):
    """The request conflicts with stored data (a duplicate code, say)."""

    status, title, type_slug = 409, "Conflict", "conflict"


class PreconditionFailed(ProblemError):
    """If-Match names a version that is no longer current."""

    status, title, type_slug = 412, "Precondition failed", "stale-version"


class PreconditionRequired(ProblemError):
    """A change to an existing record must say which version it was based on."""

    status, title, type_slug = 428, "Precondition required", "if-match-required"


class InvalidInput(ProblemError):
    """The body is well-formed JSON but breaks a rule; ``errors`` says where."""

    status, title, type_slug = 422, "Invalid input", "invalid-input"


class InvalidGeometry(InvalidInput):
    """A geometry was rejected by the intake rules."""

    title, type_slug = "Invalid geometry", "invalid-geometry"


class PayloadTooLarge(ProblemError):
    """The request body is larger than the configured limit."""

    status, title, type_slug = 413, "Payload too large", "payload-too-large"


class ServiceUnavailable(ProblemError):
    """The database cannot be reached; the client may retry."""

    status, title, type_slug = 503, "Service unavailable", "service-unavailable"


def problem_body(
    request: Request,
    *,
    status: int,
    title: str,
    type_: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the JSON members of a problem details object."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors is not None:
        body["errors"] = errors
    if extensions:
        body.update(extensions)
    return body


def problem_language(request: Request) -> str:
    """The language of a problem: ``lang``, else Accept-Language, else English. The answer
    then varies with Accept-Language (``api.caching``) and says its language."""
    request.state.vary_language = True
    return pick_language(
        request.headers.get("accept-language"), request.query_params.get("lang")
    )


def problem_response(
    request: Request, status: int, body: dict[str, Any], headers: dict | None = None
) -> JSONResponse:
    """Render a problem body with the problem+json media type, in the reader's language
    (``api.messages``: title, detail and the messages of ``errors``)."""
    language = problem_language(request)
    slug = str(body.get("type", "")).rsplit("/", 1)[-1]
    body = translate_problem(body, slug, language)
    return JSONResponse(
        body,
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={**(headers or {}), "Content-Language": language},
    )


def _type_uri(request: Request, slug: str) -> str:
    base = request.app.state.settings.problem_base_uri.rstrip("/")
    return f"{base}/{slug}"


def json_pointer(parts: list | tuple) -> str:
    """Build an RFC 6901 JSON pointer from path parts."""
    escaped = [str(p).replace("~", "~0").replace("/", "~1") for p in parts]
    return "/" + "/".join(escaped) if escaped else ""


def _validation_item(err: dict[str, Any]) -> dict[str, Any]:
    """One entry of ``errors``: a JSON pointer into the body, or the parameter's name."""
    loc = list(err.get("loc", ()))
    msg = err.get("msg", "invalid value")
    where = (
        loc.pop(0)
        if loc and loc[0] in ("body", "query", "path", "header", "cookie")
        else "body"
    )
    if where == "body":
        return {"pointer": json_pointer(loc), "message": msg}
    return {"parameter": ".".join(str(p) for p in loc), "in": where, "message": msg}


async def _problem_handler(request: Request, exc: ProblemError) -> JSONResponse:
    body = problem_body(
        request,
        status=exc.status,
        title=exc.title,
        type_=_type_uri(request, exc.type_slug),
        detail=exc.detail,
        errors=exc.errors,
        extensions=exc.extensions,
    )
    return problem_response(request, exc.status, body, exc.headers)


async def _validation_handler(
    request: Request, exc: RequestValidationError
) -> JSONResponse:
    errors = [_validation_item(err) for err in exc.errors()]
    first = errors[0] if errors else {"pointer": "", "message": "invalid request"}
    where = first.get("pointer") or first.get("parameter") or "the request body"
    detail = f"{len(errors)} invalid value(s); first at {where}: {first['message']}"
    body = problem_body(
        request,
        status=422,
        title="Invalid input",
        type_=_type_uri(request, "invalid-input"),
        detail=detail,
        errors=errors,
    )
    return problem_response(request, 422, body)


# Starlette's and FastAPI's own errors (an unknown route, a method not allowed, a body that
# cannot be parsed) carry our problem types too, never ``about:blank``: the slugs of the
# ProblemError classes where one exists, ``http-<status>`` otherwise.
_HTTP_SLUGS = {
    400: BadRequest.type_slug,
    401: Unauthorized.type_slug,
    403: Forbidden.type_slug,
    404: NotFound.type_slug,
    405: "method-not-allowed",
    409: Conflict.type_slug,
    412: PreconditionFailed.type_slug,
    413: PayloadTooLarge.type_slug,
    415: "unsupported-media-type",
    422: InvalidInput.type_slug,
    428: PreconditionRequired.type_slug,
    429: TooManyRequests.type_slug,
    503: ServiceUnavailable.type_slug,
}


async def _http_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    status = exc.status_code
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    detail = exc.detail if isinstance(exc.detail, str) else title
    if status == 404 and detail == "Not Found":
        detail = f"no resource at {request.url.path}"
    if status == 405:
        detail = f"method {request.method} is not allowed on {request.url.path}"
    body = problem_body(
        request,
        status=status,
        title=title,
        type_=_type_uri(request, _HTTP_SLUGS.get(status, f"http-{status}")),
        detail=detail,
    )
    return problem_response(request, status, body, getattr(exc, "headers", None))


def _data_error_reason(exc: DBAPIError) -> str:
    orig = exc.orig
    if isinstance(orig, psycopg.errors.NumericValueOutOfRange):
        return "a number is out of range"
    text = str(orig)
    if "NUL (0x00)" in text:
        return "text cannot contain NUL (0x00) characters"
    if isinstance(orig, psycopg.errors.InvalidTextRepresentation):
        return "a value has the wrong form"
    return "it is not valid for its field"


async def _db_unavailable_handler(request: Request, exc: DBAPIError) -> JSONResponse:
    if isinstance(exc.orig, psycopg.errors.QueryCanceled):
        limit = request.app.state.settings.db_statement_timeout_ms / 1000
        logger.warning("statement timeout on %s", request.url.path)
        return await _problem_handler(
            request,
            ServiceUnavailable(
                f"the query took longer than the {limit:g} s limit; narrow the request "
                "(bbox, filters, smaller limit) or try again later"
            ),
        )
    if isinstance(exc.orig, psycopg.errors.CheckViolation):
        # a bound the schema did not state (a number out of the domain's range, say): the
        # value came from the request; the constraint's name says which rule it broke
        rule = getattr(exc.orig.diag, "constraint_name", None) or "a check"
        logger.info("check violation on %s: %s", request.url.path, rule)
        return await _problem_handler(
            request,
            InvalidInput(
                f"a value is outside what can be stored (rule {rule})",
                errors=[{"pointer": "", "message": f"breaks {rule}"}],
            ),
        )
    if isinstance(exc, DataError):
        # SQLSTATE class 22 (a NUL character in text, a number out of range, ...): the value
        # came from the request; the message names the kind of value, never the value
        logger.info("data error on %s: %s", request.url.path, type(exc.orig).__name__)
        return await _problem_handler(
            request,
            BadRequest(
                "a value in the request cannot be stored or compared: "
                + _data_error_reason(exc)
            ),
        )
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        logger.warning("database unavailable: %s", exc.__class__.__name__)
        return await _problem_handler(
            request,
            ServiceUnavailable(
                "the database cannot be reached; try again shortly",
                headers={"Retry-After": "5"},
            ),
        )
    return await _unexpected_handler(request, exc)


async def _unexpected_handler(request: Request, exc: Exception) -> JSONResponse:
    incident = uuid.uuid4().hex[:12]
    logger.error("unexpected error, incident %s", incident, exc_info=exc)
    body = problem_body(
        request,
        status=500,
        title="Internal error",
        type_=_type_uri(request, "internal"),
        detail=f"internal error; quote incident {incident} when reporting it",
        extensions={"incident": incident},
    )
    return problem_response(request, 500, body)


def _on(
    app: FastAPI,
    cls: type[E],
    handler: Callable[[Request, E], Awaitable[Response]],
) -> None:
    # Starlette types every handler as taking any Exception, but calls it only with
    # instances of the class it is registered for: this ties the two together
    app.add_exception_handler(cls, cast(HTTPExceptionHandler, handler))


def add_exception_handlers(app: FastAPI) -> None:
    """Register the problem+json handlers on ``app``."""
    _on(app, ProblemError, _problem_handler)
    _on(app, RequestValidationError, _validation_handler)
    _on(app, StarletteHTTPException, _http_handler)
    _on(app, DBAPIError, _db_unavailable_handler)
    _on(app, Exception, _unexpected_handler)


PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "pointer": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem+json bodies for ``codes``."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        out[code] = {
            "description": HTTPStatus(code).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
        }
    return out

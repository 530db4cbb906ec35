"""Caching headers every response gets, so operational data never sits in a shared cache.

A route that serves the same bytes to everyone says so with ``Cache-Control: public, ...``
(the public map's layers, feeds and publication). Everything else may depend on who asks:

- a request carrying credentials (``Authorization``: bearer token or HTTP Basic API key, or
  ``X-API-Key``) gets ``Cache-Control: private, no-store`` unless its route already chose a
  private policy (restricted tiles: ``private, max-age=0, must-revalidate`` with an ETag);
- every answer that is not public says ``Vary: Authorization, X-API-Key``, so a cache that
  keeps an anonymous answer never hands it to a signed-in caller or the other way round;
- an answer whose route picked a language (``api.deps.get_language`` marks the request)
  says ``Vary: Accept-Language``.
"""

from collections.abc import Iterable

PRIVATE = b"private, no-store"
CREDENTIAL_HEADERS = (b"authorization", b"x-api-key")
VARY_CREDENTIALS = ("Authorization", "X-API-Key")

Headers = list[tuple[bytes, bytes]]


def with_vary(headers: Headers, names: Iterable[str]) -> Headers:
    """``headers`` with ``names`` added to its one ``Vary`` header (each name once)."""
    present = [
        n.strip()
        for k, v in headers
        if k.lower() == b"vary"
        for n in v.decode("latin-1").split(",")
        if n.strip()
    ]
    if "*" in present:
        return headers
    seen = {n.lower() for n in present}
    merged = present + [n for n in names if n.lower() not in seen]
    if merged == present:
        return headers
    kept = [(k, v) for k, v in headers if k.lower() != b"vary"]
    return [*kept, (b"vary", ", ".join(merged).encode("latin-1"))]


def cache_headers(headers: Headers, *, credentials: bool, language: bool) -> Headers:
    """The response headers with the caching rules above applied."""
    policy = b", ".join(v for k, v in headers if k.lower() == b"cache-control").lower()
    vary: list[str] = ["Accept-Language"] if language else []
    if b"public" not in policy:
        vary += VARY_CREDENTIALS
        if credentials and b"private" not in policy:
            headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
            headers.append((b"cache-control", PRIVATE))
    return with_vary(headers, vary)


class CachingHeaders:
    """Pure ASGI middleware applying :func:`cache_headers` (problem+json answers included)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        """Rewrite the response start's headers."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        credentials = any(
            k.lower() in CREDENTIAL_HEADERS for k, _ in scope.get("headers", [])
        )

        async def send_with_caching(message):
            if message["type"] == "http.response.start":
                language = bool(scope.get("state", {}).get("vary_language"))
                headers = cache_headers(
                    list(message.get("headers", [])),
                    credentials=credentials,
                    language=language,
                )
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_caching)

"""Rate limits on anonymous requests: a token bucket per client address, in process.

What is limited: the public API (``/api/v1/public/*``), map tiles (``/tiles/*``) and sign-in
(``POST /api/v1/auth/token`` and ``/auth/refresh``) when the caller is anonymous. A request
carrying a valid access token (signature, type and expiry checked here, without the database)
is not counted: signed-in users are governed by their role. An ``X-API-Key`` is counted like
an anonymous caller here (checking it needs the database, which the limit protects).
Everything else passes untouched.

Each address has a bucket of ``anon_rate_burst`` tokens refilled at ``anon_rate_per_second``;
a request takes one, and an empty bucket answers 429 problem+json with ``Retry-After``. The
buckets live in this process (one uvicorn worker: one set of buckets); several workers or
hosts each count on their own, so the effective limit is multiplied by their number. The
address is the ASGI client's: behind a reverse proxy, run uvicorn with ``--proxy-headers``
and ``--forwarded-allow-ips`` so it is the caller's and not the proxy's.
"""

import math
import time

import jwt
from starlette.requests import Request

from api.errors import TooManyRequests, problem_body, problem_response
from api.settings import Settings

LIMITED_PREFIXES = ("/api/v1/public/", "/tiles/")
LIMITED_PATHS = {"/api/v1/auth/token", "/api/v1/auth/refresh"}
MAX_CLIENTS = 100_000  # buckets kept; full ones are forgotten first


class TokenBuckets:
    """Token buckets keyed by client address."""

    def __init__(self, rate: float, burst: int, clock=time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0 when granted, else the seconds until one is there."""
        now = self.clock()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > MAX_CLIENTS:
                self._forget_full(now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled (forgetting them changes nothing)."""
        full = [
            k
            for k, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * self.rate >= self.burst
        ]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) > MAX_CLIENTS:  # still too many: drop the oldest
            oldest = sorted(self._buckets, key=lambda k: self._buckets[k][1])
            for k in oldest[: len(self._buckets) - MAX_CLIENTS]:
                del self._buckets[k]


def is_limited_path(method: str, path: str) -> bool:
    """Whether a request to ``path`` counts against the anonymous limit."""
    if path in LIMITED_PATHS:
        return method == "POST"
    return path.startswith(LIMITED_PREFIXES)


def _signed_in(headers: list[tuple[bytes, bytes]], secret: str) -> bool:
    """Whether the request carries a valid access token (no database involved)."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not token:
                return False
            try:
                claims = jwt.decode(token.strip(), secret, algorithms=["HS256"])
            except jwt.PyJWTError:
                return False
            return claims.get("typ") == "access"
    return False


class AnonymousRateLimit:
    """ASGI middleware applying ``TokenBuckets`` to anonymous requests of limited paths."""

    def __init__(self, app, settings: Settings, clock=time.monotonic) -> None:
        self.app = app
        self.secret = settings.secret_key.get_secret_value()
        self.enabled = settings.anon_rate_per_second > 0
        self.buckets = TokenBuckets(
            settings.anon_rate_per_second, settings.anon_rate_burst, clock
        )

    async def __call__(self, scope, receive, send):
        """Pass the request on, or answer 429 when its address has no token left."""
        if (
            scope["type"] != "http"
            or not self.enabled
            or not is_limited_path(scope["method"], scope["path"])
            or _signed_in(scope["headers"], self.secret)
        ):
            return await self.app(scope, receive, send)
        client = scope.get("client")
        wait = self.buckets.take(client[0] if client else "unknown")
        if wait == 0:
            return await self.app(scope, receive, send)
        retry_after = max(1, math.ceil(wait))
        request = Request(scope, receive)
        err = TooManyRequests(
            f"too many anonymous requests from your address (limit "
            f"{self.buckets.rate:g}/s, bursts of {self.buckets.burst}); retry in "
            f"{retry_after} s, or sign in",
            retry_after=retry_after,
        )
        base = scope["app"].state.settings.problem_base_uri.rstrip("/")
        body = problem_body(
            request,
            status=429,
            title=err.title,
            type_=f"{base}/{err.type_slug}",
            detail=err.detail,
        )
        await problem_response(request, 429, body, err.headers)(scope, receive, send)

"""Rate limits on anonymous requests: a token bucket per client address, in process.

What is limited: the public API (``/api/v1/public/*``), map tiles (``/tiles/*``), the public
layer's OGC collections (``/ogc/collections/public-*``) and sign-in (``POST
/api/v1/auth/token`` and ``/auth/refresh``) when the caller is anonymous.

Tiles of the public layers (``/tiles/public-hazards/…``, ``/tiles/public-released/…``) are
not counted in that bucket: a refused hazard tile is a hole in the map where a confirmed
hazard should be, and a desktop view costs about 40 tiles per layer and zoom step, so ten
zooms of one visitor would empty it (and villages share mobile-network addresses). They have
a bucket of their own per address, ``public_tile_rate_burst`` tokens refilled at
``public_tile_rate_per_second`` (2000 and 100 by default: dozens of people behind one address
zooming at once), which only bounds a client fetching tiles in bulk; those tiles are built
once per publication and kept in memory, and a page asking for them with the publication's
version may keep them for a year (see ``api.routers.tiles``). The map retries a refused tile
after ``Retry-After`` and says, until it is drawn, that some areas are missing. A request
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

# the public API, tiles, and the public layer's OGC collections (open to anonymous callers)
LIMITED_PREFIXES = ("/api/v1/public/", "/tiles/", "/ogc/collections/public-")
LIMITED_PATHS = {"/api/v1/auth/token", "/api/v1/auth/refresh"}
# the public layers' tiles: their own bucket (see the module's text)
PUBLIC_TILE_PREFIXES = ("/tiles/public-hazards/", "/tiles/public-released/")
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


def is_public_tile_path(path: str) -> bool:
    """Whether ``path`` is a tile of a public layer (its own bucket)."""
    return path.startswith(PUBLIC_TILE_PREFIXES)


def is_limited_path(method: str, path: str) -> bool:
    """Whether a request to ``path`` counts against the anonymous limit."""
    if path in LIMITED_PATHS:
        return method == "POST"
    return path.startswith(LIMITED_PREFIXES) and not is_public_tile_path(path)


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
    """ASGI middleware applying ``TokenBuckets`` to anonymous requests of limited paths:
    one set for the anonymous limit, one for the public layers' tiles."""

    def __init__(self, app, settings: Settings, clock=time.monotonic) -> None:
        self.app = app
        self.secret = settings.secret_key.get_secret_value()
        self.buckets = TokenBuckets(
            settings.anon_rate_per_second, settings.anon_rate_burst, clock
        )
        self.tile_buckets = TokenBuckets(
            settings.public_tile_rate_per_second, settings.public_tile_rate_burst, clock
        )

    def _buckets_for(self, method: str, path: str) -> TokenBuckets | None:
        if is_public_tile_path(path):
            buckets = self.tile_buckets
        elif is_limited_path(method, path):
            buckets = self.buckets
        else:
            return None
        return buckets if buckets.rate > 0 else None

    async def __call__(self, scope, receive, send):
        """Pass the request on, or answer 429 when its address has no token left."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        buckets = self._buckets_for(scope["method"], scope["path"])
        if buckets is None or _signed_in(scope["headers"], self.secret):
            return await self.app(scope, receive, send)
        client = scope.get("client")
        wait = buckets.take(client[0] if client else "unknown")
        if wait == 0:
            return await self.app(scope, receive, send)
        retry_after = max(1, math.ceil(wait))
        request = Request(scope, receive)
        what = "public tile" if buckets is self.tile_buckets else "anonymous"
        err = TooManyRequests(
            f"too many {what} requests from your address (limit "
            f"{buckets.rate:g}/s, bursts of {buckets.burst}); retry in "
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

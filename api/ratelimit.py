"""Rate limits: a token bucket per client address for anonymous callers, per API key, and per
user for writes, in process.

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
is not counted there: signed-in users are governed by their role, and their writes (POST,
PUT, PATCH, DELETE under ``/api/v1/``) by a bucket per user, ``user_write_rate_per_second``
and ``user_write_rate_burst`` (a runaway script or a stuck client cannot flood the programme's
records). A request with an API key (``X-API-Key``, or HTTP Basic with user ``apikey``) takes
from a bucket of its own per key, ``api_key_rate_per_second`` and ``api_key_rate_burst``, on
every path (a partner's nightly sync no longer competes with anonymous visitors behind the
same address). The key is not checked here (that needs the database, which the limit
protects): a request whose key is refused (401) is charged afterwards to a bucket of refused
keys per address (the anonymous rate and burst), and key requests from an address whose
bucket of refused keys is empty are refused, so inventing keys does not buy requests, while
anonymous visitors behind the same address never hold up a valid key. Everything else passes
untouched.

Each address has a bucket of ``anon_rate_burst`` tokens refilled at ``anon_rate_per_second``;
a request takes one, and an empty bucket answers 429 problem+json with ``Retry-After``. The
buckets live in this process (one uvicorn worker: one set of buckets); several workers or
hosts each count on their own, so the effective limit is multiplied by their number. The
address is the ASGI client's: behind a reverse proxy, run uvicorn with ``--proxy-headers``
and ``--forwarded-allow-ips`` so it is the caller's and not the proxy's.
"""

import base64
import hashlib
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
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
BASIC_API_KEY_USER = "apikey"  # as api.deps.BASIC_USER


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

    def wait(self, key: str) -> float:
        """The seconds until ``key`` has a token, without taking one (0: it has one now)."""
        now = self.clock()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

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


def caller(headers: list[tuple[bytes, bytes]], secret: str) -> tuple[str, str]:
    """Who a request says it is, without the database: ``("user", id)`` for a valid access
    token (signature, type and expiry checked), ``("key", digest)`` for an API key (not
    checked), else ``("anonymous", "")``. A forged or refresh-type token is anonymous."""
    for name, value in headers:
        if name.lower() == b"x-api-key" and value:
            return "key", hashlib.sha256(value).hexdigest()
    for name, value in headers:
        if name.lower() != b"authorization":
            continue
        scheme, _, credentials = value.decode("latin-1").partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "bearer" and credentials:
            try:
                claims = jwt.decode(credentials, secret, algorithms=["HS256"])
            except jwt.PyJWTError:
                return "anonymous", ""
            if claims.get("typ") == "access" and claims.get("sub"):
                return "user", str(claims["sub"])
        elif scheme.lower() == "basic" and credentials:
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("latin-1")
            except ValueError:
                return "anonymous", ""
            user, _, key = decoded.partition(":")
            if user == BASIC_API_KEY_USER and key:
                return "key", hashlib.sha256(key.encode("latin-1")).hexdigest()
        return "anonymous", ""
    return "anonymous", ""


class RateLimit:
    """ASGI middleware applying ``TokenBuckets``: per address for anonymous requests of
    limited paths and for public-layer tiles, per API key, and per user for writes."""

    def __init__(self, app, settings: Settings, clock=time.monotonic) -> None:
        self.app = app
        self.secret = settings.secret_key.get_secret_value()
        self.buckets = TokenBuckets(
            settings.anon_rate_per_second, settings.anon_rate_burst, clock
        )
        self.tile_buckets = TokenBuckets(
            settings.public_tile_rate_per_second, settings.public_tile_rate_burst, clock
        )
        self.key_buckets = TokenBuckets(
            settings.api_key_rate_per_second, settings.api_key_rate_burst, clock
        )
        self.user_buckets = TokenBuckets(
            settings.user_write_rate_per_second, settings.user_write_rate_burst, clock
        )
        self.refused_key_buckets = TokenBuckets(
            settings.anon_rate_per_second, settings.anon_rate_burst, clock
        )

    def _anonymous_buckets_for(self, method: str, path: str) -> TokenBuckets | None:
        if is_public_tile_path(path):
            buckets = self.tile_buckets
        elif is_limited_path(method, path):
            buckets = self.buckets
        else:
            return None
        return buckets if buckets.rate > 0 else None

    async def __call__(self, scope, receive, send):
        """Pass the request on, or answer 429 when its bucket has no token left."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        method, path = scope["method"], scope["path"]
        client = scope.get("client")
        address = client[0] if client else "unknown"
        kind, who = caller(scope["headers"], self.secret)
        # (buckets, key, take a token or only look, what is limited, hint) in order
        checks: list[tuple[TokenBuckets, str, bool, str, str]] = []
        answer = send
        if kind == "user":
            if method in WRITE_METHODS and path.startswith("/api/v1/"):
                checks.append(
                    (self.user_buckets, who, True, "changes from your account", "")
                )
        elif kind == "key":
            checks += [  # an address that spent its tries on invented keys, then the key
                (
                    self.refused_key_buckets,
                    address,
                    False,
                    "refused API keys from your address",
                    "",
                ),
                (self.key_buckets, who, True, "requests with this API key", ""),
            ]
            answer = self._charge_refusals(send, address)
        elif buckets := self._anonymous_buckets_for(method, path):
            what = "public tile" if buckets is self.tile_buckets else "anonymous"
            checks.append(
                (
                    buckets,
                    address,
                    True,
                    f"{what} requests from your address",
                    ", or sign in",
                )
            )
        for buckets, key, take, what, hint in checks:
            if buckets.rate <= 0:
                continue
            wait = buckets.take(key) if take else buckets.wait(key)
            if wait:
                return await self._refuse(
                    scope, receive, send, wait, what, buckets, hint
                )
        return await self.app(scope, receive, answer)

    def _charge_refusals(self, send, address: str):
        """``send``, taking a token from the address's bucket of refused keys on a 401."""

        async def send_and_charge(message):
            if (
                message["type"] == "http.response.start"
                and message["status"] == 401
                and self.refused_key_buckets.rate > 0
            ):
                self.refused_key_buckets.take(address)
            await send(message)

        return send_and_charge

    async def _refuse(
        self,
        scope,
        receive,
        send,
        wait: float,
        what: str,
        buckets: TokenBuckets,
        hint: str = "",
    ) -> None:
        retry_after = max(1, math.ceil(wait))
        request = Request(scope, receive)
        err = TooManyRequests(
            f"too many {what} (limit {buckets.rate:g}/s, bursts of {buckets.burst}); "
            f"retry in {retry_after} s{hint}",
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

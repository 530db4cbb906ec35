"""Runtime configuration, read from SAFEGROUND_* environment variables and .env."""

import logging
from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)

DEV_SECRET = "dev-only-secret-do-not-use-in-production"  # noqa: S105 - refused in prod


class Settings(BaseSettings):
    """Runtime configuration; one instance is passed to ``create_app``."""

    model_config = SettingsConfigDict(
        env_prefix="SAFEGROUND_", env_file=".env", extra="ignore", populate_by_name=True
    )

    env: Literal["dev", "test", "prod"] = "dev"
    demo: bool = Field(
        False,
        description="`safeground start` loads the fictional demo into an empty database "
        "(refused in prod)",
    )
    database_url: str = Field(
        "postgresql://safeground:safeground@127.0.0.1:5432/safeground",
        validation_alias=AliasChoices("SAFEGROUND_DATABASE_URL", "DATABASE_URL"),
        description="postgresql://user:pass@host:port/db",
    )
    db_pool_size: int = Field(10, ge=1)
    db_statement_timeout_ms: int = Field(30_000, ge=0)
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    access_token_minutes: int = Field(
        15, ge=1, description="access-token lifetime; refresh tokens renew it"
    )
    refresh_token_days: int = Field(
        14,
        ge=1,
        description="refresh-token lifetime (each is used once, then replaced)",
    )
    anon_rate_per_second: float = Field(
        10.0,
        ge=0,
        description="anonymous requests (public API, tiles, sign-in) per second per "
        "client address, refilled continuously; 0 turns the limit off",
    )
    anon_rate_burst: int = Field(
        100, ge=1, description="anonymous requests a client may send at once"
    )
    public_tile_rate_per_second: float = Field(
        100.0,
        ge=0,
        description="anonymous requests for tiles of the public layers per second per "
        "client address: their own bucket, apart from the anonymous one, so a map "
        "never loses hazard tiles to it; 0 turns it off",
    )
    public_tile_rate_burst: int = Field(
        2000,
        ge=1,
        description="public-layer tiles a client address may fetch at once (a desktop "
        "view costs about 40 per layer and zoom step; villages share addresses)",
    )
    api_key_rate_per_second: float = Field(
        20.0,
        ge=0,
        description="requests per second per API key, on every path, refilled "
        "continuously (its own bucket, apart from the address's); 0 turns it off",
    )
    api_key_rate_burst: int = Field(
        400, ge=1, description="requests an API key may send at once"
    )
    user_write_rate_per_second: float = Field(
        5.0,
        ge=0,
        description="writes (POST, PUT, PATCH, DELETE under /api/v1/) per second per "
        "signed-in user, refilled continuously; 0 turns the limit off",
    )
    user_write_rate_burst: int = Field(
        200, ge=1, description="writes a signed-in user may send at once"
    )
    db_startup_wait_seconds: float = Field(
        30.0,
        ge=0,
        description="how long start-up waits for the database before serving 503s",
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        description="failed sign-ins of one account from one address before each "
        "further try from there waits (backoff); other addresses are not affected",
    )
    login_backoff_seconds: float = Field(
        30.0,
        gt=0,
        description="the first wait after login_max_failures; doubled with each "
        "further failure, up to login_window_minutes",
    )
    login_max_failures_per_client: int = Field(
        20,
        ge=1,
        description="failed sign-ins from one address, any account, within "
        "login_window_minutes before the address is throttled",
    )
    login_window_minutes: int = Field(
        15, ge=1, description="longest sign-in backoff; window of the per-address count"
    )
    default_limit: int = Field(100, ge=1)
    max_limit: int = Field(10_000, ge=1)
    max_vertices: int = Field(100_000, ge=4, description="vertex limit per geometry")
    max_body_bytes: int = Field(50 * 1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(
        1024 * 1024 * 1024, ge=1024, description="size limit of an imported file (413)"
    )
    max_unpacked_bytes: int = Field(
        4 * 1024 * 1024 * 1024,
        ge=1024,
        description="what an uploaded archive may unpack to",
    )
    max_import_features: int = Field(
        2_000_000, ge=1, description="feature limit of one import (413)"
    )
    max_admin_vertices: int = Field(5_000_000, ge=4)
    import_batch_size: int = Field(2_000, ge=1)
    max_hazard_area_km2: float | None = Field(
        None,
        gt=0,
        description="a hazard larger than this is refused as implausible; unset: larger "
        "than the programme's top-level admin area it touches, or 1,000 km² when no admin "
        "areas are loaded",
    )
    import_report_per_rule: int = Field(
        10_000,
        ge=1,
        description="an import report keeps the first N messages of each rule in full; "
        "the rest are counted (report.rules) but not listed",
    )
    import_runner: Literal["queue", "inline"] = Field(
        "queue",
        description="queue: a worker runs imports (procrastinate); inline: the request does",
    )
    problem_base_uri: str = "https://safeground.example.org/problems"
    public_buffer_m: float = Field(
        50.0, ge=1, description="public hazard areas reach this far beyond every hazard"
    )
    public_simplify_m: float = Field(
        10.0, ge=0, description="simplification tolerance of public areas (metres)"
    )
    public_near_m: float = Field(
        500.0, gt=0, description="a checked point this close to a public area is near"
    )
    public_min_count: int = Field(
        5, ge=5, description="fewest EO finds or accidents published for an area"
    )
    public_hotline: str = Field("101", description="number to report explosive items")
    public_cap_sender: str = Field(
        "safeground.example.org", pattern=r"^[^\s,<&]+$", description="CAP sender id"
    )
    public_base_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/?#@]+(/[^\s?#]*)?$",
        description="absolute URL the public reaches this API at (e.g. "
        "https://safeground.example.org); builds the links of the public feeds. Unset: "
        "the address the server listens on, never the request's Host header",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="origins allowed to call the API from a browser (JSON list); none by default",
    )
    web_dir: str | None = None
    basemap_url: str = Field(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="XYZ URL template of the web map's base map; empty for none (plain background)",
    )
    basemap_attribution: str = "© OpenStreetMap contributors"

    @field_validator("database_url")
    @classmethod
    def _psycopg_scheme(cls, value: str) -> str:
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        if not value.startswith("postgresql+psycopg://"):
            raise ValueError("database_url must be a postgresql:// URL")
        return value

    @field_validator("public_base_url", mode="before")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return (value.rstrip("/") or None) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> "Settings":
        if self.default_limit > self.max_limit:
            raise ValueError("default_limit must not exceed max_limit")
        if self.secret_key.get_secret_value() == DEV_SECRET and self.env == "prod":
            raise ValueError(
                "set SAFEGROUND_SECRET_KEY: the development secret is refused"
            )
        return self

    @property
    def plain_database_url(self) -> str:
        """The URL in libpq form (``postgresql://``), for pg_dump and psql."""
        return self.database_url.replace("postgresql+psycopg://", "postgresql://", 1)


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings read from the environment."""
    return Settings()

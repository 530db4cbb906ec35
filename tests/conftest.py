"""Test fixtures: a throwaway PostGIS database per run, a transaction per test.

The database comes from ``DATABASE_URL`` (``make test`` provisions it and sets it). Each run
creates ``sg_test_<random>`` on that server, migrates it with Alembic and drops it at the end.
Each test runs inside a transaction that is rolled back; services' ``commit()`` only releases a
SAVEPOINT. Database tests never skip: a missing database is an error telling you what to run.
"""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api.db import migrate
from api.main import create_app
from api.settings import Settings
from tests.factories import Actors, make_actors
from tests.helpers import throwaway_database


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Argon2 with the smallest cost: tests create many users; production keeps the default."""
    from argon2 import PasswordHasher

    from api.services import auth

    default = auth._hasher
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    auth._hasher = default


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A migrated throwaway database for the whole run."""
    with throwaway_database() as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def settings(database_url) -> Settings:
    """Settings pointing at the throwaway database."""
    return Settings(
        database_url=database_url,
        env="test",
        secret_key="test-secret-" + "x" * 20,
        import_runner="inline",
        # the rate limits are tested on their own (tests/test_ratelimit.py)
        anon_rate_per_second=0,
        api_key_rate_per_second=0,
        user_write_rate_per_second=0,
    )


@pytest.fixture(scope="session")
def settings_(settings) -> Settings:
    """Alias for tests where the name ``settings`` is taken (Hypothesis's decorator)."""
    return settings


@pytest.fixture(scope="session")
def engine(database_url):
    eng = create_engine(Settings(database_url=database_url).database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine):
    with engine.connect() as conn:
        trans = conn.begin()
        yield conn
        trans.rollback()


@pytest.fixture
def session(connection) -> Iterator[Session]:
    with Session(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
    ) as s:
        yield s


@pytest.fixture
def app(settings, session):
    from api.deps import get_session

    application = create_app(settings)
    application.dependency_overrides[get_session] = lambda: session
    return application


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def actors(session, settings) -> Actors:
    """Two organisations and a user of each role, with bearer headers."""
    return make_actors(session, settings)

"""The ``safeground`` command line, against its own throwaway database."""

import subprocess

import httpx2 as httpx
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from api.cli import app
from api.services import auth, demo
from api.settings import Settings, get_settings
from tests.helpers import free_port, throwaway_database
from tests.live import CLI, server_env, wait_for_health

runner = CliRunner()


@pytest.fixture(scope="module")
def cli_env():
    with throwaway_database("sg_cli") as url:
        env = {"SAFEGROUND_DATABASE_URL": url, "DATABASE_URL": url}
        get_settings.cache_clear()
        yield env, create_engine(Settings(database_url=url).database_url)
        get_settings.cache_clear()


def run(env, *args, input=None):
    get_settings.cache_clear()
    return runner.invoke(app, list(args), input=input, env=env)


def test_db_upgrade_users_orgs_and_keys(cli_env):
    env, engine = cli_env
    assert run(env, "db", "upgrade").exit_code == 0
    assert run(env, "db", "wait", "--timeout", "5").exit_code == 0
    r = run(env, "orgs", "create", "CLIORG", "CLI Org", "--type", "ngo_national")
    assert r.exit_code == 0, r.output
    r = run(
        env,
        "users",
        "create",
        "cli-coord",
        "--role",
        "coordinator",
        "--org",
        "CLIORG",
        input="a long password\n",
    )
    assert r.exit_code == 0, r.output
    r = run(
        env,
        "users",
        "create",
        "cli-analyst",
        "--role",
        "analyst",
        "--restricted",
        input="another long password\n",
    )
    assert r.exit_code == 0, r.output
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT username, role, restricted, password_hash FROM users ORDER BY username"
            )
        ).all()
    assert [(u, role, rst) for u, role, rst, _ in rows] == [
        ("cli-analyst", "analyst", True),
        ("cli-coord", "coordinator", False),
    ]
    assert all(h.startswith("$argon2id$") for *_, h in rows)
    r = run(env, "keys", "create", "--org", "CLIORG", "--name", "webhook")
    assert r.exit_code == 0 and r.output.strip().startswith("sgk_")


def test_cli_errors_are_clear(cli_env):
    env, _ = cli_env
    run(env, "db", "upgrade")
    r = run(
        env, "users", "create", "x", "--role", "coordinator", input="long enough pw\n"
    )
    assert r.exit_code == 1 and "--org" in r.output
    r = run(
        env,
        "users",
        "create",
        "y",
        "--role",
        "analyst",
        "--org",
        "NOPE",
        input="long enough pw\n",
    )
    assert r.exit_code == 1 and "NOPE" in r.output
    r = run(env, "users", "create", "z", "--role", "analyst", input="short\n")
    assert r.exit_code == 1 and "8 characters" in r.output


def test_recompute_command(cli_env):
    env, _ = cli_env
    run(env, "db", "upgrade")
    r = run(env, "recompute")
    assert r.exit_code == 0 and "recomputed" in r.output


PROD = {"SAFEGROUND_ENV": "prod", "SAFEGROUND_SECRET_KEY": "prod-secret-" + "x" * 30}


def demo_password_users(url: str) -> list[str]:
    """The users of the database ``url`` who sign in with the demo's published password."""
    engine = create_engine(Settings(database_url=url).database_url)
    with engine.connect() as conn:
        users = conn.execute(text("SELECT username, password_hash FROM users")).all()
    engine.dispose()
    return [u for u, h in users if auth.verify_password(h, demo.DEMO_PASSWORD)]


def count_users(url: str) -> int:
    engine = create_engine(Settings(database_url=url).database_url)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM users")).scalar_one()
    engine.dispose()
    return n


@pytest.fixture
def empty_db():
    """A database with PostGIS and nothing else: not even migrated."""
    with throwaway_database("sg_start") as url:
        yield url


@pytest.fixture
def served(monkeypatch):
    """Record what ``serve`` would run instead of running uvicorn."""
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    return calls


def test_demo_load_is_refused_in_prod(cli_env):
    env, engine = cli_env
    run(env, "db", "upgrade")
    r = run({**env, **PROD}, "demo", "load", "--if-empty")
    assert r.exit_code == 1
    assert "SAFEGROUND_ENV is prod" in r.output and "users create" in r.output
    with engine.connect() as conn:
        assert not conn.execute(
            text("SELECT 1 FROM organisations WHERE is_demo")
        ).first()
        assert not conn.execute(
            text("SELECT 1 FROM users WHERE username LIKE 'demo-%'")
        ).first()


def test_start_in_prod_on_an_empty_database_has_no_known_password(empty_db, tmp_path):
    """The container's command, as it runs: migrate, serve, and no demo account."""
    env = server_env(empty_db, **PROD)
    env.pop("SAFEGROUND_DEMO", None)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "start.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [CLI, "start", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    try:
        health = wait_for_health(proc, base, 60, log)
        assert health.status_code == 200 and health.json()["database"] == "ok"
        token = httpx.post(
            base + "/api/v1/auth/token",
            data={"username": "demo-admin", "password": demo.DEMO_PASSWORD},
        )
        assert token.status_code == 401
        assert count_users(empty_db) == 0
        # the first admin, as the README's deployment section says
        made = subprocess.run(
            [CLI, "users", "create", "first-admin", "--role", "admin"],
            env=env,
            input="a long admin password\n",
            capture_output=True,
            text=True,
        )
        assert made.returncode == 0, made.stderr
        token = httpx.post(
            base + "/api/v1/auth/token",
            data={"username": "first-admin", "password": "a long admin password"},
        )
        assert token.status_code == 200, token.text
    finally:
        proc.terminate()
        proc.wait(10)
    assert "database at head" in log.read_text()
    assert count_users(empty_db) == 1
    assert demo_password_users(empty_db) == []


def test_start_refuses_the_demo_in_prod(empty_db, served):
    r = run(
        {"DATABASE_URL": empty_db, **PROD, "SAFEGROUND_DEMO": "1"},
        "start",
        "--host",
        "0.0.0.0",
    )
    assert r.exit_code == 1, r.output
    assert "SAFEGROUND_ENV is prod" in r.output
    assert served == []
    assert count_users(empty_db) == 0


def test_start_loads_the_demo_only_when_asked(empty_db, served, monkeypatch):
    """SAFEGROUND_DEMO=1 asks for the demo (its load is tests/test_demo.py's); unset, none."""
    loads = []
    monkeypatch.setattr(demo, "load", lambda session, **kw: loads.append(kw) or "ok")
    env = {"DATABASE_URL": empty_db, "SAFEGROUND_ENV": "dev"}
    r = run(env, "start", "--port", "8123")
    assert r.exit_code == 0, r.output
    assert "database at head" in r.output
    assert loads == []
    assert len(served) == 1 and served[0]["port"] == 8123
    assert served[0]["host"] == "127.0.0.1"

    r = run({**env, "SAFEGROUND_DEMO": "1"}, "start")
    assert r.exit_code == 0, r.output
    assert loads == [{"seed": demo.DEFAULT_SEED, "if_empty": True}]
    assert len(served) == 2

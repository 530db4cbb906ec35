"""The ``safeground`` command line, against its own throwaway database."""

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings, get_settings
from tests.helpers import throwaway_database

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

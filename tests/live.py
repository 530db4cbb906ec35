"""A real server for tests that need one: ``safeground serve`` on a free port over a database."""

import atexit
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import create_engine, make_url, text

from api.db.scratch import scratch_database
from tests.helpers import free_port, server_database_url

CLI = str(Path(sys.executable).with_name("safeground"))


def server_env(url: str, **extra: str) -> dict[str, str]:
    """The environment of a server or CLI command on the database ``url``."""
    return {
        **os.environ,
        "SAFEGROUND_DATABASE_URL": url,
        "DATABASE_URL": url,
        "SAFEGROUND_SECRET_KEY": "live-test-secret-" + "x" * 20,
        "SAFEGROUND_ENV": "test",
        "SAFEGROUND_ANON_RATE_PER_SECOND": "0",  # tests load many tiles from one address
        **extra,
    }


def wait_for_health(
    proc: subprocess.Popen, base: str, seconds: float, log: Path | None = None
) -> httpx.Response:
    """The first answer of ``base``/health from the server ``proc`` starts; fails (with its
    log) when the process exits first or nothing answers within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"the server exited with {proc.returncode}"
                + (f": {log.read_text()}" if log else "")
            )
        try:
            return httpx.get(base + "/health", timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"the server did not answer /health in {seconds:g} s")


@contextmanager
def live_server(env: dict[str, str], log: Path | None = None) -> Iterator[str]:
    """Serve on a free port until the block ends; yield the base URL once /health answers."""
    port = free_port()
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [CLI, "serve", "--port", str(port)], env=env, stdout=out, stderr=out
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(proc, base, 30, log)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)
        if log:
            out.close()


def run_cli(args: list[str], env: dict[str, str]) -> None:
    """Run ``safeground ARGS`` and assert that it succeeded (its output on failure)."""
    p = subprocess.run([CLI, *args], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


_demo_template: list[str] = []  # the run's demo template database, once made
_templates = ExitStack()
atexit.register(_templates.close)


def _demo_template_name() -> str:
    """The name of a database holding the migrated demo programme, made once per run (the
    migration and ``demo load`` take about 20 s; both run as CLI processes, so no
    connection of this process stays open on it and it can be cloned)."""
    if not _demo_template:
        url = _templates.enter_context(
            scratch_database(server_database_url(), "sg_demo_template")
        )
        env = server_env(url)
        run_cli(["db", "upgrade"], env)
        run_cli(["demo", "load"], env)
        _demo_template.append(make_url(url).database)
    return _demo_template[0]


@contextmanager
def demo_database(prefix: str) -> Iterator[str]:
    """A throwaway database holding the demo programme, as ``safeground demo load`` leaves
    it; yields its URL and drops it afterwards. A clone of the run's demo template
    (``CREATE DATABASE ... TEMPLATE``, about a second) instead of a fresh load per module."""
    template = _demo_template_name()
    server = make_url(server_database_url())
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

"""A real server for tests that need one: ``safeground serve`` on a free port over a database."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx

from tests.helpers import free_port

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

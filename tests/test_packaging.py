"""The wheel: built from what the Dockerfile copies, installed into a fresh virtualenv
outside the checkout, it migrates a database and serves the web map and ``/health``.

pip builds the wheel with build isolation (setuptools from the package registry, as the
Dockerfile does). The fresh virtualenv gets the wheel only; the dependencies already in the
project's virtualenv are reached through a ``.pth`` path line, which does not start the
editable install's import hook there: ``api`` must come from the new virtualenv.
"""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import httpx2 as httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from api.db import migrate
from api.settings import Settings
from api.web import VENDOR
from tests.helpers import free_port, throwaway_database
from tests.live import wait_for_health

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
# the Dockerfile's build stage: these, then web/node_modules from `npm ci`
BUILD_INPUTS = ("pyproject.toml", "README.md", "api", "migrations", "web")
SKIPPED = shutil.ignore_patterns("__pycache__", "node_modules")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel pip builds from a copy of the build's inputs (never a stale build/)."""
    src = tmp_path_factory.mktemp("src")
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, symlinks=True, ignore=SKIPPED)
        else:
            shutil.copy2(path, src / name)
    (src / "web" / "node_modules").symlink_to(ROOT / "web" / "node_modules")
    dist = tmp_path_factory.mktemp("dist")
    p = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, src],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    (built,) = dist.glob("safeground-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv outside the checkout with the wheel installed (and no more)."""
    home = tmp_path_factory.mktemp("venv") / "venv"
    assert not home.is_relative_to(ROOT)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", home], check=True)
    python = home / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    subprocess.run([*pip, "install", "-q", "--no-deps", wheel], check=True)
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # the dependencies, without reinstalling them: a plain path, read after the venv's own
    (Path(site) / "safeground-test-deps.pth").write_text(
        sysconfig.get_path("purelib") + "\n"
    )
    return home


def clean_env(**extra: str) -> dict[str, str]:
    """A minimal environment: nothing of the checkout's, no PYTHONPATH."""
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    return {**keep, **extra}


def test_wheel_holds_the_package_data_and_nothing_else(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    files = [n for n in names if not n.endswith("/")]
    assert "api/_web/index.html" in files and "api/_web/app.html" in files
    assert "api/_web/static/js/public.js" in files
    assert (
        "api/_migrations/env.py" in files and "api/_migrations/script.py.mako" in files
    )
    revisions = sorted(p.name for p in (ROOT / "migrations" / "versions").glob("*.py"))
    assert revisions and all(
        f"api/_migrations/versions/{r}" in files for r in revisions
    )
    assert "api/locales/en.json" in files and "api/ingest/profiles/native.yaml" in files
    for sub in VENDOR.values():
        assert any(n.startswith(f"api/_web/node_modules/{sub}/") for n in files), sub
    # only the served folder of each library, never the rest of node_modules
    served = tuple(f"api/_web/node_modules/{sub}/" for sub in VENDOR.values())
    modules = [n for n in files if n.startswith("api/_web/node_modules/")]
    assert modules and all(n.startswith(served) for n in modules)
    assert {n.split("/")[0] for n in files} == {"api", "safeground-0.1.0.dist-info"}
    assert not [n for n in files if "/sql/" in n or n.endswith(".sql")]
    assert not [n for n in files if "tests" in n.split("/") or "/test_" in n]
    assert not [n for n in files if "__pycache__" in n or n.endswith(".pyc")]


def test_installed_wheel_migrates_and_serves(venv, tmp_path):
    bin_ = venv / "bin"
    where = subprocess.run(
        [
            bin_ / "python",
            "-c",
            "import api; from api.package_data import folder; "
            "print(api.__file__); print(folder('_web')); print(folder('_migrations'))",
        ],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert where.returncode == 0, where.stderr
    for line in where.stdout.splitlines():
        path = Path(line)
        assert path.is_relative_to(venv) and not path.is_symlink(), line

    with throwaway_database("sg_wheel") as url:
        env = clean_env(DATABASE_URL=url, SAFEGROUND_ANON_RATE_PER_SECOND="0")
        up = subprocess.run(
            [bin_ / "safeground", "db", "upgrade"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert up.returncode == 0, up.stdout + up.stderr
        head = ScriptDirectory.from_config(
            migrate.alembic_config(url)
        ).get_current_head()
        engine = create_engine(Settings(database_url=url).database_url)
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version"))
            assert version.scalar_one() == head
        engine.dispose()

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = tmp_path / "serve.log"
        with log.open("wb") as out:
            server = subprocess.Popen(
                [bin_ / "safeground", "serve", "--port", str(port)],
                cwd=tmp_path,
                env=env,
                stdout=out,
                stderr=out,
            )
        try:
            health = wait_for_health(server, base, 30, log)
            assert health.status_code == 200, health.text
            assert health.json()["database"] == "ok"

            assets = set()
            for page, marker in (
                ("/", "public.js"),
                ("/app", "app.js"),
                ("/docs", "swagger-ui-bundle.js"),
                ("/redoc", "redoc.standalone.js"),
            ):
                r = httpx.get(base + page)
                assert r.status_code == 200 and marker in r.text, page
                assets |= set(
                    re.findall(r'(?:src|href)="(/(?:vendor|static)/[^"]+)"', r.text)
                )
            vendors = {a.split("/")[2] for a in assets if a.startswith("/vendor/")}
            assert vendors == set(VENDOR)
            for asset in sorted(assets):
                r = httpx.get(base + asset)
                assert r.status_code == 200 and r.content, asset
            r = httpx.get(base + "/i18n/en.json")
            assert r.status_code == 200 and r.json()
        finally:
            server.terminate()
            server.wait(10)

"""Fixtures of the browser tests: Debian's Chromium, headless, and a fresh page per test.

Chromium comes from the ``chromium`` package, which ``scripts/bootstrap.sh`` installs; without
it these tests fail (they never skip).
"""

from pathlib import Path

import pytest
from playwright import sync_api as playwright_api

from tests.browser.pages import ARTIFACTS, CHROMIUM, OFFLINE


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: install Debian's chromium (scripts/bootstrap.sh does)"
    )
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    """A fresh page that may not reach the internet (the base map fails, as offline);
    fails the test on any uncaught script error or alert(). A test may ask for another
    viewport with ``@pytest.mark.viewport(width, height)``."""
    marker = request.node.get_closest_marker("viewport")
    width, height = marker.args if marker else (1280, 800)
    context = browser.new_context(viewport={"width": width, "height": height})
    context.route(OFFLINE, lambda route: route.abort())
    pg = context.new_page()
    problems = []
    pg.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    pg.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    yield pg
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()
    assert not problems, problems

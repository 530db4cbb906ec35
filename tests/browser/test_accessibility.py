"""axe-core (Deque's accessibility engine, pinned in web/package.json) run on the public map and
on the workspace in Chromium: no violation of impact serious or critical (issue 18, item 6).

axe is injected as an inline script, which the pages' Content-Security-Policy refuses (as it
should): this test's browser context alone bypasses the policy (``bypass_csp``).
"""

import json
import re
from pathlib import Path

import pytest

from tests.browser.pages import (
    ARTIFACTS,
    DEMO_PASSWORD,
    OFFLINE,
    demo_site,
    ready,
    tiles_drawn,
)

pytestmark = pytest.mark.slow

AXE = Path(__file__).resolve().parents[2] / "web/node_modules/axe-core/axe.min.js"
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def site():
    with demo_site("a11y") as s:
        pub = s["api"].post("/public/publications", headers=s["token"]("demo-admin"))
        assert pub.status_code in (200, 201), pub.text
        yield s


@pytest.fixture
def axe_page(browser, request):
    assert AXE.exists(), f"{AXE} is missing: run make install (npm ci in web/)"
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, bypass_csp=True
    )
    context.route(OFFLINE, lambda route: route.abort())
    pg = context.new_page()
    yield pg
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()


def _violations(pg, name):
    pg.add_script_tag(content=AXE.read_text())
    result = pg.evaluate(
        """async () => {
            const r = await axe.run(document);
            return { passed: r.passes.map((v) => v.id),
                     violations: r.violations.map((v) => ({ id: v.id, impact: v.impact,
                         help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) })) };
        }"""
    )
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(result, indent=1))
    # axe ran its rules on this page: the ones a map page must pass were checked
    assert {"color-contrast", "button-name", "select-name", "html-has-lang"} <= set(
        result["passed"]
    ), result["passed"]
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def test_public_map_has_no_serious_accessibility_violation(site, axe_page):
    axe_page.goto(site["base"] + "/")
    ready(axe_page)
    tiles_drawn(axe_page)
    assert _violations(axe_page, "public") == []


def test_workspace_has_no_serious_accessibility_violation(site, axe_page):
    axe_page.goto(site["base"] + "/app")
    axe_page.fill("#login-user", "demo-coordinator")
    axe_page.fill("#login-password", DEMO_PASSWORD)
    axe_page.click("#login-form button[type=submit]")
    ready(axe_page)
    tiles_drawn(axe_page)
    assert _violations(axe_page, "workspace") == []
    # and with a hazard panel open
    axe_page.locator("#priority-list button.link").first.click()
    axe_page.locator("#hazard-panel").wait_for(state="visible")
    assert _violations(axe_page, "workspace-hazard") == []


def test_axe_is_the_pinned_package():
    """axe is the npm package of the lock file, not a copy of ours."""
    lock = json.loads((AXE.parents[2] / "package-lock.json").read_text())
    version = lock["packages"]["node_modules/axe-core"]["version"]
    assert re.search(rf"axe v{re.escape(version)}\b", AXE.read_text()[:300])

"""The web map's server side: pages, files, catalogues, configuration, and its JavaScript units."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.deps import get_session
from api.main import create_app
from api.web import VENDOR

WEB = Path(__file__).resolve().parents[1] / "web"
CATALOGUES = {
    p.stem: json.loads(p.read_text()) for p in (WEB / "static/i18n").glob("*.json")
}


def test_javascript_unit_tests_pass():
    """web/tests/*.test.mjs (styles, formatting, URLs, clustering) under Node's test runner."""
    node = shutil.which("node")
    assert node, "Node.js is missing: scripts/bootstrap.sh installs it"
    p = subprocess.run(
        [node, "--test", "tests/"], cwd=WEB, capture_output=True, text=True, timeout=120
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert re.search(r"^# fail 0$", p.stdout, re.M) and re.search(
        r"^# pass [1-9]", p.stdout, re.M
    )


def test_every_language_has_every_string():
    assert set(CATALOGUES) >= {"en", "uk"}
    keys = set(CATALOGUES["en"])
    for lang, cat in CATALOGUES.items():
        assert set(cat) == keys, (lang, set(cat) ^ keys)
        assert all(isinstance(v, str) and v.strip() for v in cat.values()), lang


def test_every_string_the_pages_use_is_in_the_catalogues():
    used = set()
    for page in WEB.glob("*.html"):
        used |= set(re.findall(r'data-i18n(?:-[a-z-]+)?="([\w.]+)"', page.read_text()))
    for js in (WEB / "static/js").glob("*.js"):
        used |= set(re.findall(r'\bt\("([\w.]+)"', js.read_text()))
        used |= set(re.findall(r'key: "([\w.]+)"', js.read_text()))
    missing = {k for k in used if k not in CATALOGUES["en"]}
    assert not missing, missing


def test_pages_are_served_with_a_strict_policy(client):
    for path, marker in (("/", "public.js"), ("/app", "app.js")):
        r = client.get(path)
        assert r.status_code == 200 and marker in r.text
        csp = r.headers["content-security-policy"]
        script = re.search(r"script-src ([^;]+)", csp).group(1)
        assert script.strip() == "'self'"  # no inline script, no eval, no CDN
        assert not re.search(r"<script(?![^>]*\bsrc=)", r.text), "an inline script"
        assert "cdn" not in r.text.lower()


def test_libraries_come_from_node_modules_gzipped(client):
    files = {
        "leaflet": "leaflet.js",
        "vector-tile-layer": "VectorTileLayer.umd.min.js",
        "geoman": "leaflet-geoman.min.js",
        "swagger-ui": "swagger-ui-bundle.js",
        "redoc": "redoc.standalone.js",
    }
    assert set(files) == set(VENDOR)
    for name, file in files.items():
        r = client.get(f"/vendor/{name}/{file}", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200, name
        assert r.headers.get("content-encoding") == "gzip", name
    assert client.get("/vendor/leaflet/package.json").status_code == 404
    assert client.get("/static/js/public.js").status_code == 200


def test_catalogue_joins_the_api_code_labels(client):
    uk = client.get("/i18n/uk.json").json()
    assert uk["public.title"] == CATALOGUES["uk"]["public.title"]
    assert uk["vocab.hazard_status.open"] != "vocab.hazard_status.open"
    assert uk["public.marking.not_recorded"].startswith("Дані про позначення")
    r = client.get("/i18n/xx.json")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("basemap", ["https://tile.example.org/{z}/{x}/{y}.png", ""])
def test_map_config_and_base_map_origin(settings, session, basemap):
    app = create_app(settings.model_copy(update={"basemap_url": basemap}))
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        cfg = c.get("/map-config.json").json()
        csp = c.get("/").headers["content-security-policy"]
    assert cfg["basemap"]["url"] == basemap
    assert set(cfg) >= {"bounds", "demo", "languages"}
    img = re.search(r"img-src ([^;]+)", csp).group(1).split()
    assert img == (
        ["'self'", "data:", "https://tile.example.org"]
        if basemap
        else ["'self'", "data:"]
    )


HTML_SINKS = re.compile(
    r"\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write|"
    r"createContextualFragment|DOMParser|\bsrcdoc\b"
)
# Leaflet parses a string given to these as HTML: they must get a DOM node
LEAFLET_HTML = re.compile(
    r"\.(bindTooltip|bindPopup|setTooltipContent|setPopupContent|setContent)\(\s*([^)]*)"
)


def test_no_server_text_reaches_the_page_as_html():
    """Second line of defence behind the browser test: the pages' scripts use no HTML sink,
    Leaflet's tooltips and popups get DOM nodes (``el(...)`` or a function making one),
    marker icons carry no HTML and the attribution is escaped."""
    scripts = {p.name: p.read_text() for p in (WEB / "static/js").glob("*.js")}
    assert "app.js" in scripts and "public.js" in scripts
    for name, text in scripts.items():
        assert not HTML_SINKS.search(text), (name, HTML_SINKS.search(text).group())
        for call in LEAFLET_HTML.finditer(text):
            arg = call.group(2).strip()
            assert re.fullmatch(r"(el\(.*|tip\(\w+)", arg), (name, call.group())
        for html in re.findall(r"\bhtml:\s*([^,}]+)", text):
            assert html.strip() == '""', (name, html)
        for attribution in re.findall(r"\battribution:\s*([^,}]+)", text):
            assert attribution.strip().startswith("escapeHtml("), (name, attribution)
    # tip(...) builds its node with el(): no string reaches bindTooltip
    with_tips = [n for n, text in scripts.items() if re.search(r"\btip\(\w+\)", text)]
    assert with_tips, "the import map's tooltips are no longer found: update this test"
    for name in with_tips:
        assert re.search(r"const tip = \(e\) => el\(", scripts[name]), name

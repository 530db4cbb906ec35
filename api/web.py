"""The web map's pages and files: the public map at ``/``, the coordinator workspace at ``/app``.

The pages are static HTML under ``web/`` that load native ES modules from ``/static`` and the
libraries, installed from the npm registry into ``web/node_modules`` by ``make install``, from
``/vendor/<name>`` (only each library's ``dist`` folder is served, never ``node_modules``).
Both are gzip-compressed. The API documentation, ``/docs`` (Swagger UI) and ``/redoc``
(ReDoc), is served the same way: pinned npm packages from ``/vendor``, started by a script of
``/static``, under the pages' policy (no inline script, no other origin), so it works offline.
An installed wheel carries these files, and only these, as the package's ``_web`` folder.
``/map-config.json`` tells the pages the base map, the programme's
extent, whether the data are the fictional demo and the version of the latest publication's
tiles (``public_tiles``, asked for with ``?v=``: immutable, cached for a year).
"""

import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles

from api import vocab
from api.deps import SessionDep
from api.errors import NotFound
from api.package_data import folder
from api.routers.tiles import public_tiles_version
from api.schemas.web import MapConfig
from api.services import map_view
from api.settings import Settings
from api.vocab import available_languages

# The served folder of each library: URL name -> path under node_modules.
VENDOR = {
    "leaflet": "leaflet/dist",
    "vector-tile-layer": "leaflet-vector-tile-layer/dist",
    "geoman": "@geoman-io/leaflet-geoman-free/dist",
    "swagger-ui": "swagger-ui-dist",  # the package is its dist folder
    "redoc": "redoc/bundles",
}
OPENAPI_URL = "/openapi.json"
DOCS_URL, REDOC_URL = "/docs", "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"

SWAGGER_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Safeground API – Swagger UI</title>
<link rel="icon" type="image/png" href="/vendor/swagger-ui/favicon-32x32.png">
<link rel="stylesheet" href="/vendor/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{OPENAPI_URL}"
     data-oauth2-redirect-url="{OAUTH2_REDIRECT_URL}"></div>
<script src="/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/js/api-docs.js"></script>
</body>
</html>
"""
REDOC_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Safeground API – ReDoc</title>
<link rel="icon" type="image/png" href="/vendor/swagger-ui/favicon-32x32.png">
</head>
<body>
<redoc spec-url="{OPENAPI_URL}" disable-search></redoc>
<script src="/vendor/redoc/redoc.standalone.js"></script>
</body>
</html>
"""
# ReDoc's search runs in a worker made from a blob: URL, which the policy refuses (worker-src
# falls back to script-src 'self'): it is turned off; the whole text is on the page.
#
# Swagger UI's own redirect page for OAuth2 flows that leave the site (the password flow of
# "Authorize" does not); its script is the package's file, not inline.
OAUTH2_REDIRECT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Safeground API – sign-in</title></head>
<body><script src="/vendor/swagger-ui/oauth2-redirect.js"></script></body></html>
"""
PAGES = {"/": "index.html", "/app": "app.html"}
# labels the pages take from the API's catalogue: code lists and the public layer's own codes
SHARED_LABELS = ("vocab.", "public.marking.", "public.hazard_type.")


def web_root(settings: Settings) -> Path:
    """The web map's folder: ``SAFEGROUND_WEB_DIR``, else the package's ``_web`` (the
    checkout's ``web/`` in an editable install)."""
    return Path(settings.web_dir) if settings.web_dir else folder("_web")


def map_config(session, settings: Settings) -> dict:
    """What the pages need before drawing: base map, initial extent, demo flag, languages."""
    return {
        "basemap": {
            "url": settings.basemap_url,
            "attribution": settings.basemap_attribution,
        },
        "bounds": map_view.programme_bounds(session),
        "demo": map_view.holds_demo_data(session),
        "languages": ["en", "uk"],
        # the public layers' tiles asked for with this (?v=) may be kept for a year
        "public_tiles": public_tiles_version(session),
    }


def catalogue(root: Path, language: str) -> dict[str, str]:
    """The page's strings in ``language`` (``web/static/i18n/<lang>.json``) with the code-list
    labels (``SHARED_LABELS``) of the API's catalogue, so a code reads the same in the map and the API.
    An unknown language is a 404."""
    path = root / "static" / "i18n" / f"{language}.json"
    if language not in available_languages() or not path.is_file():
        raise NotFound(f"no web catalogue for the language {language!r}")
    labels = {
        k: v
        for k, v in vocab.catalogue(language).items()
        if k.startswith(SHARED_LABELS)
    }
    return labels | json.loads(path.read_text(encoding="utf-8"))


def mount_docs(app: FastAPI) -> None:
    """The API documentation pages: ``/docs``, ``/redoc`` and Swagger UI's OAuth2 redirect
    (the app is made with ``docs_url=None``: FastAPI's own pages load a CDN)."""
    # FastAPI adds its pages in its constructor only: these now just name ours (the OGC
    # landing page links to ``docs_url``)
    app.docs_url, app.redoc_url = DOCS_URL, REDOC_URL
    app.swagger_ui_oauth2_redirect_url = OAUTH2_REDIRECT_URL
    for url, html in (
        (DOCS_URL, SWAGGER_PAGE),
        (REDOC_URL, REDOC_PAGE),
        (OAUTH2_REDIRECT_URL, OAUTH2_REDIRECT_PAGE),
    ):
        app.add_api_route(
            url, _html(html), response_class=HTMLResponse, include_in_schema=False
        )


def _html(text: str):
    def serve():
        return HTMLResponse(text, headers={"Cache-Control": "no-cache"})

    return serve


def mount(app: FastAPI, settings: Settings) -> None:
    """Serve the pages, the static files and the vendored libraries on ``app``."""
    root = web_root(settings)
    static = root / "static"
    modules = root / "node_modules"

    def page(name: str):
        path = root / name

        def serve():
            return FileResponse(path, media_type="text/html; charset=utf-8")

        return serve

    for url, name in PAGES.items():
        if (root / name).is_file():
            app.add_api_route(
                url, page(name), response_class=HTMLResponse, include_in_schema=False
            )

    @app.get(
        "/i18n/{language}.json",
        response_model=dict[str, str],
        include_in_schema=False,
    )
    def messages(language: str):
        return JSONResponse(
            catalogue(root, language), headers={"Cache-Control": "no-cache"}
        )

    @app.get("/map-config.json", response_model=MapConfig, include_in_schema=False)
    def config(session: SessionDep):
        return JSONResponse(
            map_config(session, settings), headers={"Cache-Control": "no-cache"}
        )

    if static.is_dir():
        app.mount(
            "/static",
            GZipMiddleware(StaticFiles(directory=static), minimum_size=512),
            name="static",
        )
    for name, sub in VENDOR.items():
        if (modules / sub).is_dir():
            app.mount(
                f"/vendor/{name}",
                GZipMiddleware(StaticFiles(directory=modules / sub), minimum_size=512),
                name=f"vendor-{name}",
            )

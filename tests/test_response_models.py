"""Every route that answers JSON declares its ``response_model``, and pydantic models live in
``api/schemas`` only (issue 19, item 3).

A route answers JSON when its declared response class renders JSON (``JSONResponse`` and our
``JSONOut``/``GeoJSONOut``, the default class too) and its status has a body. Files, CSV,
XLSX, vector tiles, HTML, the Atom and CAP feeds and 204/304 answers are exempt by the class
or status they declare, never by name. ``tests/test_openapi_models.py`` checks that the
bodies served match the models declared here.
"""

import importlib
import pkgutil
import types

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, TypeAdapter
from pydantic_settings import BaseSettings

import api
from api.responses import GeoJSONOut, JSONOut
from api.schemas.system import Me
from api.schemas.web import MapConfig

BODYLESS = (204, 304)
METHODS = ("get", "put", "post", "delete", "patch")


def api_routes(app: FastAPI) -> list:
    """Every APIRoute of ``app`` as served, including those of included routers (which
    ``app.routes`` holds only as their router), hidden from the OpenAPI document or not."""
    return [
        route
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
    ]


def response_class(route) -> type[Response]:
    """The response class ``route`` declares (FastAPI's default is JSONResponse)."""
    declared = route.response_class
    return getattr(declared, "value", declared)  # unwrap DefaultPlaceholder


def is_json(media_type: str | None) -> bool:
    """``application/json`` or a ``+json`` type (GeoJSON, JSON Schema, problem+json)."""
    kind = (media_type or "").split(";")[0].strip()
    return kind == "application/json" or kind.endswith("+json")


def answers_json(route) -> bool:
    """Whether ``route``'s success response is a JSON body, by its declared class and status."""
    return route.status_code not in BODYLESS and is_json(
        response_class(route).media_type
    )


def without_response_model(app: FastAPI) -> list[str]:
    """``METHOD path`` of every JSON route of ``app`` that declares no ``response_model``."""
    return sorted(
        f"{','.join(sorted(route.methods))} {route.path}"
        for route in api_routes(app)
        if answers_json(route) and route.response_model is None
    )


def test_every_json_route_declares_a_response_model(app):
    json_routes = [route for route in api_routes(app) if answers_json(route)]
    # the walk reaches the included routers (76 JSON routes of 92 when this was written)
    assert len(json_routes) >= 70
    offenders = without_response_model(app)
    assert offenders == [], "JSON routes without a response_model:\n" + "\n".join(
        offenders
    )


def test_web_map_json_bodies_match_their_models(client):
    """The web map's two JSON routes are outside the API document, so the served-body
    checks of test_openapi_models cannot reach them: checked here."""
    config = client.get("/map-config.json")
    assert config.status_code == 200, config.text
    MapConfig.model_validate(config.json(), strict=True)
    for language in ("en", "uk"):
        messages = client.get(f"/i18n/{language}.json")
        assert messages.status_code == 200, messages.text
        assert messages.json()
        TypeAdapter(dict[str, str]).validate_python(messages.json(), strict=True)


def test_the_walk_flags_json_routes_without_a_model_only():
    demo = FastAPI()
    nested = APIRouter(prefix="/v1")

    @nested.get("/plain")
    def plain():
        return {"a": 1}

    @nested.get("/geojson", response_class=GeoJSONOut)
    def geojson():
        return GeoJSONOut({"type": "FeatureCollection", "features": []})

    @nested.get("/typed", response_model=Me, response_class=JSONOut)
    def typed():
        return JSONOut({})

    @nested.get("/page", response_class=HTMLResponse)
    def page():
        return HTMLResponse("<p>")

    @nested.get("/file", response_class=FileResponse)
    def file():
        return FileResponse(__file__)

    @nested.delete("/gone", status_code=204)
    def gone():
        return Response(status_code=204)

    @demo.get("/hidden", include_in_schema=False)
    def hidden():
        return JSONResponse({})

    outer = APIRouter(prefix="/outer")
    outer.include_router(nested)
    demo.include_router(outer)
    assert without_response_model(demo) == [
        "GET /hidden",
        "GET /outer/v1/geojson",
        "GET /outer/v1/plain",
    ]


def test_routes_exempt_by_class_document_no_json_success_body(app):
    """A route may not escape the rule by declaring a bare ``Response`` class while its
    documented success content is JSON; only file downloads (an export may be a GeoJSON
    file) answer JSON media types without being JSON routes."""
    doc = app.openapi()
    offenders = []
    for route in api_routes(app):
        cls = response_class(route)
        if answers_json(route) or not route.include_in_schema:
            continue
        if issubclass(cls, FileResponse):
            continue
        for method in route.methods:
            op = doc["paths"][route.path_format][method.lower()]
            for status, response in op["responses"].items():
                if not str(status).startswith("2"):
                    continue
                for media_type in response.get("content", {}):
                    if is_json(media_type):
                        offenders.append(f"{method} {route.path} {status} {media_type}")
    assert offenders == [], "\n".join(offenders)


# --- pydantic models only in api/schemas ----------------------------------------------------


def models_outside_schemas(modules) -> list[str]:
    """``module.Class`` of every pydantic model defined in one of ``modules`` outside
    ``api.schemas`` (settings classes are configuration, not API bodies)."""
    found = []
    for module in modules:
        if module.__name__.startswith("api.schemas"):
            continue
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and not issubclass(value, BaseSettings)
                and value.__module__ == module.__name__
            ):
                found.append(f"{module.__name__}.{name}")
    return sorted(found)


def every_api_module() -> list[types.ModuleType]:
    """Every module of the ``api`` package, imported."""
    names = [api.__name__] + [
        info.name for info in pkgutil.walk_packages(api.__path__, prefix="api.")
    ]
    return [importlib.import_module(name) for name in names]


def test_pydantic_models_live_in_api_schemas_only():
    modules = every_api_module()
    assert {
        "api.routers.auth",
        "api.services.hazard_reports",
        "api.schemas.hazards",
    } <= {m.__name__ for m in modules}
    assert models_outside_schemas(modules) == []


def test_the_model_check_flags_a_model_in_a_router():
    router = types.ModuleType("api.routers.example")
    schemas = types.ModuleType("api.schemas.example")
    exec(
        "from pydantic import BaseModel\n"
        "from pydantic_settings import BaseSettings\n"
        "from api.schemas.system import Me\n"
        "class Body(BaseModel):\n    x: int\n"
        "class Config(BaseSettings):\n    y: int = 0\n",
        router.__dict__,
    )
    exec(
        "from pydantic import BaseModel\nclass Out(BaseModel):\n    x: int\n",
        schemas.__dict__,
    )
    assert models_outside_schemas([router, schemas]) == ["api.routers.example.Body"]

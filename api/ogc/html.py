"""HTML pages of the OGC API, rendered from the JSON documents with Jinja2 (autoescaped)."""

from typing import Any

import orjson
from jinja2 import Environment, PackageLoader

_env = Environment(
    loader=PackageLoader("api", "templates/ogc"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _cell(value: Any) -> str:
    """A property value as table text: lists joined, objects as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    return str(value)


_env.filters["cell"] = _cell


def _links_by_rel(links: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for item in links:
        out.setdefault(item["rel"], item)
    return out


_env.filters["by_rel"] = _links_by_rel


def render(template: str, **context: Any) -> str:
    """Render ``templates/ogc/<template>``; documents are plain JSON values first."""
    plain = {
        key: orjson.loads(orjson.dumps(value)) if isinstance(value, dict) else value
        for key, value in context.items()
    }
    return _env.get_template(template).render(**plain)

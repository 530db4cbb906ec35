"""The layering of docs/architecture.md §2, checked on the source code.

Routers parse, check the caller, call a service and render: they never import ``api.db``
(no ORM model, no engine); the enums they need come from ``api/vocab.py`` or the schemas.
``api/web.py``, which serves the pages, holds to the same rule. A module that needs the
database asks a service.
"""

import ast
from pathlib import Path

import pytest

API = Path(__file__).resolve().parent.parent / "api"
HTTP_MODULES = sorted((API / "routers").glob("*.py")) + [API / "web.py"]


def _absolute(node: ast.ImportFrom, module: Path) -> str:
    """The module an ``import from`` names, with relative imports resolved."""
    if node.level == 0:
        return node.module or ""
    package = module.relative_to(API.parent).with_suffix("").parts[: -node.level]
    return ".".join([*package, *([node.module] if node.module else [])])


def db_imports(source: str, module: Path) -> list[str]:
    """Every import of ``api.db`` (or of something below it) in ``source``, as written."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        if any(n == "api.db" or n.startswith("api.db.") for n in names):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_the_check_sees_every_form_of_import():
    here = API / "routers" / "x.py"
    for line in (
        "import api.db.models",
        "from api.db.models import Hazard",
        "from api import db",
        "from api.db import engine",
        "from ..db.models import Hazard",
        "from .. import db",
    ):
        assert db_imports(line, here), line
    for line in ("from api.deps import SessionDep", "from api.vocab import Role"):
        assert not db_imports(line, here), line


@pytest.mark.parametrize("module", HTTP_MODULES, ids=lambda p: p.name)
def test_routers_and_pages_never_import_the_database_layer(module: Path):
    found = db_imports(module.read_text(encoding="utf-8"), module)
    assert not found, f"{module.relative_to(API.parent)} imports api.db: {found}"

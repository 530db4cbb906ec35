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


# The routers of versioned records answer through api/routers/versioned.py (the ETag, the
# warnings, 204 on retirement) and take session, caller and If-Match from its ChangeDep;
# their services open a record for a change with versioned.open_for_change (lock, then the
# writer check, then If-Match). A rule about ETags, scoping or retiring is written once.
VERSIONED_ROUTERS = ("accidents", "activities", "eore", "hazard_reports", "hazards")
VERSIONED_SERVICES = ("accidents", "activities", "eore", "hazards")


def _names_used(source: str) -> set[str]:
    tree = ast.parse(source)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    names |= {
        alias.asname or alias.name
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom)
        for alias in n.names
    }
    return names


@pytest.mark.parametrize("name", VERSIONED_ROUTERS)
def test_versioned_routers_answer_through_one_helper(name: str):
    source = (API / "routers" / f"{name}.py").read_text(encoding="utf-8")
    used = _names_used(source)
    assert "etag" not in used, f"routers/{name}.py makes ETags itself"
    assert "IfMatchDep" not in used, f"routers/{name}.py reads If-Match itself"
    assert "versioned" in used and "ChangeDep" in used


# a victim is owned through its accident, which open_for_change has locked and checked first
OWN_IF_MATCH_CHECKS = {"accidents": 1}


@pytest.mark.parametrize("name", VERSIONED_SERVICES)
def test_versioned_services_open_records_for_change_in_one_place(name: str):
    source = (API / "services" / f"{name}.py").read_text(encoding="utf-8")
    calls = [
        n.func.id
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    ]
    assert calls.count("check_if_match") == OWN_IF_MATCH_CHECKS.get(name, 0), (
        f"services/{name}.py checks If-Match itself"
    )
    assert "open_for_change" in calls

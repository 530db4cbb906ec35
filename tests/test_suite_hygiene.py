"""The suite's own rules, checked on its source code (no test is run to check them).

1. **No test returns before it asserts, on a branch chosen by its parameters.** A test
   parametrised over cases that says ``if layer == "eo-finds": return`` passes its eo-finds
   case without testing anything, and reports it as passed. The check reads each test
   function (``test_*`` at module level or in a ``Test*`` class) and:

   * takes as *parameters* the names given by ``@pytest.mark.parametrize`` (on the function
     or its class), the arguments ``@hypothesis.given`` fills (by keyword, or positionally
     from the right as Hypothesis does) and the arguments naming a fixture declared with
     ``params=`` (in the module or a ``conftest.py`` above it);
   * follows them through assignments, unpacking, ``for`` targets, ``with ... as`` and
     ``:=`` to every local name computed from them (``kind, geom = drawn`` makes ``geom`` a
     parameter too);
   * walks the body in order, path by path, and flags a ``return`` that sits under an
     ``if`` / ``while`` / ``for`` / ``match`` whose condition, iterable or subject uses a
     parameter, when no assertion can have run before it on that path. An assertion is an
     ``assert`` statement, a ``with pytest.raises(...)`` / ``pytest.warns(...)``, a call of
     ``pytest.fail``, a call of any function whose name starts with ``assert`` (such as
     ``assert_problem``), or a call of a helper that itself asserts: a function of the same
     module, or imported from another module under ``tests/``, whose body contains one of
     these (followed through helpers calling helpers). An ``if`` asserts on the paths after
     it only when both branches do; a loop, which may run no time, never does.

   What it does not flag, on purpose: a ``return`` after an assertion on its path (the test
   tested something and stops, e.g. "a 422 has the right problem, nothing more to check");
   a ``return`` on a branch that no parameter decides (every run takes the same path, so the
   test cannot pass one case vacuously while testing the others); a ``return`` inside a
   nested function. A Hypothesis test that wants to discard a draw calls ``assume()``, which
   Hypothesis counts, instead of returning.

2. **No module under ``tests/`` imports a test module (``test_*.py``) or a ``conftest.py``.**
   Shared helpers live in ``tests/helpers.py`` (``tests/factories.py``,
   ``tests/strategies.py``, ``tests/live.py`` for their own kinds); importing a test module
   runs its module code a second time under another name and ties suites together.

3. **Every Hypothesis test is derandomised** (``@settings(derandomize=True, ...)`` on it,
   directly or through a module-level ``NAME = settings(...)``), as the property tests of
   this suite are: a failure then reproduces on the next run and on another machine, and a
   green run does not hide a red one that a different seed would have found.

4. **The slow tests carry ``slow``** (``pytestmark = pytest.mark.slow`` on the module, or
   ``@pytest.mark.slow`` on the test or its class), so that ``make test-fast``
   (``pytest -m "not slow"``) leaves them out: the fuzz tests (``test_fuzz*.py``), the
   browser tests (``tests/browser/``), the property-based tests (any ``@given`` test) and the
   migration tests (``tests/migrations/`` and any ``test_migration*``). ``make test`` still
   runs every test.

Each rule is also run on small snippets below, so that a change to the checker that stops it
from finding the original eo-finds early return fails here.
"""

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

# ---- parameters ------------------------------------------------------------------------------


def _dotted(node: ast.AST) -> str:
    """``pytest.mark.parametrize`` for that attribute chain; '' for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


def _strings(node: ast.AST | None) -> list[str]:
    """The argument names a parametrize ``argnames`` holds ("a, b" or ["a", "b"])."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [n.strip() for n in node.value.split(",") if n.strip()]
    if isinstance(node, ast.List | ast.Tuple):
        return [n for e in node.elts for n in _strings(e)]
    return []


def _argument_names(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    a = func.args
    return [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]


def _parameters(func, decorators: list[ast.expr], param_fixtures: set[str]) -> set[str]:
    """Names of ``func``'s arguments that vary from one run of the test to the next."""
    names: set[str] = set()
    positional_args = [n for n in _argument_names(func) if n not in ("self", "cls")]
    for dec in decorators:
        if not isinstance(dec, ast.Call):
            continue
        name = _dotted(dec.func)
        if name.endswith("parametrize"):
            argnames = dec.args[0] if dec.args else None
            for kw in dec.keywords:
                if kw.arg == "argnames":
                    argnames = kw.value
            names.update(_strings(argnames))
        elif name in ("given", "hypothesis.given"):
            names.update(kw.arg for kw in dec.keywords if kw.arg)
            if dec.args:  # positional strategies fill the rightmost arguments
                names.update(positional_args[-len(dec.args) :])
    names.update(n for n in _argument_names(func) if n in param_fixtures)
    return names


def _param_fixtures(tree: ast.Module) -> set[str]:
    """Fixtures declared with ``params=`` in a module: every test using one is parametrised."""
    found = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for dec in node.decorator_list:
                if (
                    isinstance(dec, ast.Call)
                    and _dotted(dec.func).endswith("fixture")
                    and any(kw.arg == "params" for kw in dec.keywords)
                ):
                    found.add(node.name)
    return found


def _uses(node: ast.AST | None, names: set[str]) -> bool:
    return node is not None and any(
        isinstance(n, ast.Name) and n.id in names for n in ast.walk(node)
    )


def _derived(func: ast.AST, seeds: set[str]) -> set[str]:
    """``seeds`` and every name assigned from an expression that uses one (to a fixpoint)."""
    names = set(seeds)
    flows: list[tuple[list[ast.AST], ast.AST | None]] = []
    for node in ast.walk(func):
        if isinstance(node, ast.Assign):
            flows.append((node.targets, node.value))
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
            flows.append(([node.target], node.value))
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            flows.append(([node.target], node.iter))
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            flows.append(([node.optional_vars], node.context_expr))
    changed = True
    while changed:
        changed = False
        for targets, value in flows:
            if not _uses(value, names):
                continue
            for target in targets:
                for n in ast.walk(target):
                    if isinstance(n, ast.Name) and n.id not in names:
                        names.add(n.id)
                        changed = True
    return names


# ---- assertions ------------------------------------------------------------------------------

PYTEST_ASSERTIONS = {
    "pytest.raises",
    "pytest.warns",
    "pytest.fail",
    "pytest.deprecated_call",
}


def _is_assertion_call(call: ast.Call, helpers: set[str]) -> bool:
    name = _dotted(call.func)
    last = name.rsplit(".", 1)[-1]
    return last.startswith("assert") or name in PYTEST_ASSERTIONS or name in helpers


def _asserts(node: ast.AST, helpers: set[str]) -> bool:
    """Whether ``node`` (a statement or expression) contains an assertion anywhere."""
    return any(
        isinstance(n, ast.Assert)
        or (isinstance(n, ast.Call) and _is_assertion_call(n, helpers))
        for n in ast.walk(node)
    )


def _asserting_functions(
    tree: ast.Module, imported: set[str] = frozenset()
) -> set[str]:
    """Module-level functions that assert, directly or through each other (or ``imported``)."""
    functions = {
        n.name: n
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    found = set(imported)
    changed = True
    while changed:
        changed = False
        for name, node in functions.items():
            if name not in found and _asserts(node, found):
                found.add(name)
                changed = True
    return found


_MODULE_CACHE: dict[Path, set[str]] = {}


def _module_file(dotted: str) -> Path | None:
    base = ROOT.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_asserting(tree: ast.Module) -> set[str]:
    """Local names of functions imported from ``tests.*`` modules that assert."""
    found = set()
    for node in tree.body:
        if not (isinstance(node, ast.ImportFrom) and node.module):
            continue
        if not node.module.startswith("tests"):
            continue
        path = _module_file(node.module)
        if path is None:
            continue
        if path not in _MODULE_CACHE:
            _MODULE_CACHE[path] = _asserting_functions(ast.parse(path.read_text()))
        for alias in node.names:
            if alias.name in _MODULE_CACHE[path]:
                found.add(alias.asname or alias.name)
    return found


# ---- the early-return rule -------------------------------------------------------------------


@dataclass(frozen=True)
class EarlyReturn:
    """A ``return`` that can end a test before it asserted, on a parameter's say-so."""

    test: str
    line: int


class _Walker:
    """Walks one test body path by path, carrying whether an assertion has run yet."""

    def __init__(self, params: set[str], helpers: set[str]):
        self.params, self.helpers = params, helpers
        self.found: list[int] = []

    def block(self, stmts: list[ast.stmt], asserted: bool, guarded: bool) -> bool:
        """Whether every path through ``stmts`` has asserted by its end."""
        for stmt in stmts:
            if asserted:
                return True  # nothing after an assertion on this path can be vacuous
            if isinstance(stmt, ast.Return):
                if guarded:
                    self.found.append(stmt.lineno)
                return True  # the path ends here; what follows is not on it
            if isinstance(stmt, ast.Raise | ast.Continue | ast.Break):
                return True
            asserted = self.statement(stmt, guarded)
        return asserted

    def statement(self, stmt: ast.stmt, guarded: bool) -> bool:
        """Whether ``stmt`` asserts on every path through it."""
        p, h = self.params, self.helpers
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return False  # its returns are not the test's
        if isinstance(stmt, ast.If):
            g = guarded or _uses(stmt.test, p)
            if _asserts(stmt.test, h):
                return True
            body = self.block(stmt.body, False, g)
            orelse = self.block(stmt.orelse, False, g)
            return body and orelse
        if isinstance(stmt, ast.For | ast.AsyncFor | ast.While):
            condition = stmt.test if isinstance(stmt, ast.While) else stmt.iter
            if _asserts(condition, h):
                return True
            g = guarded or _uses(condition, p)
            self.block(stmt.body, False, g)
            self.block(stmt.orelse, False, g)
            return False  # a loop may run no time
        if isinstance(stmt, ast.With | ast.AsyncWith):
            if any(_asserts(item.context_expr, h) for item in stmt.items):
                return True
            return self.block(stmt.body, False, guarded)
        if isinstance(stmt, ast.Try | ast.TryStar):
            body = self.block(stmt.body, False, guarded)
            handlers = [self.block(x.body, False, guarded) for x in stmt.handlers]
            final = self.block(stmt.finalbody, False, guarded)
            return final or (body and all(handlers))
        if isinstance(stmt, ast.Match):
            g = guarded or _uses(stmt.subject, p)
            cases = [self.block(c.body, False, g) for c in stmt.cases]
            return bool(cases) and all(cases)
        return _asserts(stmt, h)


def _tests(tree: ast.Module):
    """(function, decorators that apply to it) of every test in a module."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name.startswith("test"):
                yield node, node.decorator_list
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(
                    item, ast.FunctionDef | ast.AsyncFunctionDef
                ) and item.name.startswith("test"):
                    yield item, [*node.decorator_list, *item.decorator_list]


def early_returns(
    source: str, conftest_fixtures: set[str] = frozenset()
) -> list[EarlyReturn]:
    """Every return that ends a test of ``source`` before an assertion, on a parameter's branch."""
    tree = ast.parse(textwrap.dedent(source))
    helpers = _asserting_functions(tree, _imported_asserting(tree))
    param_fixtures = _param_fixtures(tree) | set(conftest_fixtures)
    found = []
    for func, decorators in _tests(tree):
        params = _parameters(func, decorators, param_fixtures)
        if not params:
            continue
        walker = _Walker(_derived(func, params), helpers)
        walker.block(func.body, False, False)
        found += [EarlyReturn(func.name, line) for line in walker.found]
    return found


def _conftest_fixtures(path: Path) -> set[str]:
    found: set[str] = set()
    for folder in [path.parent, *path.parent.parents]:
        conftest = folder / "conftest.py"
        if conftest.is_file():
            found |= _param_fixtures(ast.parse(conftest.read_text()))
        if folder == TESTS:
            break
    return found


def _test_modules() -> list[Path]:
    return sorted(TESTS.rglob("test_*.py"))


# ---- the import rule -------------------------------------------------------------------------


def _is_test_or_conftest(dotted: str) -> bool:
    path = _module_file(dotted)
    return path is not None and (
        path.name.startswith("test_") or path.name == "conftest.py"
    )


def forbidden_imports(source: str, module: str) -> list[str]:
    """Test modules and conftests that ``source`` (the module ``module``) imports."""
    found = []
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [t for t in targets if _is_test_or_conftest(t)]
    return found


# ---- the derandomisation rule ------------------------------------------------------------


def _derandomised(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and _dotted(node.func) in ("settings", "hypothesis.settings")
        and any(
            kw.arg == "derandomize"
            and isinstance(kw.value, ast.Constant)
            and kw.value.value is True
            for kw in node.keywords
        )
    )


def randomised_property_tests(source: str) -> list[str]:
    """Tests of ``source`` that ``@given`` drives without ``derandomize=True``."""
    tree = ast.parse(textwrap.dedent(source))
    derandomised_names = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign) and _derandomised(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found = []
    for func, decorators in _tests(tree):
        given = any(
            isinstance(d, ast.Call) and _dotted(d.func) in ("given", "hypothesis.given")
            for d in decorators
        )
        if given and not any(
            _derandomised(d) or (isinstance(d, ast.Name) and d.id in derandomised_names)
            for d in decorators
        ):
            found.append(func.name)
    return found


# ---- the slow-marker rule ------------------------------------------------------------------


def _slow_marks(decorators: list[ast.expr]) -> bool:
    return any(
        _dotted(d) == "pytest.mark.slow"
        or (isinstance(d, ast.Call) and _dotted(d.func) == "pytest.mark.slow")
        for d in decorators
    )


def _module_marked_slow(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            value = node.value
            marks = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
            if _slow_marks(marks):
                return True
    return False


def unmarked_slow_tests(source: str, module_path: str) -> list[str]:
    """Tests of the module at ``module_path`` (from the root) that should be slow but are not."""
    tree = ast.parse(textwrap.dedent(source))
    if _module_marked_slow(tree):
        return []
    slow_module = module_path.startswith(
        ("tests/browser/", "tests/migrations/")
    ) or Path(module_path).name.startswith("test_fuzz")
    found = []
    for func, decorators in _tests(tree):
        given = any(
            isinstance(d, ast.Call) and _dotted(d.func) in ("given", "hypothesis.given")
            for d in decorators
        )
        slow = slow_module or given or func.name.startswith("test_migration")
        if slow and not _slow_marks(decorators):
            found.append(func.name)
    return found


# ---- the rules on the suite ------------------------------------------------------------------


def test_no_test_returns_before_asserting_on_a_parametrised_branch():
    found = []
    for path in _test_modules():
        for hit in early_returns(path.read_text(), _conftest_fixtures(path)):
            found.append(f"{path.relative_to(ROOT)}:{hit.line} in {hit.test}")
    assert not found, "tests that can pass without asserting:\n" + "\n".join(found)


def test_no_module_under_tests_imports_a_test_module_or_a_conftest():
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for target in forbidden_imports(path.read_text(), module):
            found.append(f"{path.relative_to(ROOT)} imports {target}")
    assert not found, "move what they share to tests/helpers.py:\n" + "\n".join(found)


def test_every_property_test_is_derandomised():
    found = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _test_modules()
        for name in randomised_property_tests(path.read_text())
    ]
    assert not found, "property tests without derandomize=True:\n" + "\n".join(found)


def test_fuzz_browser_property_and_migration_tests_are_marked_slow():
    found = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _test_modules()
        for name in unmarked_slow_tests(
            path.read_text(), path.relative_to(ROOT).as_posix()
        )
    ]
    assert not found, "mark these @pytest.mark.slow:\n" + "\n".join(found)


def test_the_checks_read_the_whole_suite():
    """Guard against a checker that silently reads nothing (a wrong folder, a bad glob)."""
    modules = _test_modules()
    assert len(modules) > 50 and Path(__file__) in modules
    parametrised = sum(
        bool(_parameters(f, d, set()))
        for path in modules
        for f, d in _tests(ast.parse(path.read_text()))
    )
    assert parametrised > 50


# ---- the checker on snippets -----------------------------------------------------------------

EO_FINDS_EARLY_RETURN = """
import pytest

LAYERS = ("hazards", "releases", "eo-finds", "admin-areas")

def download(client, user, name, **params):
    r = client.get(f"/api/v1/exports/{name}", params=params, headers=user.headers)
    assert r.status_code == 200, r.text
    return r

@pytest.mark.parametrize("layer", LAYERS)
def test_any_role_exports_operational_layers(client, actors, programme, layer):
    if layer == "eo-finds":
        return
    for user in (actors.analyst_a, actors.eore_a, actors.coordinator_b, actors.admin):
        download(client, user, f"{layer}.gpkg")
"""


def test_the_original_eo_finds_early_return_is_found():
    """tests/routers/test_exports.py as it was: its eo-finds case passed without a request."""
    assert early_returns(EO_FINDS_EARLY_RETURN) == [
        EarlyReturn("test_any_role_exports_operational_layers", 14)
    ]


def test_a_hypothesis_draw_returned_instead_of_assumed_is_found():
    source = """
        from hypothesis import given
        from tests.strategies import polygons

        @PURE
        @given(polygons(kinds=("valid", "holed")))
        def test_areas_are_on_the_ellipsoid(drawn):
            kind, geom = drawn
            if not geom.is_valid:
                return
            assert area(geom) > 0
    """
    assert early_returns(source) == [EarlyReturn("test_areas_are_on_the_ellipsoid", 10)]


def test_parameters_reach_through_assignments_loops_and_classes():
    source = """
        import pytest

        @pytest.mark.parametrize("case", [1, 2])
        class TestCases:
            @given(extra=st.integers())
            def test_a(self, client, case, extra):
                for n in range(case):
                    total = n + 1
                    if (big := total > 3):
                        return
                assert case

        @pytest.mark.parametrize(("fmt", "layer"), [("csv", "x")])
        def test_b(client, fmt, layer):
            match fmt:
                case "csv":
                    return
            assert client

        @pytest.fixture(params=["a", "b"])
        def flavour(request):
            return request.param

        def test_c(flavour):
            while flavour:
                return
            assert flavour
    """
    assert [(r.test, r.line) for r in early_returns(source)] == [
        ("test_a", 11),
        ("test_b", 18),
        ("test_c", 27),
    ]


def test_returns_after_an_assertion_or_not_decided_by_parameters_are_not_found():
    source = """
        import pytest

        def check(r):
            assert_problem(r, 422)

        def expect(r):
            check(r)

        @pytest.mark.parametrize("status", [201, 422])
        def test_asserted_first(client, status):
            r = client.post("/x", json={"status": status})
            assert r.status_code in (201, 422)
            if r.status_code == 422:
                return
            assert r.json()

        @pytest.mark.parametrize("status", [201, 422])
        def test_asserted_in_the_branch(client, status):
            if status == 422:
                expect(client.post("/x"))
                return
            with pytest.raises(ValueError):
                return

        @pytest.mark.parametrize("status", [201, 422])
        def test_branch_on_a_fixture(client, session, status):
            if session is None:
                return
            assert status

        @pytest.mark.parametrize("status", [201, 422])
        def test_nested_function(client, status):
            def inner():
                if status:
                    return 1
            assert inner()

        def test_not_parametrised(client):
            if client is None:
                return
            assert client
    """
    assert early_returns(source) == []


def test_an_if_asserts_afterwards_only_when_both_branches_do():
    source = """
        import pytest

        @pytest.mark.parametrize("x", [1, 2])
        def test_one_branch(client, x):
            if client:
                assert x
            if x == 2:
                return
            assert x
    """
    assert early_returns(source) == [EarlyReturn("test_one_branch", 9)]


def test_imports_of_test_modules_and_conftests_are_found():
    source = """
        from tests.routers.test_errors import assert_problem
        from tests.conftest import throwaway_database
        from tests.routers import test_tiles
        from . import test_errors
        from .test_tiles import url
        import tests.routers.test_errors
        from tests.helpers import assert_problem
        from tests.factories import make_hazard
        from tests.ingest import files
    """
    found = forbidden_imports(textwrap.dedent(source), "tests.routers.test_new")
    assert found == [
        "tests.routers.test_errors",
        "tests.conftest",
        "tests.routers.test_tiles",
        "tests.routers.test_errors",
        "tests.routers.test_tiles",
        "tests.routers.test_errors",
    ]


def test_a_property_test_without_derandomize_is_found():
    """tests/services/test_land_release_properties.py as it was: SETTINGS had no derandomize."""
    source = """
        from hypothesis import HealthCheck, given, settings

        SETTINGS = settings(max_examples=40, deadline=None)
        PURE = settings(max_examples=120, deadline=None, derandomize=True, database=None)

        @SETTINGS
        @given(hazard=polygons())
        def test_released_plus_remaining_is_baseline(session, hazard):
            assert hazard

        @PURE
        @given(polygons())
        def test_pure(drawn):
            assert drawn

        @settings(max_examples=20, derandomize=True)
        @given(polygons())
        def test_inline(drawn):
            assert drawn

        @given(polygons())
        def test_bare(drawn):
            assert drawn

        def test_not_a_property(client):
            assert client
    """
    assert randomised_property_tests(source) == [
        "test_released_plus_remaining_is_baseline",
        "test_bare",
    ]


def test_unmarked_slow_tests_are_found():
    source = """
        import pytest

        @given(polygons())
        def test_property(drawn):
            assert drawn

        @pytest.mark.slow
        @given(polygons())
        def test_marked_property(drawn):
            assert drawn

        def test_migration_0099_moves_rows(session):
            assert session

        def test_quick(client):
            assert client
    """
    assert unmarked_slow_tests(source, "tests/test_x.py") == [
        "test_property",
        "test_migration_0099_moves_rows",
    ]
    assert unmarked_slow_tests(source, "tests/browser/test_x.py") == [
        "test_property",
        "test_migration_0099_moves_rows",
        "test_quick",
    ]
    marked = "import pytest\n\npytestmark = [pytest.mark.slow]\n" + textwrap.dedent(
        source
    )
    assert unmarked_slow_tests(marked, "tests/test_fuzz_api.py") == []

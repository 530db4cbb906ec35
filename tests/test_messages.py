"""API messages in the reader's language (issue 18, item 3): problem details and import
reports translated at the edge from the templates of ``api/locales/<lang>.json``."""

import ast
import json
import re
from pathlib import Path

import pytest
from shapely.geometry import Polygon

from api import messages
from api.messages import MESSAGE_PREFIX, placeholders, translate
from api.vocab import LOCALES_DIR
from tests.helpers import run_import
from tests.ingest import files as F

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = {p.stem: json.loads(p.read_text()) for p in LOCALES_DIR.glob("*.json")}
UK = {"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.5"}
CYRILLIC = re.compile(r"[А-Яа-яІіЇїЄєҐґ]")


def hazard(geometry, **props) -> dict:
    base = {
        "classification": "SHA",
        "hazard_type": "minefield",
        "contamination": ["ap_mine"],
        "date_of_information": "2024-05-01",
        **props,
    }
    return {"type": "Feature", "geometry": geometry, "properties": base}


SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [
            [30.5, 50.45],
            [30.501, 50.45],
            [30.501, 50.451],
            [30.5, 50.451],
            [30.5, 50.45],
        ]
    ],
}


# ---- the catalogue --------------------------------------------------------------------------


def test_every_language_has_every_api_string():
    """api/locales: the same keys in every language (as web/static/i18n), no empty value,
    and every message template's placeholders the same as the English one's."""
    assert set(CATALOGUES) >= {"en", "uk"}
    keys = set(CATALOGUES["en"])
    for lang, cat in CATALOGUES.items():
        assert set(cat) == keys, (lang, set(cat) ^ keys)
        assert all(isinstance(v, str) and v.strip() for v in cat.values()), lang
        for key in keys:
            if key.startswith(MESSAGE_PREFIX):
                assert placeholders(cat[key]) == placeholders(CATALOGUES["en"][key]), (
                    lang,
                    key,
                )


def test_untranslated_text_stays_english_and_english_is_unchanged():
    assert (
        translate("a message no template knows", "uk") == "a message no template knows"
    )
    assert translate("Field required", "en") == "Field required"
    assert translate("Field required", "xx") == "Field required"
    assert translate("Field required", "uk") == "Обов'язкове поле"
    # a field name before the message is kept; a fragment is never a whole message
    assert translate("classification: Field required", "uk") == (
        "classification: Обов'язкове поле"
    )
    assert translate("north", "uk") == "north"
    assert translate("north", "uk", part=True) != "north"


# ---- every message the geometry gate can build has a Ukrainian template -----------------------

GATE_MODULES = ("api/ingest/gate.py", "api/spatial/intake.py")


def _sample(node: ast.expr) -> str | None:
    """The text of a string expression with each computed part as "X" (None if not text)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) else "X" for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _sample(node.left), _sample(node.right)
        if left is None and right is None:
            return None
        return (left or "X") + (right or "X")
    return None


def gate_messages() -> dict[str, str]:
    """Every message text of the gate's modules, with "X" for each computed value.

    Message-like: a string with a word and a space inside that is not a docstring, not SQL (``text()``)
    (nor a regular expression) and not a bare format; a fragment starting with punctuation
    (a suffix appended to a message) gets an "X" message before it, a prefix ending in a
    space an "X" after it.
    """
    out: dict[str, str] = {}
    for rel in GATE_MODULES:
        tree = ast.parse((ROOT / rel).read_text())
        skip: set[int] = set()
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
                skip.add(id(body[0].value))  # docstrings
            if isinstance(node, ast.Call) and (
                getattr(node.func, "id", "") == "text"
                or getattr(node.func, "attr", "") == "compile"
            ):
                skip.update(id(a) for a in node.args)
            if isinstance(node, ast.BinOp | ast.JoinedStr):
                skip.update(id(n) for n in ast.walk(node) if n is not node)
        for node in ast.walk(tree):
            if id(node) in skip or not isinstance(node, ast.expr):
                continue
            text = _sample(node)
            if text is None or not (
                re.search(r"[a-z]{2,}", text) and " " in text.strip()
            ):
                continue
            if not text[0].isalnum():
                text = "X" + text
            if text[-1].isspace():
                text += "X"
            out[f"{rel}:{node.lineno}"] = text
    return out


def test_the_gate_messages_are_found():
    found = set(gate_messages().values())
    assert "geometry is empty" in found
    assert "X (and X more)" in found
    assert any(m.startswith("vertex jump: polygon X ring X") for m in found)
    assert len(found) > 30


@pytest.mark.parametrize("where", sorted(gate_messages()))
def test_every_gate_message_has_a_ukrainian_template(where):
    """Fails for a new message of the gate (api/ingest/gate.py, api/spatial/intake.py) that
    api/locales/uk.json does not translate: add a ``msg.*`` template (``msg.part.*`` for a
    fragment) to both catalogues."""
    text = gate_messages()[where]
    assert translate(text, "uk", part=True) != text, (where, text)


# ---- every problem the API raises has a Ukrainian template -----------------------------------

# Problem details made only of values, by file and source: "<field>: <message>" (the field is
# kept and the message translated by its own template, checked where the message is built)
# and the rate limit's two forms; test_composed_problem_messages_in_ukrainian checks them.
DYNAMIC_DETAILS = {
    ("api/ogc/cql2.py", "f'filter: {message}'"),
    ("api/ogc/params.py", "f'{parameter}: {message}'"),
    ("api/paging.py", "f'cursor: {message}'"),
    ("api/routers/analytics.py", "f'{name}: {message}'"),
    ("api/services/hazards.py", "f\"{first['pointer']}: {first['message']}\""),
    (
        "api/services/hazard_reports.py",
        "f\"{errors[0]['pointer']}: {errors[0]['message']}\"",
    ),
    ("api/services/imports/lifecycle.py", "f'{filename}: {exc}'"),
    ("api/services/extent.py", "f'{pointer}: {exc.message}'"),
    (
        "api/ratelimit.py",
        "f'too many {what} (limit {buckets.rate:g}/s, bursts of {buckets.burst}); retry in {retry_after} s{hint}'",
    ),
}
# Module helpers that build a problem from a message: their last argument is the message.
MESSAGE_HELPERS = ("_bad", "_invalid")


def _problem_classes() -> set[str]:
    """The names of api.errors.ProblemError and of every class derived from it in api/."""
    bases: dict[str, list[str]] = {}
    for path in (ROOT / "api").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = [ast.unparse(b).split(".")[-1] for b in node.bases]

    def derived(name: str, seen: frozenset = frozenset()) -> bool:
        return name == "ProblemError" or any(
            derived(b, seen | {name}) for b in bases.get(name, []) if b not in seen
        )

    return {name for name in bases if derived(name)}


def _constants(tree: ast.Module) -> dict[str, str]:
    """A module's top-level string constants (``KIND = "activity"``, ``A, B = "a", "b"``)."""
    out: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target, value = node.targets[0], node.value
        pairs = (
            zip(target.elts, value.elts, strict=False)
            if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
            else [(target, value)]
        )
        for name, const in pairs:
            if (
                isinstance(name, ast.Name)
                and isinstance(const, ast.Constant)
                and isinstance(const.value, str)
            ):
                out[name.id] = const.value
    return out


def _example(node: ast.expr, consts: dict[str, str]) -> str | None:
    """The text of a message expression with module constants filled in and every other
    computed value as "7" (a value that any placeholder, numeric or not, matches)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return consts.get(node.id)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue):
                parts.append(_example(v.value, consts) or "7")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _example(node.left, consts), _example(node.right, consts)
        if left is None and right is None:
            return None
        return (left or "7") + (right or "7")
    return None


def problem_messages() -> dict[str, str]:
    """The detail of every problem raised in api/ (``raise NotFound(f"no hazard {id}")``)
    and every ``"message"`` of a problem's ``errors`` or of an import report's rows, with
    module constants filled in and each other value as "7", by ``file:line``; a message
    that is a variable (built elsewhere and passed on) is left out."""
    problems = _problem_classes()
    out: dict[str, str] = {}
    for path in sorted((ROOT / "api").rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text())
        consts = _constants(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func).split(".")[-1]
            if name in problems:
                detail = node.args[0] if node.args else None
                detail = next(
                    (k.value for k in node.keywords if k.arg == "detail"), detail
                )
            elif name in MESSAGE_HELPERS and node.args:
                detail = node.args[-1]
            else:
                continue
            if detail is None or (rel, ast.unparse(detail)) in DYNAMIC_DETAILS:
                continue
            text = _example(detail, consts)
            if text is not None:
                out[f"{rel}:{node.lineno}"] = text
        for node in ast.walk(tree):  # {"pointer": ..., "message": "..."} of errors[]
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "message":
                        text = _example(value, consts)
                        if text is not None:
                            out[f"{rel}:{value.lineno}:errors"] = text
    return out


def test_the_problem_messages_are_found():
    found = problem_messages()
    assert len(found) > 200, len(found)
    assert "no accident 7" in found.values()  # a module constant filled in
    assert "bbox minLat is greater than maxLat" in found.values()
    assert "must be an integer, got 7" in found.values()  # through a helper
    assert "already used" in found.values()  # an errors[] entry
    assert not any(k.startswith("api/ratelimit.py") for k in found)  # allow-listed


@pytest.mark.parametrize("where", sorted(problem_messages()))
def test_every_problem_message_has_a_ukrainian_template(where):
    """Fails for a new problem detail (a ``raise BadRequest("...")`` anywhere in api/) that
    api/locales/uk.json does not translate: add a ``msg.*`` template to both catalogues."""
    text = problem_messages()[where]
    assert translate(text, "uk") != text, (where, text)


@pytest.mark.parametrize(
    "english",
    [
        "too many anonymous requests from your address (limit 2/s, bursts of 20); "
        "retry in 3 s, or sign in",
        "too many requests with this API key (limit 10/s, bursts of 50); retry in 1 s",
        "filter: unexpected character '!' at column 7",
        "cursor: not a cursor from a next link",
        "limit: must be at least 1, got 0",
        "to: is before from",
        "no risk-education session 0b0b5c59-5a9e-4f0e-8a8e-0c7b6a0d7c1e",
    ],
)
def test_composed_problem_messages_in_ukrainian(english):
    """Details built from parts (a field and its message, the rate limit's hint): no
    English word is left but field names, codes and values."""
    uk = translate(english, "uk")
    assert CYRILLIC.search(uk), uk
    words = {
        "too",
        "many",
        "retry",
        "unexpected",
        "column",
        "cursor from",
        "must",
        "is before",
        "no risk",
    }
    assert not [w for w in words if w in uk.split(":")[-1]], uk


# ---- problems -------------------------------------------------------------------------------


def test_missing_field_problem_in_ukrainian(client, actors):
    body = hazard(SQUARE, organisation=actors.org_a)
    del body["properties"]["classification"]
    r = client.post(
        "/api/v1/hazards", json=body, headers={**actors.coordinator_a.headers, **UK}
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["content-language"] == "uk"
    assert "accept-language" in r.headers["vary"].lower()
    p = r.json()
    assert p["title"] == "Неправильні дані"
    assert p["detail"] == (
        "Неправильних значень: 1; перше — /properties/classification: Обов'язкове поле"
    )
    assert p["errors"] == [
        {"pointer": "/properties/classification", "message": "Обов'язкове поле"}
    ]
    # the same request in English is unchanged
    r = client.post("/api/v1/hazards", json=body, headers=actors.coordinator_a.headers)
    assert r.json()["errors"][0]["message"] == "Field required"
    assert r.json()["title"] == "Invalid input"
    assert r.headers["content-language"] == "en"


def test_invalid_geometry_problem_in_ukrainian(client, actors):
    open_ring = {
        "type": "Polygon",
        "coordinates": [
            [[30.5, 50.45], [30.501, 50.45], [30.501, 50.451], [30.5, 50.4511]]
        ],
    }
    r = client.post(
        "/api/v1/hazards",
        json=hazard(open_ring, organisation=actors.org_a),
        headers={**actors.coordinator_a.headers, **UK},
    )
    assert r.status_code == 422, r.text
    p = r.json()
    assert p["title"] == "Неправильна геометрія"
    assert p["errors"][0]["pointer"] == "/geometry/coordinates/0"
    assert p["errors"][0]["message"].startswith("лінійне кільце не замкнене"), p
    assert CYRILLIC.search(p["detail"]) and "linear ring" not in p["detail"], p


@pytest.mark.parametrize(
    "path, headers, status, title",
    [
        ("/api/v1/hazards", {}, 401, "Потрібно увійти"),
        ("/api/v1/no-such-route", {}, 404, "Не знайдено"),
    ],
)
def test_problem_titles_in_ukrainian(client, path, headers, status, title):
    r = client.get(path, headers={**headers, **UK})
    assert r.status_code == status
    assert r.json()["title"] == title
    assert CYRILLIC.search(r.json()["detail"]), r.json()
    assert r.headers["content-language"] == "uk"


def test_refusals_of_a_hazard_edit_in_ukrainian(client, actors):
    """The refusals a coordinator meets editing hazards (another organisation's record,
    a missing one, no If-Match, a stale one, a taken external_id) all answer in Ukrainian."""
    a = {**actors.coordinator_a.headers, **UK}
    b = {**actors.coordinator_b.headers, **UK}
    body = hazard(SQUARE, organisation=actors.org_a, external_id="UK-MSG-1")
    created = client.post("/api/v1/hazards", json=body, headers=a)
    assert created.status_code == 201, created.text
    url = f"/api/v1/hazards/{created.json()['id']}"
    etag = created.headers["ETag"]
    change = {"properties": {"status": "worked_on"}}

    def detail(r, status):
        assert r.status_code == status, r.text
        p = r.json()
        assert r.headers["content-language"] == "uk"
        assert CYRILLIC.search(p["title"]) and CYRILLIC.search(p["detail"]), p
        assert all(CYRILLIC.search(e["message"]) for e in p.get("errors", [])), p
        return p["detail"]

    assert "організації" in detail(
        client.patch(url, json=change, headers={**b, "If-Match": etag}), 403
    )
    missing = "/api/v1/hazards/00000000-0000-4000-8000-000000000000"
    assert detail(client.get(missing, headers=a), 404).startswith(
        "немає небезпечної ділянки"
    )
    assert "If-Match" in detail(client.patch(url, json=change, headers=a), 428)
    assert "версія" in detail(
        client.patch(url, json=change, headers={**a, "If-Match": 'W/"99"'}), 412
    )
    other = client.post(
        "/api/v1/hazards",
        json=hazard(SQUARE, organisation=actors.org_a, external_id="UK-MSG-2"),
        headers=a,
    )
    taken = client.patch(
        f"/api/v1/hazards/{other.json()['id']}",
        json={"properties": {"external_id": "UK-MSG-1"}},
        headers={**a, "If-Match": other.headers["ETag"]},
    )
    assert "external_id" in detail(taken, 409)


def test_problem_titles_of_every_type_have_ukrainian():
    from api import errors

    slugs = {cls.type_slug for cls in _subclasses(errors.ProblemError)}
    slugs |= set(errors._HTTP_SLUGS.values())
    uk = CATALOGUES["uk"]
    missing = {s for s in slugs if f"{messages.TITLE_PREFIX}{s}" not in uk}
    assert not missing, missing


def _subclasses(cls):
    out = {cls}
    for sub in cls.__subclasses__():
        out |= _subclasses(sub)
    return out


# ---- import reports -------------------------------------------------------------------------


def test_import_dry_run_rows_in_ukrainian(client, actors):
    bowtie = Polygon(
        [
            (30.60, 50.50),
            (30.601, 50.501),
            (30.601, 50.50),
            (30.60, 50.501),
            (30.60, 50.50),
        ]
    )
    feats = [
        F.feature(F.square(901), F.hazard_props(901, actors.org_a, classification="")),
        F.feature(F.square(902), F.hazard_props(902, actors.org_a, hazard_type="lake")),
        F.feature(bowtie, F.hazard_props(903, actors.org_a)),
    ]
    data = F.geojson_bytes(feats)
    rep = run_import(client, actors.coordinator_a, "rows.geojson", data, mode="dry_run")
    english = [m["message"] for m in rep["errors"] + rep["warnings"]]
    assert len(rep["errors"]) >= 2 and rep["warnings"], rep

    res = client.post(
        "/api/v1/imports",
        files={"file": ("rows.geojson", data)},
        data={"mode": "dry_run"},
        headers=actors.coordinator_a.headers,
    )
    r = client.get(
        res.headers["Location"], headers={**actors.coordinator_a.headers, **UK}
    )
    assert r.status_code == 200
    assert r.headers["content-language"] == "uk"
    assert "accept-language" in r.headers["vary"].lower()
    uk = r.json()
    translated = [m["message"] for m in uk["errors"] + uk["warnings"]]
    assert len(translated) == len(english)
    for en_msg, uk_msg in zip(english, translated, strict=True):
        assert uk_msg != en_msg and CYRILLIC.search(uk_msg), (en_msg, uk_msg)
    repair = next(m for m in uk["warnings"] if m["row"] == 3)["message"]
    assert repair.startswith("виправлено") and "самоперетин" in repair, repair


def test_no_repository_paths_in_the_interface():
    """No text a user reads names a file of the repository ("docs/domain.md §4.7")."""
    web = Path(__file__).resolve().parents[1] / "web"
    path = re.compile(r"\b[\w/.-]+\.(?:md|py|js|json|yaml|sql)\b|\bdocs/")
    cats = {
        **{f"api/{k}": v for k, v in CATALOGUES.items()},
        **{
            f"web/{p.stem}": json.loads(p.read_text())
            for p in (web / "static/i18n").glob("*.json")
        },
    }
    found = {
        (name, key): value
        for name, cat in cats.items()
        for key, value in cat.items()
        if path.search(value)
    }
    assert not found, found
    assert path.search("Ranked by default (docs/domain.md §4.7)")

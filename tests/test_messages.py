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

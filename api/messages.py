"""Messages of the API in the reader's language, translated at the edge.

Messages are built in English where the rule is checked (the geometry intake, the import gate,
pydantic, the services); they are translated just before they leave, in the problem handlers
(``api.errors``) and in the import report (``api.routers.imports``), by matching them against
message *templates* kept in ``api/locales/<lang>.json``:

* ``msg.<name>``: a whole message, e.g. ``"geometry has {count} vertices; the limit is {limit}"``;
* ``msg.part.<name>``: a fragment that is only ever a placeholder's value, e.g. the GEOS reason
  of a repair (``"self-intersection"``) or ``"{a} or {b}"`` in a list of choices;
* ``problem.title.<type slug>``: the title of a problem type.

The English template is compiled into a pattern (each ``{name}`` matches any text; ``{n}`` a
number, ``{choices}`` a list of quoted values); the template with the most literal text that
matches the whole message wins, and its captured values are themselves translated (so a repair
note carries the translated reason). A message no template matches stays English: never an
error. A message (or a placeholder's value) ``field: text`` whose ``text`` matches keeps its
field name, as in ``filter: unexpected 'x' at column 3``.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from api.vocab import DEFAULT_LANGUAGE, catalogue

MESSAGE_PREFIX = "msg."
PART_PREFIX = "msg.part."
TITLE_PREFIX = "problem.title."
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_PATTERNS = {
    "n": r"-?[\d][\d.,]*(?:e[+-]?\d+)?",
    "choices": r"'[^']*'(?:(?:, | or )'[^']*')*",
}
_FIELD_PREFIX = re.compile(r"^(?P<field>[\w./\[\]~-]+): (?P<rest>.+)$", re.S)
_MAX_DEPTH = 4


@dataclass(frozen=True)
class Template:
    """One message template: its catalogue key, pattern and amount of literal text."""

    key: str
    pattern: re.Pattern[str]
    literal: int
    part: bool


def placeholders(template: str) -> set[str]:
    """The placeholder names of a template."""
    return set(_PLACEHOLDER.findall(template))


def _compile(key: str, template: str) -> Template:
    out, seen, pos = [], set(), 0
    for m in _PLACEHOLDER.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        name = m[1]
        if name in seen:
            out.append(f"(?P={name})")
        else:
            seen.add(name)
            out.append(f"(?P<{name}>{_PATTERNS.get(name, '.+?')})")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    literal = len(_PLACEHOLDER.sub("", template))
    return Template(
        key, re.compile("".join(out), re.S), literal, key.startswith(PART_PREFIX)
    )


@lru_cache
def templates() -> tuple[Template, ...]:
    """The English message templates, the most specific (most literal text) first."""
    en = catalogue(DEFAULT_LANGUAGE)
    found = [_compile(k, v) for k, v in en.items() if k.startswith(MESSAGE_PREFIX)]
    return tuple(sorted(found, key=lambda t: -t.literal))


def _render(template: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), template)


def _translate(text: str, target: dict[str, str], *, part: bool, depth: int) -> str:
    for t in templates():
        if t.part and not part:
            continue
        m = t.pattern.fullmatch(text)
        if m is None or t.key not in target:
            continue
        values = {
            name: _translate(value, target, part=True, depth=depth + 1)
            if depth < _MAX_DEPTH
            else value
            for name, value in m.groupdict().items()
        }
        return _render(target[t.key], values)
    m = _FIELD_PREFIX.match(text)
    if m and depth < _MAX_DEPTH:
        rest = _translate(m["rest"], target, part=part, depth=depth + 1)
        if rest != m["rest"]:
            return f"{m['field']}: {rest}"
    return text


def translate(text: str | None, language: str, *, part: bool = False) -> str | None:
    """``text`` (an English message) in ``language``; unchanged when no template matches.

    ``part``: also match fragments (``msg.part.*``), as for a placeholder's value.
    """
    if not text or language == DEFAULT_LANGUAGE:
        return text
    target = catalogue(language)
    if not target:
        return text
    return _translate(text, target, part=part, depth=0)


def translate_all(texts: list[str], language: str) -> list[str]:
    """Each of ``texts`` (English messages, e.g. a write's warnings) in ``language``."""
    return [translate(t, language) or t for t in texts]


def title(slug: str, english: str, language: str) -> str:
    """The title of the problem type ``slug`` in ``language`` (``english`` without one)."""
    if language == DEFAULT_LANGUAGE:
        return english
    return catalogue(language).get(TITLE_PREFIX + slug) or english


def _messages(items: Any, tr: Callable[[str | None], str | None]) -> Any:
    if not isinstance(items, list):
        return items
    return [
        {**item, "message": tr(item["message"])}
        if isinstance(item, dict) and isinstance(item.get("message"), str)
        else item
        for item in items
    ]


def translate_problem(body: dict[str, Any], slug: str, language: str) -> dict[str, Any]:
    """A problem body with its title, detail and ``errors[].message`` in ``language``."""
    if language == DEFAULT_LANGUAGE:
        return body
    english_title = body.get("title", "")
    out = dict(body)
    out["title"] = title(slug, english_title, language)
    detail = body.get("detail")
    out["detail"] = (
        out["title"] if detail == english_title else translate(detail, language)
    )
    if "errors" in body:
        out["errors"] = _messages(body["errors"], lambda m: translate(m, language))
    return out


def translate_report(body: dict[str, Any], language: str) -> dict[str, Any]:
    """An import report with the messages of its rows (and its failure) in ``language``."""
    if language == DEFAULT_LANGUAGE:
        return body
    out = dict(body)
    for key in ("errors", "warnings", "flags"):
        if key in body:
            out[key] = _messages(body[key], lambda m: translate(m, language))
    if isinstance(body.get("failure"), str):
        out["failure"] = translate(body["failure"], language)
    return out

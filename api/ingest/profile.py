"""Profiles: foreign columns and coded values mapped to ours, read from data files.

A profile (``api/ingest/profiles/*.yaml``, format in the README there) says, per import kind,
which source columns feed which of our fields, which foreign codes or labels stand for which of
our codes, which fields are lists and which source fields are kept verbatim. A caller can pass
their own mapping in the same format; it is laid over the named profile.

``Mapper.map_row`` turns one source row into our field values plus per-field errors. It never
guesses: an unknown coded value is an error naming the field and the value.
"""

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from api import vocab
from api.db.models.context import FACILITY_TYPES

# Our coded fields and their vocabularies: our own codes are always accepted.
VOCABULARIES: dict[str, Iterable[str]] = {
    "classification": vocab.Classification,
    "hazard_type": vocab.HazardType,
    "status": vocab.HazardStatus,
    "contamination": vocab.Contamination,
    "evidence": vocab.Evidence,
    "blockages": vocab.LandUse,
    "eo_category": vocab.Contamination,
    "condition": vocab.EOCondition,
    "disposal_method": vocab.DisposalMethod,
    "activity_type": vocab.ActivityType,
    "methods": vocab.Method,
    "outcome": vocab.ReleaseOutcome,
    "land_use": vocab.LandUse,
    "facility_type": FACILITY_TYPES,
}
# Fields whose surrounding blanks are trimmed (identifiers, references, dates, numbers);
# free text (names, notes) is kept exactly as entered.
IDENTIFIERS = {
    "external_id", "organisation", "hazard_ids", "hazard_id", "release_hazard_id",
    "activity", "pcode", "parent_pcode", "date_of_information", "found_on", "start_date",
    "end_date", "release_date", "estimated_area_m2", "quantity", "depth_cm",
    "clearance_depth_cm", "level",
}  # fmt: skip
# Where a field name means another vocabulary in one kind.
KIND_VOCABULARIES: dict[str, dict[str, Iterable[str]]] = {
    "activities": {"status": vocab.ActivityStatus}
}

PROFILES_DIR = Path(__file__).parent / "profiles"
PROFILE_NAMES = ("native", "imsma", "kobo", "osm")


class ProfileError(ValueError):
    """A profile or mapping is malformed, or names an unknown profile."""


def norm(name: str) -> str:
    """Column names compare case-insensitively, ignoring spaces, underscores and dashes."""
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


def norm_value(value: str) -> str:
    """Coded values compare case-insensitively with collapsed whitespace."""
    return re.sub(r"\s+", " ", str(value)).strip().lower()


@cache
def load_profile(name: str) -> dict[str, Any]:
    """The profile ``name`` from the profiles folder."""
    if name not in PROFILE_NAMES:
        raise ProfileError(
            f"unknown profile {name!r}; expected one of {', '.join(PROFILE_NAMES)}"
        )
    return yaml.safe_load((PROFILES_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


MAX_MAPPING_BYTES = 64 * 1024


MAX_MAPPING_DEPTH = 32  # a profile nests four levels deep


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors' aliases and without deep nesting: a mapping is small, an alias
    can be expanded exponentially ("billion laughs": 500 bytes become gigabytes), and the
    composer recurses once per level (thousands of ``[`` overflow Python's stack)."""

    depth = 0

    def compose_node(self, parent, index):
        """Refuse an alias before it is resolved, and a node nested too deep."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ProfileError(
                "mapping must not use YAML aliases (*name) "
                f"(line {event.start_mark.line + 1}); write the values out"
            )
        if self.depth >= MAX_MAPPING_DEPTH:
            raise ProfileError(
                f"mapping nests more than {MAX_MAPPING_DEPTH} levels deep "
                f"(line {self.peek_event().start_mark.line + 1})"
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def parse_mapping(text: str | bytes) -> dict[str, Any]:
    """A caller's mapping (YAML or JSON, same format as a profile), at most
    ``MAX_MAPPING_BYTES`` long and without YAML aliases."""
    size = len(text.encode("utf-8") if isinstance(text, str) else text)
    if size > MAX_MAPPING_BYTES:
        raise ProfileError(
            f"mapping is {size} bytes long; the limit is {MAX_MAPPING_BYTES}"
        )
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise ProfileError(f"mapping is not valid YAML or JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ProfileError(
            "mapping must be an object with 'kinds' (see the profiles README)"
        )
    data = _as_json(data, "mapping")
    _check_shape(data)
    return data


def _as_json(value: Any, where: str) -> Any:
    """``value`` as JSON can hold it (the mapping is stored with the import): YAML dates as
    ISO text; keys that are not text, binary, sets and non-finite numbers refused."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ProfileError(
                    f"{where}: the key {key!r} must be text (quote it in YAML)"
                )
            out[key] = _as_json(item, f"{where}.{key}")
        return out
    if isinstance(value, list):
        return [_as_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        raise ProfileError(f"{where} must be a finite number, got {value}")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ProfileError(
        f"{where} must be text, a number, a list or an object, not {type(value).__name__}"
    )


SCALARS = (str, int, float, bool)
# A caller's list separator: a class of literal characters, whitespace, or a short literal;
# never a pattern that can backtrack (the separator runs on every cell of the column).
SAFE_SEPARATOR = re.compile(
    r"\[[^\]\\\[]{1,20}\]|\\s\+|\\s|[^\w\s\\()\[\]{}*+?|.^$]{1,5}"
)


def _names(value: Any, where: str, kinds: tuple[type, ...] = (str,)) -> None:
    """A name or a list of names (of ``kinds``: coded values may be numbers)."""
    if not isinstance(value, str) and not (
        isinstance(value, list) and all(isinstance(v, kinds) for v in value)
    ):
        raise ProfileError(f"mapping {where} must be a name or a list of names")


def _object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise ProfileError(f"mapping {where} must be an object")
    return value


def _check_shape(data: dict[str, Any]) -> None:
    """Refuse a mapping whose parts have the wrong shape (see the profiles README)."""
    for key, value in _object(data.get("coordinates") or {}, "coordinates").items():
        _names(value, f"coordinates.{key}")
    for kind, spec in _object(data.get("kinds") or {}, "kinds").items():
        spec = _object(spec, f"kinds.{kind}")
        at = f"kinds.{kind}"
        for ours, names in _object(spec.get("fields") or {}, f"{at}.fields").items():
            _names(names, f"{at}.fields.{ours}")
        for ours, codes in _object(spec.get("values") or {}, f"{at}.values").items():
            for code, names in _object(codes, f"{at}.values.{ours}").items():
                _names(names, f"{at}.values.{ours}.{code}", SCALARS)
        for ours, sep in _object(spec.get("lists") or {}, f"{at}.lists").items():
            if not isinstance(sep, str) or not SAFE_SEPARATOR.fullmatch(sep):
                raise ProfileError(
                    f'mapping {at}.lists.{ours} must be a separator such as "[,;|]", '
                    '"\\\\s+" or ";" (a class of characters, not a pattern)'
                )
        for ours, default in _object(
            spec.get("defaults") or {}, f"{at}.defaults"
        ).items():
            values_ = default if isinstance(default, list) else [default]
            if not all(v is None or isinstance(v, (*SCALARS, date)) for v in values_):
                raise ProfileError(f"mapping {at}.defaults.{ours} must be a value")
        for tag, allowed in _object(spec.get("require") or {}, f"{at}.require").items():
            _names(allowed, f"{at}.require.{tag}", SCALARS)
        if "keep" in spec and not isinstance(spec["keep"], list):
            raise ProfileError(f"mapping {at}.keep must be a list of names")
        _names(spec.get("keep") or [], f"{at}.keep")


def merged(profile: dict[str, Any], mapping: dict[str, Any] | None) -> dict[str, Any]:
    """``mapping`` laid over ``profile``: its fields, values and lists replace the profile's."""
    if not mapping:
        return profile
    out = {**profile, "coordinates": {**profile.get("coordinates", {})}}
    out["coordinates"].update(mapping.get("coordinates") or {})
    kinds = {k: dict(v) for k, v in (profile.get("kinds") or {}).items()}
    for kind, spec in (mapping.get("kinds") or {}).items():
        if not isinstance(spec, dict):
            raise ProfileError(f"mapping kinds.{kind} must be an object")
        base = kinds.setdefault(kind, {})
        for key in ("fields", "values", "lists", "defaults", "require"):
            if key in spec:
                base[key] = {**(base.get(key) or {}), **spec[key]}
        if "keep" in spec:
            base["keep"] = [*(base.get("keep") or []), *spec["keep"]]
    out["kinds"] = kinds
    return out


def _aliases(spec: dict[str, list[str] | str] | None) -> dict[str, list[str]]:
    return {k: [v] if isinstance(v, str) else list(v) for k, v in (spec or {}).items()}


@dataclass
class Mapper:
    """Maps the rows of one file (known columns) for one kind with one profile."""

    profile: dict[str, Any]
    kind: str
    columns: list[str]
    resolved: dict[str, str] = field(default_factory=dict)
    coords: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        spec = (self.profile.get("kinds") or {}).get(self.kind)
        if spec is None:
            raise ProfileError(
                f"profile {self.profile.get('profile')!r} has no mapping for kind {self.kind!r}"
            )
        self.spec = spec
        self._memo: dict[tuple[str, Any], str | None] = {}
        self.vocabularies = {**VOCABULARIES, **KIND_VOCABULARIES.get(self.kind, {})}
        by_norm: dict[str, str] = {}
        for col in self.columns:
            by_norm.setdefault(norm(col), col)
            parts = col.split("/")
            for i in range(
                1, len(parts)
            ):  # Kobo group paths: a/b[]/c matches b[]/c and c
                by_norm.setdefault(norm("/".join(parts[i:])), col)
        self.candidates = self._candidates(_aliases(spec.get("fields")), by_norm)
        self.resolved = {k: v[0] for k, v in self.candidates.items()}
        self.coords = self._resolve(_aliases(self.profile.get("coordinates")), by_norm)
        self.keep = [
            c
            for c in self.columns
            if norm(c) in {norm(k) for k in spec.get("keep") or []}
        ]
        used = {c for cols in self.candidates.values() for c in cols}
        used |= set(self.coords.values()) | set(self.keep)
        used |= {
            c
            for c in self.columns
            if norm(c) in {norm(k) for k in spec.get("require") or {}}
        }
        self.ignored = [
            c for c in self.columns if c not in used and not c.startswith("_")
        ]
        self.values = {
            f: {
                norm_value(a): code
                for code, aliases in m.items()
                for a in _as_list(aliases)
            }
            for f, m in (spec.get("values") or {}).items()
        }
        self.lists = {
            f: re.compile(sep) for f, sep in (spec.get("lists") or {}).items()
        }
        self.defaults = spec.get("defaults") or {}
        self.require = {
            norm(k): {norm_value(v) for v in _as_list(vs)}
            for k, vs in (spec.get("require") or {}).items()
        }
        self.require_cols = {
            k: next((c for c in self.columns if norm(c) == k), None)
            for k in self.require
        }

    @staticmethod
    def _candidates(
        aliases: dict[str, list[str]], by_norm: dict[str, str]
    ) -> dict[str, list[str]]:
        """Per field, the file's columns that its aliases name, in the profile's order."""
        out: dict[str, list[str]] = {}
        for ours, names in aliases.items():
            for name in names:
                col = by_norm.get(norm(name))  # incl. Kobo repeat paths: devices[]/type
                if col is None and "[]" not in name:
                    # shapefiles cut names at 10 characters: date_of_in -> date_of_information
                    col = next(
                        (
                            c
                            for n, c in by_norm.items()
                            if len(n) >= 8 and len(c) == 10 and norm(name).startswith(n)
                        ),
                        None,
                    )
                if col is not None and col not in out.get(ours, []):
                    out.setdefault(ours, []).append(col)
        return out

    @classmethod
    def _resolve(
        cls, aliases: dict[str, list[str]], by_norm: dict[str, str]
    ) -> dict[str, str]:
        return {k: v[0] for k, v in cls._candidates(aliases, by_norm).items()}

    def applies(self, row: dict[str, Any]) -> bool:
        """Whether a row matches the profile's ``require`` tags (OSM: boundary=hazard ...)."""
        if not self.require:
            return True
        for key, allowed in self.require.items():
            col = self.require_cols.get(key)
            if col is not None and norm_value(row.get(col) or "") in allowed:
                return True
        return False

    def map_row(
        self, row: dict[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, str]], list[str]]:
        """Our values for ``row``, the ``(field, message)`` errors, and warnings."""
        values: dict[str, Any] = {}
        errors: list[tuple[str, str]] = []
        warnings: list[str] = []
        for ours, cols in self.candidates.items():
            # the first column named by the profile that this row fills in
            col = next((c for c in cols if not _blank(row.get(c))), None)
            if col is None:
                continue
            raw = row.get(col)
            if ours in self.lists:
                items = (
                    raw
                    if isinstance(raw, list)
                    else [p for p in self.lists[ours].split(str(raw)) if p.strip()]
                )
                mapped = []
                for item in items:
                    code = self._code(ours, item, col, errors)
                    if code is not None:
                        mapped.append(code)
                values[ours] = mapped
            elif ours in self.values or ours in self.vocabularies:
                code = self._code(ours, raw, col, errors)
                if code is not None:
                    values[ours] = code
            elif ours in IDENTIFIERS and isinstance(raw, str):
                values[ours] = (
                    raw.strip()
                )  # ids and codes: surrounding blanks are noise
            else:
                values[ours] = raw  # free text exactly as entered
        for ours, default in self.defaults.items():
            if ours not in values:
                values[ours] = default
        return values, errors, warnings

    def _code(
        self, ours: str, raw: Any, col: str, errors: list[tuple[str, str]]
    ) -> str | None:
        key = (ours, raw if isinstance(raw, str | int | float) else str(raw))
        if key in self._memo:
            return self._memo[key]
        before = len(errors)
        code = self._lookup(ours, raw, col, errors)
        if (
            len(errors) == before
        ):  # only successes are remembered; errors name their row
            self._memo[key] = code
        return code

    def _lookup(
        self, ours: str, raw: Any, col: str, errors: list[tuple[str, str]]
    ) -> str | None:
        text = norm_value(raw)
        table = self.values.get(ours, {})
        if text in table:
            return table[text]
        codes = set(table.values()) | {str(c) for c in self.vocabularies.get(ours, ())}
        for code in codes:
            if norm_value(code) == text:
                return code
        if not codes:
            return str(raw).strip()  # a free-text list (no vocabulary)
        expected = ", ".join(sorted(codes))
        errors.append(
            (
                col,
                f"unknown value {str(raw).strip()!r} for {ours} (expected one of {expected}, or a label listed in the profile)",
            )
        )
        return None

    def kept(self, row: dict[str, Any]) -> dict[str, Any]:
        """The source fields the profile keeps verbatim (e.g. imsma_links)."""
        return {
            c: _jsonable(row.get(c)) for c in self.keep if row.get(c) not in (None, "")
        }


def _blank(value: Any) -> bool:
    return (
        value is None or value == [] or (isinstance(value, str) and not value.strip())
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)

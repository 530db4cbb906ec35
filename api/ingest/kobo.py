"""KoboToolbox / ODK submissions: flatten them, parse geopoints and geoshapes, map the fields.

Pure functions: no database, no HTTP. The file importer and the Kobo webhook share them.

Shapes of a submission this module reads:

* **KoboToolbox** (REST service, ``/api/v2/.../data``): one flat JSON object whose keys are
  group paths (``"report/hazard_location"``); a repeat group is a list of objects whose keys
  carry the repeat's full path (``"devices": [{"devices/device_type": "ap_mine"}]``);
  select_multiple answers are space-separated strings; geopoints are
  ``"lat lon altitude accuracy"`` and geoshapes are such points joined by ``";"`` (latitude
  **first**, unlike GeoJSON).
* **ODK Central** (OData JSON): groups are nested objects (``{"meta": {"instanceID": ...}}``),
  repeats are lists of objects with bare names, and geopoints/geoshapes are GeoJSON
  geometries (longitude first) with the accuracy in ``properties.accuracy``.

``flatten`` turns either shape into ``{path: value}`` where a path joins group names with
``"/"`` and marks each repeat group with ``"[]"`` (``"devices[]/device_type"``); the values of a
field inside a repeat are gathered into a list, in document order.

Field names are matched as the profiles say (``api/ingest/profiles/README.md``): case-insensitive,
ignoring spaces, dashes and underscores but not a segment's leading underscores (Kobo's metadata
members: ``_uuid`` never names ``formhub/uuid``). An alias names a path that is exactly it
first; else one whose last segments it equals (``"hazard_location"`` matches
``"report/hazard_location"``; ``"[]"`` marks are ignored in the comparison).
"""

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shapely.geometry import Point, Polygon

from api.ingest.profile import load_profile

REPEAT = "[]"
GEOJSON_TYPES = frozenset(
    {
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
    }
)
UUID_PREFIX = "uuid:"


# --- flattening ---------------------------------------------------------------------------


def _escape(key: str) -> str:
    """One RFC 6901 reference token."""
    return key.replace("~", "~0").replace("/", "~1")


def _is_geojson(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and value.get("type") in GEOJSON_TYPES
        and "coordinates" in value
    )


def _is_repeat(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, Mapping) and not _is_geojson(v) for v in value)
    )


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _walk(
    value: Any, path: str, pointer: str, repeat_pointer: str | None
) -> Iterator[tuple[str, Any, str, str | None]]:
    """Yield ``(path, leaf value, pointer, pointer of the outermost repeat or None)``."""
    if isinstance(value, Mapping) and not _is_geojson(value):
        plain = path.replace(REPEAT, "")
        for key, child in value.items():
            key = str(key)
            # Kobo keys carry the full group path; ODK Central's are bare names.
            name = (
                key[len(plain) + 1 :] if plain and key.startswith(plain + "/") else key
            )
            yield from _walk(
                child, _join(path, name), f"{pointer}/{_escape(key)}", repeat_pointer
            )
    elif _is_repeat(value):
        for i, item in enumerate(value):
            yield from _walk(
                item, path + REPEAT, f"{pointer}/{i}", repeat_pointer or pointer
            )
    else:
        yield path, value, pointer, repeat_pointer


def flatten(submission: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten a Kobo or ODK Central submission into ``{path: value}``.

    Args:
        submission: the submission as parsed from JSON.

    Returns:
        One entry per question: group paths joined with ``"/"``; repeat groups marked with
        ``"[]"`` and their answers gathered into a list (``{"devices[]/device_type":
        ["ap_mine", "av_mine"]}``). GeoJSON geometries (ODK Central geopoints) and lists of
        plain values are kept as values. Strings are returned as sent: select_multiple answers
        are split by ``split_multiple`` once the field is known to be a list.

    Raises:
        ValueError: ``submission`` is not a JSON object.
    """
    if not isinstance(submission, Mapping):
        raise ValueError(
            f"a submission must be a JSON object, got {type(submission).__name__}"
        )
    flat: dict[str, Any] = {}
    for path, value, _, repeat in _walk(submission, "", "", None):
        if repeat is None:
            flat.setdefault(path, value)
            continue
        gathered = flat.setdefault(path, [])
        if isinstance(value, list):
            gathered.extend(value)
        else:
            gathered.append(value)
    return flat


def flatten_pointers(submission: Mapping[str, Any]) -> dict[str, str]:
    """JSON pointers (RFC 6901) into ``submission`` for each path ``flatten`` returns.

    A path inside a repeat group points at the outermost repeat (``"/devices"``), since its
    values come from several places.
    """
    pointers: dict[str, str] = {}
    for path, _, pointer, repeat in _walk(submission, "", "", None):
        pointers.setdefault(path, repeat if repeat is not None else pointer)
    return pointers


# --- matching names and values -------------------------------------------------------------


def _segment(part: str) -> str:
    """One path segment as matched: lower case, without spaces, dashes and underscores,
    except leading underscores, which mark Kobo's metadata members (``_uuid`` is not
    ``formhub/uuid``; ``__version__`` is not a question named ``version``)."""
    part = part.replace(REPEAT, "")
    lead = part[: len(part) - len(part.lstrip("_"))]
    return lead + re.sub(r"[\s_\-]", "", part).lower()


def _segments(name: str) -> tuple[str, ...]:
    return tuple(_segment(part) for part in name.split("/") if part)


def path_matches(path: str, alias: str) -> bool:
    """Whether ``alias`` names ``path``: equal to its last segments, as the profiles match.

    ``path_matches("report/hazard_location", "hazard_location")`` and
    ``path_matches("devices[]/device_type", "devices[]/device_type")`` are true.
    """
    p, a = _segments(path), _segments(alias)
    return 0 < len(a) <= len(p) and p[-len(a) :] == a


def is_blank(value: Any) -> bool:
    """Whether an answer is empty (missing, null, an empty string or an empty list)."""
    return value is None or value == "" or value == []


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def find_answer(flat: Mapping[str, Any], aliases: list[str]) -> tuple[str, Any] | None:
    """The ``(path, value)`` named by the first alias that names a non-blank answer.

    Raises:
        ValueError: that alias names several answers with different values (say
            ``"a/name"`` and ``"b/name"`` for ``"name"``); nothing is guessed.
    """
    for alias in aliases:
        hits = [
            (path, value)
            for path, value in flat.items()
            if path_matches(path, alias) and not is_blank(value)
        ]
        if not hits:
            continue
        # the exact group path first; the last segments only when no path is the alias
        exact = [(p, v) for p, v in hits if _segments(p) == _segments(alias)]
        hits = exact or hits
        if len({_canonical(v) for _, v in hits}) > 1:
            paths = ", ".join(p for p, _ in hits)
            raise ValueError(
                f"{alias!r} names several different answers ({paths}); "
                "name the field by its group path in the profile"
            )
        return hits[0]
    return None


def find_all_answers(
    flat: Mapping[str, Any], aliases: list[str]
) -> list[tuple[str, Any]]:
    """Every non-blank ``(path, value)`` named by any alias (for list fields), in alias order."""
    out: dict[str, Any] = {}
    for alias in aliases:
        for path, value in flat.items():
            if path not in out and path_matches(path, alias) and not is_blank(value):
                out[path] = value
    return list(out.items())


def split_multiple(value: Any, separator: str = r"\s+") -> list[str]:
    """Split a select_multiple answer (``"ap_mine uxo"``) into codes.

    Lists (gathered from a repeat group) are split item by item and concatenated.
    """
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if item is None:
            continue
        out.extend(p for p in re.split(separator, str(item).strip()) if p)
    return out


def map_code(
    value: Any, *, codes: list[str], synonyms: Mapping[str, list[Any]] | None = None
) -> str | None:
    """Our code for a coded answer, or None when it is neither a code nor a listed synonym.

    Matching is case-insensitive; our own codes are always accepted.
    """
    text = str(value).strip().lower()
    for code in codes:
        if text == code.lower():
            return code
    for code, foreign in (synonyms or {}).items():
        if text in {str(f).strip().lower() for f in foreign or []}:
            return str(code)
    return None


# --- geopoints and geoshapes ------------------------------------------------------------------


def _position(part: str, label: str) -> tuple[float, float, float | None]:
    """``"lat lon [alt [accuracy]]"`` -> (lon, lat, accuracy)."""
    values = part.split()
    if not 2 <= len(values) <= 4:
        raise ValueError(
            f"{label}: expected 'latitude longitude [altitude [accuracy]]', got {part!r}"
        )
    numbers = []
    for v in values:
        try:
            number = float(v)
        except ValueError:
            raise ValueError(f"{label}: {v!r} is not a number (in {part!r})") from None
        if not math.isfinite(number):
            raise ValueError(f"{label}: {v!r} is not a finite number (in {part!r})")
        numbers.append(number)
    lat, lon = numbers[0], numbers[1]
    if not -90.0 <= lat <= 90.0:
        raise ValueError(
            f"{label}: latitude {values[0]} is outside -90..90 "
            "(Kobo/ODK write latitude first: 'latitude longitude altitude accuracy')"
        )
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"{label}: longitude {values[1]} is outside -180..180")
    accuracy = numbers[3] if len(numbers) == 4 else None
    if accuracy is not None and accuracy < 0:
        raise ValueError(f"{label}: accuracy {values[3]} is negative")
    return lon, lat, accuracy


def parse_geopoint(text: str) -> tuple[Point, float | None]:
    """Parse a Kobo/ODK geopoint ``"lat lon [altitude [accuracy]]"``.

    Args:
        text: the answer, latitude **first**, in decimal degrees (WGS 84), altitude and
            accuracy in metres (``"49.1032 36.2051 152.0 4.5"``).

    Returns:
        A 2D shapely Point in longitude/latitude order (EPSG:4326, as GeoJSON), and the
        accuracy in metres, or None when the answer has none. ODK writes an accuracy of 0
        for a point placed by hand on a map; it is returned as 0.

    Raises:
        ValueError: the text is not a geopoint; the message names what is wrong.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(
            f"geopoint: expected 'latitude longitude [altitude [accuracy]]', got {text!r}"
        )
    lon, lat, accuracy = _position(text.strip(), "geopoint")
    return Point(lon, lat), accuracy


def parse_geoshape(text: str) -> tuple[Polygon, float | None]:
    """Parse a Kobo/ODK geoshape: geopoints separated by ``";"``.

    Args:
        text: ``"lat lon alt acc;lat lon alt acc;..."``, latitude **first**. ODK repeats the
            first point at the end; a shape that does not is closed here.

    Returns:
        A shapely Polygon in longitude/latitude order (EPSG:4326), not yet checked for
        validity (the geometry intake does that), and the largest accuracy of its points in
        metres (the worst), or None when no point has one.

    Raises:
        ValueError: a point is malformed (the message names it: ``"geoshape point 3 of 5"``,
            counting from 1), or there are fewer than 3 distinct points.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(
            f"geoshape: expected 'lat lon alt acc;lat lon alt acc;...', got {text!r}"
        )
    parts = [p.strip() for p in text.strip().rstrip(";").split(";")]
    points: list[tuple[float, float]] = []
    accuracies: list[float] = []
    for i, part in enumerate(parts, start=1):
        label = f"geoshape point {i} of {len(parts)}"
        if not part:
            raise ValueError(f"{label} is empty (two ';' in a row)")
        lon, lat, accuracy = _position(part, label)
        points.append((lon, lat))
        if accuracy is not None:
            accuracies.append(accuracy)
    distinct = list(dict.fromkeys(points))
    if len(distinct) < 3:
        raise ValueError(
            f"geoshape: a shape needs at least 3 distinct points, got {len(distinct)}"
        )
    if points[0] != points[-1]:
        points.append(points[0])
    return Polygon(points), max(accuracies) if accuracies else None


def geometry_from_answer(value: Any, kind: str) -> tuple[dict[str, Any], float | None]:
    """A GeoJSON geometry (EPSG:4326) and accuracy from a geopoint or geoshape answer.

    Args:
        value: a Kobo string (latitude first) or an ODK Central GeoJSON geometry (longitude
            first, accuracy in ``properties.accuracy``).
        kind: ``"geopoint"`` or ``"geoshape"``.

    Raises:
        ValueError: the answer cannot be read as that kind.
    """
    if _is_geojson(value):
        accuracy = (value.get("properties") or {}).get("accuracy")
        geometry = {"type": value["type"], "coordinates": value["coordinates"]}
        if accuracy is not None and (
            isinstance(accuracy, bool) or not isinstance(accuracy, int | float)
        ):
            raise ValueError(f"{kind}: accuracy {accuracy!r} is not a number")
        return geometry, float(accuracy) if accuracy is not None else None
    if kind == "geopoint":
        point, accuracy = parse_geopoint(value)
        return {"type": "Point", "coordinates": [point.x, point.y]}, accuracy
    if kind == "geoshape":
        polygon, accuracy = parse_geoshape(value)
        return {
            "type": "Polygon",
            "coordinates": [[list(xy) for xy in polygon.exterior.coords]],
        }, accuracy
    raise ValueError(f"kind must be 'geopoint' or 'geoshape', got {kind!r}")


# --- profiles ---------------------------------------------------------------------------------


# --- a submission as a hazard report -------------------------------------------------------


class MappingProblem(ValueError):
    """An answer cannot be mapped; ``pointer`` locates it in the submission."""

    def __init__(self, message: str, *, pointer: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.pointer = pointer
        self.field = field


@dataclass
class ReportFields:
    """What a submission says as a hazard report, in Safeground's names and codes."""

    external_id: str | None = None
    reported_on: date | None = None
    description: str | None = None
    contamination: list[str] = field(default_factory=list)
    location_text: str | None = None
    geometry: dict[str, Any] | None = None
    gps_accuracy_m: float | None = None
    contacts: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pointers: dict[str, str] = field(default_factory=dict)  # our field -> JSON pointer


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value if not is_blank(v))
    return str(value).strip()


def _date(value: Any, label: str, pointer: str, name: str) -> date:
    text = str(value).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise MappingProblem(
            f"{label}: {text!r} is not a date (expected YYYY-MM-DD)",
            pointer=pointer,
            field=name,
        ) from None


def map_report(
    submission: Mapping[str, Any],
    *,
    codes: Mapping[str, list[str]],
    profile: Mapping[str, Any] | None = None,
) -> ReportFields:
    """Map a Kobo/ODK submission to hazard-report fields with the ``kobo`` profile.

    Args:
        submission: one submission as parsed from JSON.
        codes: our codes per coded field (``{"contamination": ["ap_mine", ...]}``); a value
            that is neither one of them nor a synonym in the profile is rejected.
        profile: a parsed profile; the ``kobo`` profile when None.

    Raises:
        MappingProblem: an answer cannot be mapped (an unknown code, a bad date, a malformed
            geopoint...); the message names the field and the value.
    """
    profile = profile or load_profile("kobo")  # api.ingest.profile, cached
    kind = profile["kinds"]["hazard_reports"]
    fields: dict[str, list[str]] = kind.get("fields", {})
    synonyms: dict[str, dict] = kind.get("values", {}) or {}
    lists: dict[str, str] = kind.get("lists", {}) or {}
    coordinates: dict[str, list[str]] = profile.get("coordinates", {}) or {}
    flat = flatten(submission)
    pointers = flatten_pointers(submission)
    out = ReportFields()

    def one(name: str, aliases: list[str] | None) -> tuple[str, Any] | None:
        try:
            return find_answer(flat, aliases or [])
        except ValueError as exc:
            raise MappingProblem(f"{name}: {exc}", pointer="", field=name) from None

    found = one("external_id", fields.get("external_id"))
    if found:
        out.pointers["external_id"] = pointers[found[0]]
        ext = _text(found[1])
        out.external_id = (
            ext[len(UUID_PREFIX) :] if ext.startswith(UUID_PREFIX) else ext
        )
    found = one("reported_on", fields.get("reported_on"))
    if found:
        path, value = found
        out.pointers["reported_on"] = pointers[path]
        out.reported_on = _date(value, path, pointers[path], "reported_on")
    for name in ("description", "location_text"):
        found = one(name, fields.get(name))
        if found:
            out.pointers[name] = pointers[found[0]]
            setattr(out, name, _text(found[1]) or None)

    contamination: list[str] = []
    for path, value in find_all_answers(flat, fields.get("contamination", [])):
        out.pointers.setdefault("contamination", pointers[path])
        for item in split_multiple(value, lists.get("contamination", r"\s+")):
            code = map_code(
                item,
                codes=codes["contamination"],
                synonyms=synonyms.get("contamination"),
            )
            if code is None:
                raise MappingProblem(
                    f"contamination: unknown code {item!r} in {path} "
                    f"(expected one of {', '.join(codes['contamination'])}, "
                    "or a synonym listed in the kobo profile)",
                    pointer=pointers[path],
                    field="contamination",
                )
            contamination.append(code)
    out.contamination = list(dict.fromkeys(contamination))

    shape = one("geoshape", coordinates.get("geoshape"))
    point = one("geopoint", coordinates.get("geopoint"))
    chosen = ("geoshape", shape) if shape else ("geopoint", point) if point else None
    if chosen:
        geo_kind, (path, value) = chosen
        try:
            out.geometry, out.gps_accuracy_m = geometry_from_answer(value, geo_kind)
        except ValueError as exc:
            raise MappingProblem(
                f"{path}: {exc}", pointer=pointers[path], field="geometry"
            ) from None
        out.pointers["geometry"] = pointers[path]
        if shape and point:
            out.warnings.append(
                f"both a geoshape ({shape[0]}) and a geopoint ({point[0]}) were sent; "
                "the geoshape is stored as the report's geometry"
            )
    found = one("gps_accuracy", coordinates.get("gps_accuracy"))
    if found:
        path, value = found
        try:
            accuracy = float(value)
            if not math.isfinite(accuracy) or accuracy < 0:
                raise ValueError
        except (TypeError, ValueError):
            raise MappingProblem(
                f"{path}: accuracy {value!r} is not a non-negative number of metres",
                pointer=pointers[path],
                field="gps_accuracy_m",
            ) from None
        out.gps_accuracy_m = accuracy
        out.pointers["gps_accuracy_m"] = pointers[path]

    contact: dict[str, Any] = {}
    for name, key in (
        ("informant_name", "name"),
        ("informant_phone", "phone"),
        ("informant_email", "email"),
        ("informant_role", "role"),
    ):
        found = one(name, fields.get(name))
        if found:
            contact[key] = _text(found[1]) or None
    found = one("consent_to_contact", fields.get("consent_to_contact"))
    if found:
        path, value = found
        code = (
            str(value).lower()
            if isinstance(value, bool)
            else map_code(
                value,
                codes=["true", "false"],
                synonyms=synonyms.get("consent_to_contact"),
            )
        )
        if code is None:
            raise MappingProblem(
                f"consent_to_contact: unknown answer {value!r} in {path} (expected yes or no)",
                pointer=pointers[path],
                field="consent_to_contact",
            )
        contact["consent_to_contact"] = code == "true"
    if any(contact.get(k) for k in ("name", "phone", "email")):
        out.contacts.append(contact)
    return out

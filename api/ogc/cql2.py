"""CQL2-text filters: parsed into pygeofilter's AST, translated to SQLAlchemy expressions.

Parsing uses pygeofilter's AST nodes, its WKT grammar and transformers on Lark (the parser
pygeofilter is built on), with our own grammar for the CQL2-text part. pygeofilter 0.4's
``cql2_text`` grammar cannot be used as it is: it gives AND and OR the same precedence
(``a OR b AND c`` parses as ``(a OR b) AND c``), rejects ``NOT (a OR b)`` and ``''`` inside
strings, and needs property names of two characters or more.

Supported (and announced at /ogc/conformance): comparisons ``= <> < > <= >=``, ``AND``, ``OR``,
``NOT``, ``LIKE`` (``%`` and ``_``, ``\\`` escapes), ``BETWEEN``, ``IN``, ``IS [NOT] NULL``,
``CASEI()``, ``DATE('…')`` and ``TIMESTAMP('…')`` literals, property-property comparisons,
the spatial functions ``S_INTERSECTS`` … ``S_EQUALS`` on WKT (CRS84) and ``BBOX(…)`` literals,
and the array functions ``A_EQUALS``, ``A_CONTAINS``, ``A_CONTAINEDBY``, ``A_OVERLAPS``.

Translation is typed: a filter may name only a collection's queryables, and every literal is
checked against the type of the property it meets and sent as a bound parameter; nothing
from the filter text ever becomes SQL text.
"""

import json
import math
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pygeofilter.parsers
import shapely.errors
import shapely.geometry
import shapely.validation
from lark import Lark, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)
from pygeofilter import ast, values
from pygeofilter.cql2 import ARRAY_PREDICATES_MAP, SPATIAL_PREDICATES_MAP
from pygeofilter.parsers.wkt import WKTTransformer
from sqlalchemy import ColumnElement, and_, func, literal, not_, or_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Numeric, Text

from api.errors import BadRequest

MAX_FILTER_LENGTH = 8_000
MAX_IN_VALUES = 1_000
MAX_DEPTH = 50  # nested AND/OR/NOT groups; SQL compilation recurses too
MAX_NUMBER = sys.float_info.max  # number literals: finite doubles only

GRAMMAR = r"""
?start: or_expr

?or_expr: and_expr
        | or_expr _OR and_expr                                  -> or_
?and_expr: not_expr
         | and_expr _AND not_expr                               -> and_
?not_expr: primary
         | _NOT primary                                         -> not_
?primary: predicate
        | "(" or_expr ")"

?predicate: scalar "=" scalar                                   -> eq
          | scalar "<>" scalar                                  -> ne
          | scalar "<" scalar                                   -> lt
          | scalar "<=" scalar                                  -> lte
          | scalar ">" scalar                                   -> gt
          | scalar ">=" scalar                                  -> gte
          | scalar _LIKE scalar                                 -> like
          | scalar _NOT _LIKE scalar                            -> not_like
          | scalar _BETWEEN scalar _AND scalar                  -> between
          | scalar _NOT _BETWEEN scalar _AND scalar             -> not_between
          | scalar _IN "(" scalar ("," scalar)* ")"             -> in_
          | scalar _NOT _IN "(" scalar ("," scalar)* ")"        -> not_in
          | scalar _IS _NULL                                    -> is_null
          | scalar _IS _NOT _NULL                               -> is_not_null
          | SPATIAL_FN spatial_operand "," spatial_operand ")"  -> spatial
          | ARRAY_FN array_operand "," array_operand ")"        -> array

?scalar: attribute
       | string
       | number
       | BOOLEAN                                                -> boolean
       | _DATE_FN SINGLE_QUOTED ")"                             -> date
       | _TIMESTAMP_FN SINGLE_QUOTED ")"                        -> timestamp
       | _CASEI_FN scalar ")"                                   -> casei

?spatial_operand: attribute
                | ewkt_geometry                                 -> geometry
                | _BBOX_FN signed "," signed "," signed "," signed ")"  -> bbox
?array_operand: attribute
              | "(" [scalar ("," scalar)*] ")"                  -> array_literal

attribute: IDENTIFIER
         | DOUBLE_QUOTED
string: SINGLE_QUOTED
?number: INT                                                    -> integer
       | FLOAT                                                  -> decimal
       | "-" INT                                                -> negative_integer
       | "-" FLOAT                                              -> negative_decimal
?signed: number

IDENTIFIER: /[A-Za-z_][A-Za-z0-9_.:]*/
DOUBLE_QUOTED: /"(?:[^"]|"")*"/
SINGLE_QUOTED: /'(?:[^']|'')*'/
BOOLEAN.2: /(?:TRUE|FALSE)(?![A-Za-z0-9_.:])/i
_DATE_FN.2: /DATE\s*\(/i
_TIMESTAMP_FN.2: /TIMESTAMP\s*\(/i
_CASEI_FN.2: /CASEI\s*\(/i
_BBOX_FN.2: /BBOX\s*\(/i
SPATIAL_FN.2: /S_(?:INTERSECTS|DISJOINT|CONTAINS|WITHIN|TOUCHES|CROSSES|OVERLAPS|EQUALS)\s*\(/i
ARRAY_FN.2: /A_(?:EQUALS|CONTAINS|CONTAINEDBY|OVERLAPS)\s*\(/i
_AND: "AND"i
_OR: "OR"i
_NOT: "NOT"i
_LIKE: "LIKE"i
_BETWEEN: "BETWEEN"i
_IN: "IN"i
_IS: "IS"i
_NULL: "NULL"i

%import wkt.ewkt_geometry
%import common.INT
%import common.FLOAT
%ignore /\s+/
"""


def _function_name(token) -> str:
    """``S_INTERSECTS (`` -> ``s_intersects``."""
    return str(token).rstrip("( \t\r\n").lower()


def _unquote(token, quote: str) -> str:
    return str(token)[1:-1].replace(quote * 2, quote)


@v_args(inline=True)
class _ToAst(WKTTransformer):
    """Builds pygeofilter AST nodes from the parse tree."""

    def or_(self, lhs, rhs):
        return ast.Or(lhs, rhs)

    def and_(self, lhs, rhs):
        return ast.And(lhs, rhs)

    def not_(self, node):
        return ast.Not(node)

    def eq(self, lhs, rhs):
        return ast.Equal(lhs, rhs)

    def ne(self, lhs, rhs):
        return ast.NotEqual(lhs, rhs)

    def lt(self, lhs, rhs):
        return ast.LessThan(lhs, rhs)

    def lte(self, lhs, rhs):
        return ast.LessEqual(lhs, rhs)

    def gt(self, lhs, rhs):
        return ast.GreaterThan(lhs, rhs)

    def gte(self, lhs, rhs):
        return ast.GreaterEqual(lhs, rhs)

    def like(self, lhs, pattern):
        return ast.Like(lhs, pattern, False, "%", "_", "\\", False)

    def not_like(self, lhs, pattern):
        return ast.Like(lhs, pattern, False, "%", "_", "\\", True)

    def between(self, lhs, low, high):
        return ast.Between(lhs, low, high, False)

    def not_between(self, lhs, low, high):
        return ast.Between(lhs, low, high, True)

    def in_(self, lhs, *options):
        return ast.In(lhs, list(options), False)

    def not_in(self, lhs, *options):
        return ast.In(lhs, list(options), True)

    def is_null(self, lhs):
        return ast.IsNull(lhs, False)

    def is_not_null(self, lhs):
        return ast.IsNull(lhs, True)

    def spatial(self, name, lhs, rhs):
        return SPATIAL_PREDICATES_MAP[_function_name(name)](lhs, rhs)

    def array(self, name, lhs, rhs):
        return ARRAY_PREDICATES_MAP[_function_name(name)](lhs, rhs)

    def array_literal(self, *items):
        return [item for item in items if item is not None]

    def attribute(self, token):
        if token.type == "DOUBLE_QUOTED":
            return ast.Attribute(_unquote(token, '"'))
        return ast.Attribute(str(token))

    def string(self, token):
        return _unquote(token, "'")

    def integer(self, token):
        return _number(token, int)

    def decimal(self, token):
        return _number(token, float)

    def negative_integer(self, token):
        return -_number(token, int)

    def negative_decimal(self, token):
        return -_number(token, float)

    def boolean(self, token):
        return str(token).lower() == "true"

    def date(self, token):
        return _DateLiteral(_unquote(token, "'"))

    def timestamp(self, token):
        return _TimestampLiteral(_unquote(token, "'"))

    def casei(self, operand):
        return ast.Function("casei", [operand])

    def geometry(self, geojson):
        return values.Geometry(geojson)

    def bbox(self, min_x, min_y, max_x, max_y):
        return values.Envelope(min_x, max_x, min_y, max_y)

    def wkt__geometry_with_srid(self, srid, geometry):
        # pygeofilter's version prints to stdout; keep the SRID so that it can be refused
        return {**geometry, "srid": int(srid)}

    def wkt__multipoint_2(self, *coordinates):
        return {"type": "MultiPoint", "coordinates": coordinates}


def _number(token, kind: type) -> int | float:
    """A number literal, refused (400) unless it is a finite double (±1.8e308)."""
    text = str(token)
    if not math.isfinite(float(text)):  # float() reads any length; int() stops at 4300
        shown = text if len(text) <= 20 else f"{text[:20]}… ({len(text)} characters)"
        raise _invalid(
            f"the number {shown} is out of range: numbers are at most "
            f"{MAX_NUMBER:.1e} in magnitude"
        )
    return kind(text)


@dataclass(frozen=True)
class _DateLiteral:
    text: str


@dataclass(frozen=True)
class _TimestampLiteral:
    text: str


_parser = Lark(
    GRAMMAR,
    parser="lalr",
    maybe_placeholders=False,
    transformer=_ToAst(),
    import_paths=[Path(pygeofilter.parsers.__file__).parent],
)


def _invalid(message: str, **extra: Any) -> BadRequest:
    entry = {"parameter": "filter", "in": "query", "message": message, **extra}
    return BadRequest(f"filter: {message}", errors=[entry])


def parse(text: str) -> ast.Node:
    """Parse CQL2 text into a pygeofilter AST; BadRequest (400) naming the position if invalid."""
    if not text.strip():
        raise _invalid("the filter is empty")
    if len(text) > MAX_FILTER_LENGTH:
        raise _invalid(f"the filter is longer than {MAX_FILTER_LENGTH} characters")
    try:
        return _parser.parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None


def _syntax_error(text: str, exc: UnexpectedInput) -> BadRequest:
    column = getattr(exc, "column", None)
    if isinstance(exc, UnexpectedEOF) or getattr(exc, "token", None) == "":
        what, column = "unexpected end of filter", len(text) + 1
    elif isinstance(exc, UnexpectedCharacters):
        what = f"unexpected character {exc.char!r}"
    elif isinstance(exc, UnexpectedToken):
        what = f"unexpected {str(exc.token)!r}"
    else:  # lark raises no other kind
        what = "unexpected input"
    if not isinstance(column, int) or column < 1:
        column = len(text) + 1
    pointer = text + "\n" + " " * (column - 1) + "^"
    return _invalid(f"{what} at column {column}", column=column, context=pointer)


# ------------------------------------------------------------------------------------------
# AST -> SQLAlchemy
# ------------------------------------------------------------------------------------------

ORDERED_KINDS = {"string", "number", "integer", "date", "date-time"}
COMPARISONS = {
    ast.Equal: lambda a, b: a == b,
    ast.NotEqual: lambda a, b: a != b,
    ast.LessThan: lambda a, b: a < b,
    ast.LessEqual: lambda a, b: a <= b,
    ast.GreaterThan: lambda a, b: a > b,
    ast.GreaterEqual: lambda a, b: a >= b,
}
SPATIAL_FUNCTIONS = {
    ast.GeometryIntersects: func.ST_Intersects,
    ast.GeometryDisjoint: func.ST_Disjoint,
    ast.GeometryContains: func.ST_Contains,
    ast.GeometryWithin: func.ST_Within,
    ast.GeometryTouches: func.ST_Touches,
    ast.GeometryCrosses: func.ST_Crosses,
    ast.GeometryOverlaps: func.ST_Overlaps,
    ast.GeometryEquals: func.ST_Equals,
}


@dataclass(frozen=True)
class Field:
    """A queryable as SQL: its column expression and kind.

    ``kind`` is one of ``string``, ``number``, ``integer``, ``boolean``, ``date``,
    ``date-time``, ``uuid``, ``array`` (of strings) and ``geometry``.
    """

    column: Any
    kind: str


@dataclass(frozen=True)
class _Operand:
    sql: Any
    kind: str


def to_sql(node: ast.Node, fields: Mapping[str, Field]) -> ColumnElement[bool]:
    """Translate a parsed filter into a boolean SQL expression over ``fields``.

    Raises BadRequest (400) for a property that is not in ``fields`` or a literal of the
    wrong type. Every literal becomes a bound parameter.
    """
    return _Translator(fields).condition(node)


class _Translator:
    def __init__(self, fields: Mapping[str, Field]) -> None:
        self.fields = fields

    def condition(self, node, depth: int = 0) -> ColumnElement[bool]:
        if depth > MAX_DEPTH:
            raise _invalid(f"the filter nests more than {MAX_DEPTH} groups")
        if isinstance(node, ast.And | ast.Or):
            kind = type(node)
            items, stack = [], [node]
            while stack:  # flatten a AND b AND c … iteratively, whatever its length
                current = stack.pop()
                if type(current) is kind:
                    stack.extend([current.rhs, current.lhs])
                else:
                    items.append(self.condition(current, depth + 1))
            return and_(*items) if kind is ast.And else or_(*items)
        if isinstance(node, ast.Not):
            return not_(self.condition(node.sub_node, depth + 1))
        if type(node) in COMPARISONS:
            return self.comparison(node)
        if isinstance(node, ast.Like):
            return self.like(node)
        if isinstance(node, ast.Between):
            return self.between(node)
        if isinstance(node, ast.In):
            return self.in_(node)
        if isinstance(node, ast.IsNull):
            operand = self.property(node.lhs)
            test = operand.sql.is_(None)
            return not_(test) if node.not_ else test
        if type(node) in SPATIAL_FUNCTIONS:
            return self.spatial(node)
        if isinstance(node, ast.ArrayPredicate):
            return self.array(node)
        raise _invalid(f"{type(node).__name__} is not supported")

    # operands -------------------------------------------------------------------------

    def property(self, node) -> _Operand:
        """The operand as a property (``CASEI(property)`` allowed); 400 otherwise."""
        if isinstance(node, ast.Function) and node.name == "casei":
            inner = self.property(node.arguments[0])
            if inner.kind != "string":
                raise _invalid("CASEI applies to text properties only")
            return _Operand(func.lower(inner.sql), "string")
        if not isinstance(node, ast.Attribute):
            raise _invalid(f"expected a property name, found {_describe(node)}")
        field = self.fields.get(node.name)
        if field is None:
            names = ", ".join(sorted(self.fields))
            raise _invalid(
                f"unknown property {node.name!r}; the queryables are: {names}",
                property=node.name,
            )
        return _Operand(field.column, field.kind)

    def operand(self, node, kind: str) -> Any:
        """A value to compare with a property of ``kind``: another property or a literal."""
        if _is_property(node):
            other = self.property(node)
            if other.kind != kind:
                raise _invalid(
                    f"cannot compare a {kind} property with a {other.kind} property"
                )
            return other.sql
        return _literal(node, kind)

    def pair(self, lhs, rhs) -> tuple[Any, Any, str]:
        """Both sides of a comparison; one of them must be a property."""
        if _is_property(lhs):
            left = self.property(lhs)
            return left.sql, self.operand(rhs, left.kind), left.kind
        if _is_property(rhs):
            right = self.property(rhs)
            return self.operand(lhs, right.kind), right.sql, right.kind
        raise _invalid("a comparison needs a property on one side")

    # predicates -----------------------------------------------------------------------

    def comparison(self, node) -> ColumnElement[bool]:
        left, right, kind = self.pair(node.lhs, node.rhs)
        if kind in ("geometry", "array"):
            raise _invalid(
                f"{kind} properties are compared with the S_ or A_ functions, not "
                "with operators"
            )
        if kind not in ORDERED_KINDS and type(node) not in (ast.Equal, ast.NotEqual):
            raise _invalid(f"{kind} values can only be compared with = and <>")
        return COMPARISONS[type(node)](left, right)

    def like(self, node) -> ColumnElement[bool]:
        operand = self.property(node.lhs)
        if operand.kind != "string":
            raise _invalid("LIKE applies to text properties only")
        if isinstance(node.pattern, ast.Function) and node.pattern.name == "casei":
            pattern = func.lower(_literal(node.pattern.arguments[0], "string"))
        else:
            pattern = _literal(node.pattern, "string")
        test = operand.sql.like(pattern, escape="\\")
        return not_(test) if node.not_ else test

    def between(self, node) -> ColumnElement[bool]:
        operand = self.property(node.lhs)
        if operand.kind not in ORDERED_KINDS - {"string"}:
            raise _invalid("BETWEEN applies to number and date properties only")
        low = self.operand(node.low, operand.kind)
        high = self.operand(node.high, operand.kind)
        test = operand.sql.between(low, high)
        return not_(test) if node.not_ else test

    def in_(self, node) -> ColumnElement[bool]:
        operand = self.property(node.lhs)
        if operand.kind in ("geometry", "array"):
            raise _invalid(f"IN does not apply to {operand.kind} properties")
        if len(node.sub_nodes) > MAX_IN_VALUES:
            raise _invalid(f"IN takes at most {MAX_IN_VALUES} values")
        options = [_literal(value, operand.kind) for value in node.sub_nodes]
        test = operand.sql.in_(options)
        return not_(test) if node.not_ else test

    def spatial(self, node) -> ColumnElement[bool]:
        lhs, rhs = (self.geometry_operand(n) for n in (node.lhs, node.rhs))
        return SPATIAL_FUNCTIONS[type(node)](lhs, rhs)

    def geometry_operand(self, node) -> Any:
        if isinstance(node, ast.Attribute):
            operand = self.property(node)
            if operand.kind != "geometry":
                raise _invalid(f"{node.name!r} is not a geometry property")
            return operand.sql
        if isinstance(node, values.Envelope):
            box = (node.x1, node.y1, node.x2, node.y2)
            if not (
                -180 <= node.x1 <= node.x2 <= 180 and -90 <= node.y1 <= node.y2 <= 90
            ):
                raise _invalid(
                    f"BBOX{box} must be minLon, minLat, maxLon, maxLat within "
                    "-180..180 and -90..90"
                )
            return func.ST_MakeEnvelope(*box, 4326)
        if isinstance(node, values.Geometry):
            return func.ST_SetSRID(
                func.ST_GeomFromGeoJSON(_geometry_literal(node.geometry)), 4326
            )
        raise _invalid(f"expected a geometry, found {_describe(node)}")

    def array(self, node) -> ColumnElement[bool]:
        if not _is_property(node.lhs):
            raise _invalid("the first argument of an A_ function must be a property")
        operand = self.property(node.lhs)
        if operand.kind != "array":
            raise _invalid("the A_ functions apply to list properties only")
        if isinstance(node.rhs, list):
            items = [_literal(item, "string") for item in node.rhs]
            other = literal(items, ARRAY(Text))
        else:
            other = self.operand(node.rhs, "array")
        column = operand.sql
        if isinstance(node, ast.ArrayEquals):
            return column == other
        if isinstance(node, ast.ArrayContains):
            return column.op("@>")(other)
        if isinstance(node, ast.ArrayContainedBy):
            return column.op("<@")(other)
        return column.op("&&")(other)


def _is_property(node) -> bool:
    if isinstance(node, ast.Function) and node.name == "casei":
        return _is_property(node.arguments[0])
    return isinstance(node, ast.Attribute)


def _describe(value) -> str:
    if isinstance(value, ast.Attribute):
        return f"the property {value.name!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).upper()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, _DateLiteral | _TimestampLiteral):
        return f"the date {value.text!r}"
    if isinstance(value, values.Geometry | values.Envelope):
        return "a geometry"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _literal(value, kind: str) -> Any:
    """Check a literal against the kind of property it meets and convert it."""
    if isinstance(value, ast.Function) and value.name == "casei" and kind == "string":
        return func.lower(_literal(value.arguments[0], "string"))
    wrong = _invalid(f"expected a {kind} value, found {_describe(value)}")
    if kind in ("string", "array"):
        if not isinstance(value, str):
            raise wrong
        return value
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong
        # NUMERIC compares exactly with integer and float columns, whatever the size
        return literal(value, Numeric())
    if kind == "boolean":
        if not isinstance(value, bool):
            raise wrong
        return value
    if kind == "uuid":
        if not isinstance(value, str):
            raise wrong
        try:
            return uuid.UUID(value)
        except ValueError:
            raise _invalid(f"{value!r} is not a UUID") from None
    if kind == "date":
        if isinstance(value, _TimestampLiteral):
            raise _invalid(
                f"this property is a date; write DATE('YYYY-MM-DD'), not "
                f"TIMESTAMP({value.text!r})"
            )
        if isinstance(value, _DateLiteral | str):
            return _parse_date(value.text if isinstance(value, _DateLiteral) else value)
        raise wrong
    if kind == "date-time":
        if isinstance(value, _DateLiteral):
            day = _parse_date(value.text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        if isinstance(value, _TimestampLiteral | str):
            text = value.text if isinstance(value, _TimestampLiteral) else value
            return _parse_timestamp(text)
        raise wrong
    raise wrong


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _invalid(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _parse_timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _invalid(
            f"{text!r} is not a timestamp (RFC 3339, e.g. 2024-05-01T12:00:00Z)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _geometry_literal(geometry: dict) -> str:
    """Check a WKT literal (CRS84 lon/lat, valid) and return it as GeoJSON text."""
    geometry = dict(geometry)
    srid = geometry.pop("srid", None)
    if srid not in (None, 4326):
        raise _invalid(
            f"geometry literals must be in CRS84 (longitude, latitude); SRID={srid} is "
            "not supported"
        )
    try:
        geom = shapely.geometry.shape(geometry)
    except (ValueError, TypeError, IndexError, shapely.errors.ShapelyError) as exc:
        # e.g. LINESTRING(0 0): GEOS refuses a line of one position
        reason = str(exc).removeprefix("IllegalArgumentException: ").strip().rstrip(".")
        raise _invalid(
            f"invalid geometry literal ({geometry.get('type')}): {reason}; a "
            "LineString needs 2 positions or more, a Polygon ring 4 or more"
        ) from None
    min_x, min_y, max_x, max_y = geom.bounds if not geom.is_empty else (0, 0, 0, 0)
    if not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
        raise _invalid(
            "geometry literals must lie within -180..180, -90..90 (lon, lat)"
        )
    if not geom.is_valid:
        raise _invalid(
            f"invalid geometry literal: {shapely.validation.explain_validity(geom)}"
        )
    return json.dumps(shapely.geometry.mapping(geom))

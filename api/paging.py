"""Keyset paging: a total order per list, and opaque cursors that resume after a row.

Every list is ordered by a ``Keyset``: its sort columns, then a unique key (the id), so the
order is total and a page can start *after* the last row of the previous one
(``WHERE (date, id) after (:date, :id) ORDER BY date DESC, id LIMIT n``) instead of skipping
rows with ``OFFSET`` (whose cost grows with the page number, and which repeats or misses rows
when rows are inserted or retired between pages). A ``next`` link carries the position as a
cursor: URL-safe base64 of ``{"v": 1, "l": <list>, "k": [<sort key of the last row>],
"n": <rows before the next page>}``, checked when it comes back (400 ``cursor: ...``).

A cursor is a position, not a credential: a crafted one can only start a page elsewhere in
the same filtered list, which ``offset`` allows too.

A service adds two lines: ``window = ORDER.window(after=..., limit=..., offset=...)``, whose
``sql`` (the keyset condition, ORDER BY and LIMIT) follows its WHERE clause, and
``window.items(features, rows)``, the page with its next cursor.
"""

import base64
import binascii
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson

from api.errors import BadRequest

VERSION = 1
KINDS = ("date", "datetime", "uuid", "int", "float", "text")


def _bad(message: str) -> BadRequest:
    return BadRequest(
        f"cursor: {message}",
        errors=[{"parameter": "cursor", "in": "query", "message": message}],
    )


@dataclass(frozen=True)
class Key:
    """One sort column: its SQL, the name of its value in a result row, and its type.

    ``nulls`` is None for a column that is never null; else "first" or "last", written
    into the ORDER BY (a NOT NULL column gets no NULLS clause, so that its index serves).
    """

    sql: str
    name: str
    kind: str
    desc: bool = False
    nulls: str | None = None

    def __post_init__(self) -> None:
        """Refuse a kind or a nulls placement the cursor cannot carry."""
        if self.kind not in KINDS or self.nulls not in (None, "first", "last"):
            raise ValueError(f"bad sort key {self}")

    @property
    def nulls_last(self) -> bool:
        """Whether nulls sort after the values (PostgreSQL's default: ascending)."""
        return self.nulls == "last" if self.nulls else not self.desc

    def order_sql(self) -> str:
        """This key's ORDER BY item."""
        nulls = f" NULLS {self.nulls.upper()}" if self.nulls else ""
        return f"{self.sql}{' DESC' if self.desc else ''}{nulls}"

    def dump(self, value: Any) -> Any:
        """``value`` as JSON."""
        if value is None or self.kind in ("int", "float", "text"):
            return value
        if self.kind == "uuid":
            return str(value)
        return value.isoformat()

    def load(self, raw: Any) -> Any:
        """A JSON value back as this key's type; 400 when it is not one."""
        if raw is None:
            if self.nulls is None:
                raise _bad(f"{self.name} may not be null")
            return None
        try:
            if self.kind == "int" and type(raw) is int:
                return raw
            if self.kind == "float" and type(raw) in (int, float):
                return float(raw)
            if self.kind == "text" and isinstance(raw, str):
                return raw
            if self.kind == "uuid" and isinstance(raw, str):
                return uuid.UUID(raw)
            if self.kind == "date" and isinstance(raw, str):
                return date.fromisoformat(raw)
            if self.kind == "datetime" and isinstance(raw, str):
                return datetime.fromisoformat(raw)
        except ValueError:
            pass
        raise _bad(f"{self.name} is not a {self.kind}")


@dataclass(frozen=True)
class After:
    """A decoded cursor: the sort key of the last row seen and how many rows came before."""

    values: tuple[Any, ...]
    position: int


class PageItems(list):
    """A page of items that knows the cursor of the next page (None on the last page)."""

    next_cursor: str | None = None
    start: int = 0  # how many rows come before the page (for ranks)


@dataclass(frozen=True)
class Window:
    """The SQL tail of one page: keyset condition, ORDER BY and LIMIT, with its params."""

    keyset: "Keyset"
    after: After | None
    limit: int
    offset: int
    sql: str = field(init=False)
    params: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        """Write the tail: ``AND <after>`` (with a cursor), ORDER BY, LIMIT one extra row
        (to know whether more remain), OFFSET only without a cursor."""
        condition, params = self.keyset.condition(self.after)
        sql = f" AND {condition}" if condition else ""
        sql += self.keyset.order_sql() + " LIMIT :keyset_limit"
        params["keyset_limit"] = self.limit + 1
        if self.after is None and self.offset:
            sql += " OFFSET :keyset_offset"
            params["keyset_offset"] = self.offset
        object.__setattr__(self, "sql", sql)
        object.__setattr__(self, "params", params)

    @property
    def start(self) -> int:
        """How many rows come before this page."""
        return self.after.position if self.after else self.offset

    def items(
        self, items: Sequence[Any], rows: Sequence[Mapping[Any, Any]]
    ) -> PageItems:
        """The first ``limit`` of ``items`` (made from ``rows``, one each, in order), with
        the next cursor when the extra row came back."""
        out = PageItems(items[: self.limit])
        out.start = self.start
        if len(rows) > self.limit:
            out.next_cursor = self.keyset.cursor(
                rows[self.limit - 1], self.start + self.limit
            )
        return out


@dataclass(frozen=True)
class Keyset:
    """The total order of one list: sort keys, the last of them unique."""

    name: str
    keys: tuple[Key, ...]

    def order_sql(self) -> str:
        """`` ORDER BY ...``."""
        return " ORDER BY " + ", ".join(k.order_sql() for k in self.keys)

    def cursor(self, row: Mapping[Any, Any], position: int) -> str:
        """The cursor of the page after ``row``, the ``position``-th row."""
        payload = {
            "v": VERSION,
            "l": self.name,
            "k": [k.dump(row[k.name]) for k in self.keys],
            "n": position,
        }
        return base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode()

    def decode(self, cursor: str | None) -> After | None:
        """A cursor from a ``next`` link, checked; None without one; 400 when malformed,
        from another list, or from another version."""
        if cursor is None:
            return None
        try:
            text = cursor.strip()
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            payload = orjson.loads(raw)
        except (binascii.Error, ValueError, orjson.JSONDecodeError):
            raise _bad("not a cursor from a next link") from None
        if not isinstance(payload, dict) or payload.get("v") != VERSION:
            raise _bad("not a cursor from a next link (or from an older version)")
        if payload.get("l") != self.name:
            raise _bad(f"issued for another list, not {self.name}")
        values, position = payload.get("k"), payload.get("n")
        if not isinstance(values, list) or len(values) != len(self.keys):
            raise _bad(f"a {self.name} cursor holds {len(self.keys)} sort values")
        if type(position) is not int or position < 0:
            raise _bad("bad position")
        return After(
            tuple(k.load(v) for k, v in zip(self.keys, values, strict=True)), position
        )

    def window(self, *, after: str | None, limit: int, offset: int = 0) -> Window:
        """The page from ``after`` (a cursor) or from ``offset``; not both."""
        if after is not None and offset:
            raise _bad("a cursor replaces offset: send one or the other")
        return Window(self, self.decode(after), limit, offset)

    def condition(self, after: After | None) -> tuple[str, dict[str, Any]]:
        """SQL true for the rows after ``after`` in this order ("" for every row).

        ``k1 <= :v1 AND (k1 < :v1 OR (k1 = :v1 AND (id > :id)))`` for ``k1 DESC, id``:
        the leading bound is an index condition (the index on the order is scanned from
        the cursor), the rest resolves ties. Nulls are placed as the ORDER BY places them.
        """
        if after is None:
            return "", {}
        params: dict[str, Any] = {}
        clause = ""
        for i in reversed(range(len(self.keys))):
            key, value = self.keys[i], after.values[i]
            name = f"keyset_{i}"
            if value is not None:
                params[name] = value
            later = self._later(key, value, name)
            if clause:
                same = f"{key.sql} IS NULL" if value is None else f"{key.sql} = :{name}"
                later = f"({later} OR ({same} AND {clause}))"
            clause = later
        first, value = self.keys[0], after.values[0]
        if first.nulls is None and value is not None:
            clause = (
                f"{first.sql} {'<=' if first.desc else '>='} :keyset_0 AND {clause}"
            )
        return f"({clause})", params

    @staticmethod
    def _later(key: Key, value: Any, name: str) -> str:
        if value is None:  # after a null only the non-nulls when nulls come first
            return "FALSE" if key.nulls_last else f"{key.sql} IS NOT NULL"
        strictly = f"{key.sql} {'<' if key.desc else '>'} :{name}"
        return (
            f"({strictly} OR {key.sql} IS NULL)"
            if key.nulls_last and key.nulls
            else strictly
        )

    def follows(self, row: Mapping[Any, Any], after: After) -> bool:
        """Whether ``row`` comes after ``after`` (for lists filtered in Python)."""
        for key, mark in zip(self.keys, after.values, strict=True):
            value = row[key.name]
            if value == mark:
                continue
            if value is None:
                return key.nulls_last
            if mark is None:
                return not key.nulls_last
            return value < mark if key.desc else value > mark
        return False

"""COPY rows into a table through the session's own connection (inside its transaction)."""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session


def copy_rows(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """``COPY table (columns) FROM STDIN`` with ``rows`` (values as psycopg adapts them:
    text, numbers, dates, None; uuids, JSON and geometries as text, geometries as hex EWKB).
    Nothing is committed; ORM events do not see these rows (their callers audit them)."""
    raw = session.connection().connection.driver_connection
    if raw is None:
        raise RuntimeError("the session's connection is closed")
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)

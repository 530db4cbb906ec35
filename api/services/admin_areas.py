"""Administrative areas: reading them, and assigning hazards to them (set-based)."""

import uuid
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import CursorResult, text
from sqlalchemy.orm import Session

from api import paging
from api.services.filters import bbox_param, bbox_sql

# Every hazard lists the P-codes of all areas it touches (``admin``), and is assigned, per level,
# to the one area containing a point on its surface (``admin_primary``), which summaries use.
# One definition for a geometry ``{g}``: the rows written (``codes_for``) and the rows
# reassigned (``ASSIGN_SQL``) get them from it.
CODES_SQL = """
    COALESCE((SELECT array_agg(a.pcode ORDER BY a.level, a.pcode)
                FROM admin_areas a WHERE ST_Intersects(a.geom, {g})), '{{}}') AS pcodes,
    COALESCE((SELECT jsonb_object_agg(p.level::text, p.pcode)
                FROM (SELECT DISTINCT ON (a.level) a.level, a.pcode
                        FROM admin_areas a
                       WHERE ST_Intersects(a.geom, ST_PointOnSurface({g}))
                       ORDER BY a.level, a.pcode) p), '{{}}'::jsonb) AS primary_codes"""

ASSIGN_SQL = (
    """
UPDATE hazards h
SET admin_pcodes = x.pcodes, admin_primary = x.primary_codes
FROM (
    SELECT h2.id,"""
    + CODES_SQL.format(g="h2.geom")
    + """
    FROM hazards h2
    WHERE CAST(:all AS boolean) OR h2.id = ANY(CAST(:ids AS uuid[]))
) x
WHERE h.id = x.id
  AND (h.admin_pcodes IS DISTINCT FROM x.pcodes
       OR h.admin_primary IS DISTINCT FROM x.primary_codes)
"""
)

CODES_FOR_SQL = (
    """
SELECT t.k,"""
    + CODES_SQL.format(g="t.g")
    + """
FROM (SELECT k, ST_GeomFromEWKB(w) AS g
      FROM unnest(CAST(:wkbs AS bytea[])) WITH ORDINALITY AS u(w, k)) t
ORDER BY t.k
"""
)


def codes_for(
    session: Session, ewkbs: list[bytes]
) -> list[tuple[list[str], dict[str, str]]]:
    """The P-codes and primary codes of geometries about to be written (EWKB, SRID 4326),
    in order: what ``assign_hazards`` would give them once stored, in one query, so that a
    bulk write stores each row once."""
    if not ewkbs:
        return []
    rows = session.execute(text(CODES_FOR_SQL), {"wkbs": ewkbs}).all()
    return [(list(r.pcodes), dict(r.primary_codes)) for r in rows]


def assign_hazards(
    session: Session, hazard_ids: Iterable[uuid.UUID] | None = None
) -> int:
    """Recompute the admin P-codes of ``hazard_ids`` (None = every hazard). One statement."""
    ids = None if hazard_ids is None else [str(i) for i in set(hazard_ids)]
    if ids == []:
        return 0
    result = session.execute(text(ASSIGN_SQL), {"all": ids is None, "ids": ids or []})
    # an UPDATE through a Session gives a CursorResult; SQLAlchemy types it as Result
    return cast(CursorResult[Any], result).rowcount or 0


FILTER_SQL = """
FROM admin_areas a
WHERE (CAST(:level AS int) IS NULL OR a.level = CAST(:level AS int))
  AND (CAST(:parent AS text) IS NULL OR a.parent_pcode = CAST(:parent AS text))
  AND {bbox}
""".format(bbox=bbox_sql("a.geom"))

LIST_SQL = (
    """
SELECT a.id, a.pcode, a.name, a.names, a.level, a.parent_pcode, a.is_demo,
       ST_AsGeoJSON(CASE WHEN CAST(:simplify AS float8) > 0
                         THEN ST_SimplifyPreserveTopology(a.geom, CAST(:simplify AS float8))
                         ELSE a.geom END, 7) AS geometry
"""
    + FILTER_SQL
)
ORDER = paging.Keyset(
    "admin-areas",
    (paging.Key("a.level", "level", "int"), paging.Key("a.pcode", "pcode", "text")),
)


def search(
    session: Session,
    *,
    level: int | None,
    parent: str | None,
    bbox: tuple[float, float, float, float] | None,
    simplify: float,
    limit: int,
    offset: int,
    after: str | None = None,
) -> tuple[list[dict], int]:
    """Admin areas matching the filters, as rows, and the number matched."""
    window = ORDER.window(after=after, limit=limit, offset=offset)
    params = {"level": level, "parent": parent, "bbox": bbox_param(bbox)}
    matched = session.execute(
        text("SELECT count(*) " + FILTER_SQL), params
    ).scalar_one()
    rows = (
        session.execute(
            text(LIST_SQL + window.sql),
            {**params, "simplify": simplify, **window.params},
        )
        .mappings()
        .all()
    )
    return window.items([dict(r) for r in rows], rows), int(matched)

"""The public layer: build a publication from current data, read the latest one, check a point.

A publication is a snapshot written once and then only read; nothing public reads the
operational tables. ``publish`` builds it in one transaction:

1. **Hazard areas** (one statement): the current hazards that are ``open``, ``worked_on`` or
   ``suspended``, less the land released by completed activities (what still is
   hazardous; releases of unfinished activities do not shrink a warning), are buffered outward on the ellipsoid (``ST_Buffer`` on geography) by
   ``public_buffer_m + public_simplify_m``; overlapping buffers are grouped
   (``ST_ClusterDBSCAN`` with distance 0) and unioned, so one public area may stand for
   several hazards and no single hazard's outline is shown; each area is simplified with
   ``ST_SimplifyPreserveTopology`` at a tolerance of ``public_simplify_m`` (taken in degrees
   as ``public_simplify_m / 111 700``, which moves no vertex by more than that many metres
   at any latitude). The extra buffer equal to the tolerance means the simplified outline
   still lies at least ``public_buffer_m`` beyond every hazard; should any source hazard
   nevertheless not be covered (checked with ``ST_Covers`` in the same statement), the
   area is unioned with its unsimplified buffer. A public area therefore always covers
   every hazard it was built from, and is never smaller than them.
   Only public fields are kept: classification (CHA when any part is confirmed), hazard
   type (``mixed`` when the hazards differ), status (``open`` over ``suspended`` over
   ``worked_on``), marking, the latest date of information, what to do, the administrative
   areas it touches and how it changed against the previous publication (``new``: it meets
   no area of the previous one; ``grown``: more than ``GROWTH_MIN_M2`` of it lies outside
   the previous areas; else ``unchanged``).
2. **Released land**: release polygons of ``completed`` activities, with their date and a
   residual-risk note, minus the public hazard areas (land is never shown released where a
   warning stands).
3. **Coverage**: the smallest administrative areas (no child area) in which any hazard
   (of any status), release polygon or EO find is recorded. Only there can a check answer
   ``clear``; elsewhere it answers ``no_data``, which never means safe.
4. **Counts**: EO finds and accidents per smallest administrative area; an area with fewer
   than ``public_min_count`` (never below 5) is left out. Exact locations never leave.
5. The publication record: who, when, the parameters and the counts.

Hazards carry no marking information yet, so every public area says ``not_recorded``
(shown as "marking not recorded: do not rely on signs").
"""

import math
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api import paging
from api.db.models import PublicPublication
from api.errors import NotFound
from api.services.auth import Principal
from api.services.filters import bbox_param, bbox_sql
from api.settings import Settings
from api.vocab import available_languages, catalogue, label

GROWTH_MIN_M2 = 10.0  # an area growing by less than this is "unchanged" (float noise)
METRES_PER_DEGREE_MAX = 111_700.0  # the longest degree (of latitude, at the poles)
GEOJSON_PRECISION = 7  # about 1 cm
PUBLISH_TIMEOUT_MS = (
    600_000  # per statement of a publication (admins only, one at a time)
)
PUBLIC_STATUSES = ("open", "worked_on", "suspended")

_HAZARDS_SQL = text(
    """
WITH remaining AS (
    SELECT h.classification, h.hazard_type, h.status, h.date_of_information,
           CASE WHEN u.released IS NULL THEN h.geom
                WHEN GeometryType(h.geom) = 'POINT' THEN ST_Difference(h.geom, u.released)
                ELSE ST_Multi(ST_CollectionExtract(ST_Difference(h.geom, u.released), 3))
           END AS geom
    FROM hazards h
    LEFT JOIN LATERAL (
        SELECT ST_Union(r.geom) AS released
        FROM release_polygons r JOIN activities a ON a.id = r.activity_id
        WHERE r.hazard_id = h.id AND r.retired_at IS NULL AND a.retired_at IS NULL
          AND a.status = 'completed'
    ) u ON true
    WHERE h.retired_at IS NULL AND h.status IN ('open', 'worked_on', 'suspended')
), src AS (
    SELECT r.*, ST_Buffer(r.geom::geography, :grow_m)::geometry AS grown
    FROM remaining r
    WHERE NOT ST_IsEmpty(r.geom)
), clustered AS (
    SELECT src.*, ST_ClusterDBSCAN(grown, 0, 1) OVER () AS cluster FROM src
), areas AS (
    SELECT CASE WHEN bool_or(classification = 'CHA') THEN 'CHA' ELSE 'SHA' END
               AS classification,
           CASE WHEN count(DISTINCT coalesce(hazard_type, '')) = 1
                THEN coalesce(min(hazard_type), 'not_recorded') ELSE 'mixed' END
               AS hazard_type,
           CASE WHEN bool_or(status = 'open') THEN 'open'
                WHEN bool_or(status = 'suspended') THEN 'suspended'
                ELSE 'worked_on' END AS status,
           max(date_of_information) AS last_update,
           ST_Union(grown) AS grown,
           array_agg(geom) AS sources
    FROM clustered
    GROUP BY cluster
), simplified AS (
    SELECT a.*,
           ST_Multi(ST_CollectionExtract(ST_MakeValid(
               ST_SimplifyPreserveTopology(a.grown, :tolerance_deg)), 3)) AS simple
    FROM areas a
), covering AS (
    SELECT s.*,
           CASE WHEN (SELECT bool_and(ST_Covers(s.simple, g)) FROM unnest(s.sources) g)
                THEN s.simple
                ELSE ST_Multi(ST_CollectionExtract(ST_Union(s.simple, s.grown), 3))
           END AS geom
    FROM simplified s
)
INSERT INTO public_hazards (publication_id, classification, hazard_type, status, marking,
                            last_update, what_to_do, change, admin_pcodes, area_m2, geom)
SELECT :publication_id, c.classification, c.hazard_type, c.status, 'not_recorded',
       c.last_update, CAST(:what_to_do AS jsonb),
       CASE
           WHEN NOT EXISTS (SELECT 1 FROM public_hazards p
                            WHERE p.publication_id = :previous_id
                              AND ST_Intersects(p.geom, c.geom))
               THEN 'new'
           WHEN sg_area_m2(ST_Difference(c.geom, (
                    SELECT ST_Union(p.geom) FROM public_hazards p
                    WHERE p.publication_id = :previous_id AND p.geom && c.geom)))
                > :growth_min_m2
               THEN 'grown'
           ELSE 'unchanged'
       END,
       ARRAY(SELECT a.pcode FROM admin_areas a WHERE ST_Intersects(a.geom, c.geom)
             ORDER BY a.level, a.pcode),
       sg_area_m2(c.geom), c.geom
FROM covering c
WHERE NOT ST_IsEmpty(c.geom)
"""
)

_RELEASED_SQL = text(
    """
WITH done AS (
    SELECT r.outcome, r.date, r.geom
    FROM release_polygons r
    JOIN activities a ON a.id = r.activity_id
    WHERE r.retired_at IS NULL AND a.retired_at IS NULL AND a.status = 'completed'
), cut AS (
    SELECT d.outcome, d.date,
           ST_Multi(ST_CollectionExtract(ST_Difference(d.geom, coalesce((
               SELECT ST_Union(p.geom) FROM public_hazards p
               WHERE p.publication_id = :publication_id AND p.geom && d.geom),
               'SRID=4326;GEOMETRYCOLLECTION EMPTY'::geometry)), 3)) AS geom
    FROM done d
)
INSERT INTO public_released (publication_id, outcome, completed_on, residual_risk,
                             admin_pcodes, area_m2, geom)
SELECT :publication_id, c.outcome, c.date,
       CAST(:residual_risk AS jsonb) -> c.outcome,
       ARRAY(SELECT a.pcode FROM admin_areas a WHERE ST_Intersects(a.geom, c.geom)
             ORDER BY a.level, a.pcode),
       sg_area_m2(c.geom), c.geom
FROM cut c
WHERE NOT ST_IsEmpty(c.geom) AND sg_area_m2(c.geom) > 0
"""
)

# the smallest administrative areas: those no other area names as its parent
_LEAVES = """
    SELECT a.* FROM admin_areas a
    WHERE NOT EXISTS (SELECT 1 FROM admin_areas c WHERE c.parent_pcode = a.pcode)
"""

_COVERAGE_SQL = text(
    f"""
WITH leaves AS ({_LEAVES})
INSERT INTO public_coverage (publication_id, admin_pcode, admin_name, admin_level, geom)
SELECT :publication_id, l.pcode, l.name, l.level, l.geom
FROM leaves l
WHERE EXISTS (SELECT 1 FROM hazards h
              WHERE h.retired_at IS NULL AND ST_Intersects(h.geom, l.geom))
   OR EXISTS (SELECT 1 FROM release_polygons r
              WHERE r.retired_at IS NULL AND ST_Intersects(r.geom, l.geom))
   OR EXISTS (SELECT 1 FROM eo_finds f
              WHERE f.retired_at IS NULL AND ST_Intersects(f.geom, l.geom))
"""
)

_COUNTS_SQL = text(
    f"""
WITH leaves AS ({_LEAVES}),
points AS (
    SELECT 'eo_finds' AS kind, f.geom FROM eo_finds f WHERE f.retired_at IS NULL
    UNION ALL
    SELECT 'accidents', x.geom FROM accidents x WHERE x.retired_at IS NULL
), cells AS (
    SELECT p.kind, l.pcode, l.name, l.level, count(*) AS n
    FROM points p
    JOIN LATERAL (SELECT * FROM leaves l WHERE ST_Intersects(l.geom, p.geom)
                  ORDER BY l.level DESC, l.pcode LIMIT 1) l ON true
    GROUP BY p.kind, l.pcode, l.name, l.level
), kept AS (
    INSERT INTO public_counts (publication_id, kind, admin_pcode, admin_name,
                               admin_level, count)
    SELECT :publication_id, kind, pcode, name, level, n FROM cells WHERE n >= :min_count
    RETURNING 1
)
SELECT (SELECT count(*) FROM kept) AS kept,
       (SELECT count(*) FROM cells WHERE n < :min_count) AS withheld
"""
)

_SUMMARY_SQL = text(
    """
SELECT
  (SELECT count(*) FROM hazards h WHERE h.retired_at IS NULL
      AND h.status IN ('open', 'worked_on', 'suspended')) AS source_hazards,
  (SELECT count(*) FROM public_hazards WHERE publication_id = :id) AS hazard_areas,
  (SELECT count(*) FROM public_hazards WHERE publication_id = :id AND change = 'new')
      AS new_areas,
  (SELECT count(*) FROM public_hazards WHERE publication_id = :id AND change = 'grown')
      AS grown_areas,
  (SELECT coalesce(sum(area_m2), 0) FROM public_hazards WHERE publication_id = :id)
      AS hazard_area_m2,
  (SELECT count(*) FROM public_released WHERE publication_id = :id) AS released_areas,
  (SELECT count(*) FROM public_coverage WHERE publication_id = :id) AS covered_admin_areas
"""
)


def _localised(key: str, **values: Any) -> dict[str, str]:
    """The message ``key`` in every language that has it (English at least)."""
    out = {}
    for lang in available_languages():
        message = catalogue(lang).get(key)
        if message:
            out[lang] = message.format(**values)
    return out


def parameters(settings: Settings) -> dict[str, Any]:
    """The generalisation parameters a publication is built with (recorded with it)."""
    return {
        "buffer_m": settings.public_buffer_m,
        "simplify_tolerance_m": settings.public_simplify_m,
        "min_count": settings.public_min_count,
        "statuses": list(PUBLIC_STATUSES),
        "growth_min_m2": GROWTH_MIN_M2,
    }


def latest_publication_id():
    """SQL: the id of the newest publication (NULL before the first one)."""
    return (
        select(PublicPublication.id)
        .order_by(PublicPublication.published_at.desc(), PublicPublication.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def latest_publication(session: Session) -> PublicPublication | None:
    """The newest publication, or None before the first one."""
    return session.scalars(
        select(PublicPublication).where(PublicPublication.id == latest_publication_id())
    ).first()


def record(publication: PublicPublication) -> dict[str, Any]:
    """The publication record as the API shows it: who, when, parameters, counts."""
    return {
        "id": str(publication.id),
        "published_at": publication.published_at.isoformat(),
        "published_by": {
            "id": str(publication.published_by) if publication.published_by else None,
            "name": publication.published_by_name,
        },
        "parameters": publication.parameters,
        "counts": publication.counts,
    }


def publish(session: Session, *, principal: Principal, settings: Settings) -> dict:
    """Build the public layer from current data and publish it; return its record.

    One publication at a time (a transaction-scoped advisory lock), so "the previous
    publication" that changes are measured against is well defined.
    """
    # a whole programme is generalised at once: allow more than a request's statement limit
    session.execute(
        text("SELECT set_config('statement_timeout', :ms, true)"),
        {"ms": str(PUBLISH_TIMEOUT_MS)},
    )
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('sg_public_publish'))"))
    previous = latest_publication(session)
    params = parameters(settings)
    publication_id = session.execute(
        text(
            "INSERT INTO public_publications "
            "(published_at, published_by, published_by_name, parameters, counts) "
            "VALUES (clock_timestamp(), :by, :name, CAST(:params AS jsonb), '{}') "
            "RETURNING id"
        ),
        {
            "by": principal.user_id,
            "name": principal.name,
            "params": orjson.dumps(params).decode(),
        },
    ).scalar_one()
    bound = {"publication_id": publication_id}
    session.execute(
        _HAZARDS_SQL,
        {
            **bound,
            "previous_id": previous.id if previous else None,
            "grow_m": settings.public_buffer_m + settings.public_simplify_m,
            "tolerance_deg": settings.public_simplify_m / METRES_PER_DEGREE_MAX,
            "growth_min_m2": GROWTH_MIN_M2,
            "what_to_do": orjson.dumps(
                _localised("public.what_to_do", hotline=settings.public_hotline)
            ).decode(),
        },
    )
    residual = {
        outcome: _localised(
            f"public.residual_risk.{outcome}", hotline=settings.public_hotline
        )
        for outcome in ("cancelled", "reduced", "cleared")
    }
    session.execute(
        _RELEASED_SQL, {**bound, "residual_risk": orjson.dumps(residual).decode()}
    )
    session.execute(_COVERAGE_SQL, bound)
    kept, withheld = session.execute(
        _COUNTS_SQL, {**bound, "min_count": settings.public_min_count}
    ).one()
    summary = dict(
        session.execute(_SUMMARY_SQL, {"id": publication_id}).mappings().one()
    )
    counts = {
        **summary,
        "hazard_area_m2": round(float(summary["hazard_area_m2"]), 2),
        "count_areas": kept,
        "count_areas_withheld": withheld,
        "previous_publication": str(previous.id) if previous else None,
    }
    session.execute(
        text(
            "UPDATE public_publications SET counts = CAST(:c AS jsonb) WHERE id = :id"
        ),
        {"c": orjson.dumps(counts).decode(), "id": publication_id},
    )
    session.commit()
    publication = session.get_one(
        PublicPublication, publication_id, populate_existing=True
    )
    return record(publication)


PUBLICATIONS_ORDER = paging.Keyset(
    "publications",
    (
        paging.Key(
            "public_publications.published_at", "published_at", "datetime", desc=True
        ),
        paging.Key("public_publications.id", "id", "uuid", desc=True),
    ),
)


def list_publications(
    session: Session, *, limit: int, offset: int, after: str | None = None
) -> paging.PageItems:
    """Publication records, newest first, from ``offset`` or ``after`` a cursor."""
    window = PUBLICATIONS_ORDER.window(after=after, limit=limit, offset=offset)
    query = select(PublicPublication).order_by(
        PublicPublication.published_at.desc(), PublicPublication.id.desc()
    )
    condition, bound = PUBLICATIONS_ORDER.condition(window.after)
    if condition:
        query = query.where(text(condition).bindparams(**bound))
    elif offset:
        query = query.offset(offset)
    rows = list(session.scalars(query.limit(limit + 1)))
    keys = [{"published_at": p.published_at, "id": p.id} for p in rows]
    return window.items([record(p) for p in rows], keys)


# ---- reading the latest publication ------------------------------------------------------

_PUBLIC_HAZARDS_SQL = text(
    """
SELECT h.id, h.classification, h.hazard_type, h.status, h.marking, h.last_update,
       h.what_to_do, h.change, h.admin_pcodes, h.area_m2,
       ST_AsGeoJSON(h.geom, :precision) AS geometry
FROM public_hazards h
WHERE h.publication_id = :publication_id
  AND {bbox}
  AND (CAST(:pcode AS text) IS NULL OR CAST(:pcode AS text) = ANY (h.admin_pcodes))
  AND (NOT CAST(:changed_only AS boolean) OR h.change IN ('new', 'grown'))
ORDER BY h.last_update DESC, h.id
""".format(bbox=bbox_sql("h.geom"))
)


def _message(language: str, values: dict[str, str]) -> str:
    """A stored message in ``language``, else English, else any."""
    return values.get(language) or values.get("en") or next(iter(values.values()), "")


def hazard_feature(row: dict, language: str) -> dict:
    """A public hazard area as a GeoJSON Feature (public fields, labels in ``language``)."""
    return {
        "type": "Feature",
        "id": str(row["id"]),
        "geometry": orjson.Fragment(row["geometry"]),
        "properties": {
            "id": str(row["id"]),
            "classification": row["classification"],
            "classification_label": label(
                "classification", row["classification"], language
            ),
            "hazard_type": row["hazard_type"],
            "hazard_type_label": _public_label(
                "hazard_type", row["hazard_type"], language
            ),
            "status": row["status"],
            "status_label": _public_label("public_status", row["status"], language),
            "marking": row["marking"],
            "marking_label": _public_label("marking", row["marking"], language),
            "last_update": row["last_update"].isoformat(),
            "what_to_do": _message(language, row["what_to_do"]),
            "area_m2": round(row["area_m2"], 1),
            "admin": list(row["admin_pcodes"]),
        },
    }


def _public_label(vocabulary: str, code: str, language: str) -> str:
    """Labels of public-only codes (``mixed``, markings, public statuses) or vocabularies."""
    key = f"public.{vocabulary}.{code}"
    found = catalogue(language).get(key) or catalogue("en").get(key)
    return found or label(vocabulary, code, language)


@dataclass(frozen=True)
class PublicHazards:
    """The areas of one publication, with the publication they belong to."""

    publication: PublicPublication | None
    rows: list[dict]


def public_hazards(
    session: Session,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    pcode: str | None = None,
    changed_only: bool = False,
) -> PublicHazards:
    """The hazard areas of the latest publication (none before the first one)."""
    publication = latest_publication(session)
    if publication is None:
        return PublicHazards(None, [])
    rows = session.execute(
        _PUBLIC_HAZARDS_SQL,
        {
            "publication_id": publication.id,
            "precision": GEOJSON_PRECISION,
            "bbox": bbox_param(bbox),
            "pcode": pcode,
            "changed_only": changed_only,
        },
    ).mappings()
    return PublicHazards(publication, [dict(r) for r in rows])


_PUBLIC_RELEASED_SQL = text(
    """
SELECT r.id, r.outcome, r.completed_on, r.residual_risk, r.admin_pcodes, r.area_m2,
       ST_AsGeoJSON(r.geom, :precision) AS geometry
FROM public_released r
WHERE r.publication_id = :publication_id
  AND {bbox}
ORDER BY r.completed_on DESC, r.id
""".format(bbox=bbox_sql("r.geom"))
)


def public_released(
    session: Session, *, bbox: tuple[float, float, float, float] | None = None
) -> tuple[PublicPublication | None, list[dict]]:
    """The released land of the latest publication."""
    publication = latest_publication(session)
    if publication is None:
        return None, []
    rows = session.execute(
        _PUBLIC_RELEASED_SQL,
        {
            "publication_id": publication.id,
            "precision": GEOJSON_PRECISION,
            "bbox": bbox_param(bbox),
        },
    ).mappings()
    return publication, [dict(r) for r in rows]


def released_feature(row: dict, language: str) -> dict:
    """Released land as a GeoJSON Feature, with its date and residual-risk note."""
    return {
        "type": "Feature",
        "id": str(row["id"]),
        "geometry": orjson.Fragment(row["geometry"]),
        "properties": {
            "id": str(row["id"]),
            "outcome": row["outcome"],
            "outcome_label": label("release_outcome", row["outcome"], language),
            "completed_on": row["completed_on"].isoformat(),
            "residual_risk": _message(language, row["residual_risk"]),
            "area_m2": round(row["area_m2"], 1),
            "admin": list(row["admin_pcodes"]),
        },
    }


def public_counts(session: Session) -> tuple[PublicPublication | None, list[dict]]:
    """EO finds and accidents per administrative area of the latest publication (each 5+)."""
    publication = latest_publication(session)
    if publication is None:
        return None, []
    rows = session.execute(
        text(
            "SELECT kind, admin_pcode, admin_name, admin_level, count FROM public_counts "
            "WHERE publication_id = :id ORDER BY kind, admin_pcode"
        ),
        {"id": publication.id},
    ).mappings()
    return publication, [dict(r) for r in rows]


def publication_summary(publication: PublicPublication | None) -> dict | None:
    """What a public reader sees of a publication: its id and date (not who made it)."""
    if publication is None:
        return None
    return {
        "id": str(publication.id),
        "published_at": publication.published_at.isoformat(),
    }


def announced_area(
    session: Session, area_id: uuid.UUID
) -> tuple[PublicPublication, dict]:
    """A public area that was announced (new or grown) by its publication, any publication."""
    row = (
        session.execute(
            text(
                """
SELECT h.id, h.publication_id, h.classification, h.hazard_type, h.status, h.marking,
       h.last_update, h.what_to_do, h.change, h.admin_pcodes, h.area_m2,
       ST_AsGeoJSON(h.geom, :precision) AS geometry
FROM public_hazards h
WHERE h.id = :id AND h.change IN ('new', 'grown')
"""
            ),
            {"id": area_id, "precision": GEOJSON_PRECISION},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no public alert {area_id}")
    return session.get_one(PublicPublication, row["publication_id"]), dict(row)


def resolve_admin_area(session: Session, value: str) -> tuple[str, str]:
    """The P-code and name of the administrative area with P-code or id ``value``."""
    try:
        area_id = uuid.UUID(value)
    except ValueError:
        area_id = None
    row = session.execute(
        text(
            "SELECT pcode, name FROM admin_areas "
            "WHERE pcode = :value OR id = CAST(:area_id AS uuid) LIMIT 1"
        ),
        {"value": value, "area_id": str(area_id) if area_id else None},
    ).first()
    if row is None:
        raise NotFound(f"no administrative area with P-code or id {value!r}")
    return row.pcode, row.name


# ---- the point check ---------------------------------------------------------------------

_CHECK_SQL = text(
    """
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
candidates AS (
    SELECT h.geom FROM public_hazards h, pt
    WHERE h.publication_id = :publication_id
      AND h.geom && ST_Expand(pt.g, :dlon, :dlat)  -- index prefilter, wider than near_m
      AND ST_DWithin(h.geom::geography, pt.g::geography, :near_m)
    UNION ALL
    (SELECT h.geom FROM public_hazards h, pt
     WHERE h.publication_id = :publication_id
     ORDER BY h.geom <-> pt.g LIMIT 8)
)
SELECT
    EXISTS (SELECT 1 FROM public_hazards h, pt
            WHERE h.publication_id = :publication_id AND ST_Intersects(h.geom, pt.g))
        AS inside,
    (SELECT min(ST_Distance(c.geom::geography, pt.g::geography)) FROM candidates c, pt)
        AS nearest_m,
    EXISTS (SELECT 1 FROM public_coverage v, pt
            WHERE v.publication_id = :publication_id AND ST_Intersects(v.geom, pt.g))
        AS covered
"""
)


@dataclass(frozen=True)
class Check:
    """The answer for one point: status, distance to the nearest public area, publication."""

    status: str  # inside, near, clear or no_data
    nearest_m: float | None
    publication: PublicPublication | None


def _search_box(lat: float, metres: float) -> dict[str, float]:
    """Half-widths in degrees of a box sure to hold every point within ``metres`` of a
    point at latitude ``lat`` (a degree of latitude is at least 110.5 km; one of longitude
    at least 111.3 km x cos of the latitude farthest from the equator in the box)."""
    dlat = metres / 110_000
    far = min(abs(lat) + dlat, 90.0)
    cos = math.cos(math.radians(far))
    dlon = 360.0 if cos < 1e-6 else min(360.0, metres / (111_000 * cos))
    return {"dlon": dlon, "dlat": dlat}


def check_point(
    session: Session, *, lon: float, lat: float, settings: Settings
) -> Check:
    """Where ``lon``, ``lat`` stands against the latest publication (nothing is stored).

    * ``inside``: within a public hazard area;
    * ``near``: within ``public_near_m`` of one (distance on the ellipsoid);
    * ``clear``: neither, in an administrative area where the programme has recorded work;
    * ``no_data``: neither, and no recorded work there (or nothing published yet): unknown,
      never "safe".
    """
    publication = latest_publication(session)
    if publication is None:
        return Check("no_data", None, None)
    inside, nearest, covered = session.execute(
        _CHECK_SQL,
        {
            "lon": lon,
            "lat": lat,
            "publication_id": publication.id,
            "near_m": settings.public_near_m,
            **_search_box(lat, settings.public_near_m),
        },
    ).one()
    if inside:
        return Check("inside", 0.0, publication)
    nearest = None if nearest is None else round(float(nearest), 1)
    if nearest is not None and nearest <= settings.public_near_m:
        return Check("near", nearest, publication)
    return Check("clear" if covered else "no_data", nearest, publication)


def advice(status: str, language: str, settings: Settings) -> dict[str, Any]:
    """What to do and not to do for a check status, in ``language``, with the hotline."""

    def numbered(prefix: str) -> list[str]:
        messages = catalogue(language)
        if not any(k.startswith(prefix) for k in messages):
            messages = catalogue("en")
        keys = sorted(
            (k for k in messages if k.startswith(prefix)),
            key=lambda k: int(k.rsplit(".", 1)[1]),
        )
        return [messages[k].format(hotline=settings.public_hotline) for k in keys]

    return {
        "do": numbered(f"public.advice.{status}.do."),
        "dont": numbered(f"public.advice.{status}.dont."),
        "hotline": settings.public_hotline,
    }


def check_message(status: str, language: str) -> str:
    """A one-line summary of a check status in ``language``."""
    key = f"public.check.{status}"
    return catalogue(language).get(key) or catalogue("en").get(key, status)

"""Reading hazards: features, collections, history and the remaining part, now or as of a date.

Reads are single SQL statements that return GeoJSON text from PostGIS (``ST_AsGeoJSON``); the
geometry text is embedded in the response as is (``orjson.Fragment``), never re-parsed.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import RowMapping, text
from sqlalchemy.orm import Session

from api import paging
from api.errors import NotFound
from api.services import land_release
from api.services.filters import bbox_param, bbox_sql

LAND_RELEASE_FIELDS = (
    "baseline_area_m2",
    "cancelled_area_m2",
    "reduced_area_m2",
    "cleared_area_m2",
    "released_area_m2",
    "remaining_area_m2",
    "outside_area_m2",
)


@dataclass(frozen=True)
class HazardFilters:
    """Filters of ``GET /hazards``; every member is optional."""

    bbox: tuple[float, float, float, float] | None = None
    classification: str | None = None
    status: str | None = None
    hazard_type: str | None = None
    organisation: str | None = None
    admin: str | None = None
    updated_since: datetime | None = None

    def params(self) -> dict[str, Any]:
        """Bound parameters for the filter SQL."""
        return {
            "bbox": bbox_param(self.bbox),
            "classification": self.classification,
            "status": self.status,
            "hazard_type": self.hazard_type,
            "organisation": self.organisation,
            "admin": self.admin,
            "updated_since": self.updated_since,
        }


CURRENT_SELECT = """
SELECT h.id, h.external_id, h.name, h.classification, h.hazard_type, h.status, h.status_set,
       h.contamination, o.code AS organisation, h.date_of_information,
       ST_AsGeoJSON(h.benchmark, 9) AS benchmark,
       ST_AsGeoJSON(h.reference_point, 9) AS reference_point,
       h.estimated_area_m2, h.evidence, h.blockages, h.beneficiaries, h.notes, h.area_m2,
       h.admin_pcodes, h.version, h.created_at, h.updated_at, h.is_demo,
       f.baseline_area_m2, f.cancelled_area_m2, f.reduced_area_m2, f.cleared_area_m2,
       f.released_area_m2, f.remaining_area_m2, f.outside_area_m2, f.computed_at,
       ST_AsGeoJSON(h.geom, 9) AS geometry
FROM hazards h
JOIN organisations o ON o.id = h.organisation_id
LEFT JOIN hazard_land_release f ON f.hazard_id = h.id
"""

CURRENT_FILTER = """
WHERE h.retired_at IS NULL
  AND {bbox}
  AND (CAST(:classification AS text) IS NULL OR h.classification = :classification)
  AND (CAST(:status AS text) IS NULL OR h.status = :status)
  AND (CAST(:hazard_type AS text) IS NULL OR h.hazard_type = :hazard_type)
  AND (CAST(:organisation AS text) IS NULL OR o.code = :organisation)
  AND (CAST(:admin AS text) IS NULL OR h.admin_pcodes @> ARRAY[CAST(:admin AS text)])
  AND (CAST(:updated_since AS timestamptz) IS NULL OR h.updated_at >= :updated_since)
""".format(bbox=bbox_sql("h.geom"))

# the order of lists (newest information first; the index ix_hazards_current_by_doi)
ORDER = paging.Keyset(
    "hazards",
    (
        paging.Key("h.date_of_information", "date_of_information", "date", desc=True),
        paging.Key("h.id", "id", "uuid"),
    ),
)
AS_OF_ORDER = paging.Keyset(
    "hazards-as-of",
    (
        paging.Key("s.valid_from", "valid_from", "date", desc=True),
        paging.Key("s.hazard_id", "id", "uuid"),
    ),
)


def _fragment(geojson: str | None):
    return orjson.Fragment(geojson) if geojson is not None else None


def _current_feature(row: RowMapping) -> dict[str, Any]:
    land = {k: row[k] for k in LAND_RELEASE_FIELDS}
    land["computed_at"] = row["computed_at"]
    props = {
        "id": row["id"],
        "external_id": row["external_id"],
        "name": row["name"],
        "classification": row["classification"],
        "hazard_type": row["hazard_type"],
        "status": row["status"],
        "status_source": "set" if row["status_set"] else "derived",
        "contamination": row["contamination"],
        "organisation": row["organisation"],
        "date_of_information": row["date_of_information"],
        "benchmark": _fragment(row["benchmark"]),
        "reference_point": _fragment(row["reference_point"]),
        "estimated_area_m2": row["estimated_area_m2"],
        "evidence": row["evidence"],
        "blockages": row["blockages"],
        "beneficiaries": row["beneficiaries"],
        "notes": row["notes"],
        "area_m2": row["area_m2"],
        "admin": row["admin_pcodes"],
        "version": row["version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "is_demo": row["is_demo"],
        "land_release": land,
    }
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": _fragment(row["geometry"]),
        "properties": props,
    }


AS_OF_SELECT = """
SELECT s.hazard_id AS id, s.version, s.state, o.code AS organisation, s.valid_from,
       ST_AsGeoJSON(s.geom, 9) AS geometry,
       (SELECT array_agg(a.pcode ORDER BY a.level, a.pcode) FROM admin_areas a
         WHERE ST_Intersects(a.geom, s.geom)) AS admin_pcodes,
       h.is_demo, h.created_at
FROM hazard_states s
JOIN hazards h ON h.id = s.hazard_id
JOIN organisations o ON o.id = s.organisation_id
"""

AS_OF_FILTER = """
WHERE s.valid_from <= CAST(:as_of AS date)
  AND (s.valid_to IS NULL OR s.valid_to > CAST(:as_of AS date))
  AND NOT s.retired
  AND {bbox}
  AND (CAST(:classification AS text) IS NULL OR s.state ->> 'classification' = :classification)
  AND (CAST(:hazard_type AS text) IS NULL OR s.state ->> 'hazard_type' = :hazard_type)
  AND (CAST(:organisation AS text) IS NULL OR o.code = :organisation)
  AND (CAST(:admin AS text) IS NULL OR EXISTS (
        SELECT 1 FROM admin_areas a WHERE a.pcode = :admin AND ST_Intersects(a.geom, s.geom)))
  AND (CAST(:updated_since AS timestamptz) IS NULL OR s.valid_from >= CAST(:updated_since AS date))
""".format(bbox=bbox_sql("s.geom"))


def _as_of_feature(
    row: Mapping[str, Any], figures: dict[str, Any] | None
) -> dict[str, Any]:
    state = dict(row["state"])
    for name in ("benchmark", "reference_point"):
        state.setdefault(name, None)
    state_status = state.pop("status", None)
    props = {
        "id": row["id"],
        **{
            k: v
            for k, v in state.items()
            if k not in ("organisation", "retirement_reason")
        },
        "organisation": row["organisation"],
        "status": figures["status"] if figures else state_status,
        "status_source": "set" if state_status else "derived",
        "area_m2": figures["baseline_area_m2"] if figures else None,
        "admin": row["admin_pcodes"] or [],
        "version": row["version"],
        "is_demo": row["is_demo"],
        "created_at": row["created_at"],
        "as_of": row["as_of"],
        "land_release": {k: figures[k] for k in LAND_RELEASE_FIELDS}
        if figures
        else None,
    }
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": _fragment(row["geometry"]),
        "properties": props,
    }


def get_feature(
    session: Session, hazard_id: uuid.UUID, as_of: date | None = None
) -> dict:
    """One hazard as a GeoJSON Feature with ``land_release``; NotFound if unknown."""
    if as_of is None:
        row = (
            session.execute(
                text(CURRENT_SELECT + " WHERE h.id = :id AND h.retired_at IS NULL"),
                {"id": hazard_id},
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"no hazard {hazard_id}")
        return _current_feature(row)
    row = (
        session.execute(
            text(AS_OF_SELECT + AS_OF_FILTER + " AND s.hazard_id = :id"),
            {**HazardFilters().params(), "as_of": as_of, "id": hazard_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        if _exists(session, hazard_id):
            raise NotFound(f"hazard {hazard_id} was not known on {as_of.isoformat()}")
        raise NotFound(f"no hazard {hazard_id}")
    figures = land_release.figures_as_of(session, as_of, [hazard_id]).get(hazard_id)
    return _as_of_feature({**row, "as_of": as_of}, figures)


def _exists(session: Session, hazard_id: uuid.UUID) -> bool:
    return (
        session.execute(
            text("SELECT 1 FROM hazards WHERE id = :id"), {"id": hazard_id}
        ).first()
        is not None
    )


def search(
    session: Session,
    filters: HazardFilters,
    *,
    limit: int,
    offset: int,
    as_of: date | None = None,
    after: str | None = None,
) -> tuple[list[dict], int]:
    """A page of hazards as Features, and how many match in all; the page starts at
    ``offset`` or ``after`` a cursor (api/paging.py)."""
    window = (ORDER if as_of is None else AS_OF_ORDER).window(
        after=after, limit=limit, offset=offset
    )
    params = {**filters.params(), **window.params}
    if as_of is None:
        matched = session.execute(
            text(
                "SELECT count(*) FROM hazards h JOIN organisations o "
                "ON o.id = h.organisation_id " + CURRENT_FILTER
            ),
            params,
        ).scalar_one()
        current = (
            session.execute(text(CURRENT_SELECT + CURRENT_FILTER + window.sql), params)
            .mappings()
            .all()
        )
        return window.items([_current_feature(r) for r in current], current), int(
            matched
        )
    params["as_of"] = as_of
    status_filter = filters.status
    count_sql = (
        "SELECT count(*) FROM hazard_states s JOIN hazards h ON h.id = s.hazard_id "
        "JOIN organisations o ON o.id = s.organisation_id " + AS_OF_FILTER
    )
    if status_filter:
        # status as of a date is derived, so filter after computing it
        states = list(
            session.execute(
                text(AS_OF_SELECT + AS_OF_FILTER + AS_OF_ORDER.order_sql()), params
            ).mappings()
        )
        figures = land_release.figures_as_of(session, as_of, [r["id"] for r in states])
        kept = [
            r for r in states if figures.get(r["id"], {}).get("status") == status_filter
        ]
        start = window.after
        rest = [r for r in kept if AS_OF_ORDER.follows(r, start)] if start else kept
        page = rest[window.offset if start is None else 0 :][: limit + 1]
        return window.items(
            [_as_of_feature({**r, "as_of": as_of}, figures.get(r["id"])) for r in page],
            page,
        ), len(kept)
    matched = session.execute(text(count_sql), params).scalar_one()
    states = list(
        session.execute(
            text(AS_OF_SELECT + AS_OF_FILTER + window.sql), params
        ).mappings()
    )
    figures = land_release.figures_as_of(session, as_of, [r["id"] for r in states])
    return window.items(
        [_as_of_feature({**r, "as_of": as_of}, figures.get(r["id"])) for r in states],
        states,
    ), int(matched)


def remaining_feature(
    session: Session, hazard_id: uuid.UUID, as_of: date | None = None
) -> dict:
    """The part of a hazard still hazardous, as a Feature (empty geometry if none remains)."""
    feature = get_feature(session, hazard_id, as_of)  # raises NotFound as appropriate
    props = feature["properties"]
    land = props["land_release"]
    out = {
        "id": hazard_id,
        "name": props.get("name"),
        "classification": props.get("classification"),
        "status": props["status"],
        "organisation": props["organisation"],
        "baseline_area_m2": land["baseline_area_m2"],
        "released_area_m2": land["released_area_m2"],
        "remaining_area_m2": land["remaining_area_m2"],
    }
    if as_of:
        out["as_of"] = as_of
    geometry = land_release.remaining_geometry(session, hazard_id, as_of)
    return {
        "type": "Feature",
        "id": hazard_id,
        "geometry": _fragment(geometry),
        "properties": out,
    }


HISTORY_SQL = """
SELECT v.version, v.kind, v.date_of_information, v.recorded_at, v.author, v.source,
       v.report, v.submitted_geometry, ST_AsGeoJSON(v.geom, 9) AS stored_geometry,
       v.warnings, v.changes, v.superseded
FROM hazard_versions v
WHERE v.hazard_id = :id
ORDER BY v.version
"""


def history(session: Session, hazard_id: uuid.UUID) -> dict:
    """Every version of a hazard, in the order recorded, with what each changed."""
    if not _exists(session, hazard_id):
        raise NotFound(f"no hazard {hazard_id}")
    orgs: dict[str, str] = {
        org.id: org.code
        for org in session.execute(
            text("SELECT id::text AS id, code FROM organisations")
        )
    }
    versions = []
    for row in session.execute(text(HISTORY_SQL), {"id": hazard_id}).mappings():
        report = dict(row["report"])
        if "organisation" in report:
            report["organisation"] = orgs.get(
                report["organisation"], report["organisation"]
            )
        changes = dict(row["changes"])
        if "organisation" in changes:
            changes["organisation"] = [orgs.get(v, v) for v in changes["organisation"]]
        versions.append(
            {
                "version": row["version"],
                "kind": row["kind"],
                "date_of_information": row["date_of_information"],
                "recorded_at": row["recorded_at"],
                "author": row["author"],
                "source": row["source"],
                "applied": bool(row["changes"]) or row["kind"] == "create",
                "report": report,
                "changes": changes,
                "superseded": row["superseded"],
                "warnings": row["warnings"],
                "submitted_geometry": row["submitted_geometry"],
                "stored_geometry": _fragment(row["stored_geometry"]),
            }
        )
    return {"hazard_id": hazard_id, "versions": versions}

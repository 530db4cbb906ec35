"""Hazard areas: reports in; current state, history and figures out.

Every create, update or retirement is recorded as a report (``hazard_versions``). The current
state and the ``as_of`` timeline are folded from the reports by the date-of-information rule
(``api.domain.history``); land-release figures are recomputed for the touched hazard in the
same transaction (``api.services.land_release``).
"""

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import orjson
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from api.db.copy import copy_rows
from api.db.models import Hazard, HazardState, HazardVersion, Organisation
from api.domain import history
from api.errors import (
    Conflict,
    InvalidGeometry,
    InvalidInput,
    NotFound,
)
from api.schemas.hazards import (
    HazardFeatureCreate,
    HazardFeaturePatch,
    HazardPropertiesCreate,
    HazardPropertiesPatch,
)
from api.services import admin_areas, extent, land_release, priorities
from api.services.auth import Principal, organisation_by_code, require_writer
from api.services.versioned import external_id_guard, open_for_change, save
from api.settings import Settings
from api.spatial.intake import (
    IntakeProblem,
    ellipsoidal_area_m2,
    intake_geometry,
    to_geojson,
)
from api.vocab import POINT_HAZARD_TYPES

KIND = "hazard"  # how 404s and 412s name the record

# Properties that a report states and the fold carries (API names).
STATE_FIELDS = (
    "external_id",
    "name",
    "classification",
    "hazard_type",
    "status",
    "contamination",
    "organisation",
    "benchmark",
    "reference_point",
    "estimated_area_m2",
    "evidence",
    "blockages",
    "beneficiaries",
    "notes",
)
POINT_FIELDS = ("benchmark", "reference_point")
FUTURE_TOLERANCE = timedelta(
    days=1
)  # reports dated "today" in a time zone ahead of UTC


@dataclass
class WriteResult:
    """What a write did: the hazard, whether it was new, its version and the warnings."""

    id: uuid.UUID
    version: int
    created: bool
    warnings: list[str] = field(default_factory=list)


def _check_doi(doi: date, pointer: str) -> None:
    if doi > datetime.now(UTC).date() + FUTURE_TOLERANCE:
        raise InvalidInput(
            f"date_of_information {doi.isoformat()} is in the future",
            errors=[
                {
                    "pointer": pointer,
                    "message": "a report cannot be dated in the future",
                }
            ],
        )


def _intake(
    obj: Any,
    *,
    pointer: str,
    settings: Settings,
    allow_point: bool,
    level: int | None = None,
):
    """The geometry intake; ``level`` (``extent.programme_level``) sets a polygon's bound."""
    try:
        return intake_geometry(
            obj,
            pointer=pointer,
            allow_point=allow_point,
            max_vertices=settings.max_vertices,
            # a larger hazard is a coordinate error (points need no bound)
            max_area_m2=extent.max_hazard_area_m2(settings, level)
            if isinstance(obj, dict) and obj.get("type") != "Point"
            else None,
        )
    except IntakeProblem as exc:
        first = exc.errors[0]
        raise InvalidGeometry(
            f"{first['pointer']}: {first['message']}", errors=exc.errors
        ) from exc


def stated_values(
    session: Session,
    props: HazardPropertiesCreate | HazardPropertiesPatch,
    principal: Principal | None,
    settings: Settings,
) -> tuple[dict[str, Any], list[str]]:
    """Turn validated properties into the JSON values a report states, and warnings."""
    warnings: list[str] = []
    sent = props.model_fields_set
    ignored = props.read_only_sent()
    if ignored:
        warnings.append("ignored read-only properties: " + ", ".join(ignored))
    stated: dict[str, Any] = {}
    for name in STATE_FIELDS:
        if name not in sent:
            continue
        value = getattr(props, name)
        if name == "organisation":
            continue  # resolved by the caller, which also checks the right to write
        if name in POINT_FIELDS and value is not None:
            point = _intake(
                value,
                pointer=f"/properties/{name}",
                settings=settings,
                allow_point=True,
            )
            if point.geometry.geom_type != "Point":
                raise InvalidGeometry(
                    f"/properties/{name} must be a Point",
                    errors=[
                        {
                            "pointer": f"/properties/{name}/type",
                            "message": "expected Point",
                        }
                    ],
                )
            warnings.extend(point.warnings)
            value = to_geojson(point.geometry)
        elif hasattr(value, "model_dump"):
            value = value.model_dump(exclude_none=True)
        elif isinstance(value, list):
            value = [
                str(v) for v in dict.fromkeys(value)
            ]  # codes, de-duplicated in order
        elif value is not None and not isinstance(value, int | float | str):
            value = str(value)
        stated[name] = value
    if "classification" in stated and stated["classification"] is None:
        raise InvalidInput(
            "classification cannot be removed",
            errors=[
                {
                    "pointer": "/properties/classification",
                    "message": "SHA or CHA required",
                }
            ],
        )
    return stated, warnings


def resolve_org(
    session: Session, code: str | None, principal: Principal | None
) -> Organisation:
    """The organisation a record names, or the caller's; 422 naming /properties/organisation."""
    if code is None:
        if principal is None or principal.organisation_code is None:
            raise InvalidInput(
                "properties.organisation is required (you belong to no organisation)",
                errors=[{"pointer": "/properties/organisation", "message": "required"}],
            )
        code = principal.organisation_code
    try:
        return organisation_by_code(session, code)
    except NotFound as exc:
        raise InvalidInput(
            f"unknown organisation {code!r}",
            errors=[
                {
                    "pointer": "/properties/organisation",
                    "message": f"no organisation {code!r}",
                }
            ],
        ) from exc


def _reports(versions: list[HazardVersion]) -> list[history.Report]:
    out = []
    for v in versions:
        stated = dict(v.report)
        if v.geom is not None:
            stated[history.GEOMETRY] = v.version
        out.append(history.Report(v.version, v.date_of_information, v.kind, stated))
    return out


def _point(value: dict | None):
    if value is None:
        return None
    return from_shape(Point(value["coordinates"]), srid=4326)


def state_columns(state: history.State, geom: Any) -> dict[str, Any]:
    """The ``hazards`` columns of a folded state whose geometry is ``geom``."""
    values = state.values
    return {
        "external_id": values.get("external_id"),
        "name": values.get("name"),
        "classification": values["classification"],
        "hazard_type": values.get("hazard_type"),
        "status_set": values.get("status"),
        "contamination": values.get("contamination") or [],
        "organisation_id": uuid.UUID(values["organisation"]),
        "date_of_information": state.date_of_information,
        "benchmark": _point(values.get("benchmark")),
        "reference_point": _point(values.get("reference_point")),
        "estimated_area_m2": values.get("estimated_area_m2"),
        "evidence": values.get("evidence"),
        "blockages": values.get("blockages") or [],
        "beneficiaries": values.get("beneficiaries"),
        "notes": values.get("notes"),
        "geom": geom,
        "version": state.version,
    }


def _apply_state(hazard: Hazard, state: history.State, geoms: dict[int, Any]) -> None:
    for name, value in state_columns(
        state, geoms[state.values[history.GEOMETRY]]
    ).items():
        setattr(hazard, name, value)
    if state.retired and hazard.retired_at is None:
        hazard.retired_at = func.now()


def _check_geometry_kind(state: history.State, geoms: dict[int, Any]) -> None:
    geom = geoms[state.values[history.GEOMETRY]]
    is_point = to_shape(geom).geom_type == "Point"
    hazard_type = state.values.get("hazard_type")
    if is_point and hazard_type not in {t.value for t in POINT_HAZARD_TYPES}:
        raise InvalidGeometry(
            "a Point geometry is accepted only for uxo_spot and axo_site hazards",
            errors=[
                {
                    "pointer": "/geometry/type",
                    "message": f"Point not accepted for hazard_type {hazard_type!r}",
                }
            ],
        )


def timeline_rows(hazard_id: uuid.UUID, reports, geoms) -> list[dict[str, Any]]:
    """The ``hazard_states`` rows of a hazard's reports (its ``as_of`` timeline)."""
    rows = []
    for entry in history.timeline(reports):
        values = entry.state.values
        doi = entry.state.date_of_information
        if doi is None or not (
            {history.GEOMETRY, "classification", "organisation"} <= values.keys()
        ):
            # not yet known as an area of an organisation on that date (an older report
            # that states only some of the facts)
            continue
        state_json = {k: v for k, v in values.items() if k != history.GEOMETRY}
        state_json["date_of_information"] = doi.isoformat()
        rows.append(
            {
                "hazard_id": hazard_id,
                "valid_from": entry.valid_from,
                "valid_to": entry.valid_to,
                "version": entry.state.version,
                "organisation_id": uuid.UUID(values["organisation"]),
                "retired": entry.state.retired,
                "state": state_json,
                "geom": geoms[values[history.GEOMETRY]],
            }
        )
    return rows


def _rebuild_timeline(session: Session, hazard: Hazard, reports, geoms) -> None:
    session.execute(delete(HazardState).where(HazardState.hazard_id == hazard.id))
    for row in timeline_rows(hazard.id, reports, geoms):
        session.add(HazardState(**row))


def _record(
    session: Session,
    hazard: Hazard,
    *,
    kind: str,
    doi: date,
    stated: dict[str, Any],
    geometry: BaseGeometry | None,
    submitted_geometry: Any,
    warnings: list[str],
    principal: Principal | None,
    source: str,
    origin: dict[str, Any] | None = None,
    import_id: uuid.UUID | None = None,
) -> HazardVersion:
    """Store one report, refold the hazard, rebuild its timeline and recompute its figures."""
    version = HazardVersion(
        hazard_id=hazard.id,
        version=(hazard.version or 0) + 1,
        kind=kind,
        date_of_information=doi,
        author_user_id=principal.user_id if principal else None,
        author_api_key_id=principal.api_key_id if principal else None,
        author=principal.name if principal else "system",
        source=source,
        report=stated,
        submitted_geometry=submitted_geometry,
        geom=from_shape(geometry, srid=4326) if geometry is not None else None,
        warnings=warnings,
        origin=origin,
        import_id=import_id,
    )
    session.add(version)
    session.flush()
    versions = list(
        session.scalars(
            select(HazardVersion)
            .where(HazardVersion.hazard_id == hazard.id)
            .order_by(HazardVersion.version)
        )
    )
    reports = _reports(versions)
    geoms = {v.version: v.geom for v in versions if v.geom is not None}
    before = history.fold(reports[:-1])
    after = history.fold(reports)
    _check_geometry_kind(after, geoms)
    version.changes = _json_changes(history.changes(before, after))
    version.superseded = history.superseded(reports[-1], after)
    geometry_changed = before.values.get(history.GEOMETRY) != after.values.get(
        history.GEOMETRY
    )
    _apply_state(hazard, after, geoms)
    hazard.updated_at = func.now()
    if hazard.area_m2 is None:
        hazard.area_m2 = ellipsoidal_area_m2(to_shape(hazard.geom))
    with external_id_guard(session, _external_id_taken()):  # a PATCH to a taken id
        session.flush()
    _rebuild_timeline(session, hazard, reports, geoms)
    if geometry_changed:
        admin_areas.assign_hazards(session, [hazard.id])
    land_release.recompute(session, [hazard.id])
    priorities.refresh(session, [hazard.id])
    return version


def _json_changes(diff: dict[str, list[Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, (old, new) in diff.items():
        if key == history.GEOMETRY:
            out[key] = {"from_version": old, "to_version": new}
        else:
            out[key] = [old, new]
    return out


def _external_id_taken() -> Conflict:
    return Conflict(
        "another hazard of this organisation already has that external_id",
        errors=[{"pointer": "/properties/external_id", "message": "already used"}],
    )


def _commit(session: Session, commit: bool = True) -> None:
    """Commit (or, inside a larger unit of work such as an import, only flush)."""
    save(session, commit=commit, external_id_taken=_external_id_taken())


def create_hazard(
    session: Session,
    *,
    feature: HazardFeatureCreate,
    principal: Principal | None,
    settings: Settings,
    source: str = "api",
    is_demo: bool = False,
    commit: bool = True,
    origin: dict[str, Any] | None = None,
    import_id: uuid.UUID | None = None,
) -> WriteResult:
    """Create a hazard, or, when ``external_id`` is known for the organisation, add a report.

    Re-sending a record with the same ``external_id`` is an update, never a duplicate.
    """
    props = feature.properties
    org = resolve_org(session, props.organisation, principal)
    require_writer(principal, org.id, org.code)
    if props.external_id:
        existing = session.scalar(
            select(Hazard.id).where(
                Hazard.organisation_id == org.id,
                Hazard.external_id == props.external_id,
                Hazard.retired_at.is_(None),
            )
        )
        if existing is not None:
            patch = HazardFeaturePatch(
                geometry=feature.geometry,
                properties=HazardPropertiesPatch(
                    **props.model_dump(exclude_unset=True, exclude={"organisation"})
                ),
            )
            return update_hazard(
                session,
                hazard_id=existing,
                patch=patch,
                principal=principal,
                settings=settings,
                if_match="*",
                source=source,
                commit=commit,
                origin=origin,
                import_id=import_id,
            )
    stated, warnings = stated_values(session, props, principal, settings)
    stated["organisation"] = str(org.id)
    stated.setdefault("contamination", [])
    stated.setdefault("blockages", [])
    allow_point = props.hazard_type in POINT_HAZARD_TYPES
    level = extent.programme_level(session)
    intake = _intake(
        feature.geometry,
        pointer="/geometry",
        settings=settings,
        allow_point=allow_point,
        level=level,
    )
    warnings.extend(intake.warnings)
    if import_id is None:  # an import gates its rows by batch
        warnings.extend(
            extent.check(
                session,
                intake.geometry,
                hazard=(org.id, props.external_id, None),
                area_bound=extent.area_bound_by_programme(settings),
                level=level,
                area_m2=intake.area_m2,
            )
        )
    if feature.id is not None or feature.bbox is not None:
        warnings.append("ignored read-only Feature members: id, bbox")
    doi = props.date_of_information
    if doi is None:
        doi = datetime.now(UTC).date()
        warnings.append(
            f"date_of_information not given; recorded as today ({doi.isoformat()})"
        )
    _check_doi(doi, "/properties/date_of_information")
    hazard = Hazard(
        organisation_id=org.id,
        classification=stated["classification"],
        date_of_information=doi,
        geom=from_shape(intake.geometry, srid=4326),
        area_m2=ellipsoidal_area_m2(intake.geometry),
        version=0,
        is_demo=is_demo,
        created_by=principal.user_id if principal else None,
    )
    session.add(hazard)
    session.flush()
    _record(
        session,
        hazard,
        kind="create",
        doi=doi,
        stated=stated,
        geometry=intake.geometry,
        submitted_geometry=feature.geometry,
        warnings=warnings,
        principal=principal,
        source=source,
        origin=origin,
        import_id=import_id,
    )
    _commit(session, commit)
    return WriteResult(hazard.id, hazard.version, True, warnings)


def update_hazard(
    session: Session,
    *,
    hazard_id: uuid.UUID,
    patch: HazardFeaturePatch,
    principal: Principal | None,
    settings: Settings,
    if_match: str | None,
    source: str = "api",
    commit: bool = True,
    origin: dict[str, Any] | None = None,
    import_id: uuid.UUID | None = None,
) -> WriteResult:
    """Record a partial update as a new version, honouring If-Match and the DOI rule."""
    hazard = open_for_change(
        session, Hazard, hazard_id, KIND, principal=principal, if_match=if_match
    )
    props = patch.properties or HazardPropertiesPatch()
    stated, warnings = stated_values(session, props, principal, settings)
    if "organisation" in props.model_fields_set:
        org = resolve_org(session, props.organisation, principal)
        require_writer(principal, org.id, org.code)
        stated["organisation"] = str(org.id)
    geometry = None
    if "geometry" in patch.model_fields_set:
        hazard_type = stated.get("hazard_type", hazard.hazard_type)
        level = extent.programme_level(session)
        intake = _intake(
            patch.geometry,
            pointer="/geometry",
            settings=settings,
            allow_point=hazard_type in {t.value for t in POINT_HAZARD_TYPES},
            level=level,
        )
        warnings.extend(intake.warnings)
        geometry = intake.geometry
        if import_id is None:  # an import gates its rows by batch
            external_id = stated.get("external_id", hazard.external_id)
            owner = stated.get("organisation", hazard.organisation_id)
            warnings.extend(
                extent.check(
                    session,
                    geometry,
                    hazard=(owner, external_id, hazard.id),
                    area_bound=extent.area_bound_by_programme(settings),
                    level=level,
                    area_m2=intake.area_m2,
                )
            )
    if not stated and geometry is None:
        raise InvalidInput("nothing to change: send geometry and/or properties")
    doi = (
        props.date_of_information
        if "date_of_information" in props.model_fields_set
        else None
    )
    if doi is None:
        doi = hazard.date_of_information
    _check_doi(doi, "/properties/date_of_information")
    version = _record(
        session,
        hazard,
        kind="update",
        doi=doi,
        stated=stated,
        geometry=geometry,
        submitted_geometry=patch.geometry if geometry is not None else None,
        warnings=warnings,
        principal=principal,
        source=source,
        origin=origin,
        import_id=import_id,
    )
    if version.superseded:
        warnings.append(
            "recorded in history; newer information is kept for: "
            + ", ".join(version.superseded)
        )
    _commit(session, commit)
    return WriteResult(hazard.id, hazard.version, False, warnings)


def retire_hazard(
    session: Session,
    *,
    hazard_id: uuid.UUID,
    principal: Principal | None,
    if_match: str | None,
    reason: str | None,
    source: str = "api",
) -> WriteResult:
    """Retire a hazard (a duplicate or a data error); history keeps every version."""
    hazard = open_for_change(
        session, Hazard, hazard_id, KIND, principal=principal, if_match=if_match
    )
    _record(
        session,
        hazard,
        kind="retire",
        doi=datetime.now(UTC).date(),
        stated={"retirement_reason": reason} if reason else {},
        geometry=None,
        submitted_geometry=None,
        warnings=[],
        principal=principal,
        source=source,
    )
    _commit(session)
    return WriteResult(hazard.id, hazard.version, False, [])


def hazard_ids_for(session: Session, refs: list[str]) -> dict[str, uuid.UUID]:
    """Resolve hazard references (UUIDs or external ids) to ids; unknown ones are left out."""
    out: dict[str, uuid.UUID] = {}
    uuids, externals = [], []
    for ref in refs:
        try:
            uuids.append(uuid.UUID(ref))
        except ValueError:
            externals.append(ref)
    if uuids:
        for hid in session.scalars(
            select(Hazard.id).where(Hazard.id.in_(uuids), Hazard.retired_at.is_(None))
        ):
            out[str(hid)] = hid
    if externals:
        rows = session.execute(
            select(Hazard.external_id, Hazard.id).where(
                Hazard.external_id.in_(externals), Hazard.retired_at.is_(None)
            )
        ).all()
        seen: dict[str, list[uuid.UUID]] = {}
        for ext, hid in rows:
            if ext is not None:  # matched by IN (externals): never null
                seen.setdefault(ext, []).append(hid)
        for ext, ids in seen.items():
            if len(ids) > 1:
                raise InvalidInput(
                    f"external id {ext!r} is used by hazards of several organisations; "
                    "use the hazard's id"
                )
            out[ext] = ids[0]
    return out


HAZARD_COPY_COLUMNS = (
    "id", "external_id", "name", "classification", "hazard_type", "status_set",
    "contamination", "organisation_id", "date_of_information", "benchmark",
    "reference_point", "estimated_area_m2", "evidence", "blockages", "beneficiaries",
    "notes", "geom", "area_m2", "version", "created_by", "admin_pcodes", "admin_primary",
)  # fmt: skip
VERSION_COPY_COLUMNS = (
    "hazard_id", "version", "kind", "date_of_information", "author_user_id",
    "author_api_key_id", "author", "source", "report", "submitted_geometry", "geom",
    "warnings", "changes", "superseded", "origin", "import_id",
)  # fmt: skip
STATE_COPY_COLUMNS = (
    "hazard_id", "valid_from", "valid_to", "version", "organisation_id", "retired",
    "state", "geom",
)  # fmt: skip


def _jtext(value: Any) -> str | None:
    """JSON text for a jsonb column in COPY (None stays NULL)."""
    return None if value is None else orjson.dumps(value).decode()


def _pg_array(values: list[str]) -> str:
    """A text[] literal for COPY, each string quoted (P-codes come from an imported file)."""
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


def _hex(point: Any) -> str | None:
    """Hex EWKB of a point column value built by ``_point`` (or None)."""
    if point is None:
        return None
    return shapely.to_wkb(
        shapely.set_srid(to_shape(point), 4326), hex=True, include_srid=True
    )


@dataclass
class NewHazard:
    """A hazard to create in bulk: what a report states, already checked by the gate."""

    organisation_id: uuid.UUID
    stated: dict[str, Any]  # API names, JSON values, "organisation" as the id string
    geometry: BaseGeometry
    submitted_geometry: Any
    date_of_information: date
    warnings: list[str] = field(default_factory=list)
    origin: dict[str, Any] | None = None


def bulk_create(
    session: Session,
    items: list[NewHazard],
    *,
    principal: Principal | None,
    source: str,
    import_id: uuid.UUID | None = None,
    timings: dict[str, float] | None = None,
) -> list[uuid.UUID]:
    """Create many hazards with a few set-based statements (the import path).

    Each hazard gets exactly what ``create_hazard`` would record: the current state, version 1
    with its changes, the timeline row, admin areas and land-release figures (a test compares
    the two). The admin areas of the batch are looked up in one query, then the rows go in
    with COPY (three statements for the batch; the database measures each area), then the
    figures are computed set-based. The caller has checked the organisation rights, the
    geometry (intake) and that no external id exists yet. Nothing is committed.
    """
    if not items:
        return []
    geoms = [item.geometry for item in items]
    ewkb = shapely.to_wkb(
        shapely.set_srid(np.array(geoms, dtype=object), 4326),
        hex=True,
        include_srid=True,
    )
    author_user = str(principal.user_id) if principal and principal.user_id else None
    author_key = (
        str(principal.api_key_id) if principal and principal.api_key_id else None
    )
    author_name = principal.name if principal else "system"
    import_text = str(import_id) if import_id else None
    # the admin areas each row touches, written with the row (not rewritten after it)
    codes = admin_areas.codes_for(session, [bytes.fromhex(h) for h in ewkb])
    hazard_rows, version_rows, state_rows, ids = [], [], [], []
    for item, geom_hex, (pcodes, primary) in zip(items, ewkb, codes, strict=True):
        hid = uuid.uuid4()
        ids.append(hid)
        hid_text = str(hid)
        stated = {
            **item.stated,
            "organisation": str(item.organisation_id),
            "contamination": item.stated.get("contamination") or [],
            "blockages": item.stated.get("blockages") or [],
        }
        # A create is its own fold: the state is what it states, valid from its date of
        # information onwards, and every stated value is a change from nothing (the same
        # rows as create_hazard writes; tests/services/test_bulk_create.py compares them).
        values = {**stated, history.GEOMETRY: 1}
        doi = item.date_of_information
        changes = {k: [None, v] for k, v in sorted(values.items()) if v is not None}
        c = state_columns(
            history.State(values=values, version=1, date_of_information=doi), None
        )
        hazard_rows.append(
            (
                hid_text,
                c["external_id"],
                c["name"],
                c["classification"],
                c["hazard_type"],
                c["status_set"],
                _pg_array(c["contamination"]),
                str(item.organisation_id),
                doi,
                _hex(c["benchmark"]),
                _hex(c["reference_point"]),
                c["estimated_area_m2"],
                c["evidence"],
                _pg_array(c["blockages"]),
                _jtext(c["beneficiaries"]),
                c["notes"],
                geom_hex,
                None,  # area_m2: measured by the database (trigger hazards_measure)
                1,
                author_user,
                _pg_array(pcodes),
                _jtext(primary),
            )
        )
        version_rows.append(
            (
                hid_text,
                1,
                "create",
                doi,
                author_user,
                author_key,
                author_name,
                source,
                _jtext(stated),
                _jtext(item.submitted_geometry),
                geom_hex,
                _jtext(item.warnings),
                _jtext(_json_changes(changes)),
                "[]",
                _jtext(item.origin),
                import_text,
            )
        )
        state_rows.append(
            (
                hid_text,
                doi,
                None,
                1,
                str(item.organisation_id),
                False,
                _jtext({**stated, "date_of_information": doi.isoformat()}),
                geom_hex,
            )
        )
    copy_rows(session, "hazards", HAZARD_COPY_COLUMNS, hazard_rows)
    copy_rows(session, "hazard_versions", VERSION_COPY_COLUMNS, version_rows)
    copy_rows(session, "hazard_states", STATE_COPY_COLUMNS, state_rows)
    started = time.perf_counter()
    land_release.start(session, ids)  # new: no release, no activity yet
    priorities.refresh(session, ids)
    if timings is not None:  # the import's report shows the stages' times
        timings["land_release"] = (
            timings.get("land_release", 0.0) + time.perf_counter() - started
        )
    return ids

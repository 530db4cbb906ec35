"""Explosive-ordnance finds."""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import orjson
import shapely
from pydantic import ValidationError
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Table, select, text

from api import audit
from api.db.copy import copy_rows
from api.errors import ProblemError
from api.ingest import gate, readers
from api.schemas.eo_finds import EOFindFeature, EOFindProperties
from api.services.imports.common import _RowProblem, _typed, logger
from api.services.imports.write import Writing

FIND_COLUMNS = (
    "id", "external_id", "organisation_id", "activity_id", "hazard_id", "eo_category",
    "model", "quantity", "condition", "depth_cm", "found_on", "disposal_method", "notes",
    "geom", "origin", "is_demo", "created_by", "created_at",
)  # fmt: skip


def _copy_value(value: Any) -> Any:
    """A find's value as COPY takes it: uuids and JSON as text, the point as hex EWKB."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    if isinstance(value, BaseGeometry):
        return shapely.to_wkb(
            shapely.set_srid(value, 4326), hex=True, include_srid=True
        )
    return value


def _stated(props: EOFindProperties) -> dict[str, Any]:
    """What a find's row states, by column (as stored)."""
    return {
        "eo_category": props.eo_category.value,
        "model": props.model,
        "quantity": props.quantity,
        "condition": props.condition.value if props.condition else None,
        "depth_cm": props.depth_cm,
        "found_on": props.found_on,
        "disposal_method": props.disposal_method.value
        if props.disposal_method
        else None,
        "notes": props.notes,
    }


@dataclass
class _MappedFind:
    """An EO-find row mapped: ``props`` None when a value was refused (reported),
    ``geometry`` None when there is no position to take in (reported)."""

    number: int
    props: EOFindProperties | None
    organisation_id: uuid.UUID | None
    geometry: BaseGeometry | None
    origin: dict[str, Any] | None


class EOFindRows(Writing):
    """Explosive-ordnance finds: one point per row."""

    # -- EO finds: points; mapped, gated, then new ones written set-based and updates
    # through the API's own service, each stage timed
    def _eo_finds(self, batch: list[readers.Row]) -> None:
        """A batch of EO-find rows: mapped, gated, written, each stage timed."""
        timed = self.book.timed
        with timed("map"):
            mapped = [self._map_find(row) for row in batch]
        with timed("gate"):
            ready = self._gate_finds(mapped)
        with timed("write"):
            self._write_finds(ready)

    def _map_find(self, row: readers.Row) -> _MappedFind:
        """Map one row and check its values, its organisation and its geometry's reading,
        reporting every problem found in one pass (a refused value and a missing position
        both); the intake runs in the gate."""
        mapped, reported, failed, _ = self._map_values(row)
        try:
            _typed(mapped, ("found_on",), ("quantity", "depth_cm"), self.dayfirst)
        except _RowProblem as exc:
            self.refuse(row.number, exc)
            reported.add(exc.field)
            mapped.pop(exc.field, None)
            failed = True
        if isinstance(mapped.get("found_on"), date):
            mapped["found_on"] = mapped["found_on"].isoformat()
        org_id = None
        try:
            org_id, mapped["organisation"] = self._organisation(
                mapped.get("organisation")
            )
        except gate.GateRejection as exc:
            self.refuse(row.number, exc)
            reported.add("organisation")
            failed = True
        props = None
        try:
            props = EOFindProperties.model_validate(mapped)
        except ValidationError as exc:
            for err in exc.errors():
                name = str(err["loc"][0]) if err["loc"] else ""
                if name in reported or self.mapper.resolved.get(name) in reported:
                    continue  # reported above, in its own words
                self.reject(
                    row.number,
                    self.mapper.resolved.get(name, name),
                    f"{name}: {err['msg']}",
                )
            failed = True
        geom, origin = self._read_geometry(row, mapped)
        if origin is not None:
            kept = self.mapper.kept(row.values)
            if kept:
                origin["source_fields"] = kept
            origin["import_id"] = str(self.imp.id)
        return _MappedFind(row.number, None if failed else props, org_id, geom, origin)

    def _gate_finds(self, mapped: list[_MappedFind]) -> list[tuple]:
        """The intake of each position (also of rows refused for their values, so that
        every problem is reported), then the programme's extent over the batch. Returns
        the rows that passed everything: (row, feature, intake result, origin, org)."""
        ready = []
        for m in mapped:
            if m.geometry is None:
                continue  # unread or missing: reported in the map
            try:
                point = gate.intake(
                    m.geometry,
                    pointer="geometry",
                    allow_point=True,
                    allow_polygon=False,
                    max_vertices=10,
                    refuse_repairs=self.refuse_repairs,
                )
            except gate.GateRejection as exc:
                self.refuse(m.number, exc)
                continue
            if m.props is None or m.organisation_id is None or m.origin is None:
                continue
            feature = EOFindFeature(
                type="Feature", geometry=mapping(point.geometry), properties=m.props
            )
            ready.append((m.number, feature, point, m.origin, m.organisation_id))
        outside = self.outside([(r[0], r[2].geometry) for r in ready])
        return [r for r in ready if r[0] not in outside]

    def _write_finds(self, ready: list[tuple]) -> None:
        """New finds set-based; the rows updating a stored find (or refused by the
        set-based write) through ``eo_finds.create``, as ``POST /eo-finds``."""
        from api.db.models import EOFind
        from api.services import eo_finds

        self.writing()
        one_by_one = self._write_new_finds(ready)
        for number, feature, point, origin, org_id in one_by_one:
            props = feature.properties
            if props.external_id:
                current = self.data.scalar(
                    select(EOFind).where(
                        EOFind.organisation_id == org_id,
                        EOFind.external_id == props.external_id,
                        EOFind.retired_at.is_(None),
                    )
                )
                if current is not None and self._find_unchanged(
                    current, props, point.geometry
                ):
                    self.book.counts["unchanged"] += 1
                    continue
            try:
                with self.data.begin_nested():
                    _fid, created, warnings = eo_finds.create(
                        self.data,
                        feature=feature,
                        principal=self.principal,
                        commit=False,
                        origin=origin,
                        gated=True,
                    )
            except ProblemError as exc:
                errs = getattr(exc, "errors", None) or []
                self.reject(
                    number,
                    errs[0]["pointer"].rsplit("/", 1)[-1] if errs else None,
                    exc.detail,
                )
                continue
            self.book.counts["created" if created else "updated"] += 1
            for w in [*point.warnings, *warnings]:
                self.book.add("warning", number, None, w)

    def _write_new_finds(self, ready: list[tuple]) -> list[tuple]:
        """Write the batch's new finds set-based: references resolved in a few queries, the
        finds written with one COPY and audited in one statement (the rows an ORM insert
        gets; one flush of ORM objects wrote them one INSERT at a time), the distance to their hazards checked in
        one query; the same outcome, messages and warnings as ``eo_finds.create`` gives one
        by one. Returns the rows left to that per-row path, in order: those matching a
        stored find or an earlier row of the batch by external id (an update), all of them
        when a reference cannot be resolved for the whole batch, and the rows of a flush
        that failed (each then gets its own answer)."""
        from api.db.models import Activity, EOFind, Organisation
        from api.errors import Forbidden
        from api.services import hazards
        from api.services.auth import require_writer

        if not ready:
            return []
        data = self.data
        keyed = [(r[4], r[1].properties.external_id) for r in ready]
        with_ext = [(org, ext) for org, ext in keyed if ext]
        stored: set[tuple[Any, str]] = set()
        if with_ext:
            stored = {
                (org, ext)
                for org, ext in data.execute(
                    text(
                        "SELECT f.organisation_id, f.external_id FROM eo_finds f "
                        "JOIN unnest(CAST(:orgs AS uuid[]), CAST(:exts AS text[])) "
                        "AS t(org, ext) ON f.organisation_id = t.org "
                        "AND f.external_id = t.ext AND f.retired_at IS NULL"
                    ),
                    {
                        "orgs": [str(o) for o, _ in with_ext],
                        "exts": [e for _, e in with_ext],
                    },
                )
            }
        bulk, later, seen = [], [], set()
        for r, key in zip(ready, keyed, strict=True):
            if key[1] and (key in stored or key in seen):
                later.append(r)
            else:
                bulk.append(r)
                if key[1]:
                    seen.add(key)
        refs = sorted(
            {r[1].properties.hazard_id for r in bulk if r[1].properties.hazard_id}
        )
        try:
            hazard_ids = hazards.hazard_ids_for(data, refs)
        except ProblemError:  # an external id shared by organisations: row by row
            return ready
        activity_ids = {r[1].properties.activity_id for r in bulk} - {None}
        activities = {
            a.id: a
            for a in data.scalars(select(Activity).where(Activity.id.in_(activity_ids)))
        }
        owners: dict[Any, str] = {}
        now = data.scalar(text("SELECT now()"))  # the column's default, also audited
        finds, rows, written = [], [], []
        for number, feature, point, origin, org_id in bulk:
            props = feature.properties
            activity = activities.get(props.activity_id) if props.activity_id else None
            if props.activity_id and (activity is None or activity.retired_at):
                self.reject(number, "activity_id", "unknown activity")
                continue
            hazard_id = hazard_ids.get(props.hazard_id) if props.hazard_id else None
            if props.hazard_id and hazard_id is None:
                self.reject(number, "hazard_id", "unknown hazard")
                continue
            if activity is None and hazard_id is None:
                self.reject(
                    number, "activity_id", "a find belongs to an activity or a hazard"
                )
                continue
            if activity is not None and activity.organisation_id != org_id:
                owner = activity.organisation_id
                if owner not in owners:
                    owners[owner] = data.get_one(Organisation, owner).code
                try:
                    require_writer(self.principal, owner, owners[owner])
                except Forbidden:
                    self.reject(
                        number,
                        "activity_id",
                        f"activity {activity.id} belongs to {owners[owner]}: its finds "
                        f"are recorded by {owners[owner]} or an admin",
                    )
                    continue
            fid = uuid.uuid4()
            finds.append(
                {
                    "id": fid,
                    "external_id": props.external_id,
                    "organisation_id": org_id,
                    "activity_id": activity.id if activity else None,
                    "hazard_id": hazard_id,
                    **_stated(props),
                    "geom": point.geometry,
                    "origin": origin,
                    "is_demo": False,
                    "created_by": self.principal.user_id,
                    "created_at": now,
                }
            )
            rows.append((number, point, fid, hazard_id))
            written.append((number, feature, point, origin, org_id))
        if finds:
            try:
                with data.begin_nested():
                    copy_rows(
                        data,
                        "eo_finds",
                        FIND_COLUMNS,
                        ([_copy_value(f[k]) for k in FIND_COLUMNS] for f in finds),
                    )
                    audit.inserted(data, cast(Table, EOFind.__table__), finds)
            except Exception:  # one bad row spoils the COPY: those rows one by one
                logger.info(
                    "import %s: finds written row by row", self.imp.id, exc_info=True
                )
                return sorted(written + later, key=lambda r: r[0])
        far = set()
        linked = [(str(fid), str(hid)) for _, _, fid, hid in rows if hid is not None]
        if linked:
            far = set(
                data.scalars(
                    text(
                        "SELECT t.f FROM unnest(CAST(:fs AS uuid[]), CAST(:hs AS uuid[])) "
                        "AS t(f, h) JOIN hazards h ON h.id = t.h "
                        "JOIN eo_finds f ON f.id = t.f "
                        "WHERE NOT ST_DWithin(h.geom::geography, f.geom::geography, 100)"
                    ),
                    {"fs": [f for f, _ in linked], "hs": [h for _, h in linked]},
                )
            )
        same = gate.same_position_finds(data, [fid for _, _, fid, _ in rows])
        for number, point, fid, _ in rows:
            self.book.counts["created"] += 1
            warnings = list(point.warnings)
            if fid in far:
                warnings.append(
                    "the find lies more than 100 m from its hazard; check the position"
                )
            for w in warnings:
                self.book.add("warning", number, None, w)
            for message in same.get(fid, []):
                self.book.add("flag", number, "geometry", message)
        self.book.counts["flagged"] = len(self.book.flag_rows)
        return later

    def _find_unchanged(self, current, props, point: BaseGeometry) -> bool:
        from geoalchemy2.shape import to_shape

        return all(
            getattr(current, k) == v for k, v in _stated(props).items()
        ) and to_shape(current.geom).equals(point)

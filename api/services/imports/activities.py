"""Activities and releases: grouped by activity, written once the whole file is read."""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import shapely
import shapely.geometry
from pydantic import ValidationError
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.dialects.postgresql import distinct_on

from api.errors import ProblemError
from api.ingest import gate, readers
from api.services import hazards
from api.services.imports.common import ACTIVITY_FIELDS, _RowProblem, _typed
from api.services.imports.write import Writing, _norm_wkb


@dataclass
class _MappedActivity:
    """An activity or release row mapped; ``failed`` when a problem was reported."""

    row: readers.Row
    mapped: dict[str, Any]
    ref: str | None
    organisation: tuple[uuid.UUID, str] | None
    geometry: BaseGeometry | None
    failed: bool


class ActivityRows(Writing):
    """Activities and their release polygons: rows grouped by activity, written once the file is read."""

    def _activity_rows(self, batch: list[readers.Row]) -> None:
        """A batch of activity or release rows: mapped, then gated and grouped by activity
        (each stage timed); the groups are written once the whole file is read."""
        with self.book.timed("map"):
            mapped = [self._map_activity(row) for row in batch]
        with self.book.timed("gate"):
            for m in mapped:
                self._gate_activity(m)

    def _map_activity(self, row: readers.Row) -> "_MappedActivity":
        """Map one row and check its values, its organisation and its geometry's reading,
        reporting every problem found in one pass."""
        releases_kind = self.imp.kind == "releases"
        mapped, _, failed, _ = self._map_values(row)
        try:
            _typed(
                mapped,
                ("start_date", "end_date", "release_date"),
                ("clearance_depth_cm",),
                self.dayfirst,
            )
        except _RowProblem as exc:
            self.refuse(row.number, exc)
            failed = True
        ref = mapped.get("activity" if releases_kind else "external_id")
        if not ref:
            self.refuse(
                row.number,
                _RowProblem(
                    "activity" if releases_kind else "external_id",
                    "the activity's external id is required to group rows",
                ),
            )
            failed = True
        org: tuple[uuid.UUID, str] | None = None
        try:
            org = self._organisation(mapped.get("organisation"))
        except gate.GateRejection as exc:
            self.refuse(row.number, exc)
            failed = True
        geom = None
        if row.geometry is not None or any(
            self.mapper.coords.get(k)
            and row.values.get(self.mapper.coords[k]) not in (None, "")
            for k in ("wkt", "geoshape", "lon", "lat")
        ):
            geom, _origin = self._read_geometry(row, mapped)
            failed = failed or geom is None
        return _MappedActivity(row, mapped, ref, org, geom, failed)

    def _gate_activity(self, m: "_MappedActivity") -> None:
        """The intake of a row's release polygon and the rules of a release row; then the
        row joins its activity's group."""
        row, mapped = m.row, m.mapped
        releases_kind = self.imp.kind == "releases"
        geom = None
        try:
            if m.geometry is not None:
                geom = gate.intake(
                    m.geometry,
                    pointer="geometry",
                    allow_point=False,
                    max_vertices=self.settings.max_vertices,
                    refuse_repairs=self.refuse_repairs,
                )
            if m.failed:
                return
            if geom is None and releases_kind:
                raise _RowProblem("geometry", "a release row needs its polygon")
            if geom is not None and not mapped.get("outcome"):
                raise _RowProblem(
                    "outcome",
                    "a release polygon needs its outcome (cancelled, reduced or cleared)",
                )
        except (_RowProblem, gate.GateRejection) as exc:
            self.refuse(row.number, exc)
            return
        assert m.organisation is not None and m.ref
        (org_id, org_code), ref, geom4326 = m.organisation, m.ref, m.geometry
        group = self.groups.setdefault(
            (org_id, ref),
            {"org": org_code, "ref": ref, "fields": {}, "rows": [], "releases": []},
        )
        group["rows"].append(row.number)
        self._held_labels[row.number] = self._label(row)
        if not releases_kind:
            for name in (*ACTIVITY_FIELDS, "hazard_ids"):
                if (
                    mapped.get(name) not in (None, "", [])
                    and name not in group["fields"]
                ):
                    group["fields"][name] = mapped[name]
                elif (
                    name in group["fields"]
                    and mapped.get(name) not in (None, "", [])
                    and mapped[name] != group["fields"][name]
                ):
                    self.book.add(
                        "warning",
                        row.number,
                        name,
                        f"{name} differs from the activity's first row ({group['fields'][name]!r}); the first row's value is kept",
                    )
        if geom is not None:
            self.warn_intake(row.number, geom4326, geom)
            group["releases"].append(
                {
                    "row": row.number,
                    "geometry": geom.geometry,
                    "outcome": mapped["outcome"],
                    "date": mapped.get("release_date"),
                    "hazard": mapped.get("release_hazard_id"),
                }
            )

    def _untouched_releases(
        self, group: dict[str, Any], hazard_ids: list[uuid.UUID]
    ) -> set[int]:
        """Rows whose release polygon touches none of its hazards (one query per activity,
        the rule a release written through the API meets: ``gate.releases_touching``)."""
        if not group["releases"]:
            return set()
        refs = [r["hazard"] for r in group["releases"] if r["hazard"]]
        by_ref = hazards.hazard_ids_for(self.data, refs) if refs else {}
        releases = []
        for r in group["releases"]:
            if r["hazard"] and r["hazard"] not in by_ref:
                self.reject(r["row"], "hazard_id", f"no hazard {r['hazard']!r}")
                continue
            targets = [by_ref[r["hazard"]]] if r["hazard"] else hazard_ids
            releases.append((r["row"], r["geometry"], targets))
        touching = gate.releases_touching(self.data, releases)
        bad = {n for n, _, _ in releases if n not in touching}
        for n in sorted(bad):
            self.reject(n, "geometry", gate.RELEASE_TOUCHES_NONE)
        return bad

    def _write_activities(self) -> None:
        from api.db.models import Activity, ReleasePolygon
        from api.schemas.activities import ActivityCreate, ActivityPatch
        from api.services import activities

        self.writing()
        for (org_id, ref), group in self.groups.items():
            existing = self.data.scalar(
                select(Activity).where(
                    Activity.organisation_id == org_id,
                    Activity.external_id == ref,
                    Activity.retired_at.is_(None),
                )
            )
            if existing is None:
                try:
                    existing = self.data.get(Activity, uuid.UUID(ref))
                except ValueError:
                    existing = None
            first = group["rows"][0]
            try:
                if self.imp.kind == "releases" and existing is None:
                    raise _RowProblem(
                        "activity",
                        f"no activity {ref!r} of {group['org']}: import the activity first",
                    )
                hazard_refs = group["fields"].get("hazard_ids") or []
                if self.imp.kind == "activities" and not hazard_refs:
                    raise _RowProblem(
                        "hazard_ids",
                        "an activity needs the hazards it addresses (hazard_ids)",
                    )
                resolved = (
                    hazards.hazard_ids_for(self.data, hazard_refs)
                    if hazard_refs
                    else {}
                )
                missing = [h for h in hazard_refs if h not in resolved]
                if missing:
                    raise _RowProblem(
                        "hazard_ids", "unknown hazard(s): " + ", ".join(missing)
                    )
                if existing is not None:
                    from api.db.models import ActivityHazard

                    linked = list(
                        self.data.scalars(
                            select(ActivityHazard.hazard_id).where(
                                ActivityHazard.activity_id == existing.id
                            )
                        )
                    )
                else:
                    linked = []
                bad = self._untouched_releases(group, list(resolved.values()) or linked)
            except (_RowProblem, ProblemError) as exc:
                fld, msg = (
                    (exc.field, exc.message)
                    if isinstance(exc, _RowProblem)
                    else (None, exc.detail)
                )
                for n in group["rows"]:
                    self.reject(n, fld, msg)
                continue
            releases = [
                r
                for r in group["releases"]
                if r["row"] not in bad and r["row"] not in self.book.error_rows
            ]
            features = [
                {
                    "type": "Feature",
                    "geometry": mapping(r["geometry"]),
                    "properties": {
                        "outcome": r["outcome"],
                        **({"date": r["date"].isoformat()} if r["date"] else {}),
                        **({"hazard_id": r["hazard"]} if r["hazard"] else {}),
                    },
                }
                for r in releases
            ]
            if existing is not None and self._activity_unchanged(
                existing, group, releases, ReleasePolygon
            ):
                self.book.counts["unchanged"] += 1
                continue
            try:
                with self.data.begin_nested():
                    # a releases row without its activity was refused above
                    if self.imp.kind == "releases" and existing is not None:
                        result = activities.update_activity(
                            self.data,
                            activity_id=existing.id,
                            body=ActivityPatch(
                                releases={
                                    "type": "FeatureCollection",
                                    "features": features,
                                }
                            ),
                            principal=self.principal,
                            settings=self.settings,
                            if_match="*",
                            commit=False,
                        )
                    else:
                        fields = group["fields"]
                        body = ActivityCreate.model_validate(
                            {
                                "external_id": ref,
                                "organisation": group["org"],
                                "hazard_ids": hazard_refs,
                                **{
                                    k: (v.isoformat() if isinstance(v, date) else v)
                                    for k, v in fields.items()
                                    if k in ACTIVITY_FIELDS
                                },
                                "releases": {
                                    "type": "FeatureCollection",
                                    "features": features,
                                },
                            }
                        )
                        result = activities.create_activity(
                            self.data,
                            body=body,
                            principal=self.principal,
                            settings=self.settings,
                            commit=False,
                        )
            except ValidationError as exc:
                for err in exc.errors():
                    name = ".".join(str(p) for p in err["loc"])
                    self.reject(first, name, f"{name}: {err['msg']}")
                continue
            except ProblemError as exc:
                self.reject(first, None, exc.detail)
                continue
            self.book.counts["created" if result.created else "updated"] += 1
            for w in result.warnings:
                self.book.add("warning", first, None, w)

    def _activity_unchanged(self, existing, group, releases, ReleasePolygon) -> bool:
        fields = group["fields"]
        if self.imp.kind == "activities":
            for name in ACTIVITY_FIELDS:
                if name in fields:
                    ours = fields[name]
                    theirs = getattr(existing, name)
                    if name == "methods":
                        ours = list(dict.fromkeys(ours))
                    if ours != theirs:
                        return False
        stored = self.data.execute(
            select(
                ReleasePolygon.outcome,
                ReleasePolygon.date,
                func.ST_AsBinary(ReleasePolygon.geom),
            )
            .ext(distinct_on(ReleasePolygon.feature_index))
            .where(
                ReleasePolygon.activity_id == existing.id,
                ReleasePolygon.retired_at.is_(None),
            )
            .order_by(ReleasePolygon.feature_index)
        ).all()
        mine = sorted(
            (r["outcome"], r["date"] or existing.end_date, _norm_wkb(r["geometry"]))
            for r in releases
        )
        theirs = sorted(
            (o, d, _norm_wkb(shapely.from_wkb(bytes(w)))) for o, d, w in stored
        )
        return mine == theirs

"""Explosive-ordnance finds."""

from datetime import date

from pydantic import ValidationError
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    select,
)

from api.errors import ProblemError
from api.ingest import gate, readers
from api.services.imports.common import _RowProblem, _typed
from api.services.imports.write import Writing


class EOFindRows(Writing):
    """Explosive-ordnance finds: one point per row."""

    # -- EO finds: points, one by one through the API's own service
    def _eo_finds(self, batch: list[readers.Row]) -> None:
        from api.db.models import EOFind
        from api.schemas.eo_finds import EOFindFeature
        from api.services import eo_finds

        ready = []
        for row in batch:
            mapped = self._common(row)
            if mapped is None:
                continue
            try:
                _typed(mapped, ("found_on",), ("quantity", "depth_cm"), self.dayfirst)
                if isinstance(mapped.get("found_on"), date):
                    mapped["found_on"] = mapped["found_on"].isoformat()
                org_id, org_code = self._organisation(mapped.get("organisation"))
                mapped["organisation"] = org_code
                geom, origin = self._geometry(row, mapped)
                point = gate.intake(
                    geom,
                    pointer="geometry",
                    allow_point=True,
                    allow_polygon=False,
                    max_vertices=10,
                    refuse_repairs=self.refuse_repairs,
                )
                feature = EOFindFeature.model_validate(
                    {
                        "type": "Feature",
                        "geometry": mapping(point.geometry),
                        "properties": mapped,
                    }
                )
            except (_RowProblem, gate.GateRejection) as exc:
                self.refuse(row.number, exc)
                continue
            except ValidationError as exc:
                for err in exc.errors():
                    name = str(err["loc"][-1]) if err["loc"] else ""
                    self.reject(
                        row.number,
                        self.mapper.resolved.get(name, name),
                        f"{name}: {err['msg']}",
                    )
                continue
            kept = self.mapper.kept(row.values)
            if kept:
                origin["source_fields"] = kept
            origin["import_id"] = str(self.imp.id)
            ready.append((row.number, feature, point, origin, org_id))
        outside = self.outside([(r[0], r[2].geometry) for r in ready])
        self.writing()
        for number, feature, point, origin, org_id in ready:
            if number in outside:
                continue
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

    def _find_unchanged(self, current, props, point: BaseGeometry) -> bool:
        from geoalchemy2.shape import to_shape

        pairs = {
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
        return all(getattr(current, k) == v for k, v in pairs.items()) and to_shape(
            current.geom
        ).equals(point)

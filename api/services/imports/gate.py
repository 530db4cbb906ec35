"""Gate: the spatial quality gate over a batch of rows."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from shapely.geometry import Point, mapping
from shapely.geometry.base import BaseGeometry

from api.ingest import gate
from api.schemas.hazards import (
    HazardPropertiesCreate,
)
from api.services.imports.map import Mapping, _Mapped
from api.spatial.intake import ellipsoidal_areas


@dataclass
class Candidate:
    """A row that passed the gate, ready to be written."""

    row: int
    organisation_id: uuid.UUID
    organisation_code: str
    props: HazardPropertiesCreate
    geometry: BaseGeometry
    submitted: Any
    doi: date
    warnings: list[str]
    origin: dict[str, Any]
    area_m2: float | None = None  # when the intake measured it


class Gate(Mapping):
    """Gate: the rules over a batch (intake, vectorised; programme extent and area bound in one query)."""

    def outside(
        self,
        rows: list[tuple[int, BaseGeometry]],
        areas: dict[int, float | None] | None = None,
    ) -> dict[int, str]:
        """``gate.outside_programme`` for the batch, each row reported as rejected with the
        corrected position when a swap or sign flip would put it inside. With ``areas``
        (hazards: row -> area already measured, or None) also the rows larger than the
        top-level admin area they touch, unless a fixed bound is configured."""
        corrected: dict[int, tuple[str, BaseGeometry]] = {}
        bounded: dict[int, float] | None = None
        if (
            areas is not None
            and self.level is not None
            and self.settings.max_hazard_area_km2 is None
            and rows
        ):
            todo = [(n, g) for n, g in rows if areas.get(n) is None]
            measured: Any = ellipsoidal_areas([g for _, g in todo]) if todo else []
            bounded = {n: a for n, a in areas.items() if a is not None}
            bounded.update(
                {n: float(a) for (n, _), a in zip(todo, measured, strict=True)}
            )
        found = gate.outside_programme(self.data, rows, self.level, corrected, bounded)
        for n, msg in found.items():
            seq = self.reject(n, "geometry", msg)
            if n in corrected:
                label, geom = corrected[n]
                self.book.attach(seq, correction=label, corrected_geometry=geom)
        return found

    def _gate_hazards(self, rows: "list[_Mapped]") -> list[Candidate]:
        """The intake over the batch's geometries (vectorised where a row passes untouched,
        row by row where it is repaired or refused), then the rows that passed everything."""
        with_geom = [m for m in rows if m.geometry is not None]
        results = gate.intake_many(
            [m.geometry for m in with_geom],
            pointer="geometry",
            allow_point=[m.allow_point for m in with_geom],
            max_vertices=self.settings.max_vertices,
            max_area_m2=gate.hazard_area_bound(
                self.settings.max_hazard_area_km2, self.level
            ),
            refuse_repairs=self.refuse_repairs,
        )
        out: list[Candidate] = []
        for m, result in zip(with_geom, results, strict=True):
            if isinstance(result, gate.GateRejection):
                self.refuse(m.row.number, result)
                continue
            if m.props is None or m.organisation is None or m.origin is None:
                continue  # refused for its values, reported with them
            candidate = self._candidate(m, result)
            if candidate is not None:
                out.append(candidate)
        return out

    def _candidate(self, m: "_Mapped", result: Any) -> Candidate | None:
        row, geom, props, origin, warnings = (
            m.row,
            m.geometry,
            m.props,
            m.origin,
            m.warnings,
        )
        assert geom is not None and props is not None and origin is not None
        assert m.organisation is not None
        doi = m.doi
        if isinstance(geom, Point) and not m.allow_point:
            self.refuse(
                row.number,
                gate.GateRejection(
                    "geometry",
                    f"a point ({geom.x:.6f}, {geom.y:.6f}) is accepted only for uxo_spot and axo_site hazards; "
                    "give the area's polygon",
                ),
            )
            return None
        if doi is None:
            doi = datetime.now(UTC).date()
            warnings.append(
                f"date_of_information not given; recorded as today ({doi.isoformat()})"
            )
        kept = self.mapper.kept(row.values)
        if kept:
            origin["source_fields"] = kept
        origin["import_id"] = str(self.imp.id)
        self.warn_intake(row.number, geom, result, warnings)
        return Candidate(
            row.number,
            m.organisation[0],
            m.organisation[1],
            props,
            result.geometry,
            # as submitted, when the stored geometry differs (a repair); the file itself is
            # kept with the import, and origin names its row
            mapping(geom) if result.repaired else None,
            doi,
            [*warnings, *result.warnings],
            origin,
            result.area_m2,
        )

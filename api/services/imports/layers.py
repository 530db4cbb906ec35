"""Admin areas and context layers."""

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    text,
)

from api.ingest import gate, readers, values
from api.services import admin_areas
from api.services.imports.common import _RowProblem, _typed
from api.services.imports.write import Writing


@dataclass(frozen=True)
class ContextSpec:
    """What a context layer's rows carry besides external_id and name."""

    geometry: str  # point, line or polygon
    sql_types: dict[str, str]
    required: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    ints: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """The layer's own columns."""
        return tuple(self.sql_types)


CONTEXT_SPECS = {
    "settlements": ContextSpec("point", {"population": "int"}, ints=("population",)),
    "roads": ContextSpec("line", {"road_class": "text"}),
    "facilities": ContextSpec(
        "point", {"facility_type": "text"}, required=("facility_type",)
    ),
    "land_use": ContextSpec("polygon", {"land_use": "text"}, required=("land_use",)),
    "security_zones": ContextSpec(
        "polygon",
        {"reason": "text", "valid_from": "date", "valid_to": "date"},
        dates=("valid_from", "valid_to"),
    ),
}


def _jsonable_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _content_id(layer: str, geom: BaseGeometry, values_: dict[str, Any]) -> str:
    """An id for a row that has none: the same feature re-imported gets the same id."""
    digest = hashlib.sha1(
        shapely.to_wkb(shapely.normalize(geom))
        + orjson.dumps(
            {k: _jsonable_value(v) for k, v in values_.items()},
            option=orjson.OPT_SORT_KEYS,
        )
    ).hexdigest()
    return f"sha1:{layer}:{digest[:20]}"


@dataclass
class _MappedRow:
    """A layer's row mapped: ``failed`` when a value was refused (reported), ``geometry``
    None when it could not be read (reported)."""

    row: readers.Row
    mapped: dict[str, Any]
    geometry: BaseGeometry | None
    failed: bool


class ProgrammeLayers(Writing):
    """Programme-wide layers: admin areas and context layers (settlements, roads, facilities, land use, security zones)."""

    # -- context layers: programme-wide reference data, upserted by external id
    def _context(self, batch: list[readers.Row]) -> None:
        """A batch of a context layer's rows: mapped, gated, upserted, each stage timed."""
        from api.db.models.context import CONTEXT_LAYERS

        layer = self.imp.options["context"]
        table = CONTEXT_LAYERS[layer].__tablename__
        spec = CONTEXT_SPECS[layer]
        with self.book.timed("map"):
            mapped = [self._map_layer_row(row, spec, layer) for row in batch]
        with self.book.timed("gate"):
            unique = self._gate_context(mapped, spec, layer)
        with self.book.timed("write"):
            self._write_context(unique, table, spec)
        self._count_rejected()

    def _map_layer_row(
        self, row: readers.Row, spec: "ContextSpec", layer: str
    ) -> _MappedRow:
        """Map a context row and check its values and its geometry's reading, every
        problem of the row reported in one pass."""
        mapped, reported, failed, _ = self._map_values(row)
        try:
            _typed(mapped, spec.dates, spec.ints, self.dayfirst)
        except _RowProblem as exc:
            self.refuse(row.number, exc)
            failed = True
        for name in spec.required:
            if name in reported or self.mapper.resolved.get(name) in reported:
                continue  # refused by the mapping, in its own words
            if mapped.get(name) in (None, ""):
                self.refuse(
                    row.number, _RowProblem(name, f"{name} is required for {layer}")
                )
                failed = True
        geom, _origin = self._read_geometry(row, mapped)
        return _MappedRow(row, mapped, geom, failed)

    def _gate_context(
        self, rows: list[_MappedRow], spec: "ContextSpec", layer: str
    ) -> list[tuple]:
        """The intake of each geometry, the programme's extent, and external ids repeated
        in the file; the rows to upsert."""
        good = []
        for m in rows:
            if m.geometry is None:
                continue
            try:
                geom = gate.intake_context(
                    m.geometry,
                    spec.geometry,
                    max_vertices=self.settings.max_admin_vertices,
                    refuse_repairs=self.refuse_repairs,
                )
            except gate.GateRejection as exc:
                self.refuse(m.row.number, exc)
                continue
            if m.failed:
                continue
            self.warn_intake(m.row.number, m.geometry, geom)
            attrs = self.mapper.kept(m.row.values)
            values_ = {k: m.mapped.get(k) for k in spec.columns}
            ext = m.mapped.get("external_id") or _content_id(
                layer, geom.geometry, values_
            )
            good.append(
                (m.row.number, ext, m.mapped.get("name"), values_, attrs, geom.geometry)
            )
        outside = self.outside([(g[0], g[5]) for g in good])
        good = [g for g in good if g[0] not in outside]
        seen: dict[str, int] = {}
        unique = []
        for g in good:
            if g[1] in seen:
                self.reject(
                    g[0],
                    "external_id",
                    f"external_id {g[1]!r} already appears in row {seen[g[1]]} of this file",
                )
                continue
            seen[g[1]] = g[0]
            unique.append(g)
        self._seen_context = getattr(self, "_seen_context", {})
        for g in unique:
            if g[1] in self._seen_context:
                self.reject(
                    g[0],
                    "external_id",
                    f"external_id {g[1]!r} already appears in row {self._seen_context[g[1]]} of this file",
                )
        unique = [g for g in unique if g[1] not in self._seen_context]
        self._seen_context.update({g[1]: g[0] for g in unique})
        return unique

    def _write_context(
        self, unique: list[tuple], table: str, spec: "ContextSpec"
    ) -> None:
        """Upsert the rows by external id, in one statement; counts created, updated and
        unchanged."""
        if unique:
            cols = list(spec.columns)
            assign = ", ".join(
                f"{c} = EXCLUDED.{c}"
                for c in ["name", *cols, "attributes", "geom", "import_id"]
            )
            changed = " OR ".join(
                [
                    f"t.{c} IS DISTINCT FROM EXCLUDED.{c}"
                    for c in ["name", *cols, "attributes"]
                ]
                + ["NOT ST_OrderingEquals(t.geom, EXCLUDED.geom)"]
            )
            rows = self.data.execute(
                text(
                    f"""
                    INSERT INTO {table} AS t (external_id, name, {", ".join(cols)}, attributes, geom, import_id)
                    SELECT u.ext, u.name, {", ".join(f"u.{c}" for c in cols)}, u.attrs,
                           ST_GeomFromWKB(u.wkb, 4326), CAST(:import_id AS uuid)
                    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS u(
                        ext text, name text, {", ".join(f"{c} {t}" for c, t in spec.sql_types.items())},
                        attrs jsonb, wkb bytea)
                    ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO UPDATE
                       SET {assign}, updated_at = now()
                     WHERE {changed}
                    RETURNING (xmax = 0) AS inserted
                    """
                ),
                {
                    "import_id": str(self.imp.id),
                    "rows": orjson.dumps(
                        [
                            {
                                "ext": ext,
                                "name": name,
                                **{c: _jsonable_value(v.get(c)) for c in cols},
                                "attrs": attrs,
                                "wkb": "\\x" + shapely.to_wkb(geom, hex=True),
                            }
                            for _n, ext, name, v, attrs, geom in unique
                        ]
                    ).decode(),
                },
            ).all()
            created = sum(1 for r in rows if r.inserted)
            self.book.counts["created"] += created
            self.book.counts["updated"] += len(rows) - created
            self.book.counts["unchanged"] += len(unique) - len(rows)

    # -- admin areas
    def _admin_areas(self, batch: list[readers.Row]) -> None:
        """A batch of admin-area rows: mapped, gated, upserted by P-code, each stage
        timed; the hazards' P-codes follow."""
        with self.book.timed("map"):
            mapped = [self._map_admin_area(row) for row in batch]
        with self.book.timed("gate"):
            good = self._gate_admin_areas(mapped)
        with self.book.timed("write"):
            self._write_admin_areas(good)

    def _map_admin_area(self, row: readers.Row) -> _MappedRow:
        """Map an admin-area row: P-code as text, level, name, geometry read; every problem
        of the row reported in one pass."""
        mapped, _, failed, _ = self._map_values(row)
        pcode = mapped.get("pcode")
        if pcode is None:
            self.reject(row.number, "pcode", "pcode is empty")
            failed = True
        elif isinstance(pcode, int | float):
            self.reject(
                row.number,
                self.mapper.resolved.get("pcode"),
                f"pcode is a number ({pcode!r}) in the file: leading zeros may have been lost; store the column as text",
            )
            failed = True
        level = None
        try:
            if mapped.get("level") is not None:
                level = int(values.parse_number(mapped.get("level"), integer=True))
        except values.ValueProblem as exc:
            self.reject(row.number, self.mapper.resolved.get("level"), str(exc))
            failed = True
        else:
            if level is None or not mapped.get("name"):
                self.reject(
                    row.number,
                    "level" if level is None else "name",
                    "level and name are required",
                )
                failed = True
        mapped["level"] = level
        geom, _origin = self._read_geometry(row, mapped)
        return _MappedRow(row, mapped, geom, failed)

    def _gate_admin_areas(self, rows: list[_MappedRow]) -> list[dict[str, Any]]:
        """The intake of each outline; the rows to upsert."""
        good = []
        for m in rows:
            if m.geometry is None:
                continue
            try:
                result = gate.intake(
                    m.geometry,
                    pointer="geometry",
                    allow_point=False,
                    max_vertices=self.settings.max_admin_vertices,
                    refuse_repairs=self.refuse_repairs,
                )
            except gate.GateRejection as exc:
                self.refuse(m.row.number, exc)
                continue
            if m.failed:
                continue
            self.warn_intake(m.row.number, m.geometry, result)
            parent = m.mapped.get("parent_pcode")
            good.append(
                {
                    "n": m.row.number,
                    "pcode": str(m.mapped["pcode"]).strip(),
                    "name": str(m.mapped["name"]),
                    "level": m.mapped["level"],
                    "parent": str(parent).strip() if parent not in (None, "") else None,
                    "wkb": shapely.to_wkb(result.geometry),
                }
            )
        return good

    def _write_admin_areas(self, good: list[dict[str, Any]]) -> None:
        """Upsert the areas by P-code in one statement; then every hazard's P-codes."""
        if good:
            rows = self.data.execute(
                text(
                    """
                    WITH t AS (
                        SELECT * FROM unnest(CAST(:pcodes AS text[]), CAST(:names AS text[]),
                                             CAST(:levels AS int[]), CAST(:parents AS text[]),
                                             CAST(:wkbs AS bytea[])) AS u(pcode, name, level, parent, wkb)
                    ), up AS (
                        INSERT INTO admin_areas (pcode, name, level, parent_pcode, geom)
                        SELECT pcode, name, level, parent, ST_Multi(ST_GeomFromWKB(wkb, 4326)) FROM t
                        ON CONFLICT (pcode) DO UPDATE
                           SET name = EXCLUDED.name, level = EXCLUDED.level,
                               parent_pcode = EXCLUDED.parent_pcode, geom = EXCLUDED.geom
                         WHERE (admin_areas.name, admin_areas.level, admin_areas.parent_pcode)
                               IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.level, EXCLUDED.parent_pcode)
                            OR NOT ST_Equals(admin_areas.geom, EXCLUDED.geom)
                        RETURNING pcode, (xmax = 0) AS inserted
                    )
                    SELECT pcode, inserted FROM up
                    """
                ),
                {
                    k: [g[v] for g in good]
                    for k, v in (
                        ("pcodes", "pcode"),
                        ("names", "name"),
                        ("levels", "level"),
                        ("parents", "parent"),
                        ("wkbs", "wkb"),
                    )
                },
            ).all()
            created = sum(1 for r in rows if r.inserted)
            self.book.counts["created"] += created
            self.book.counts["updated"] += len(rows) - created
            self.book.counts["unchanged"] += len(good) - len(rows)
            if rows:
                admin_areas.assign_hazards(self.data, None)
        self.book.counts["rejected"] = len(self.book.error_rows)
        if self.level is None:
            self.level = gate.programme_level(self.data)

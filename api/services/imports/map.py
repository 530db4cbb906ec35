"""Map: a row's values, through the profile, into ours."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from shapely.geometry.base import BaseGeometry

from api.errors import NotFound, ProblemError
from api.ingest import gate, readers, values
from api.schemas.hazards import (
    HazardPropertiesCreate,
)
from api.services.auth import (
    organisation_by_code,
    require_writer,
)
from api.services.imports.report import Reporting
from api.vocab import POINT_HAZARD_TYPES

# fields that are text whatever a spreadsheet made of them (an id typed 1234 is read 1234.0)
TEXT_FIELDS = (
    "external_id", "activity", "release_hazard_id", "hazard_id", "organisation", "name",
    "notes", "model",
)  # fmt: skip


@dataclass
class _Mapped:
    """A hazard row mapped and its values checked, before the intake of its geometry:
    ``props`` and ``organisation`` are None when a value was refused (reported already);
    ``geometry`` is None when it could not be read (reported)."""

    row: readers.Row
    props: HazardPropertiesCreate | None
    organisation: tuple[uuid.UUID, str] | None
    geometry: BaseGeometry | None
    origin: dict[str, Any] | None
    doi: date | None
    warnings: list[str]
    allow_point: bool


class Mapping(Reporting):
    """Map: a row's values through the profile into ours, every problem of the row reported in one pass."""

    def _organisation(self, code: str | None) -> tuple[uuid.UUID, str]:
        if code is None:
            if self.imp.organisation_id is None:
                raise gate.GateRejection(
                    "organisation",
                    "no organisation: give the column or the organisation parameter",
                )
            org_id = self.imp.organisation_id
            code = next((c for c, (i, _) in self.orgs.items() if i == org_id), None)
            if code is None:
                from api.db.models import Organisation

                code = self.data.get_one(Organisation, org_id).code
        if code not in self.orgs:
            try:
                org = organisation_by_code(self.data, code)
            except NotFound as exc:
                raise gate.GateRejection(
                    "organisation", f"unknown organisation {code!r}"
                ) from exc
            self.orgs[code] = (org.id, org.code)
        org_id, org_code = self.orgs[code]
        try:
            require_writer(self.principal, org_id, org_code)
        except ProblemError as exc:
            raise gate.GateRejection("organisation", exc.detail) from exc
        return org_id, org_code

    def _map_hazard(self, row: readers.Row) -> "_Mapped | None":
        """Map one row and check its values and its geometry's reading, reporting every
        problem found (a missing value and a null geometry both); the intake runs later,
        over the batch. None when the row is not a hazard row at all."""
        if not row.error and not self.mapper.applies(row.values):
            self.book.counts["skipped"] += 1
            return None
        mapped, reported, failed, warnings = self._map_values(row)
        doi = None
        if "date_of_information" in mapped:
            try:
                doi = values.parse_date(
                    mapped.pop("date_of_information"), dayfirst=self.dayfirst
                )
            except values.ValueProblem as exc:
                reported.add("date_of_information")
                failed = True
                self.reject(
                    row.number,
                    self.mapper.resolved.get("date_of_information"),
                    str(exc),
                )
        if doi is not None and doi > datetime.now(UTC).date() + timedelta(days=1):
            reported.add("date_of_information")
            failed = True
            self.reject(
                row.number,
                self.mapper.resolved.get("date_of_information"),
                f"date_of_information {doi} is in the future",
            )
        for num in ("estimated_area_m2",):
            if num in mapped:
                try:
                    mapped[num] = values.parse_number(mapped[num])
                except values.ValueProblem as exc:
                    reported.add(num)
                    failed = True
                    self.reject(row.number, self.mapper.resolved.get(num), str(exc))
        props = None
        try:
            props = HazardPropertiesCreate.model_validate(
                {**mapped, "date_of_information": doi}
            )
        except ValidationError as exc:
            failed = True
            for err in exc.errors():
                name = str(err["loc"][0]) if err["loc"] else ""
                if name in reported or self.mapper.resolved.get(name) in reported:
                    continue  # reported above, in its own words
                reported.add(name)
                self.reject(
                    row.number,
                    self.mapper.resolved.get(name, name),
                    f"{name}: {err['msg']}",
                )
        org: tuple[uuid.UUID, str] | None = None
        try:
            org = self._organisation(
                props.organisation if props else mapped.get("organisation")
            )
        except gate.GateRejection as exc:
            failed = True
            self.refuse(row.number, exc)
        geom, origin = self._read_geometry(row, mapped)
        failed = failed or geom is None
        hazard_type = props.hazard_type if props else mapped.get("hazard_type")
        return _Mapped(
            row,
            props if not failed else None,
            org,
            geom,
            origin,
            doi,
            warnings,
            hazard_type in POINT_HAZARD_TYPES,
        )

    def _map_values(
        self, row: readers.Row
    ) -> tuple[dict[str, Any], set[str], bool, list[str]]:
        """Map a row's values through the profile, reporting the values it refuses (and a
        geometry the file could not read: the values are still checked); identifiers and
        texts a spreadsheet read as numbers (1234.0) back to text. Returns the values, the
        fields already reported, whether anything of the row was, and the mapping's
        warnings."""
        if row.error:
            self.reject(row.number, *row.error)
        mapped, errors, warnings = self.mapper.map_row(row.values)
        for fld, msg in errors:
            self.reject(row.number, fld, msg)
        for key in TEXT_FIELDS:
            v = mapped.get(key)
            if v is not None and not isinstance(v, str):
                mapped[key] = (
                    str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
                )
        reported = {fld for fld, _ in errors}
        return mapped, reported, bool(errors) or bool(row.error), warnings

    def _read_geometry(
        self, row: readers.Row, mapped: dict[str, Any]
    ) -> tuple[BaseGeometry | None, dict[str, Any] | None]:
        """The row's geometry in WGS 84 and its origin; (None, None) when there is none to
        take in (the problem reported here, or already when the file could not read it)."""
        if row.error:
            return None, None
        try:
            return self._geometry(row, mapped)
        except gate.GateRejection as exc:
            self.refuse(row.number, exc)
            return None, None

"""Write: hazards, set-based."""

from typing import Any

import shapely
import shapely.geometry
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    text,
)

from api.errors import ProblemError
from api.schemas.hazards import (
    HazardFeaturePatch,
    HazardPropertiesPatch,
)
from api.services import hazards
from api.services.imports.common import logger
from api.services.imports.gate import Candidate, Gate


def _norm_wkb(geom: BaseGeometry) -> bytes:
    return shapely.to_wkb(shapely.normalize(geom))


# The stored hazard (the earliest) that a row without an external id repeats: an equal
# geometry of the same organisation, with its current state. A lateral subquery per row, so
# that each row is looked up in the GiST index: as a plain join the planner, without
# statistics yet for the rows the running import wrote, compared every row of a batch with
# every stored hazard (2 s for one batch of 2,000 against 4,000 stored, growing with the
# table: 20,000 rows without ids took 64 s, 18 s with this form).
SAME_GEOMETRY_SQL = """
SELECT t.n, h.id, h.version, h.date_of_information, h.status,
       ST_AsBinary(h.geom) AS wkb, s.state
FROM unnest(CAST(:ns AS int[]), CAST(:orgs AS uuid[]), CAST(:wkbs AS bytea[]))
     AS t(n, org, wkb)
CROSS JOIN LATERAL (
    SELECT h.* FROM hazards h
    WHERE h.geom && ST_GeomFromWKB(t.wkb, 4326)
      AND ST_Equals(h.geom, ST_GeomFromWKB(t.wkb, 4326))
      AND h.organisation_id = t.org AND h.external_id IS NULL AND h.retired_at IS NULL
    ORDER BY h.created_at LIMIT 1) h
JOIN hazard_states s ON s.hazard_id = h.id AND s.valid_to IS NULL
"""

SAME_GEOMETRY_DEG = 1e-9  # about 0.1 mm: below what any survey or file format resolves


def _same_geometry(stored: BaseGeometry, row: BaseGeometry) -> bool:
    """Whether a row repeats the stored geometry: the same shape, vertex for vertex, to within
    1e-9° (files that print 15 significant digits round the last one)."""
    if stored.equals(row):
        return True
    return bool(
        shapely.equals_exact(
            shapely.normalize(stored), shapely.normalize(row), SAME_GEOMETRY_DEG
        )
    )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    return a == b


class Writing(Gate):
    """Write: hazards, set-based (COPY) for new ones, a versioned edit for changed ones."""

    def _existing(self, cands: list[Candidate]) -> dict[int, dict[str, Any]]:
        """The current state of the hazards that rows refer to: by external id (indexed), or,
        for rows without one, an equal geometry of the same organisation (the earliest:
        ``SAME_GEOMETRY_SQL``)."""
        out: dict[int, dict[str, Any]] = {}
        with_id = [c for c in cands if c.props.external_id]
        if with_id:
            rows = self.data.execute(
                text(
                    """
                    SELECT t.n, h.id, h.version, h.date_of_information, h.status,
                           ST_AsBinary(h.geom) AS wkb, s.state
                    FROM unnest(CAST(:ns AS int[]), CAST(:orgs AS uuid[]),
                                CAST(:exts AS text[])) AS t(n, org, ext)
                    JOIN hazards h ON h.organisation_id = t.org AND h.external_id = t.ext
                                  AND h.retired_at IS NULL
                    JOIN hazard_states s ON s.hazard_id = h.id AND s.valid_to IS NULL
                    """
                ),
                {
                    "ns": [c.row for c in with_id],
                    "orgs": [str(c.organisation_id) for c in with_id],
                    "exts": [c.props.external_id for c in with_id],
                },
            ).mappings()
            out.update({r["n"]: dict(r) for r in rows})
        without = [c for c in cands if not c.props.external_id]
        if without:
            rows = self.data.execute(
                text(SAME_GEOMETRY_SQL),
                {
                    "ns": [c.row for c in without],
                    "orgs": [str(c.organisation_id) for c in without],
                    "wkbs": [shapely.to_wkb(c.geometry) for c in without],
                },
            ).mappings()
            out.update({r["n"]: dict(r) for r in rows})
        return out

    def _stated(self, c: Candidate) -> dict[str, Any]:
        stated, _ = hazards.stated_values(
            self.data, c.props, self.principal, self.settings
        )
        stated["organisation"] = str(c.organisation_id)
        return stated

    def _update(self, c: Candidate, current: dict[str, Any]) -> None:
        stated = self._stated(c)
        state = current["state"] or {}
        derived_status = state.get("status") is None
        if derived_status and stated.get("status") == current["status"]:
            # the file repeats the status derived from activities (an export does): not a
            # statement that pins it by hand
            del stated["status"]
            c.props = c.props.model_copy(update={"status": None})
            c.props.model_fields_set.discard("status")
        same_values = all(
            _same(stated[k], state.get(k))
            for k in stated
            if k != "external_id" or stated[k]
        )
        same_geom = _same_geometry(shapely.from_wkb(current["wkb"]), c.geometry)
        if same_values and same_geom and c.doi <= current["date_of_information"]:
            self.book.counts["unchanged"] += 1
            return
        patch_props = c.props.model_dump(exclude_unset=True, exclude={"organisation"})
        patch_props["date_of_information"] = c.doi
        patch = HazardFeaturePatch(
            geometry=None if same_geom else mapping(c.geometry),
            properties=HazardPropertiesPatch(**patch_props),
        )
        if same_geom:
            patch = HazardFeaturePatch(properties=patch.properties)
        try:
            with self.data.begin_nested():
                result = hazards.update_hazard(
                    self.data,
                    hazard_id=current["id"],
                    patch=patch,
                    principal=self.principal,
                    settings=self.settings,
                    if_match="*",
                    source=self.source_name,
                    commit=False,
                    origin=c.origin,
                    import_id=self.imp.id,
                )
        except ProblemError as exc:
            self.reject(c.row, None, exc.detail)
            return
        if c.doi < current["date_of_information"]:
            self.book.counts["history_only"] += 1
            self.book.add(
                "warning",
                c.row,
                "date_of_information",
                f"dated {c.doi}, before the stored {current['date_of_information']}: kept in history; newer facts stay current",
            )
        else:
            self.book.counts["updated"] += 1
        for w in result.warnings:
            if w.startswith("recorded in history"):
                continue

    def _create(self, cands: list[Candidate]) -> None:
        if not cands:
            return
        self.writing()
        items = [
            hazards.NewHazard(
                c.organisation_id,
                self._stated(c),
                c.geometry,
                c.submitted,
                c.doi,
                c.warnings,
                c.origin,
            )
            for c in cands
        ]
        try:
            with self.data.begin_nested():
                ids = hazards.bulk_create(
                    self.data,
                    items,
                    principal=self.principal,
                    source=self.source_name,
                    import_id=self.imp.id,
                    timings=self.book.seconds,
                )
            self.book.counts["created"] += len(ids)
            return
        except (
            Exception
        ):  # one bad row spoils a set-based insert: isolate it row by row
            logger.info(
                "import %s: batch insert failed, retrying row by row",
                self.imp.id,
                exc_info=True,
            )
        for c, item in zip(cands, items, strict=True):
            try:
                with self.data.begin_nested():
                    hazards.bulk_create(
                        self.data,
                        [item],
                        principal=self.principal,
                        source=self.source_name,
                        import_id=self.imp.id,
                    )
                self.book.counts["created"] += 1
            except (
                Exception
            ) as exc:  # reported per row; the message names the constraint
                self.reject(
                    c.row,
                    None,
                    f"the database refused the row: {str(getattr(exc, 'orig', exc)).splitlines()[0]}",
                )

"""The gate's checks beyond the geometry intake, for one record written through the API.

A file row meets them in its batch (``api.ingest.gate``); a single ``POST``/``PATCH`` meets the
same rules with the same messages: a geometry outside the programme's country is refused (422,
with the swapped or sign-flipped position that would lie inside, when one does), and a
hazard's slivers, vertex jumps and possible duplicates come back as warnings of the 201/200.
"""

from typing import Any

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from api.errors import InvalidGeometry
from api.ingest import gate
from api.settings import Settings


def check(
    session: Session,
    geometry: BaseGeometry,
    *,
    pointer: str = "/geometry",
    hazard: tuple[Any, str | None, Any] | None = None,
    area_bound: bool = False,
) -> list[str]:
    """Warnings for ``geometry`` written at ``pointer``; InvalidGeometry (422) if refused.

    ``hazard``: the organisation id, external id and (when edited) id of the hazard written,
    for its shape findings and possible duplicates. ``area_bound``: refuse an area larger
    than the top-level admin area it touches (hazards and reports, unless a fixed bound is
    configured: ``area_bound_by_programme``).
    """
    try:
        return gate.single_write(
            session, geometry, pointer=pointer, hazard=hazard, area_bound=area_bound
        )
    except gate.OutsideProgramme as exc:
        extra: dict[str, Any] = {}
        if exc.corrected is not None:
            extra = {
                "correction": exc.correction,
                "corrected_geometry": mapping(exc.corrected),
            }
        raise InvalidGeometry(
            f"{pointer}: {exc.message}",
            errors=[{"pointer": pointer, "message": exc.message}],
            **extra,
        ) from exc


def area_bound_by_programme(settings: Settings) -> bool:
    """Whether a hazard's area is bounded by the admin area it touches (no fixed bound)."""
    return settings.max_hazard_area_km2 is None


def max_hazard_area_m2(session: Session, settings: Settings) -> float | None:
    """The intake's bound on a hazard's area for a single write (``gate.hazard_area_bound``)."""
    if settings.max_hazard_area_km2 is not None:
        return settings.max_hazard_area_km2 * 1e6
    return gate.hazard_area_bound(None, gate.programme_level(session))

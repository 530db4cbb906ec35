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


class Lookup:
    """The programme level not yet known: ``check`` looks it up."""


LOOKUP = Lookup()


def programme_level(session: Session) -> int | None:
    """The level of the programme's top admin areas (None when none are loaded): looked up
    once per write and passed to the intake's bound and to ``check``."""
    return gate.programme_level(session)


def check(
    session: Session,
    geometry: BaseGeometry,
    *,
    pointer: str = "/geometry",
    hazard: tuple[Any, str | None, Any] | None = None,
    area_bound: bool = False,
    level: int | None | Lookup = LOOKUP,
    area_m2: float | None = None,
) -> list[str]:
    """Warnings for ``geometry`` written at ``pointer``; InvalidGeometry (422) if refused.

    ``hazard``: the organisation id, external id and (when edited) id of the hazard written,
    for its shape findings and possible duplicates. ``area_bound``: refuse an area larger
    than the top-level admin area it touches (hazards and reports, unless a fixed bound is
    configured: ``area_bound_by_programme``). ``level`` (``programme_level``) and
    ``area_m2`` (the intake's measure) when the caller already has them.
    """
    if isinstance(level, Lookup):
        level = programme_level(session)
    try:
        return gate.single_write(
            session,
            geometry,
            pointer=pointer,
            hazard=hazard,
            area_bound=area_bound,
            level=level,
            area_m2=area_m2,
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


def max_hazard_area_m2(settings: Settings, level: int | None) -> float | None:
    """The intake's bound on a hazard's area for a single write (``gate.hazard_area_bound``),
    ``level`` being ``programme_level``."""
    return gate.hazard_area_bound(settings.max_hazard_area_km2, level)

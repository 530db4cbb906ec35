"""The printable community risk sheet: one A4 page handed to a community (domain.md §5.5).

The sheet is given to the public, so everything drawn or written on it is public already: the
hazard areas come from the latest **public** publication (``public_hazards``: generalised,
buffered outward, public fields only), never from the operational tables; when nothing has
been published the sheet says so and draws no hazard. The settlement's name and population
come from the context layer; every data-derived text is escaped by the template engine
(autoescape). No organisation code is printed (domain.md §5.2 lists partner codes as
restricted). The page has no script and loads nothing from elsewhere, so it works under the
application's Content-Security-Policy and offline.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from jinja2 import Environment, PackageLoader
from shapely import wkb
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.errors import Forbidden, NotFound
from api.services.auth import Principal, require_reader
from api.spatial.svg_map import metres_per_degree, project, project_shapes
from api.vocab import DEFAULT_LANGUAGE, Role, catalogue

SHEET_ROLES = (Role.admin, Role.coordinator, Role.eore)
MESSAGES = ("recognise", "dont_touch", "mark", "retreat", "report")

_env = Environment(
    loader=PackageLoader("api", "templates/eore"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)

SETTLEMENT_SQL = """
SELECT s.id, s.name, s.population, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat
FROM context_settlements s WHERE s.id = :id
"""

LATEST_SQL = """
SELECT p.id, p.published_at FROM public_publications p
ORDER BY p.published_at DESC, p.id DESC LIMIT 1
"""

# The published areas that reach into the map's square (a box in degrees at least as large),
# clipped to it (a published area may be a large union), and each one's ellipsoidal distance
# from the settlement.
HAZARDS_SQL = """
SELECT ST_AsBinary(ST_ClipByBox2D(
           ph.geom, ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat, 4326))) AS geom,
       ST_Distance(ph.geom::geography,
                   ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS distance_m
FROM public_hazards ph
WHERE ph.publication_id = :publication
  AND ph.geom && ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat, 4326)
"""


# What lets a community find its own fields on the map, drawn under the dangerous areas:
# water (land use water source / irrigation), the built-up area the settlement stands in
# (residential land use within 1 km of its point), roads and tracks; each clipped to the box.
_BOX = "ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat, 4326)"
CONTEXT_SQL = f"""
SELECT 'water' AS kind, ST_AsBinary(ST_ClipByBox2D(geom, {_BOX})) AS geom
FROM context_land_use
WHERE land_use IN ('water_source', 'irrigation') AND geom && {_BOX}
UNION ALL
SELECT 'outline', ST_AsBinary(ST_ClipByBox2D(geom, {_BOX}))
FROM context_land_use
WHERE land_use = 'residential' AND geom && {_BOX}
  AND ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, 1000)
UNION ALL
SELECT 'road', ST_AsBinary(ST_ClipByBox2D(geom, {_BOX}))
FROM context_roads WHERE geom && {_BOX}
"""


def _context_paths(session: Session, params: dict, radius_m: int) -> dict[str, list]:
    """The context layers' SVG paths by kind (``water``, ``outline``, ``road``)."""
    by_kind: dict[str, list] = {"water": [], "outline": [], "road": []}
    for row in session.execute(text(CONTEXT_SQL), params):
        if row.geom is not None:
            by_kind[row.kind].append(wkb.loads(bytes(row.geom)))
    centre = (params["lon"], params["lat"])
    return {
        kind: project_shapes(geoms, centre=centre, half_width_m=radius_m)
        for kind, geoms in by_kind.items()
    }


def _long_date(day: date, language: str) -> str:
    """A date as the reader writes it: "4 December 2026", "4 грудня 2026"."""
    month = catalogue(language).get(f"month.genitive.{day.month}") or catalogue(
        DEFAULT_LANGUAGE
    ).get(f"month.genitive.{day.month}", str(day.month))
    return f"{day.day} {month} {day.year}"


def require_sheet_maker(principal: Principal | None) -> Principal:
    """EORE staff, coordinators and admins make community sheets."""
    principal = require_reader(principal)
    if principal.role not in SHEET_ROLES:
        raise Forbidden(
            f"community risk sheets are made by EORE staff, coordinators and admins; "
            f"you are {principal.role.value}"
        )
    return principal


@dataclass
class Strings:
    """The sheet's strings in one language, English where a key has no translation."""

    language: str

    def __call__(self, key: str) -> str:
        """The string for ``eore_sheet.<key>``."""
        full = f"eore_sheet.{key}"
        return (
            catalogue(self.language).get(full)
            or catalogue(DEFAULT_LANGUAGE).get(full)
            or full
        )


def _number(value: float | int, language: str, decimals: int = 0) -> str:
    text_ = f"{value:,.{decimals}f}"
    if language == "en":
        return text_
    # Ukrainian (and most of Europe): narrow no-break space for thousands, decimal comma
    return text_.replace(",", "\u202f").replace(".", ",")


def community_sheet(
    session: Session,
    *,
    principal: Principal | None,
    settlement_id: uuid.UUID,
    language: str,
    hotline: str,
    radius_m: int,
    today: date | None = None,
) -> str:
    """The HTML of the community risk sheet of one settlement, in ``language``."""
    require_sheet_maker(principal)
    place = (
        session.execute(text(SETTLEMENT_SQL), {"id": settlement_id}).mappings().first()
    )
    if place is None:
        raise NotFound(f"no settlement {settlement_id}")
    t = Strings(language)
    publication = session.execute(text(LATEST_SQL)).mappings().first()
    svg_map = None
    nearest_m = None
    context_paths: dict[str, list] = {}
    if publication is not None:
        m_lon, m_lat = metres_per_degree(place["lat"])
        # widen the box in longitude for the poleward edge, where degrees are shorter
        lat_edge = min(89.0, abs(place["lat"]) + radius_m / m_lat)
        dlon = radius_m / metres_per_degree(lat_edge)[0]
        dlat = radius_m / m_lat * 1.01
        params = {
            "lon": place["lon"],
            "lat": place["lat"],
            "min_lon": place["lon"] - dlon,
            "min_lat": place["lat"] - dlat,
            "max_lon": place["lon"] + dlon,
            "max_lat": place["lat"] + dlat,
        }
        rows = session.execute(
            text(HAZARDS_SQL), {"publication": publication["id"], **params}
        ).all()
        context_paths = _context_paths(session, params, radius_m)
        svg_map = project(
            [wkb.loads(bytes(r.geom)) for r in rows],
            centre=(place["lon"], place["lat"]),
            half_width_m=radius_m,
        )
        if svg_map.paths:
            nearest_m = min(r.distance_m for r in rows)
    context: dict[str, Any] = {
        "lang": language,
        "t": t,
        "name": place["name"] or "",
        "population": _number(place["population"], language)
        if place["population"] is not None
        else None,
        "hotline": hotline,
        "messages": [t(f"msg_{m}") for m in MESSAGES],
        "publication": publication,
        "published_on": _long_date(publication["published_at"].date(), language)
        if publication
        else None,
        "map": svg_map,
        "context": context_paths,
        "scale_label": (
            _number(
                svg_map.scale_m / 1000, language, 1 if svg_map.scale_m % 1000 else 0
            )
            + " "
            + t("km")
        )
        if svg_map
        else None,
        "nearest": (_number(nearest_m / 1000, language, 1) + " " + t("km"))
        if nearest_m is not None
        else None,
        "prepared_on": _long_date(today or datetime.now(UTC).date(), language),
    }
    return _env.get_template("community_sheet.html").render(**context)

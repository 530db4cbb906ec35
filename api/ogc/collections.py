"""The OGC API collections: what each one selects, its properties and queryables.

A collection is one entry in ``REGISTRY``: a SELECT over our tables (one row per feature,
a ``geom`` footprint used for ``bbox``, spatial filters and the extent), its properties in
output order, which of them are queryable, its temporal property (for ``datetime``) and its
paging order. Every collection holds one geometry type (``geometry``): clients such as QGIS
and GDAL type a layer from its first features, so a collection mixing points and polygons
hides one of the two. Hazards therefore come as ``hazards`` (areas) and ``hazard-points``
(spot hazards: uxo_spot, axo_site), and the same for ``remaining``. Operational collections
need a signed-in caller; ``public=True`` ones (the latest publication) are anonymous.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import (
    Date,
    Select,
    Text,
    bindparam,
    case,
    column,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.sql import FromClause, Subquery

from api import paging
from api.db.models import (
    Activity,
    AdminArea,
    Hazard,
    HazardLandRelease,
    Organisation,
    PublicHazard,
    PublicReleased,
    ReleasePolygon,
)
from api.ogc.cql2 import Field
from api.ogc.params import PROPERTY_FILTER_KINDS
from api.services import land_release
from api.services.public import latest_publication_id
from api.vocab import (
    ActivityType,
    Classification,
    Contamination,
    HazardStatus,
    HazardType,
    ReleaseOutcome,
)

GEOJSON_PRECISION = 9


@dataclass(frozen=True)
class Property:
    """One feature property: its SQL, JSON type and whether filters may use it.

    ``kind`` is a ``cql2.Field`` kind, or ``geojson`` (GeoJSON text embedded as it is) and
    ``json`` (any JSON value); those two are never queryable.
    """

    name: str
    sql: Any
    kind: str
    title: str
    queryable: bool = True
    enum: tuple[str, ...] | None = None


# property kinds that may order a collection, as cursor value kinds (api/paging.py)
_KEY_KINDS = {
    "date": "date",
    "integer": "int",
    "number": "float",
    "uuid": "uuid",
    "string": "text",
}

PageGeometry = Callable[[Subquery], tuple[FromClause, Any]]


def footprint_geojson(page: Subquery) -> tuple[FromClause, Any]:
    """The feature geometry is the footprint itself, as GeoJSON text."""
    return page, func.ST_AsGeoJSON(page.c.geom, GEOJSON_PRECISION)


@dataclass(frozen=True)
class Collection:
    """A feature collection served at ``/ogc/collections/{id}``."""

    id: str
    title: str
    description: str
    base: Callable[[list], Select]
    properties: tuple[Property, ...]
    footprint: Any
    order: tuple[tuple[str, bool], ...]  # (property, descending); the id breaks ties
    # the one geometry type of its features, as a queryables format: geometry-multipolygon,
    # geometry-point (OGC API Features Part 3)
    geometry: str = "geometry-multipolygon"
    id_property: str = "id"
    id_kind: str = "uuid"
    temporal: str | None = None
    public: bool = False
    page_geometry: PageGeometry = field(default=footprint_geojson)
    # what an unfiltered count counts: by default the base rows; a single-table count lets
    # PostgreSQL answer from an index alone
    count_base: Callable[[], Select] | None = None

    def unfiltered_count(self) -> Select:
        """``SELECT count(*)`` of every feature of the collection."""
        if self.count_base is not None:
            return select(func.count()).select_from(
                self.count_base().subquery("counted")
            )
        return select(func.count()).select_from(
            self.base([literal_column("1")]).subquery("counted")
        )

    def source(self) -> Subquery:
        """SELECT of every feature: its properties and its footprint ``geom``."""
        columns = [p.sql.label(p.name) for p in self.properties]
        columns.append(self.footprint.label("geom"))
        return self.base(columns).subquery("src")

    def fields(self, source: Subquery | Any) -> dict[str, Field]:
        """The queryables as columns of ``source`` (the ``source()`` subquery or a page)."""
        out = {
            p.name: Field(source.c[p.name], p.kind)
            for p in self.properties
            if p.queryable
        }
        out["geometry"] = Field(source.c.geom, "geometry")
        return out

    def keyset(self) -> paging.Keyset:
        """The paging order over ``source()`` (the subquery ``src``), for cursors: the
        collection order, then the feature id (every order column is NOT NULL)."""
        kinds = {
            p.name: _KEY_KINDS[p.kind] for p in self.properties if p.kind in _KEY_KINDS
        }
        kinds[self.id_property] = _KEY_KINDS[self.id_kind]
        return paging.Keyset(
            f"ogc:{self.id}",
            tuple(
                paging.Key(f'src."{name}"', name, kinds[name], desc=descending)
                for name, descending in (*self.order, (self.id_property, False))
            ),
        )

    def ordering(self, source: Subquery) -> list:
        """ORDER BY clauses for paging: the collection order, then the feature id."""
        clauses = [
            source.c[name].desc() if descending else source.c[name].asc()
            for name, descending in self.order
        ]
        return [*clauses, source.c[self.id_property].asc()]

    def queryables(self) -> list[Property]:
        """The properties a filter may name."""
        return [p for p in self.properties if p.queryable]

    def property_filter_kinds(self) -> dict[str, str]:
        """The queryables a ``name=value`` query parameter may filter on, with their kind
        (scalars: lists and geometries only through ``filter``)."""
        return {
            p.name: p.kind for p in self.queryables() if p.kind in PROPERTY_FILTER_KINDS
        }


def _enum(vocabulary) -> tuple[str, ...]:
    return tuple(member.value for member in vocabulary)


# ------------------------------------------------------------------------------------------
# hazards
# ------------------------------------------------------------------------------------------


# Hazard geometries are MULTIPOLYGON (areas) or POINT (spot hazards): the table's CHECK.
AREAS, SPOTS = "MULTIPOLYGON", "POINT"


def _hazards_base(kind: str) -> Callable[[list], Select]:
    def base(columns: list) -> Select:
        return (
            select(*columns)
            .select_from(Hazard)
            # a left join (organisation_id is NOT NULL with a foreign key, so the rows are
            # the same) lets PostgreSQL drop the join where no organisation column is used
            .outerjoin(Organisation, Organisation.id == Hazard.organisation_id)
            .outerjoin(HazardLandRelease, HazardLandRelease.hazard_id == Hazard.id)
            .where(Hazard.retired_at.is_(None), func.GeometryType(Hazard.geom) == kind)
        )

    return base


def _hazards_count(kind: str) -> Callable[[], Select]:
    return lambda: select(Hazard.id).where(
        Hazard.retired_at.is_(None), func.GeometryType(Hazard.geom) == kind
    )


_HAZARD_IDENTITY = (
    Property("id", Hazard.id, "uuid", "Hazard id"),
    Property("external_id", Hazard.external_id, "string", "Id in the reporting system"),
    Property("name", Hazard.name, "string", "Name"),
    Property(
        "classification",
        Hazard.classification,
        "string",
        "SHA (suspected) or CHA (confirmed)",
        enum=_enum(Classification),
    ),
    Property(
        "hazard_type",
        Hazard.hazard_type,
        "string",
        "Hazard type",
        enum=_enum(HazardType),
    ),
    Property("status", Hazard.status, "string", "Status", enum=_enum(HazardStatus)),
)

_FIGURES = {
    name: Property(name, getattr(HazardLandRelease, name), "number", title)
    for name, title in (
        ("baseline_area_m2", "Hazard area, m² (WGS 84 ellipsoid)"),
        ("cancelled_area_m2", "Area cancelled by non-technical survey, m²"),
        ("reduced_area_m2", "Area reduced by technical survey, m²"),
        ("cleared_area_m2", "Area cleared, m²"),
        ("released_area_m2", "Area released (cancelled + reduced + cleared), m²"),
        ("remaining_area_m2", "Area still hazardous, m²"),
        ("outside_area_m2", "Released area outside the hazard, m²"),
    )
}

_HAZARD_PROPERTIES = (
    *_HAZARD_IDENTITY,
    Property(
        "status_source",
        case((Hazard.status_set.is_(None), "derived"), else_="set"),
        "string",
        "Whether the status was set by hand or derived from activities",
        enum=("set", "derived"),
    ),
    Property(
        "contamination",
        Hazard.contamination,
        "array",
        "Contamination types",
        enum=_enum(Contamination),
    ),
    Property("organisation", Organisation.code, "string", "Reporting organisation"),
    Property(
        "date_of_information",
        Hazard.date_of_information,
        "date",
        "Date of information",
    ),
    Property(
        "benchmark",
        func.ST_AsGeoJSON(Hazard.benchmark, GEOJSON_PRECISION),
        "geojson",
        "Benchmark (GeoJSON Point)",
        queryable=False,
    ),
    Property(
        "reference_point",
        func.ST_AsGeoJSON(Hazard.reference_point, GEOJSON_PRECISION),
        "geojson",
        "Reference point (GeoJSON Point)",
        queryable=False,
    ),
    Property(
        "estimated_area_m2",
        Hazard.estimated_area_m2,
        "number",
        "Estimated area as reported, m²",
    ),
    Property("evidence", Hazard.evidence, "string", "Evidence of contamination"),
    Property("blockages", Hazard.blockages, "array", "Blocked land uses"),
    Property(
        "beneficiaries",
        Hazard.beneficiaries,
        "json",
        "Beneficiaries of release",
        queryable=False,
    ),
    Property("notes", Hazard.notes, "string", "Notes"),
    Property("area_m2", Hazard.area_m2, "number", "Geometric area, m²"),
    Property("admin", Hazard.admin_pcodes, "array", "P-codes of the areas it lies in"),
    Property("version", Hazard.version, "integer", "Version"),
    Property("created_at", Hazard.created_at, "date-time", "Created at"),
    Property("updated_at", Hazard.updated_at, "date-time", "Updated at"),
    Property("is_demo", Hazard.is_demo, "boolean", "Demonstration data"),
    *_FIGURES.values(),
)

HAZARDS = Collection(
    id="hazards",
    title="Hazard areas",
    description=(
        "Current hazard areas (SHA/CHA, polygons) with their land-release figures in "
        "square metres on the WGS 84 ellipsoid. Spot hazards (points) are the collection "
        "hazard-points. datetime selects by date_of_information."
    ),
    base=_hazards_base(AREAS),
    properties=_HAZARD_PROPERTIES,
    footprint=Hazard.geom,
    count_base=_hazards_count(AREAS),
    order=(("date_of_information", True),),
    temporal="date_of_information",
)

HAZARD_POINTS = replace(
    HAZARDS,
    id="hazard-points",
    title="Spot hazards",
    description=(
        "Current hazards recorded as a point (uxo_spot, axo_site, or any hazard whose "
        "extent is not known yet), with the same properties as the hazards collection. "
        "datetime selects by date_of_information."
    ),
    base=_hazards_base(SPOTS),
    count_base=_hazards_count(SPOTS),
    geometry="geometry-point",
)

# ------------------------------------------------------------------------------------------
# remaining: hazard minus the union of its releases, for the page's hazards only
# ------------------------------------------------------------------------------------------

# land_release.REMAINING_SQL answers for one hazard (``:id``); correlated to the page in a
# LATERAL join it answers for every hazard of the page in the same statement.
_REMAINING_PER_HAZARD = re.sub(r":id\b", "page.id", land_release.REMAINING_SQL)
if re.search(r":id\b", _REMAINING_PER_HAZARD) or "page.id" not in _REMAINING_PER_HAZARD:
    raise RuntimeError("land_release.REMAINING_SQL no longer has the expected :id form")


def remaining_geojson(page: Subquery) -> tuple[FromClause, Any]:
    """LATERAL join computing each page row's remaining geometry (GeoJSON text)."""
    remaining = (
        text(f"SELECT rem.* FROM ({_REMAINING_PER_HAZARD}) AS rem(geojson)")
        .bindparams(bindparam("as_of", None, type_=Date))
        .columns(column("geojson", Text))
        .lateral("remaining")
    )
    return page.outerjoin(remaining, text("true")), remaining.c.geojson


_REMAINING_PROPERTIES = (
    *_HAZARD_IDENTITY,
    Property("organisation", Organisation.code, "string", "Reporting organisation"),
    Property(
        "date_of_information",
        Hazard.date_of_information,
        "date",
        "Date of information",
    ),
    _FIGURES["baseline_area_m2"],
    _FIGURES["released_area_m2"],
    _FIGURES["remaining_area_m2"],
    Property("is_demo", Hazard.is_demo, "boolean", "Demonstration data"),
)

REMAINING = Collection(
    id="remaining",
    title="Remaining hazard areas",
    description=(
        "For each current hazard area, the part still hazardous: the hazard geometry minus "
        "the union of its release polygons (empty once all of it is released). Spot hazards "
        "are the collection remaining-points. bbox and spatial filters select by the "
        "hazard's footprint. datetime selects by date_of_information."
    ),
    base=_hazards_base(AREAS),
    properties=_REMAINING_PROPERTIES,
    footprint=Hazard.geom,
    count_base=_hazards_count(AREAS),
    order=(("date_of_information", True),),
    temporal="date_of_information",
    page_geometry=remaining_geojson,
)

REMAINING_POINTS = replace(
    REMAINING,
    id="remaining-points",
    title="Remaining spot hazards",
    description=(
        "Each current spot hazard (a point) with its geometry empty once a release covers "
        "it. datetime selects by date_of_information."
    ),
    base=_hazards_base(SPOTS),
    count_base=_hazards_count(SPOTS),
    geometry="geometry-point",
)

# ------------------------------------------------------------------------------------------
# releases
# ------------------------------------------------------------------------------------------


def _releases_base(columns: list) -> Select:
    return (
        select(*columns)
        .select_from(ReleasePolygon)
        .join(Activity, Activity.id == ReleasePolygon.activity_id)
        .join(Organisation, Organisation.id == Activity.organisation_id)
        .join(Hazard, Hazard.id == ReleasePolygon.hazard_id)
        .where(
            ReleasePolygon.retired_at.is_(None),
            Activity.retired_at.is_(None),
            Hazard.retired_at.is_(None),
        )
    )


RELEASES = Collection(
    id="releases",
    title="Released land",
    description=(
        "Release polygons: land cancelled, reduced or cleared by an activity, each "
        "attributed to one hazard. datetime selects by the release date."
    ),
    base=_releases_base,
    properties=(
        Property("id", ReleasePolygon.id, "uuid", "Release id"),
        Property(
            "outcome",
            ReleasePolygon.outcome,
            "string",
            "Outcome",
            enum=_enum(ReleaseOutcome),
        ),
        Property("date", ReleasePolygon.date, "date", "Release date"),
        Property("hazard_id", ReleasePolygon.hazard_id, "uuid", "Hazard id"),
        Property("activity_id", ReleasePolygon.activity_id, "uuid", "Activity id"),
        Property(
            "activity_type",
            Activity.activity_type,
            "string",
            "Activity type",
            enum=_enum(ActivityType),
        ),
        Property(
            "organisation", Organisation.code, "string", "Implementing organisation"
        ),
        Property("area_m2", ReleasePolygon.area_m2, "number", "Polygon area, m²"),
        Property(
            "effective_area_m2",
            ReleasePolygon.effective_area_m2,
            "number",
            "Area counted for the hazard (each m² once), m²",
        ),
        Property(
            "outside_area_m2",
            ReleasePolygon.outside_area_m2,
            "number",
            "Area outside the hazard, m²",
        ),
        Property("is_demo", Activity.is_demo, "boolean", "Demonstration data"),
    ),
    footprint=ReleasePolygon.geom,
    order=(("date", True),),
    temporal="date",
)

# ------------------------------------------------------------------------------------------
# admin-areas
# ------------------------------------------------------------------------------------------


def _admin_base(columns: list) -> Select:
    return select(*columns).select_from(AdminArea)


ADMIN_AREAS = Collection(
    id="admin-areas",
    title="Administrative areas",
    description="Administrative units keyed by P-code.",
    base=_admin_base,
    properties=(
        Property("pcode", AdminArea.pcode, "string", "P-code"),
        Property("name", AdminArea.name, "string", "Name"),
        Property("level", AdminArea.level, "integer", "Administrative level"),
        Property("parent_pcode", AdminArea.parent_pcode, "string", "Parent P-code"),
        Property("is_demo", AdminArea.is_demo, "boolean", "Demonstration data"),
    ),
    footprint=AdminArea.geom,
    order=(("level", False),),
    id_property="pcode",
    id_kind="string",
)

# ------------------------------------------------------------------------------------------
# the public layer: the latest publication, for anonymous callers (empty before the first)
# ------------------------------------------------------------------------------------------


def _public_base(model) -> Callable[[list], Select]:
    return lambda columns: (
        select(*columns)
        .select_from(model)
        .where(model.publication_id == latest_publication_id())
    )


PUBLIC_HAZARDS = Collection(
    id="public-hazards",
    title="Public hazard areas",
    description=(
        "The latest published public layer: hazard areas generalised and buffered outward "
        "(never smaller than the hazards they cover), with what to do. No restricted "
        "fields. Anonymous."
    ),
    base=_public_base(PublicHazard),
    properties=(
        Property("id", PublicHazard.id, "uuid", "Public area id"),
        Property(
            "classification",
            PublicHazard.classification,
            "string",
            "SHA (suspected) or CHA (confirmed; CHA if any part is)",
            enum=_enum(Classification),
        ),
        Property("hazard_type", PublicHazard.hazard_type, "string", "Hazard type"),
        Property("status", PublicHazard.status, "string", "Status"),
        Property("marking", PublicHazard.marking, "string", "Marking on the ground"),
        Property("last_update", PublicHazard.last_update, "date", "Last update"),
        Property(
            "what_to_do",
            PublicHazard.what_to_do,
            "json",
            "What to do ({en, uk})",
            queryable=False,
        ),
        Property(
            "change", PublicHazard.change, "string", "Change since last publication"
        ),
        Property("admin", PublicHazard.admin_pcodes, "array", "P-codes it lies in"),
        Property("area_m2", PublicHazard.area_m2, "number", "Area, m²"),
    ),
    footprint=PublicHazard.geom,
    order=(("last_update", True),),
    temporal="last_update",
    public=True,
)

PUBLIC_RELEASED = Collection(
    id="public-released",
    title="Public released land",
    description=(
        "The latest published public layer: land cancelled, reduced or cleared by completed "
        "activities, minus any warning area, with its residual-risk note. Anonymous."
    ),
    base=_public_base(PublicReleased),
    properties=(
        Property("id", PublicReleased.id, "uuid", "Released area id"),
        Property(
            "outcome",
            PublicReleased.outcome,
            "string",
            "Outcome",
            enum=_enum(ReleaseOutcome),
        ),
        Property("completed_on", PublicReleased.completed_on, "date", "Completed on"),
        Property(
            "residual_risk",
            PublicReleased.residual_risk,
            "json",
            "Residual-risk note ({en, uk})",
            queryable=False,
        ),
        Property("admin", PublicReleased.admin_pcodes, "array", "P-codes it lies in"),
        Property("area_m2", PublicReleased.area_m2, "number", "Area, m²"),
    ),
    footprint=PublicReleased.geom,
    order=(("completed_on", True),),
    temporal="completed_on",
    public=True,
)

REGISTRY: dict[str, Collection] = {
    c.id: c
    for c in (
        HAZARDS,
        HAZARD_POINTS,
        REMAINING,
        REMAINING_POINTS,
        RELEASES,
        ADMIN_AREAS,
        PUBLIC_HAZARDS,
        PUBLIC_RELEASED,
    )
}


def visible(signed_in: bool, published: bool) -> list[Collection]:
    """The collections a caller may see: operational ones when signed in, and the public
    ones once a publication exists."""
    return [c for c in REGISTRY.values() if (published if c.public else signed_in)]

"""A fictional mine-action programme for demonstrations, training and screenshots.

``build`` plans the programme from a seed (the same seed always gives the same records);
``load`` writes it through the services, so that history, land-release figures, statuses
and admin assignments are computed exactly as for real data.

Around the hazards lie fictional context layers (settlements with population, roads,
schools, health posts, water points, farmland and built-up areas, one security zone) and a
few recent accidents, so that the clearance-priority ranking has a top, a bottom and
reasons to give for both.

Everything is fictional and says so: records are flagged ``is_demo`` (context layers,
which have no such column, are told by their ``DEMO-...`` numbers), named "Demo ..."
and numbered ``DEMO-...``; P-codes use the user-assigned ISO code ``ZZ``. The country is
the rectangle 30-33° E, 48-50° N: mid-latitudes, where Web Mercator overstates areas
about 2.3 times, so a planar-area shortcut anywhere shows at once.

When ``session`` is bound to an engine the load is all or nothing: it runs in one
transaction (the services' commits release savepoints), so a failure leaves the database
as it was, and an advisory lock keeps two loads from running at once.
"""

import hashlib
import json
import logging
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import product
from typing import Any, TypeVar

import numpy as np
import shapely
from geoalchemy2.shape import from_shape
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import (
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
    box,
)
from shapely.geometry import mapping as geojson
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from api.db.models import AdminArea, User
from api.db.models.context import CONTEXT_LAYERS
from api.errors import Conflict
from api.schemas.accidents import AccidentFeature
from api.schemas.activities import ActivityCreate
from api.schemas.eo_finds import EOFindFeature
from api.schemas.eore import EoreSessionFeature
from api.schemas.hazards import HazardFeatureCreate, HazardFeaturePatch
from api.schemas.organisations import OrganisationCreate
from api.services import (
    accidents,
    activities,
    admin_areas,
    auth,
    eo_finds,
    eore,
    hazards,
    organisations,
    priorities,
)
from api.settings import Settings, get_settings
from api.spatial.intake import ellipsoidal_area_m2
from api.vocab import (
    STARTED_ACTIVITY_STATUSES,
    AccidentClass,
    ActivityStatus,
    ActivityType,
    Classification,
    Contamination,
    DisposalMethod,
    EOCondition,
    Evidence,
    HazardType,
    LandUse,
    Method,
    OrganisationType,
    ReleaseOutcome,
    Role,
    label,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")
Geom = TypeVar("Geom", bound=BaseGeometry)

DEFAULT_SEED = 20240501
DEMO_PASSWORD = "demo-password"  # published on purpose: the demo accounts are public
NOTE = "Fictional record of the Safeground demo programme; not real data."

COUNTRY = box(30.0, 48.0, 33.0, 50.0)
VILLAGE_ZONE = box(30.1, 48.07, 32.9, 49.93)  # hazards around villages stay inside
UTM_36N = "EPSG:32636"  # UTM zone 36N covers 30-36° E
_TO_LONLAT = Transformer.from_crs(UTM_36N, "EPSG:4326", always_xy=True)
_TO_METRES = Transformer.from_crs("EPSG:4326", UTM_36N, always_xy=True)

FIRST_DAY = date(2022, 1, 1)
LAST_SURVEY_DAY = date(2025, 6, 30)
LAST_REPORT_DAY = date(2025, 9, 30)
LAST_DAY = date(2025, 12, 31)  # the programme is shown as known on this day

N_VILLAGES = 40
N_HAZARDS = 320
N_FINDS = 500
N_EVIDENCE_FINDS = 40  # finds recorded on a CHA by survey, without an activity
OVERLAP_SHARE = 0.10
MIN_AREA_M2, MAX_AREA_M2 = 2_000.0, 600_000.0
N_RECLASSIFIED, N_RESURVEYED, N_LATE_REPORTS = 8, 4, 4

ORGANISATIONS = (
    ("DEMO-NMAA", "Demo National Mine Action Authority", OrganisationType.nmaa),
    (
        "DEMO-INGO",
        "Demo International Demining Trust",
        OrganisationType.ngo_international,
    ),
    ("DEMO-NNGO", "Demo National Demining Association", OrganisationType.ngo_national),
)
DEMO_MARKER_ORG = "DEMO-NMAA"
HAZARD_OWNERS = ((4, "DEMO-NMAA"), (35, "DEMO-INGO"), (25, "DEMO-NNGO"))
OPERATORS = ("DEMO-INGO", "DEMO-NNGO")
USERS = (
    ("demo-admin", Role.admin, None),
    ("demo-coordinator", Role.coordinator, "DEMO-INGO"),
    ("demo-eore", Role.eore, "DEMO-INGO"),  # risk-education staff of the same operator
)

# Fictional place names: obviously invented, never a real village of the region.
NAME_STEMS = [
    "Amber",
    "Birch",
    "Cedar",
    "Elm",
    "Fern",
    "Hazel",
    "Juniper",
    "Larch",
    "Maple",
    "Oak",
    "Rowan",
    "Willow",
    "Alder",
    "Heather",
    "Thistle",
    "Bramble",
    "Clover",
    "Sorrel",
    "Linden",
    "Aspen",
]
NAME_ENDINGS = [
    "ford",
    "brook",
    "field",
    "hill",
    "vale",
    "wick",
    "stead",
    "mere",
    "ton",
    "bury",
    "dale",
    "moor",
]
COMPASS = [
    "east",
    "north-east",
    "north",
    "north-west",
    "west",
    "south-west",
    "south",
    "south-east",
]

H = HazardType
C = Contamination
A = ActivityType
S = ActivityStatus


@dataclass(frozen=True)
class _Profile:
    """How hazards of one type look: frequency, size, class, shape and blocked land."""

    weight: int
    area_ha: tuple[float, float]  # log-uniform between these
    cha_share: float
    point_share: float  # recorded as a Point rather than a small polygon
    contamination: tuple[tuple[int, tuple[Contamination, ...]], ...]  # weighted
    extra: tuple[tuple[Contamination, float], ...]  # added with this probability
    blockages: tuple[LandUse, ...]


L = LandUse
PROFILES: dict[HazardType, _Profile] = {
    H.minefield: _Profile(
        weight=30,
        area_ha=(0.5, 60),
        cha_share=0.5,
        point_share=0.0,
        contamination=(
            (4, (C.ap_mine,)),
            (2, (C.av_mine,)),
            (3, (C.ap_mine, C.av_mine)),
        ),
        extra=((C.booby_trap, 0.1),),
        blockages=(L.agricultural_crop, L.pasture, L.forest, L.orchard_perennial),
    ),
    H.battle_area: _Profile(
        weight=18,
        area_ha=(1, 60),
        cha_share=0.35,
        point_share=0.0,
        contamination=((1, (C.uxo,)),),
        extra=((C.axo, 0.4), (C.cmr, 0.15), (C.ap_mine, 0.1)),
        blockages=(L.agricultural_crop, L.forest, L.residential, L.military_former),
    ),
    H.cmr_strike_area: _Profile(
        weight=14,
        area_ha=(2, 60),
        cha_share=0.5,
        point_share=0.0,
        contamination=((1, (C.cmr,)),),
        extra=((C.uxo, 0.4),),
        blockages=(L.agricultural_crop, L.residential, L.pasture, L.market_commercial),
    ),
    H.uxo_spot: _Profile(
        weight=12,
        area_ha=(0.2, 1),
        cha_share=0.8,
        point_share=0.6,
        contamination=((1, (C.uxo,)),),
        extra=(),
        blockages=(L.agricultural_crop, L.residential, L.road_track, L.pasture),
    ),
    H.ied_area: _Profile(
        weight=7,
        area_ha=(0.2, 8),
        cha_share=0.5,
        point_share=0.0,
        contamination=((1, (C.ied,)),),
        extra=((C.booby_trap, 0.4),),
        blockages=(L.road_track, L.residential, L.school, L.utility_power),
    ),
    H.road_route: _Profile(
        weight=7,
        area_ha=(0.3, 10),
        cha_share=0.4,
        point_share=0.0,
        contamination=((3, (C.av_mine,)), (1, (C.ied,)), (1, (C.av_mine, C.ied))),
        extra=((C.uxo, 0.2),),
        blockages=(L.road_track, L.bridge, L.agricultural_crop),
    ),
    H.axo_site: _Profile(
        weight=6,
        area_ha=(0.2, 3),
        cha_share=0.9,
        point_share=0.3,
        contamination=((1, (C.axo,)),),
        extra=((C.uxo, 0.2),),
        blockages=(L.military_former, L.forest, L.wasteland),
    ),
    H.building: _Profile(
        weight=6,
        area_ha=(0.2, 2),
        cha_share=0.5,
        point_share=0.0,
        contamination=((5, (C.ied, C.booby_trap)), (3, (C.uxo,)), (2, (C.uxo, C.axo))),
        extra=(),
        blockages=(L.residential, L.school, L.health_facility, L.religious_cultural),
    ),
}
POINT_TYPES = frozenset({H.uxo_spot, H.axo_site})
AREA_TYPES = frozenset(PROFILES) - POINT_TYPES

ACTIVITY_COUNTS = {
    A.non_technical_survey: 34,
    A.technical_survey: 30,
    A.clearance: 38,
    A.battle_area_clearance: 26,
    A.eod_spot_task: 22,
}
ACTIVITY_HAZARD_TYPES = {
    A.non_technical_survey: AREA_TYPES,
    A.technical_survey: AREA_TYPES,
    A.clearance: frozenset({H.minefield, H.ied_area, H.road_route, H.building}),
    A.battle_area_clearance: frozenset({H.battle_area, H.cmr_strike_area}),
    A.eod_spot_task: POINT_TYPES,
}
PREFERRED_CLASS = {  # (classification, share of picks from it)
    A.non_technical_survey: (Classification.SHA, 0.85),
    A.clearance: (Classification.CHA, 0.8),
    A.battle_area_clearance: (Classification.CHA, 0.6),
}
# Share of picks among hazards already worked on (NTS -> TS -> clearance).
REUSE_SHARE = {
    A.technical_survey: 0.35,
    A.clearance: 0.4,
    A.battle_area_clearance: 0.3,
}
STATUSES = (
    (60, S.completed),
    (14, S.ongoing),
    (8, S.suspended),
    (10, S.planned),
    (8, S.cancelled),
)
DURATION_DAYS = {
    A.non_technical_survey: (1, 5),
    A.technical_survey: (5, 40),
    A.clearance: (20, 150),
    A.battle_area_clearance: (10, 60),
    A.eod_spot_task: (1, 3),
}
M = Method
METHODS: dict[ActivityType, tuple[tuple[int, tuple[Method, ...]], ...]] = {
    A.non_technical_survey: ((1, ()),),
    A.technical_survey: (
        (3, (M.manual,)),
        (2, (M.mechanical,)),
        (1, (M.animal, M.manual)),
    ),
    A.clearance: (
        (4, (M.manual,)),
        (2, (M.mechanical, M.manual)),
        (1, (M.combined,)),
        (1, (M.animal, M.manual)),
    ),
    A.battle_area_clearance: ((3, (M.manual,)), (1, (M.mechanical, M.manual))),
    A.eod_spot_task: ((1, (M.manual,)),),
}
FIND_WEIGHT = {
    A.technical_survey: 2,
    A.clearance: 6,
    A.battle_area_clearance: 5,
}
TWO_HAZARD_SHARE = 0.12
NEIGHBOUR_M = 2_000.0

MODELS = {
    C.ap_mine: ("PMN-2", "PMN-1", "POM-2", "PFM-1", "OZM-72", "MON-50"),
    C.av_mine: ("TM-62M", "TM-62P3", "TM-57", "TMRP-6"),
    C.cmr: ("Demo submunition (BLU-26-like)", "9N210", "9N235", "PTAB-1M"),
    C.uxo: (
        "122 mm HE projectile",
        "152 mm HE projectile",
        "120 mm mortar bomb",
        "82 mm mortar bomb",
        "VOG-17 grenade",
        "RGD-5 hand grenade",
    ),
    C.axo: (
        "122 mm HE projectile (abandoned)",
        "PG-7V rocket",
        "82 mm mortar bombs (cache)",
        "Demo mixed ammunition crate",
    ),
    C.ied: (
        "Demo IED (pressure plate)",
        "Demo IED (command wire)",
        "Demo IED (tripwire)",
    ),
    C.booby_trap: ("F-1 grenade with tripwire", "Demo booby trap (pull switch)"),
    C.other: ("Demo unidentified item",),
}
EC, DM = EOCondition, DisposalMethod


@dataclass(frozen=True)
class _FindProfile:
    """How items of one category are found: depth, condition and disposal."""

    depth_cm: tuple[int, int]
    conditions: tuple[tuple[int, EOCondition], ...]  # weighted
    disposals: tuple[tuple[int, DisposalMethod], ...]  # weighted


FIND_PROFILES: dict[Contamination, _FindProfile] = {
    C.ap_mine: _FindProfile(
        depth_cm=(0, 15),
        conditions=(
            (5, EC.intact),
            (3, EC.armed),
            (2, EC.deteriorated),
            (1, EC.damaged),
        ),
        disposals=((7, DM.in_situ_demolition), (2, DM.moved_and_destroyed)),
    ),
    C.av_mine: _FindProfile(
        depth_cm=(5, 35),
        conditions=((5, EC.intact), (3, EC.armed), (2, EC.deteriorated)),
        disposals=((6, DM.in_situ_demolition), (3, DM.render_safe)),
    ),
    C.cmr: _FindProfile(
        depth_cm=(0, 25),
        conditions=((4, EC.armed), (3, EC.damaged), (2, EC.partially_functioned)),
        disposals=((1, DM.in_situ_demolition),),
    ),
    C.uxo: _FindProfile(
        depth_cm=(0, 80),
        conditions=((4, EC.intact), (3, EC.damaged), (2, EC.partially_functioned)),
        disposals=((4, DM.moved_and_destroyed), (3, DM.central_demolition)),
    ),
    C.axo: _FindProfile(
        depth_cm=(0, 0),
        conditions=((5, EC.intact), (3, EC.deteriorated), (1, EC.unknown)),
        disposals=((5, DM.central_demolition), (2, DM.handed_to_authority)),
    ),
    C.ied: _FindProfile(
        depth_cm=(5, 40),
        conditions=((5, EC.armed), (2, EC.intact), (1, EC.unknown)),
        disposals=((6, DM.render_safe), (4, DM.in_situ_demolition)),
    ),
    C.booby_trap: _FindProfile(
        depth_cm=(0, 5),
        conditions=((1, EC.armed),),
        disposals=((3, DM.render_safe), (2, DM.in_situ_demolition)),
    ),
    C.other: _FindProfile(
        depth_cm=(0, 10),
        conditions=((1, EC.unknown),),
        disposals=((1, DM.moved_and_destroyed),),
    ),
}

# --------------------------------------------------------------------------- the plan


@dataclass
class Village:
    """A named place that hazards are described from."""

    name: str
    point_m: Point  # UTM 36N, metres


@dataclass
class AdminAreaPlan:
    """An administrative area to insert."""

    pcode: str
    name: str
    level: int
    parent_pcode: str | None
    geom: MultiPolygon


@dataclass
class HazardPlan:
    """A hazard: the first report (``payload``) and its current planned state."""

    number: int
    external_id: str
    name: str
    hazard_type: HazardType
    classification: Classification
    contamination: list[Contamination]
    organisation: str
    operator: str  # the NGO that works on it
    date_of_information: date
    centre_m: Point
    geom_m: BaseGeometry  # current geometry, UTM 36N metres
    geom: BaseGeometry  # current geometry, lon/lat
    payload: dict[str, Any] = field(default_factory=dict)
    available_from: date = FIRST_DAY  # latest date of information known

    @property
    def is_point(self) -> bool:
        """Whether the hazard is recorded as a Point."""
        return self.geom.geom_type == "Point"


@dataclass
class ReportPlan:
    """A later report about a hazard (a partial update)."""

    hazard: HazardPlan
    kind: str  # reclassified | resurveyed | late
    payload: dict[str, Any]


@dataclass
class ReleasePlan:
    """A release polygon of an activity."""

    outcome: ReleaseOutcome
    day: date
    geom: BaseGeometry  # lon/lat
    hazard: HazardPlan

    def payload(self, name_hazard: bool) -> dict[str, Any]:
        """The release as a GeoJSON Feature."""
        props: dict[str, Any] = {
            "outcome": self.outcome.value,
            "date": self.day.isoformat(),
        }
        if name_hazard:
            props["hazard_id"] = self.hazard.external_id
        return {"type": "Feature", "geometry": geojson(self.geom), "properties": props}


@dataclass
class ActivityPlan:
    """A land-release activity with its releases."""

    sequence: int
    activity_type: ActivityType
    organisation: str
    hazards: list[HazardPlan]
    status: ActivityStatus
    start_date: date
    end_date: date | None
    work_end: date  # last day worked (for finds), whatever the status
    methods: tuple[Method, ...]
    clearance_depth_cm: int | None
    notes: str
    releases: list[ReleasePlan] = field(default_factory=list)
    external_id: str = ""

    def payload(self) -> dict[str, Any]:
        """The activity as an ``ActivityCreate`` body."""
        multi = len(self.hazards) > 1
        return {
            "external_id": self.external_id,
            "activity_type": self.activity_type.value,
            "organisation": self.organisation,
            "hazard_ids": [h.external_id for h in self.hazards],
            "status": self.status.value,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "methods": [m.value for m in self.methods],
            "clearance_depth_cm": self.clearance_depth_cm,
            "notes": self.notes,
            "releases": {
                "type": "FeatureCollection",
                "features": [r.payload(multi) for r in self.releases],
            }
            if self.releases
            else None,
        }


@dataclass
class FindPlan:
    """An explosive-ordnance find."""

    sequence: int
    hazard: HazardPlan
    activity: ActivityPlan | None
    category: Contamination
    model: str
    quantity: int
    condition: EOCondition
    depth_cm: int
    found_on: date
    disposal: DisposalMethod
    point: Point  # lon/lat
    notes: str
    external_id: str = ""

    def payload(self, activity_id: str | None) -> dict[str, Any]:
        """The find as a GeoJSON Feature (``activity_id``: the stored activity's id)."""
        org = self.activity.organisation if self.activity else self.hazard.organisation
        props = {
            "external_id": self.external_id,
            "eo_category": self.category.value,
            "model": self.model,
            "quantity": self.quantity,
            "condition": self.condition.value,
            "depth_cm": self.depth_cm,
            "found_on": self.found_on.isoformat(),
            "hazard_id": self.hazard.external_id,
            "organisation": org,
            "disposal_method": self.disposal.value,
            "notes": self.notes,
        }
        if activity_id is not None:
            props["activity_id"] = activity_id
        return {"type": "Feature", "geometry": geojson(self.point), "properties": props}


@dataclass
class ContextPlan:
    """A row of a context layer (``api.db.models.context``): what lies around hazards."""

    layer: str  # a key of CONTEXT_LAYERS: settlements, roads, facilities, ...
    external_id: str
    name: str
    geom: BaseGeometry  # lon/lat
    columns: dict[str, Any]  # the layer's own columns: population, road_class, ...


@dataclass
class AccidentPlan:
    """A recent mine/ERW accident near a hazard (totals only: no victim is itemised)."""

    external_id: str
    hazard: HazardPlan
    occurred_on: date
    device_category: Contamination
    killed: int
    injured: int
    point: BaseGeometry  # a Point, lon/lat
    linked: bool  # recorded against the hazard (it happened inside it)

    def payload(self) -> dict[str, Any]:
        """The accident as an ``AccidentFeature`` body."""
        props = {
            "external_id": self.external_id,
            "organisation": DEMO_MARKER_ORG,
            "occurred_on": self.occurred_on.isoformat(),
            "accident_class": AccidentClass.mine_erw_accident.value,
            "device_category": self.device_category.value,
            "killed": self.killed,
            "injured": self.injured,
            "hazard_id": self.hazard.external_id if self.linked else None,
            "notes": NOTE,
        }
        return {"type": "Feature", "geometry": geojson(self.point), "properties": props}


@dataclass
class Programme:
    """The whole fictional programme, ready to be written."""

    seed: int
    admin_areas: list[AdminAreaPlan]
    villages: list[Village]
    hazards: list[HazardPlan]
    reports: list[ReportPlan]
    activities: list[ActivityPlan]
    finds: list[FindPlan]
    context: list[ContextPlan] = field(default_factory=list)
    accidents: list[AccidentPlan] = field(default_factory=list)

    def fingerprint(self) -> str:
        """SHA-256 of everything the load would write (same seed, same fingerprint)."""
        content = {
            "admin": [
                (
                    a.pcode,
                    a.name,
                    a.level,
                    a.parent_pcode,
                    shapely.to_wkb(a.geom, hex=True),
                )
                for a in self.admin_areas
            ],
            "hazards": [h.payload for h in self.hazards],
            "current": [shapely.to_wkb(h.geom, hex=True) for h in self.hazards],
            "reports": [(r.hazard.external_id, r.payload) for r in self.reports],
            "activities": [a.payload() for a in self.activities],
            "finds": [
                f.payload(f.activity.external_id if f.activity else None)
                for f in self.finds
            ],
            "context": [
                (c.layer, c.external_id, c.name, shapely.to_wkb(c.geom, hex=True))
                + tuple(sorted(c.columns.items()))
                for c in self.context
            ],
            "accidents": [a.payload() for a in self.accidents],
        }
        blob = json.dumps(content, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()


# --------------------------------------------------------------------------- helpers


def _pick(rng: random.Random, options: Sequence[tuple[float, T]]) -> T:
    """One value from ``(weight, value)`` pairs."""
    return rng.choices([v for _, v in options], weights=[w for w, _ in options])[0]


def _day_between(rng: random.Random, first: date, last: date) -> date:
    """A day in ``first..last`` (``first`` when the range is empty)."""
    return first + timedelta(days=rng.randint(0, max((last - first).days, 0)))


def _project(geom: Geom, transformer: Transformer) -> Geom:
    """``geom`` transformed vertex by vertex."""
    return shapely.transform(
        geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def _to_lonlat(geom_m: Geom) -> Geom:
    """Metres (UTM 36N) to lon/lat, rounded to 7 decimals (about 1 cm, GPS-like)."""
    return shapely.transform(_project(geom_m, _TO_LONLAT), lambda xy: np.round(xy, 7))


def _polygonal(geom: BaseGeometry) -> Polygon | MultiPolygon:
    """The polygonal part of an overlay result (Polygon or MultiPolygon)."""
    if isinstance(geom, (Polygon, MultiPolygon)):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]
    return MultiPolygon(parts)


def _multi(geom: BaseGeometry) -> MultiPolygon:
    """``geom`` as a MultiPolygon."""
    polygonal = _polygonal(geom)
    return MultiPolygon([polygonal]) if isinstance(polygonal, Polygon) else polygonal


def _offset(rng: random.Random, origin: Point, distance: float) -> Point:
    """A point ``distance`` metres from ``origin`` in a random direction."""
    angle = rng.uniform(0, 2 * math.pi)
    return Point(
        origin.x + distance * math.cos(angle), origin.y + distance * math.sin(angle)
    )


def _scatter(
    rng: random.Random, region: BaseGeometry, count: int, spacing: float
) -> list[Point]:
    """``count`` random points in ``region``, ``spacing`` apart (relaxed if need be)."""
    minx, miny, maxx, maxy = region.bounds
    points: list[Point] = []
    attempts = 0
    while len(points) < count:
        attempts += 1
        if attempts % 200 == 0:
            spacing *= 0.8
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if region.contains(p) and all(p.distance(q) >= spacing for q in points):
            points.append(p)
    return points


def _sample_in(rng: random.Random, region: BaseGeometry) -> Point:
    """A random point inside a lon/lat ``region``, rounded to 7 decimals."""
    minx, miny, maxx, maxy = region.bounds
    shapely.prepare(region)
    for _ in range(2_000):
        x, y = round(rng.uniform(minx, maxx), 7), round(rng.uniform(miny, maxy), 7)
        if shapely.contains_xy(region, x, y):
            return Point(x, y)
    p = region.representative_point()
    return Point(round(p.x, 7), round(p.y, 7))


def _place_names(rng: random.Random) -> Iterator[str]:
    """Distinct fictional place names, in random order."""
    names = [stem + ending for stem, ending in product(NAME_STEMS, NAME_ENDINGS)]
    rng.shuffle(names)
    return iter(names)


# --------------------------------------------------------------------------- geography


def _voronoi(seeds: list[Point], region: BaseGeometry) -> list[BaseGeometry]:
    """The Voronoi cell of each seed, clipped to ``region``, in the order of seeds."""
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=region).geoms
    return [next(c for c in cells if c.contains(s)).intersection(region) for s in seeds]


def _admin_areas(rng: random.Random, names: Iterator[str]) -> list[AdminAreaPlan]:
    """Four provinces tiling the country, each tiled by 3-6 districts."""
    seeds = [
        Point(
            30.75 + 1.5 * col + rng.uniform(-0.4, 0.4),
            49.5 - 1.0 * row + rng.uniform(-0.25, 0.25),
        )
        for row, col in ((0, 0), (0, 1), (1, 0), (1, 1))
    ]
    areas = []
    for i, cell in enumerate(_voronoi(seeds, COUNTRY), 1):
        pcode = f"ZZ{i:02d}"
        areas.append(
            AdminAreaPlan(pcode, f"Demo {next(names)} Province", 1, None, _multi(cell))
        )
        subseeds = _scatter(rng, cell, rng.randint(3, 6), spacing=0.25)
        subseeds.sort(key=lambda p: (-p.y, p.x))  # numbered from the north
        subcells = _voronoi(subseeds, cell)
        for j, sub in enumerate(subcells, 1):
            name = f"Demo {next(names)} District"
            areas.append(AdminAreaPlan(f"{pcode}{j:02d}", name, 2, pcode, _multi(sub)))
    return areas


def _villages(rng: random.Random, names: Iterator[str]) -> list[Village]:
    """Fictional villages spread over the country, away from its border."""
    points = _scatter(rng, VILLAGE_ZONE, N_VILLAGES, spacing=0.15)
    return [Village(f"Demo {next(names)}", _project(p, _TO_METRES)) for p in points]


# --------------------------------------------------------------------------- hazards


def _blob(rng: random.Random, area: float) -> Polygon:
    """An irregular, star-shaped polygon of ``area`` m² around the origin."""
    n = rng.randint(7, 13)
    step, phase = 2 * math.pi / n, rng.uniform(0, 2 * math.pi)
    pts = []
    for i in range(n):
        angle = phase + step * (i + rng.uniform(-0.3, 0.3))
        radius = rng.uniform(0.7, 1.25)
        pts.append((radius * math.cos(angle), radius * math.sin(angle)))
    stretch = rng.uniform(1.0, 2.2)
    poly = affinity.scale(Polygon(pts), stretch, 1 / stretch, origin=(0, 0))
    return affinity.rotate(poly, rng.uniform(0, 180), origin=(0, 0))


def _road(rng: random.Random, area: float) -> Polygon:
    """A strip along a winding track, about ``area`` m²."""
    width = min(25.0, max(8.0, math.sqrt(area) / 15)) * rng.uniform(0.85, 1.15)
    segments = rng.randint(3, 6)
    step = area / width / segments
    heading = rng.uniform(0, 2 * math.pi)
    pts = [(0.0, 0.0)]
    for _ in range(segments):
        heading += rng.uniform(-0.5, 0.5)
        pts.append(
            (
                pts[-1][0] + step * math.cos(heading),
                pts[-1][1] + step * math.sin(heading),
            )
        )
    line = LineString(pts)
    line = affinity.translate(line, -line.centroid.x, -line.centroid.y)
    return line.buffer(width / 2, cap_style="flat", join_style="mitre")


def _compound(rng: random.Random, area: float) -> Polygon:
    """A building compound: a rectangle, sometimes with a wing (L-shape)."""
    height = rng.uniform(0.4, 1.0)
    shape = box(-0.5, -height / 2, 0.5, height / 2)
    if rng.random() < 0.4:
        joined = shape.union(
            box(0.15, height / 2 - 0.05, 0.5, height / 2 + rng.uniform(0.3, 0.6))
        )
        if not isinstance(joined, Polygon):  # pragma: no cover - the wing overlaps
            raise RuntimeError("a demo compound's wing came apart from its building")
        shape = joined
    return affinity.rotate(shape, rng.uniform(0, 180), origin=(0, 0))


def _shape_m(
    rng: random.Random, hazard_type: HazardType, centre: Point, area: float
) -> Polygon:
    """A hazard perimeter of about ``area`` m² centred on ``centre`` (metres)."""
    if hazard_type == H.road_route:
        poly = _road(rng, area)
    else:
        poly = (_compound if hazard_type == H.building else _blob)(rng, area)
        k = math.sqrt(area / poly.area)
        poly = affinity.scale(poly, k, k, origin=(0, 0))
    return affinity.translate(poly, centre.x, centre.y)


def _acceptable(geom: BaseGeometry) -> bool:
    """Valid, inside the country and, for polygons, within the area range."""
    if not geom.is_valid or not COUNTRY.contains(geom):
        return False
    return geom.geom_type == "Point" or (
        MIN_AREA_M2 <= ellipsoidal_area_m2(geom) <= MAX_AREA_M2
    )


def _benchmark(rng: random.Random, geom_m: Point | Polygon, centre: Point) -> Point:
    """A benchmark on safe ground 20-50 m outside the hazard, on its southern side."""
    if isinstance(geom_m, Point):
        return _to_lonlat(_offset(rng, centre, rng.uniform(15, 40)))
    xs, ys = geom_m.exterior.xy
    i = int(np.argmin(ys))
    dx, dy = xs[i] - geom_m.centroid.x, ys[i] - geom_m.centroid.y
    norm = math.hypot(dx, dy) or 1.0
    distance = rng.uniform(20, 50)
    point = Point(xs[i] + dx / norm * distance, ys[i] + dy / norm * distance)
    while geom_m.distance(point) < 15:
        distance += 20
        point = Point(xs[i] + dx / norm * distance, ys[i] + dy / norm * distance)
    return _to_lonlat(point)


def _where(villages: list[Village], centre: Point) -> str:
    """'north-east of Demo Oakbrook': direction from the nearest village."""
    village = min(villages, key=lambda v: v.point_m.distance(centre))
    dx, dy = centre.x - village.point_m.x, centre.y - village.point_m.y
    direction = COMPASS[round(math.degrees(math.atan2(dy, dx)) / 45) % 8]
    return f"{direction} of {village.name}"


def _contamination(rng: random.Random, profile: _Profile) -> list[Contamination]:
    """Device categories for a hazard of ``profile``."""
    codes = list(_pick(rng, profile.contamination))
    codes += [code for code, share in profile.extra if rng.random() < share]
    return list(dict.fromkeys(codes))


def _beneficiaries(rng: random.Random) -> dict[str, int]:
    """People who would benefit from release, disaggregated by sex and age."""
    total = int(math.exp(rng.uniform(math.log(15), math.log(2_500))))
    shares = [rng.uniform(0.8, 1.2) * w for w in (0.3, 0.28, 0.22, 0.2)]
    women, men, girls = (int(total * s / sum(shares)) for s in shares[:3])
    return {
        "total": total,
        "women": women,
        "men": men,
        "girls": girls,
        "boys": total - women - men - girls,
    }


def _hazard(
    rng: random.Random, number: int, villages: list[Village], earlier: list[HazardPlan]
) -> HazardPlan:
    """Plan hazard ``number``: where, what shape, what is known about it."""
    hazard_type = _pick(rng, [(p.weight, t) for t, p in PROFILES.items()])
    profile = PROFILES[hazard_type]
    is_point = rng.random() < profile.point_share
    polygons = [h for h in earlier if not h.is_point]
    overlap = not is_point and len(polygons) >= 10 and rng.random() < OVERLAP_SHARE
    lo, hi = (math.log(a * 10_000) for a in profile.area_ha)
    for _ in range(100):
        area = min(max(math.exp(rng.uniform(lo, hi)), 2_100.0), 590_000.0)
        if overlap:  # deliberately over a neighbour, e.g. two surveys of one field
            neighbour = rng.choice(polygons)
            reach = math.sqrt(neighbour.geom_m.area / math.pi) * rng.uniform(0.4, 0.9)
            centre = _offset(rng, neighbour.centre_m, reach)
        else:
            centre = _offset(rng, rng.choice(villages).point_m, rng.uniform(300, 3_500))
        geom_m = centre if is_point else _shape_m(rng, hazard_type, centre, area)
        geom = _to_lonlat(geom_m)
        if _acceptable(geom):
            break
    else:  # pragma: no cover - the ranges above always leave room
        raise RuntimeError(f"could not place demo hazard {number}")
    classification = (
        Classification.CHA if rng.random() < profile.cha_share else Classification.SHA
    )
    owner = _pick(rng, HAZARD_OWNERS)
    hazard = HazardPlan(
        number=number,
        external_id=f"DEMO-HA-{number:04d}",
        name=f"Demo hazard {number:04d} – {_where(villages, centre)}",
        hazard_type=hazard_type,
        classification=classification,
        contamination=_contamination(rng, profile),
        organisation=owner,
        operator=owner if owner in OPERATORS else rng.choice(OPERATORS),
        date_of_information=_day_between(rng, FIRST_DAY, LAST_SURVEY_DAY),
        centre_m=centre,
        geom_m=geom_m,
        geom=geom,
    )
    hazard.available_from = hazard.date_of_information
    area_m2 = ellipsoidal_area_m2(geom) if not is_point else rng.uniform(100, 2_500)
    evidence = (
        Evidence.direct
        if classification == Classification.CHA
        else _pick(rng, ((4, Evidence.indirect), (1, Evidence.not_specified)))
    )
    hazard.payload = {
        "type": "Feature",
        "geometry": geojson(geom),
        "properties": {
            "external_id": hazard.external_id,
            "name": hazard.name,
            "classification": classification.value,
            "hazard_type": hazard_type.value,
            "contamination": [c.value for c in hazard.contamination],
            "organisation": owner,
            "date_of_information": hazard.date_of_information.isoformat(),
            "benchmark": geojson(_benchmark(rng, geom_m, centre)),
            "estimated_area_m2": round(area_m2 * rng.uniform(0.7, 1.5), -2) or 100.0,
            "evidence": evidence.value,
            "blockages": [
                b.value for b in rng.sample(profile.blockages, rng.randint(1, 2))
            ],
            "beneficiaries": _beneficiaries(rng),
            "notes": NOTE,
        },
    }
    return hazard


def _hazards(rng: random.Random, villages: list[Village]) -> list[HazardPlan]:
    """All hazards, some deliberately overlapping earlier ones."""
    planned: list[HazardPlan] = []
    for number in range(1, N_HAZARDS + 1):
        planned.append(_hazard(rng, number, villages, planned))
    return planned


def _reclassification(rng: random.Random, hazard: HazardPlan) -> ReportPlan:
    """A later survey confirms a suspected hazard (SHA -> CHA)."""
    day = _day_between(rng, hazard.available_from + timedelta(days=60), LAST_REPORT_DAY)
    hazard.classification, hazard.available_from = Classification.CHA, day
    properties = {
        "date_of_information": day.isoformat(),
        "classification": Classification.CHA.value,
        "evidence": Evidence.direct.value,
    }
    return ReportPlan(hazard, "reclassified", {"properties": properties})


def _resurvey(rng: random.Random, hazard: HazardPlan) -> ReportPlan:
    """A later re-survey redraws the perimeter, 15 % smaller each way."""
    day = _day_between(rng, hazard.available_from + timedelta(days=60), LAST_REPORT_DAY)
    centroid = hazard.geom_m.centroid
    hazard.geom_m = affinity.scale(hazard.geom_m, 0.85, 0.85, origin=centroid)
    hazard.geom, hazard.available_from = _to_lonlat(hazard.geom_m), day
    properties = {
        "date_of_information": day.isoformat(),
        "estimated_area_m2": round(ellipsoidal_area_m2(hazard.geom), -2),
        "notes": NOTE + " Perimeter redrawn after a re-survey.",
    }
    return ReportPlan(
        hazard,
        "resurveyed",
        {"geometry": geojson(hazard.geom), "properties": properties},
    )


def _late_report(rng: random.Random, hazard: HazardPlan) -> ReportPlan:
    """An older community report, received late: newer facts keep precedence."""
    day = hazard.date_of_information - timedelta(days=rng.randint(30, 300))
    estimate = hazard.payload["properties"]["estimated_area_m2"] * rng.uniform(1.5, 3)
    properties = {
        "date_of_information": day.isoformat(),
        "name": f"{hazard.name} (earlier community report)",
        "estimated_area_m2": round(estimate, -2),
        "evidence": Evidence.indirect.value,
    }
    return ReportPlan(hazard, "late", {"properties": properties})


def _later_reports(rng: random.Random, planned: list[HazardPlan]) -> list[ReportPlan]:
    """Reclassifications, re-surveys and late reports, each on a different hazard."""
    areas = [h for h in planned if not h.is_point]
    suspected = [h for h in areas if h.classification == Classification.SHA]
    reports = [_reclassification(rng, h) for h in rng.sample(suspected, N_RECLASSIFIED)]
    touched = {r.hazard.number for r in reports}
    large = [h for h in areas if h.number not in touched and h.geom_m.area >= 10_000]
    reports += [_resurvey(rng, h) for h in rng.sample(large, N_RESURVEYED)]
    touched |= {r.hazard.number for r in reports}
    others = [h for h in planned if h.number not in touched]
    reports += [_late_report(rng, h) for h in rng.sample(others, N_LATE_REPORTS)]
    return reports


# --------------------------------------------------------------------------- activities


def _part(rng: random.Random, hazard: HazardPlan, share: float) -> BaseGeometry:
    """About ``share`` of the hazard, cut off by a line in a random direction."""
    geom_m = hazard.geom_m
    theta = rng.uniform(0, 2 * math.pi)
    u = np.array([math.cos(theta), math.sin(theta)])
    v = np.array([-u[1], u[0]])
    minx, miny, maxx, maxy = geom_m.bounds
    reach = math.hypot(maxx - minx, maxy - miny) + 50
    c = np.array(geom_m.centroid.coords[0])

    def side(t: float) -> Polygon:
        return Polygon(
            [
                c - reach * u - reach * v,
                c + t * u - reach * v,
                c + t * u + reach * v,
                c - reach * u + reach * v,
            ]
        )

    lo, hi, target = -reach, reach, share * geom_m.area
    for _ in range(24):  # to within a millionth of the reach
        mid = (lo + hi) / 2
        if geom_m.intersection(side(mid)).area < target:
            lo = mid
        else:
            hi = mid
    cut = _project(side((lo + hi) / 2), _TO_LONLAT)
    return _polygonal(hazard.geom.intersection(cut))


def _whole(rng: random.Random, hazard: HazardPlan, expand: bool) -> BaseGeometry:
    """The whole hazard; ``expand`` adds a margin outside it (boundary expansion)."""
    if hazard.is_point:
        return _to_lonlat(hazard.geom_m.buffer(rng.uniform(10, 25), quad_segs=6))
    if not expand:
        return hazard.geom
    margin = _to_lonlat(hazard.geom_m.buffer(rng.uniform(2, 8), quad_segs=4))
    return _polygonal(hazard.geom.union(margin))


def _releases(
    rng: random.Random, activity: ActivityPlan, first: date, last: date
) -> tuple[list[ReleasePlan], set[str]]:
    """Release polygons of an activity worked ``first..last``, and hazards closed."""
    kind, completed = activity.activity_type, activity.status == S.completed
    single = len(activity.hazards) == 1
    out: list[ReleasePlan] = []
    closed: set[str] = set()

    def add(
        outcome: ReleaseOutcome,
        hazard: HazardPlan,
        geom: BaseGeometry,
        day: date | None = None,
    ) -> None:
        day = day or _day_between(rng, first, last)
        out.append(ReleasePlan(outcome, day, geom, hazard))

    for hazard in activity.hazards:
        if kind == A.non_technical_survey and completed:
            suspected = hazard.classification == Classification.SHA
            if single and suspected and rng.random() < 0.3:
                add(ReleaseOutcome.cancelled, hazard, _whole(rng, hazard, False), last)
                closed.add(hazard.external_id)
            else:
                part = _part(rng, hazard, rng.uniform(0.2, 0.7))
                add(ReleaseOutcome.cancelled, hazard, part)
        elif kind == A.technical_survey:
            if completed or rng.random() < 0.7:
                share = rng.uniform(0.2, 0.6) if completed else rng.uniform(0.1, 0.3)
                add(ReleaseOutcome.reduced, hazard, _part(rng, hazard, share))
            if completed and rng.random() < 0.4:  # may overlap the reduced part
                part = _part(rng, hazard, rng.uniform(0.1, 0.3))
                add(ReleaseOutcome.cancelled, hazard, part)
        elif kind in (A.clearance, A.battle_area_clearance):
            if completed and single and rng.random() < 0.35:
                add(
                    ReleaseOutcome.cleared,
                    hazard,
                    _whole(rng, hazard, expand=rng.random() < 0.35),
                    last,
                )
                closed.add(hazard.external_id)
                continue
            share = rng.uniform(0.3, 0.8) if completed else rng.uniform(0.1, 0.4)
            add(ReleaseOutcome.cleared, hazard, _part(rng, hazard, share))
            if completed and rng.random() < 0.25:
                part = _part(rng, hazard, rng.uniform(0.1, 0.2))
                add(ReleaseOutcome.reduced, hazard, part)
        elif kind == A.eod_spot_task and completed:
            add(
                ReleaseOutcome.cleared,
                hazard,
                _whole(rng, hazard, expand=rng.random() < 0.3),
                last,
            )
            closed.add(hazard.external_id)
    return out, closed


@dataclass
class _Planner:
    """Which hazards are free for work, and from when."""

    rng: random.Random
    hazards: list[HazardPlan]
    free_from: dict[str, date] = field(default_factory=dict)
    worked: set[str] = field(default_factory=set)
    closed: set[str] = field(default_factory=set)

    def candidates(self, kind: ActivityType, latest_start: date) -> list[HazardPlan]:
        """Hazards an activity of ``kind`` could start on by ``latest_start``."""
        types = ACTIVITY_HAZARD_TYPES[kind]
        return [
            h
            for h in self.hazards
            if h.hazard_type in types
            and h.external_id not in self.closed
            and self.free_from.get(h.external_id, h.available_from) < latest_start
        ]

    def choose(self, kind: ActivityType, pool: list[HazardPlan]) -> HazardPlan:
        """A hazard from ``pool``, preferring its usual class and earlier work."""
        if kind in PREFERRED_CLASS:
            wanted, share = PREFERRED_CLASS[kind]
            preferred = [h for h in pool if h.classification == wanted]
            if preferred and self.rng.random() < share:
                pool = preferred
        reused = [h for h in pool if h.external_id in self.worked]
        if reused and self.rng.random() < REUSE_SHARE.get(kind, 0.0):
            pool = reused
        return self.rng.choice(pool)

    def neighbour(
        self, kind: ActivityType, hazard: HazardPlan, latest_start: date
    ) -> HazardPlan | None:
        """An adjacent hazard that the same activity could address."""
        near = [
            h
            for h in self.candidates(kind, latest_start)
            if h is not hazard
            and not h.is_point
            and h.centre_m.distance(hazard.centre_m) < NEIGHBOUR_M
        ]
        return min(
            near, key=lambda h: h.centre_m.distance(hazard.centre_m), default=None
        )


def _schedule(
    rng: random.Random,
    kind: ActivityType,
    status: ActivityStatus,
    ready: date,
    latest_start: date,
) -> tuple[date, date | None, date]:
    """Start, end (completed only) and last day worked of an activity."""
    if status == S.planned:
        start = LAST_DAY + timedelta(days=rng.randint(10, 100))
    else:
        start = _day_between(
            rng,
            min(ready + timedelta(days=14), latest_start),
            min(ready + timedelta(days=240), latest_start),
        )
    duration = rng.randint(*DURATION_DAYS[kind])
    end = start + timedelta(days=duration) if status == S.completed else None
    work_end = end or min(start + timedelta(days=rng.randint(0, duration)), LAST_DAY)
    return start, end, work_end


def _clearance_depth(
    rng: random.Random, kind: ActivityType, chosen: list[HazardPlan]
) -> int | None:
    """Clearance depth in cm: 13 for anti-personnel mines, deeper for the rest."""
    contamination = {c for h in chosen for c in h.contamination}
    if kind == A.clearance:
        anti_personnel_only = contamination <= {C.ap_mine, C.booby_trap}
        return 13 if anti_personnel_only else rng.choice((20, 25, 30))
    if kind == A.battle_area_clearance:
        return rng.choice((10, 20, 30))
    return None


def _activity(planner: _Planner, kind: ActivityType, sequence: int) -> ActivityPlan:
    """Plan one activity of ``kind``: hazard(s), status, dates, methods and releases."""
    rng = planner.rng
    status = _pick(rng, STATUSES)
    longest = DURATION_DAYS[kind][1]
    latest_start = LAST_DAY - timedelta(days=longest if status == S.completed else 20)
    pool = planner.candidates(kind, latest_start)
    if not pool:  # nothing free in time: plan it for next year
        status = S.planned
        pool = planner.candidates(kind, date.max) or [
            h for h in planner.hazards if h.hazard_type in ACTIVITY_HAZARD_TYPES[kind]
        ]
    hazard = planner.choose(kind, pool)
    chosen = [hazard]
    started = status in STARTED_ACTIVITY_STATUSES
    if kind in FIND_WEIGHT and started and rng.random() < TWO_HAZARD_SHARE:
        other = planner.neighbour(kind, hazard, latest_start)
        if other is not None:
            chosen.append(other)
    ready = max(planner.free_from.get(h.external_id, h.available_from) for h in chosen)
    start, end, work_end = _schedule(rng, kind, status, ready, latest_start)
    notes = {
        S.cancelled: "Cancelled before it started: task re-prioritised.",
        S.suspended: "Suspended: access restricted by the landowner.",
    }.get(status, "")
    activity = ActivityPlan(
        sequence=sequence,
        activity_type=kind,
        organisation=hazard.operator,
        hazards=chosen,
        status=status,
        start_date=start,
        end_date=end,
        work_end=work_end,
        methods=_pick(rng, METHODS[kind]),
        clearance_depth_cm=_clearance_depth(rng, kind, chosen),
        notes=f"Fictional demo activity. {notes}".strip(),
    )
    if started:
        activity.releases, closed = _releases(rng, activity, start, work_end)
        planner.closed |= closed
        for h in chosen:
            planner.free_from[h.external_id] = (end or LAST_DAY) + timedelta(days=1)
            planner.worked.add(h.external_id)
    elif status == S.planned:
        planner.free_from[hazard.external_id] = date.max
    return activity


def _activities(rng: random.Random, planned: list[HazardPlan]) -> list[ActivityPlan]:
    """All activities, surveys planned first so that clearance can follow them."""
    planner = _Planner(rng, planned)
    plans: list[ActivityPlan] = []
    for kind, count in ACTIVITY_COUNTS.items():
        for _ in range(count):
            plans.append(_activity(planner, kind, len(plans)))
    plans.sort(key=lambda a: (a.start_date, a.sequence))
    for n, activity in enumerate(plans, 1):
        activity.external_id = f"DEMO-AC-{n:04d}"
    return plans


# --------------------------------------------------------------------------- EO finds


def _find_details(rng: random.Random, hazard: HazardPlan) -> dict[str, Any]:
    """Category, model, quantity, condition, depth and disposal fitting a hazard."""
    category = rng.choice(hazard.contamination or [C.other])
    profile = FIND_PROFILES[category]
    bulk = category in (C.uxo, C.axo, C.cmr) and rng.random() < 0.15
    return {
        "category": category,
        "model": rng.choice(MODELS[category]),
        "quantity": rng.randint(2, 6) if bulk else 1,
        "condition": _pick(rng, profile.conditions),
        "depth_cm": rng.randint(*profile.depth_cm),
        "disposal": _pick(rng, profile.disposals),
    }


def _find_region(
    activity: ActivityPlan, hazard: HazardPlan
) -> tuple[BaseGeometry, date]:
    """Where an activity's finds on ``hazard`` lie, and the last day they were found."""
    if hazard.is_point:
        return _to_lonlat(hazard.geom_m.buffer(5, quad_segs=4)), activity.work_end
    own = [r for r in activity.releases if r.hazard is hazard]
    if activity.activity_type == A.technical_survey:  # found where the survey confirmed
        rest = hazard.geom.difference(shapely.union_all([r.geom for r in own]))
        region = rest if ellipsoidal_area_m2(rest) > 100 else hazard.geom
        return region, activity.work_end
    cleared = [r for r in own if r.outcome == ReleaseOutcome.cleared]
    if not cleared:
        return hazard.geom, activity.work_end
    return shapely.union_all([r.geom for r in cleared]), max(r.day for r in cleared)


def _finds(
    rng: random.Random, planned: list[HazardPlan], plans: list[ActivityPlan]
) -> list[FindPlan]:
    """EO finds: evidence on CHAs, and items found by surveys, clearance and EOD."""
    finds: list[FindPlan] = []
    confirmed = [h for h in planned if h.classification == Classification.CHA]
    for hazard in (rng.choice(confirmed) for _ in range(N_EVIDENCE_FINDS)):
        details = _find_details(rng, hazard)
        details.update(depth_cm=0, disposal=DM.not_disposed)
        point = _sample_in(
            rng, hazard.geom.buffer(0.00005) if hazard.is_point else hazard.geom
        )
        finds.append(
            FindPlan(
                len(finds),
                hazard,
                None,
                found_on=hazard.available_from,
                point=point,
                notes="Evidence seen during survey, marked.",
                **details,
            )
        )
    started = [a for a in plans if a.status in STARTED_ACTIVITY_STATUSES]
    allocation: Counter[int] = Counter()
    for a in started:
        if a.activity_type == A.eod_spot_task:
            allocation[a.sequence] = rng.randint(1, 3)
    productive = [a for a in started if a.activity_type in FIND_WEIGHT]
    weights = [FIND_WEIGHT[a.activity_type] for a in productive]
    remaining = N_FINDS - len(finds) - allocation.total()
    for a in rng.choices(productive, weights, k=remaining):
        allocation[a.sequence] += 1
    regions: dict[tuple[int, int], tuple[BaseGeometry, date]] = {}
    for activity in started:
        for _ in range(allocation[activity.sequence]):
            hazard = rng.choice(activity.hazards)
            key = (activity.sequence, hazard.number)
            if key not in regions:
                regions[key] = _find_region(activity, hazard)
            region, last = regions[key]
            if not hazard.is_point and rng.random() < 0.05:  # just outside it
                region = _to_lonlat(hazard.geom_m.buffer(30)).difference(hazard.geom)
            finds.append(
                FindPlan(
                    len(finds),
                    hazard,
                    activity,
                    found_on=_day_between(rng, activity.start_date, last),
                    point=_sample_in(rng, region),
                    notes="Fictional demo find.",
                    **_find_details(rng, hazard),
                )
            )
    finds.sort(key=lambda f: (f.found_on, f.sequence))
    for n, find in enumerate(finds, 1):
        find.external_id = f"DEMO-EO-{n:04d}"
    return finds


# --------------------------------------------------------------------------- context

# What lies around the hazards, so that the ranking has reasons to give: every village is
# a settlement with a hamlet or two, villages are joined by roads and some hazards are
# crossed by farm tracks; schools, health posts and water points stand in the larger
# places and at a few hazards; fields and built-up areas lie around the villages; one
# security zone closes a hazard or two; a few recent accidents happened near hazards close
# to villages. Planned from a random stream of its own, so the records planned before
# stay exactly as they were.
HAMLET_PREFIXES = ("Upper", "Lower", "New", "Little")
ROAD_NEIGHBOURS = 2  # each village has a road to its nearest neighbours
TRACK_SHARE = 0.2  # share of hazards a farm track from the nearest village crosses
N_WELLS = 12  # water points put 100-400 m from a hazard (herders' wells)
FIELDS_PER_VILLAGE = (2, 4)
FIELD_AREA_HA = (10, 60)
FIELD_USES = (
    (5, LandUse.agricultural_crop),
    (3, LandUse.pasture),
    (2, LandUse.orchard_perennial),
)
N_ACCIDENT_HAZARDS = 7  # hazards with recent accidents nearby (1-3 each)
FIRST_ACCIDENT_DAY = date(2025, 1, 1)
ZONE_REACH_M = 400.0  # the security zone reaches this far around the hazard it closes
FACILITY_TITLES = {"school": "school", "health": "health post", "water_point": "well"}


def _patch(rng: random.Random, centre: Point, area: float) -> Polygon:
    """An irregular polygon of about ``area`` m² around ``centre`` (metres)."""
    poly = _blob(rng, area)
    k = math.sqrt(area / poly.area)
    return affinity.translate(
        affinity.scale(poly, k, k, origin=(0, 0)), centre.x, centre.y
    )


def _stem(village: Village) -> str:
    """'Oakbrook' for 'Demo Oakbrook'."""
    return village.name.removeprefix("Demo ")


class _Numbered:
    """Context rows numbered per layer: DEMO-ST-0001, DEMO-RD-0001, ..."""

    PREFIX = {
        "settlements": "ST",
        "roads": "RD",
        "facilities": "FA",
        "land_use": "LU",
        "security_zones": "SZ",
    }

    def __init__(self) -> None:
        self.rows: list[ContextPlan] = []
        self.counts: Counter[str] = Counter()

    def add(
        self, layer: str, name: str, geom_m: BaseGeometry, **columns: Any
    ) -> ContextPlan:
        """Plan a row of ``layer`` (``geom_m`` in metres), numbered next in its layer."""
        self.counts[layer] += 1
        number = f"DEMO-{self.PREFIX[layer]}-{self.counts[layer]:04d}"
        row = ContextPlan(layer, number, name, _to_lonlat(geom_m), columns)
        self.rows.append(row)
        return row


def _places(rng: random.Random, villages: list[Village], out: _Numbered) -> None:
    """Settlements with population, their schools, health posts, water points, built-up area."""
    for village in villages:
        places = [(village.name, village.point_m, math.log(250), math.log(7_000))]
        for prefix in rng.sample(HAMLET_PREFIXES, rng.randint(1, 2)):
            point = _offset(rng, village.point_m, rng.uniform(1_200, 3_000))
            places.append(
                (f"Demo {prefix} {_stem(village)}", point, math.log(30), math.log(400))
            )
        for name, point, lo, hi in places:
            population = int(round(math.exp(rng.uniform(lo, hi)), -1))
            out.add("settlements", name, point, population=population)
            radius = 12 * math.sqrt(population)  # 250 people: 190 m; 7,000: 1 km
            out.add(
                "land_use",
                f"{name}, built-up area",
                MultiPolygon([_patch(rng, point, math.pi * radius**2)]),
                land_use=LandUse.residential.value,
            )
            schools = (population >= 600) + (population >= 3_000)
            kinds = ["water_point"] if population >= 150 or rng.random() < 0.5 else []
            kinds += ["school"] * schools + ["health"] * (population >= 1_500)
            for kind in kinds:
                where = _offset(rng, point, rng.uniform(50, 0.8 * radius))
                title = FACILITY_TITLES[kind]
                out.add("facilities", f"{name} {title}", where, facility_type=kind)


def _roads(
    rng: random.Random,
    villages: list[Village],
    hazards: list[HazardPlan],
    out: _Numbered,
) -> None:
    """Roads between neighbouring villages; farm tracks from villages across some hazards."""
    pairs: set[tuple[int, int]] = set()
    for i, village in enumerate(villages):
        nearest = sorted(
            range(len(villages)),
            key=lambda j: village.point_m.distance(villages[j].point_m),
        )
        pairs |= {(min(i, j), max(i, j)) for j in nearest[1 : ROAD_NEIGHBOURS + 1]}
    for i, j in sorted(pairs):
        a, b = villages[i].point_m, villages[j].point_m
        bend = rng.uniform(-0.15, 0.15)
        mid = Point(
            (a.x + b.x) / 2 - bend * (b.y - a.y), (a.y + b.y) / 2 + bend * (b.x - a.x)
        )
        out.add(
            "roads",
            f"Demo road {_stem(villages[i])} – {_stem(villages[j])}",
            MultiLineString([LineString([a, mid, b])]),
            road_class="secondary",
        )
    for hazard in hazards:
        if rng.random() >= TRACK_SHARE:
            continue
        village = min(villages, key=lambda v: v.point_m.distance(hazard.centre_m))
        start, end = village.point_m, hazard.centre_m
        length = start.distance(end) or 1.0
        beyond = Point(
            end.x + (end.x - start.x) / length * 200,
            end.y + (end.y - start.y) / length * 200,
        )
        out.add(
            "roads",
            f"Demo farm track, {_stem(village)}",
            MultiLineString([LineString([start, end, beyond])]),
            road_class="track",
        )


def _wells_and_fields(
    rng: random.Random,
    villages: list[Village],
    hazards: list[HazardPlan],
    out: _Numbered,
) -> None:
    """Water points beside a few hazards; fields of farmland around every village."""
    for hazard in rng.sample(hazards, N_WELLS):
        where = _offset(rng, hazard.centre_m, 1.0)
        for _ in range(50):  # 100-400 m from the hazard's edge
            where = _offset(rng, hazard.centre_m, rng.uniform(100, 1_200))
            if 100 <= hazard.geom_m.distance(where) <= 400:
                break
        name = f"Demo well, {_where(villages, where)}"
        out.add("facilities", name, where, facility_type="water_point")
    for village in villages:
        for n in range(rng.randint(*FIELDS_PER_VILLAGE)):
            centre = _offset(rng, village.point_m, rng.uniform(600, 3_000))
            area = rng.uniform(*FIELD_AREA_HA) * 10_000
            use = _pick(rng, FIELD_USES)
            out.add(
                "land_use",
                f"Demo {_stem(village)} field {n + 1}",
                MultiPolygon([_patch(rng, centre, area)]),
                land_use=use.value,
            )


def _untouched(
    hazards: list[HazardPlan], plans: list[ActivityPlan]
) -> list[HazardPlan]:
    """Hazards no activity works on: they stay open."""
    worked = {h.number for a in plans for h in a.hazards}
    return [h for h in hazards if h.number not in worked]


def _security_zone(
    rng: random.Random,
    villages: list[Village],
    hazards: list[HazardPlan],
    untouched: list[HazardPlan],
    out: _Numbered,
) -> list[HazardPlan]:
    """One security zone around an open hazard; the one or two hazards it covers."""
    free = {h.number for h in untouched}
    for hazard in rng.sample(untouched, len(untouched)):
        zone = hazard.geom_m.buffer(ZONE_REACH_M, quad_segs=8)
        zone_lonlat = _to_lonlat(zone)  # what PostGIS will intersect the hazards with
        covered = [h for h in hazards if h.geom.intersects(zone_lonlat)]
        if 1 <= len(covered) <= 2 and all(h.number in free for h in covered):
            out.add(
                "security_zones",
                f"Demo restricted zone, {_where(villages, hazard.centre_m)}",
                MultiPolygon([zone]),
                reason="Fictional: military position, no access for survey teams.",
                valid_from=date(2025, 3, 1),
                valid_to=None,
            )
            return covered
    raise RuntimeError("no place for the demo security zone")  # pragma: no cover


def _accidents(
    rng: random.Random,
    villages: list[Village],
    candidates: list[HazardPlan],
) -> list[AccidentPlan]:
    """Recent accidents near a few open hazards at the edge of villages."""
    near = [
        h
        for h in candidates
        if min(v.point_m.distance(h.centre_m) for v in villages) < 1_200
    ]
    planned: list[AccidentPlan] = []
    for k, hazard in enumerate(rng.sample(near, min(N_ACCIDENT_HAZARDS, len(near)))):
        for _ in range(3 if k < 2 else rng.randint(1, 2)):
            inside = rng.random() < 0.4
            point: BaseGeometry
            if inside:
                region = (
                    _to_lonlat(hazard.geom_m.buffer(10))
                    if hazard.is_point
                    else hazard.geom
                )
                point = _sample_in(rng, region)
            else:  # 30-600 m outside it, on the way to the fields
                where = _offset(rng, hazard.centre_m, 1.0)
                for _ in range(50):
                    where = _offset(rng, hazard.centre_m, rng.uniform(30, 1_500))
                    if 30 <= hazard.geom_m.distance(where) <= 600:
                        break
                point = _to_lonlat(where)
            killed = rng.choice((0, 0, 1))
            planned.append(
                AccidentPlan(
                    external_id="",
                    hazard=hazard,
                    occurred_on=_day_between(rng, FIRST_ACCIDENT_DAY, LAST_DAY),
                    device_category=rng.choice(hazard.contamination or [C.other]),
                    killed=killed,
                    injured=rng.randint(1 - killed, 2),
                    point=point,
                    linked=inside,
                )
            )
    planned.sort(key=lambda a: (a.occurred_on, a.hazard.number))
    for n, accident in enumerate(planned, 1):
        accident.external_id = f"DEMO-AX-{n:04d}"
    return planned


def _context(
    rng: random.Random,
    villages: list[Village],
    hazards: list[HazardPlan],
    plans: list[ActivityPlan],
) -> tuple[list[ContextPlan], list[AccidentPlan]]:
    """The context layers and the recent accidents around the planned hazards."""
    out = _Numbered()
    _places(rng, villages, out)
    _roads(rng, villages, hazards, out)
    _wells_and_fields(rng, villages, hazards, out)
    untouched = _untouched(hazards, plans)
    closed_off = {
        h.number for h in _security_zone(rng, villages, hazards, untouched, out)
    }
    open_ = [h for h in untouched if h.number not in closed_off]
    recent = _accidents(rng, villages, open_)
    return out.rows, recent


def build(seed: int = DEFAULT_SEED) -> Programme:
    """Plan the whole fictional programme from ``seed``, without touching a database."""
    rng = random.Random(seed)
    names = _place_names(rng)
    areas = _admin_areas(rng, names)
    villages = _villages(rng, names)
    planned = _hazards(rng, villages)
    reports = _later_reports(rng, planned)
    plans = _activities(rng, planned)
    finds = _finds(rng, planned, plans)
    # a stream of its own: the records above stay what they were before context existed
    context, recent = _context(
        random.Random(f"{seed}:context"), villages, planned, plans
    )
    return Programme(
        seed, areas, villages, planned, reports, plans, finds, context, recent
    )


# --------------------------------------------------------------------------- writing

TABLE_NAMES = {
    "organisations": "organisations",
    "admin_areas": "admin areas",
    "hazards": "hazards",
    "activities": "activities",
    "eo_finds": "EO finds",
    "accidents": "accidents",
    "context_settlements": "settlements",
    "context_roads": "roads",
    "context_facilities": "facilities",
    "context_land_use": "land-use areas",
    "context_security_zones": "security zones",
}
CHECKED_TABLES = tuple(TABLE_NAMES)
# Context layers have no is_demo column: the demo's rows are the ones numbered DEMO-...
DEMO_ROWS = {
    t: "external_id LIKE 'DEMO-%'" if t.startswith("context_") else "is_demo"
    for t in CHECKED_TABLES
}
LOCK_SQL = text("SELECT pg_advisory_xact_lock(hashtext('safeground demo load'))")


def _existing(session: Session) -> dict[str, tuple[int, int]]:
    """(all rows, non-demo rows) of each table the demo writes to."""
    parts = ", ".join(
        f"(SELECT count(*) FROM {t}) AS {t}_all, "
        f"(SELECT count(*) FROM {t} WHERE NOT coalesce({DEMO_ROWS[t]}, false)) "
        f"AS {t}_real"
        for t in CHECKED_TABLES
    )
    row = session.execute(text(f"SELECT {parts}")).mappings().one()
    return {t: (row[f"{t}_all"], row[f"{t}_real"]) for t in CHECKED_TABLES}


def _listing(counts: dict[str, int]) -> str:
    """'2 organisations, 10 hazards' from a table -> count mapping (zeros left out)."""
    return ", ".join(f"{n} {TABLE_NAMES[t]}" for t, n in counts.items() if n)


def _lower_first(text_: str) -> str:
    """'Technical survey' -> 'technical survey'; 'EOD spot task' stays as it is."""
    return text_ if text_[:2].isupper() else text_[:1].lower() + text_[1:]


def _refuse_unless_empty(
    session: Session, existing: dict[str, tuple[int, int]]
) -> None:
    """Raise Conflict unless the database is empty of operational data."""
    demo_loaded = session.execute(
        text("SELECT 1 FROM organisations WHERE code = :c"), {"c": DEMO_MARKER_ORG}
    ).first()
    if demo_loaded:
        raise Conflict(
            f"the demo programme is already loaded (organisation {DEMO_MARKER_ORG} "
            "exists); load it into a fresh database, or use --if-empty to skip"
        )
    real = {t: n for t, (_, n) in existing.items()}
    if any(real.values()):
        raise Conflict(
            f"the database holds real data ({_listing(real)}); the fictional demo "
            "programme is loaded only into an empty database, never mixed with real "
            "records"
        )
    flagged = {t: n for t, (n, _) in existing.items()}
    if any(flagged.values()):
        raise Conflict(
            f"the database already holds demo-flagged records ({_listing(flagged)}); "
            "load the demo into a fresh database"
        )
    for username, _, _ in USERS:
        taken = session.scalar(
            select(User.id).where(func.lower(User.username) == username.lower())
        )
        if taken is not None:
            raise Conflict(f"a user named {username!r} already exists")


def _publish(session: Session, settings: Settings) -> dict:
    """Publish the public layer as the demo admin, so the public map has something to show."""
    from api.services import auth, public

    admin_id = session.scalar(select(User.id).where(User.username == USERS[0][0]))
    principal = auth.principal_for_import(session, admin_id, None)
    return public.publish(session, principal=principal, settings=settings)


@contextmanager
def _transaction(session: Session) -> Iterator[Session]:
    """A session whose commits are savepoints of one transaction, committed at the end.

    When ``session`` is bound to a connection (not an engine), its owner controls the
    transaction and ``session`` is used as it is.
    """
    bind = session.get_bind()
    if not isinstance(bind, Engine):
        yield session
        return
    with bind.connect() as conn, conn.begin():
        conn.execute(LOCK_SQL)
        with Session(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as work:
            yield work


def _write_admin_areas(session: Session, areas: list[AdminAreaPlan]) -> None:
    """Insert the admin areas, parents before children."""
    for level in sorted({a.level for a in areas}):
        for a in (a for a in areas if a.level == level):
            session.add(
                AdminArea(
                    pcode=a.pcode,
                    name=a.name,
                    level=a.level,
                    parent_pcode=a.parent_pcode,
                    geom=from_shape(a.geom, srid=4326),
                    is_demo=True,
                )
            )
        session.flush()
    session.commit()


def _write_context(session: Session, rows: list[ContextPlan]) -> None:
    """Insert the context layers' rows."""
    for row in rows:
        model = CONTEXT_LAYERS[row.layer]
        session.add(
            model(
                external_id=row.external_id,
                name=row.name,
                geom=from_shape(row.geom, srid=4326),
                **row.columns,
            )
        )
    session.flush()
    session.commit()


def _write_accidents(
    session: Session, planned: list[AccidentPlan], principal: auth.Principal
) -> None:
    """Record the accidents through the service (each refreshes its hazards' indicators)."""
    ids = []
    for a in planned:
        feature = AccidentFeature.model_validate(a.payload())
        accident_id, _ = accidents.create_accident(
            session, feature=feature, principal=principal
        )
        ids.append(accident_id)
    session.execute(
        text("UPDATE accidents SET is_demo = true WHERE id = ANY(:ids)"), {"ids": ids}
    )
    session.commit()


def _write(session: Session, programme: Programme, settings: Settings) -> None:
    """Write the programme through the services."""
    principal = auth.Principal(
        role=Role.admin,
        organisation_id=None,
        organisation_code=None,
        restricted=True,
        name="demo loader",
    )
    for code, name, org_type in ORGANISATIONS:
        data = OrganisationCreate(code=code, name=name, type=org_type)
        organisations.create(session, data=data, is_demo=True)
    _write_admin_areas(session, programme.admin_areas)
    _write_context(session, programme.context)
    hazard_ids = {}
    for h in programme.hazards:
        result = hazards.create_hazard(
            session,
            feature=HazardFeatureCreate.model_validate(h.payload),
            principal=principal,
            settings=settings,
            source="demo",
            is_demo=True,
        )
        hazard_ids[h.external_id] = result.id
    for report in programme.reports:
        hazards.update_hazard(
            session,
            hazard_id=hazard_ids[report.hazard.external_id],
            patch=HazardFeaturePatch.model_validate(report.payload),
            principal=principal,
            settings=settings,
            if_match="*",
            source="demo",
        )
    logger.info("demo: %d hazards written", len(programme.hazards))
    activity_ids = {}
    for a in programme.activities:
        created = activities.create_activity(
            session,
            body=ActivityCreate.model_validate(a.payload()),
            principal=principal,
            settings=settings,
            is_demo=True,
        )
        activity_ids[a.external_id] = str(created.id)
    logger.info("demo: %d activities written", len(programme.activities))
    for f in programme.finds:
        activity_id = activity_ids[f.activity.external_id] if f.activity else None
        feature = EOFindFeature.model_validate(f.payload(activity_id))
        eo_finds.create(session, feature=feature, principal=principal, is_demo=True)
    _write_accidents(session, programme.accidents, principal)
    _write_eore_sessions(session, principal)
    for username, role, org in USERS:
        auth.create_user(
            session,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            organisation_code=org,
            is_demo=True,
        )
    admin_areas.assign_hazards(session, None)
    # once more for every hazard: activities changed their remaining areas since
    priorities.refresh(session, None)
    session.commit()


# Past risk-education sessions of DEMO-INGO, so that the EORE workspace shows the
# organisation's history (issue 18): (rank of the settlement by population, date, method,
# audience, messages, a multiplier of the people reached, whether the location was safe to
# record). All in 2025, the demo's last year, hence older than the planning view's six
# months: they show as a settlement's last session without taking it off the list. The two
# largest settlements have none, so the top of the list is a fresh start.
EORE_SESSIONS: tuple[tuple[int, date, str, str, tuple[str, ...], int, bool], ...] = (
    (
        23,
        date(2025, 3, 12),
        "interpersonal",
        "general_community",
        ("understand_threat", "recognise_devices", "report"),
        10,
        True,
    ),
    (
        2,
        date(2025, 4, 2),
        "school_based",
        "children",
        ("recognise_devices", "safe_actions", "report"),
        6,
        True,
    ),
    (
        4,
        date(2025, 5, 21),
        "interpersonal",
        "farmers_herders",
        ("dangerous_vs_safer_areas", "risk_taking", "safe_actions"),
        4,
        True,
    ),
    (
        7,
        date(2025, 7, 9),
        "interpersonal",
        "returnees_idps",
        ("understand_threat", "dangerous_vs_safer_areas", "report"),
        8,
        False,
    ),
    (
        11,
        date(2025, 9, 17),
        "printed_materials",
        "teachers_caregivers",
        ("help_others_safely", "report"),
        3,
        True,
    ),
    (
        16,
        date(2025, 11, 5),
        "interpersonal",
        "scrap_collectors",
        ("risk_taking", "recognise_devices", "safe_actions"),
        2,
        True,
    ),
)
EORE_SETTLEMENTS_SQL = """
SELECT s.id, s.name, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,
       (SELECT a.pcode FROM admin_areas a WHERE ST_Intersects(a.geom, s.geom)
        ORDER BY a.level DESC, a.pcode LIMIT 1) AS admin,
       (SELECT array_agg(q.external_id) FROM (
            SELECT h.external_id FROM hazards h
            WHERE h.retired_at IS NULL AND ST_DWithin(h.geom::geography, s.geom::geography, 5000)
            ORDER BY ST_Distance(h.geom::geography, s.geom::geography), h.external_id
            LIMIT 2) q) AS hazards
FROM context_settlements s
ORDER BY s.population DESC NULLS LAST, s.external_id
"""


def _write_eore_sessions(session: Session, principal: auth.Principal) -> None:
    """Record DEMO-INGO's past risk-education sessions through the service."""
    settlements = session.execute(text(EORE_SETTLEMENTS_SQL)).mappings().all()
    for n, (rank, day, method, audience, messages, tens, safe) in enumerate(
        EORE_SESSIONS, start=1
    ):
        place = settlements[rank]
        cells = [
            {
                "sex": sex,
                "age_band": band,
                "disability": "without_disability",
                "count": tens * share,
            }
            for sex, shares in (("female", (4, 3, 1)), ("male", (3, 3, 1)))
            for band, share in zip(
                ("age_18_plus", "age_5_12", "age_13_17"), shares, strict=True
            )
        ]
        cells.append(
            {
                "sex": "female",
                "age_band": "age_18_plus",
                "disability": "with_disability",
                "count": max(1, tens // 3),
            }
        )
        feature = EoreSessionFeature.model_validate(
            {
                "type": "Feature",
                "geometry": (
                    {"type": "Point", "coordinates": [place["lon"], place["lat"]]}
                    if safe
                    else None
                ),
                "properties": {
                    "external_id": f"DEMO-RE-{n:04d}",
                    "organisation": "DEMO-INGO",
                    "team": f"Demo risk-education team {1 + n % 2}",
                    "session_date": day.isoformat(),
                    "delivery_method": method,
                    "audience": audience,
                    "language": "uk",
                    "messages_covered": list(messages),
                    "location_safe_to_record": safe,
                    "admin": None if safe else place["admin"],
                    "settlement_id": str(place["id"]),
                    "beneficiaries": cells,
                    "hazard_ids": list(place["hazards"] or []),
                    "notes": f"{NOTE} Session in {place['name']}.",
                },
            }
        )
        eore.create_session(session, feature=feature, principal=principal)
    session.commit()


def _grouped(session: Session, sql: str) -> dict[str, int]:
    """``{key: count}`` from a two-column query."""
    return {str(k): int(n) for k, n in session.execute(text(sql)).all()}


def _counts(counts: dict[str, int], name: Callable[[str], str] = str) -> str:
    """'3 SHA, 2 CHA' from ``{key: count}``, naming each key with ``name``."""
    return ", ".join(f"{n} {name(key)}" for key, n in counts.items())


SUMMARY_SQL = {
    "levels": (
        "SELECT level, count(*) FROM admin_areas WHERE is_demo GROUP BY 1 ORDER BY 1"
    ),
    "classes": (
        "SELECT classification, count(*) FROM hazards WHERE is_demo "
        "GROUP BY 1 ORDER BY 1 DESC"
    ),
    "statuses": (
        "SELECT status, count(*) FROM hazards WHERE is_demo GROUP BY 1 ORDER BY 1"
    ),
    "types": (
        "SELECT activity_type, count(*) FROM activities WHERE is_demo GROUP BY 1"
    ),
    "outcomes": (  # release features, whatever the number of hazards they count for
        "SELECT r.outcome, count(DISTINCT (r.activity_id, r.feature_index)) "
        "FROM release_polygons r JOIN activities a ON a.id = r.activity_id "
        "WHERE a.is_demo AND r.retired_at IS NULL GROUP BY 1 ORDER BY 1"
    ),
}
TOTALS_SQL = """
SELECT (SELECT count(*) FROM organisations WHERE is_demo) AS organisations,
       (SELECT count(*) FROM hazard_versions v JOIN hazards h ON h.id = v.hazard_id
         WHERE h.is_demo AND v.kind = 'update') AS reports,
       (SELECT count(*) FROM eo_finds WHERE is_demo) AS finds,
       (SELECT count(*) FROM users WHERE is_demo) AS users,
       (SELECT count(*) FROM accidents WHERE is_demo) AS accidents,
       (SELECT count(*) FROM eore_sessions WHERE external_id LIKE 'DEMO-RE-%')
         AS eore_sessions,
       (SELECT count(*) FROM context_settlements) AS settlements,
       (SELECT count(*) FROM context_roads) AS roads,
       (SELECT count(*) FROM context_facilities) AS facilities,
       (SELECT count(*) FROM context_land_use) AS land_use,
       (SELECT count(*) FROM context_security_zones) AS security_zones
"""


def _summary(session: Session, seed: int, seconds: float) -> str:
    """One paragraph: what was loaded (counted in the database) and how to sign in."""
    got = {key: _grouped(session, sql) for key, sql in SUMMARY_SQL.items()}
    totals = session.execute(text(TOTALS_SQL)).mappings().one()
    types = {t.value: got["types"].get(t.value, 0) for t in ActivityType}
    codes = ", ".join(code for code, _, _ in ORGANISATIONS)
    return " ".join(
        [
            f"Loaded the fictional demo programme (seed {seed}) in {seconds:.1f} s:",
            f"{totals['organisations']} organisations ({codes});",
            f"{sum(got['levels'].values())} admin areas",
            f"({_counts(got['levels'], lambda lvl: f'at level {lvl}')}, P-codes ZZ...);",
            f"{sum(got['classes'].values())} hazards ({_counts(got['classes'])}; status",
            _counts(got["statuses"], lambda s: _lower_first(label("hazard_status", s)))
            + f") with {totals['reports']} later reports;",
            f"{sum(types.values())} activities",
            f"({_counts(types, lambda t: _lower_first(label('activity_type', t)))})",
            f"with {sum(got['outcomes'].values())} release polygons",
            f"({_counts(got['outcomes'])}); {totals['finds']} EO finds;",
            f"{totals['accidents']} recent accidents;",
            f"{totals['eore_sessions']} risk-education sessions; around the hazards",
            f"{totals['settlements']} settlements, {totals['roads']} roads and tracks,",
            f"{totals['facilities']} schools, health posts and water points,",
            f"{totals['land_use']} land-use areas and {totals['security_zones']}",
            "security zone;",
            f"{totals['users']} users. Sign in as demo-admin (admin), demo-coordinator",
            "(coordinator, DEMO-INGO) or demo-eore (risk education, DEMO-INGO)",
            f"with the password {DEMO_PASSWORD}.",
            "Every record is flagged is_demo and named as demo.",
        ]
    )


def load(
    session: Session,
    *,
    seed: int = DEFAULT_SEED,
    if_empty: bool = False,
    settings: Settings | None = None,
) -> str:
    """Load the fictional demo programme built from ``seed``; return a summary.

    Refused with Conflict when ``settings.env`` is ``prod``, whatever the database holds.
    With ``if_empty``, nothing is loaded when the database already holds organisations,
    admin areas, hazards, activities, finds, accidents or context layers. Otherwise a non-empty database is refused
    with Conflict: the demo is already loaded, or real data exist (fictional records are
    never mixed with real ones).

    When ``session`` is bound to an engine, the load runs on a connection of its own, in
    one transaction: all of it is committed, or none of it.
    """
    settings = settings or get_settings()
    if settings.env == "prod":
        raise Conflict(
            "SAFEGROUND_ENV is prod: the fictional demo programme, with its published "
            "passwords, is never loaded into a production database; create the first "
            "admin with `safeground users create NAME --role admin`"
        )
    started = time.perf_counter()
    with _transaction(session) as work:
        existing = _existing(work)
        if if_empty and any(n for n, _ in existing.values()):
            return (
                "Nothing loaded: the database already holds data ("
                + _listing({t: n for t, (n, _) in existing.items()})
                + "); the demo programme is loaded only into an empty database."
            )
        _refuse_unless_empty(work, existing)
        programme = build(seed)
        logger.info("demo: programme planned in %.1f s", time.perf_counter() - started)
        _write(work, programme, settings)
        published = _publish(work, settings)
        return (
            _summary(work, seed, time.perf_counter() - started)
            + f" The public map shows a first publication of the public layer "
            f"({published['counts']['hazard_areas']} areas)."
        )

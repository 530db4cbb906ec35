"""Controlled vocabularies: stable codes (as in docs/api.md) with translatable labels.

Codes are what is stored and exchanged; labels live in ``api/locales/<lang>.json`` under
``vocab.<vocabulary>.<code>``, so adding a language is adding one file.
"""

import json
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT_LANGUAGE = "en"


class OrganisationType(StrEnum):
    """Kinds of organisation (api.md)."""

    nmaa = "nmaa"
    ngo_international = "ngo_international"
    ngo_national = "ngo_national"
    commercial = "commercial"
    military = "military"
    un = "un"
    other = "other"


class Role(StrEnum):
    """User roles (api.md, Identity and roles)."""

    admin = "admin"
    coordinator = "coordinator"
    eore = "eore"
    analyst = "analyst"


class Classification(StrEnum):
    """Hazard classification: suspected or confirmed (IMAS 04.10)."""

    SHA = "SHA"
    CHA = "CHA"


class HazardType(StrEnum):
    """What kind of hazard an area is."""

    minefield = "minefield"
    cmr_strike_area = "cmr_strike_area"
    battle_area = "battle_area"
    ied_area = "ied_area"
    uxo_spot = "uxo_spot"
    axo_site = "axo_site"
    building = "building"
    road_route = "road_route"
    underwater = "underwater"


POINT_HAZARD_TYPES = frozenset({HazardType.uxo_spot, HazardType.axo_site})


class HazardStatus(StrEnum):
    """Hazard life-cycle status (domain.md §2.3)."""

    open = "open"
    worked_on = "worked_on"
    suspended = "suspended"
    closed = "closed"
    handed_over = "handed_over"


class Contamination(StrEnum):
    """Explosive-ordnance categories (domain.md §2.6, api.md codes)."""

    ap_mine = "ap_mine"
    av_mine = "av_mine"
    cmr = "cmr"
    uxo = "uxo"
    axo = "axo"
    ied = "ied"
    booby_trap = "booby_trap"
    other = "other"


class Evidence(StrEnum):
    """Evidence of contamination (IMSMA defaults)."""

    direct = "direct"
    indirect = "indirect"
    none = "none"
    not_specified = "not_specified"


class LandUse(StrEnum):
    """Blocked land use (domain.md §2.8 seed list)."""

    agricultural_crop = "agricultural_crop"
    orchard_perennial = "orchard_perennial"
    pasture = "pasture"
    forest = "forest"
    water_source = "water_source"
    irrigation = "irrigation"
    residential = "residential"
    school = "school"
    health_facility = "health_facility"
    religious_cultural = "religious_cultural"
    market_commercial = "market_commercial"
    road_track = "road_track"
    bridge = "bridge"
    utility_power = "utility_power"
    utility_water = "utility_water"
    industrial = "industrial"
    military_former = "military_former"
    wasteland = "wasteland"
    other = "other"


class ActivityType(StrEnum):
    """Land-release activity types (api.md)."""

    non_technical_survey = "non_technical_survey"
    technical_survey = "technical_survey"
    clearance = "clearance"
    eod_spot_task = "eod_spot_task"
    battle_area_clearance = "battle_area_clearance"


class ActivityStatus(StrEnum):
    """Activity status (api.md)."""

    planned = "planned"
    ongoing = "ongoing"
    suspended = "suspended"
    completed = "completed"
    cancelled = "cancelled"


STARTED_ACTIVITY_STATUSES = frozenset(
    {ActivityStatus.ongoing, ActivityStatus.suspended, ActivityStatus.completed}
)


class Method(StrEnum):
    """Operational method or deployed asset."""

    manual = "manual"
    mechanical = "mechanical"
    animal = "animal"
    combined = "combined"


class ReleaseOutcome(StrEnum):
    """How land was released; strongest first: cleared > reduced > cancelled."""

    cleared = "cleared"
    reduced = "reduced"
    cancelled = "cancelled"


class EOCondition(StrEnum):
    """Condition of an explosive-ordnance item when found."""

    intact = "intact"
    damaged = "damaged"
    deteriorated = "deteriorated"
    partially_functioned = "partially_functioned"
    armed = "armed"
    unknown = "unknown"


class DisposalMethod(StrEnum):
    """What was done with an item found."""

    in_situ_demolition = "in_situ_demolition"
    moved_and_destroyed = "moved_and_destroyed"
    central_demolition = "central_demolition"
    render_safe = "render_safe"
    handed_to_authority = "handed_to_authority"
    not_disposed = "not_disposed"


class AccidentClass(StrEnum):
    """Demining accident (at a worksite) vs mine/ERW accident (domain.md §1.7, MDR)."""

    demining_accident = "demining_accident"
    mine_erw_accident = "mine_erw_accident"
    other = "other"


class Sex(StrEnum):
    """Sex of a victim, as reported."""

    female = "female"
    male = "male"
    unknown = "unknown"


class AgeBand(StrEnum):
    """Age band of a victim at the accident: children are under 18 (Landmine Monitor)."""

    child = "child"
    adult = "adult"
    unknown = "unknown"


class VictimRole(StrEnum):
    """Whether a victim was a civilian or a deminer at work (``unknown`` when not known)."""

    civilian = "civilian"
    deminer = "deminer"
    unknown = "unknown"


class CasualtyOutcome(StrEnum):
    """Consequence of an accident for a victim."""

    killed = "killed"
    injured = "injured"


class EoreDeliveryMethod(StrEnum):
    """How risk education was delivered (domain.md §2.10, IMAS 12.10 channels)."""

    interpersonal = "interpersonal"
    school_based = "school_based"
    mass_media = "mass_media"
    digital_media = "digital_media"
    printed_materials = "printed_materials"
    integrated_services = "integrated_services"


class EoreAudience(StrEnum):
    """The primary audience of a risk-education session (domain.md §5.5 tailoring)."""

    general_community = "general_community"
    children = "children"
    farmers_herders = "farmers_herders"
    scrap_collectors = "scrap_collectors"
    returnees_idps = "returnees_idps"
    teachers_caregivers = "teachers_caregivers"
    humanitarian_staff = "humanitarian_staff"
    other = "other"


class EoreAgeBand(StrEnum):
    """Age bands of risk-education beneficiaries (the Syria RE form's: 5-12, 13-17, 18+)."""

    age_5_12 = "age_5_12"
    age_13_17 = "age_13_17"
    age_18_plus = "age_18_plus"
    unknown = "unknown"


class EoreDisability(StrEnum):
    """Whether beneficiaries counted have a disability (Washington Group short set)."""

    with_disability = "with_disability"
    without_disability = "without_disability"
    unknown = "unknown"


class EoreMessage(StrEnum):
    """Safe behaviours a session covered (domain.md §2.10, MAG target behaviours)."""

    understand_threat = "understand_threat"
    recognise_devices = "recognise_devices"
    dangerous_vs_safer_areas = "dangerous_vs_safer_areas"
    risk_taking = "risk_taking"
    report = "report"
    safe_actions = "safe_actions"
    help_others_safely = "help_others_safely"


class ReportSource(StrEnum):
    """The channel a hazard report came through."""

    hotline = "hotline"
    eore_session = "eore_session"
    community_survey = "community_survey"
    kobo = "kobo"
    other = "other"


class ReportStatus(StrEnum):
    """Workflow status of a hazard report: submitted → verified → accepted or rejected."""

    submitted = "submitted"
    verified = "verified"
    accepted = "accepted"
    rejected = "rejected"


VOCABULARIES: dict[str, type[StrEnum]] = {
    "organisation_type": OrganisationType,
    "role": Role,
    "classification": Classification,
    "hazard_type": HazardType,
    "hazard_status": HazardStatus,
    "contamination": Contamination,
    "evidence": Evidence,
    "land_use": LandUse,
    "activity_type": ActivityType,
    "activity_status": ActivityStatus,
    "method": Method,
    "release_outcome": ReleaseOutcome,
    "eo_condition": EOCondition,
    "disposal_method": DisposalMethod,
    "accident_class": AccidentClass,
    "sex": Sex,
    "age_band": AgeBand,
    "victim_role": VictimRole,
    "casualty_outcome": CasualtyOutcome,
    "eore_delivery_method": EoreDeliveryMethod,
    "eore_audience": EoreAudience,
    "eore_age_band": EoreAgeBand,
    "eore_disability": EoreDisability,
    "eore_message": EoreMessage,
}


@lru_cache
def catalogue(language: str) -> dict[str, str]:
    """Return the message catalogue for ``language`` (empty if there is none)."""
    path = LOCALES_DIR / f"{language}.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def available_languages() -> list[str]:
    """Languages with a catalogue file, default first."""
    langs = sorted(p.stem for p in LOCALES_DIR.glob("*.json"))
    return sorted(langs, key=lambda lang: lang != DEFAULT_LANGUAGE)


def pick_language(accept_language: str | None, explicit: str | None = None) -> str:
    """Choose a catalogue language from an explicit choice or an Accept-Language header."""
    langs = available_languages()
    if explicit and explicit in langs:
        return explicit
    if accept_language:
        ranked = []
        for part in accept_language.split(","):
            tag, _, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                weight = 0.0
            ranked.append((weight, tag.strip().lower()))
        for _, tag in sorted(ranked, key=lambda item: -item[0]):
            base = tag.split("-")[0]
            if base in langs:
                return base
    return DEFAULT_LANGUAGE


def label(vocabulary: str, code: str, language: str = DEFAULT_LANGUAGE) -> str:
    """Label of ``code`` in ``language``, falling back to English, then to the code."""
    key = f"vocab.{vocabulary}.{code}"
    return catalogue(language).get(key) or catalogue(DEFAULT_LANGUAGE).get(key) or code


def vocabulary_listing(language: str) -> dict[str, list[dict[str, str]]]:
    """Every vocabulary with its codes and labels in ``language``."""
    return {
        name: [{"code": c.value, "label": label(name, c.value, language)} for c in enum]
        for name, enum in VOCABULARIES.items()
    }

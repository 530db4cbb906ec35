"""All ORM models, imported here so ``Base.metadata`` knows every table."""

from api.db.models.accidents import Accident, Victim, VictimPersonalData
from api.db.models.activities import Activity, ActivityHazard, ReleasePolygon
from api.db.models.audit import AuditEntry
from api.db.models.context import (
    Facility,
    LandUseArea,
    Road,
    SecurityZone,
    Settlement,
)
from api.db.models.eore import (
    EoreBeneficiaryCount,
    EoreSession,
    EoreSessionAccident,
    EoreSessionHazard,
)
from api.db.models.geography import AdminArea
from api.db.models.hazard_reports import HazardReport
from api.db.models.hazards import Hazard, HazardLandRelease, HazardState, HazardVersion
from api.db.models.identity import ApiKey, LoginAttempt, Organisation, User
from api.db.models.imports import Import, ImportChunk, ImportMessage
from api.db.models.land_release_history import (
    LandReleasePending,
    LandReleaseSegment,
    LandReleaseSegmentMethod,
)
from api.db.models.ordnance import EOFind
from api.db.models.priorities import (
    HazardIndicators,
    PriorityFlag,
    PriorityModel,
    PriorityOverride,
    PriorityScore,
)
from api.db.models.public import (
    PublicCount,
    PublicCoverage,
    PublicHazard,
    PublicPublication,
    PublicReleased,
)

__all__ = [
    "AuditEntry",
    "Accident",
    "Activity",
    "ActivityHazard",
    "AdminArea",
    "ApiKey",
    "EOFind",
    "EoreBeneficiaryCount",
    "EoreSession",
    "EoreSessionAccident",
    "EoreSessionHazard",
    "Facility",
    "LandUseArea",
    "Road",
    "SecurityZone",
    "Settlement",
    "Hazard",
    "HazardLandRelease",
    "HazardReport",
    "HazardState",
    "HazardVersion",
    "Import",
    "ImportChunk",
    "ImportMessage",
    "LandReleasePending",
    "LandReleaseSegment",
    "LandReleaseSegmentMethod",
    "LoginAttempt",
    "Organisation",
    "HazardIndicators",
    "PriorityFlag",
    "PriorityModel",
    "PriorityOverride",
    "PriorityScore",
    "PublicCount",
    "PublicCoverage",
    "PublicHazard",
    "PublicPublication",
    "PublicReleased",
    "ReleasePolygon",
    "User",
    "Victim",
    "VictimPersonalData",
]

# the audit listener watches every Session once the models are known
import api.audit  # noqa: E402, F401

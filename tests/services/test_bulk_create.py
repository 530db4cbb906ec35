"""The import's bulk path records exactly what the API's create records."""

from datetime import date

from shapely.geometry import MultiPolygon, box
from sqlalchemy import select

from api.db.models import Hazard, HazardLandRelease, HazardState, HazardVersion
from api.schemas.hazards import HazardFeatureCreate
from api.services import hazards
from api.services.auth import organisation_by_code
from tests.factories import hazard_feature

PROPS = {
    "name": "Twin",
    "classification": "CHA",
    "hazard_type": "minefield",
    "contamination": ["ap_mine", "av_mine"],
    "date_of_information": "2024-03-02",
    "estimated_area_m2": 1234.5,
    "evidence": "direct",
    "blockages": ["pasture"],
    "notes": "same input, two paths",
}


def _rows(session, hid):
    h = session.get(Hazard, hid)
    v = session.scalar(select(HazardVersion).where(HazardVersion.hazard_id == hid))
    st = session.scalars(select(HazardState).where(HazardState.hazard_id == hid)).all()
    lr = session.get(HazardLandRelease, hid)
    hazard = {
        c: getattr(h, c)
        for c in (
            "name",
            "classification",
            "hazard_type",
            "status",
            "status_set",
            "contamination",
            "organisation_id",
            "date_of_information",
            "estimated_area_m2",
            "evidence",
            "blockages",
            "notes",
            "area_m2",
            "version",
            "admin_pcodes",
            "created_by",
        )
    }
    version = {
        c: getattr(v, c)
        for c in (
            "version",
            "kind",
            "date_of_information",
            "author_user_id",
            "author",
            "warnings",
            "superseded",
        )
    }
    report = {k: val for k, val in v.report.items() if k != "external_id"}
    changes = {k: val for k, val in v.changes.items() if k != "external_id"}
    states = [
        (
            s.valid_from,
            s.valid_to,
            s.version,
            s.retired,
            {k: val for k, val in s.state.items() if k != "external_id"},
        )
        for s in st
    ]
    figures = (lr.baseline_area_m2, lr.released_area_m2, lr.remaining_area_m2)
    return hazard, version, report, changes, states, figures


def test_bulk_create_matches_create_hazard(session, settings, actors):
    geom = box(30.1, 50.1, 30.101, 50.1008)
    principal = actors.coordinator_a.principal
    via_api = hazards.create_hazard(
        session,
        feature=HazardFeatureCreate.model_validate(
            hazard_feature(geom, actors.org_a, external_id="TWIN-API", **PROPS)
        ),
        principal=principal,
        settings=settings,
        commit=False,
    )
    props = HazardFeatureCreate.model_validate(
        hazard_feature(geom, actors.org_a, external_id="TWIN-BULK", **PROPS)
    ).properties
    stated, _ = hazards.stated_values(session, props, principal, settings)
    org = organisation_by_code(session, actors.org_a)
    [bulk_id] = hazards.bulk_create(
        session,
        [
            hazards.NewHazard(
                org.id, stated, MultiPolygon([geom]), None, date(2024, 3, 2)
            )
        ],
        principal=principal,
        source="api",
    )
    session.expire_all()
    api_rows, bulk_rows = _rows(session, via_api.id), _rows(session, bulk_id)
    for a, b in zip(api_rows, bulk_rows, strict=True):
        assert a == b
    assert bulk_rows[1]["kind"] == "create" and bulk_rows[3]["classification"] == [
        None,
        "CHA",
    ]

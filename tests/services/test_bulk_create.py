"""The import's bulk path records exactly what the API's create records."""

from datetime import date

import pytest
from shapely.geometry import MultiPolygon, Point, Polygon, box
from sqlalchemy import select, text

from api.db.models import Hazard, HazardLandRelease, HazardState, HazardVersion
from api.schemas.hazards import HazardFeatureCreate
from api.services import hazards, land_release
from api.services.auth import organisation_by_code
from tests.factories import hazard_feature, make_admin_area

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
            "admin_primary",
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


SPOT = Point(33.7395, 49.5490)
QUAD = Polygon(
    [
        (33.741525978, 49.5492087),
        (33.738546556, 49.551144504),
        (33.737113708, 49.551036477),
        (33.738941408, 49.547250665),
        (33.739541602, 49.547121612),
        (33.740545115, 49.547482492),
    ]
)


@pytest.mark.parametrize(
    "geom, extra",
    [
        (QUAD, {}),
        # a status set by hand; 'closed' never hides land still hazardous: shown as open
        (QUAD, {"status": "worked_on"}),
        (QUAD, {"status": "closed"}),
        (QUAD, {"status": "handed_over"}),
        # a spot hazard has no area: 'closed' stays closed
        (SPOT, {"status": "closed", "hazard_type": "uxo_spot"}),
        (SPOT, {"hazard_type": "axo_site"}),
    ],
)
def test_bulk_create_matches_create_hazard(session, settings, actors, geom, extra):
    # the admin areas it touches, one with a P-code an array literal must quote
    make_admin_area(session, "ZZ", box(33.0, 49.0, 34.0, 50.0), level=0)
    make_admin_area(session, 'ZZ "1", b', box(33.0, 49.0, 33.74, 50.0), 1, "ZZ")
    make_admin_area(session, "ZZ\\2", box(33.74, 49.0, 34.0, 50.0), 1, "ZZ")
    principal = actors.coordinator_a.principal
    PROPS_ = {**PROPS, **extra}
    via_api = hazards.create_hazard(
        session,
        feature=HazardFeatureCreate.model_validate(
            hazard_feature(geom, actors.org_a, external_id="TWIN-API", **PROPS_)
        ),
        principal=principal,
        settings=settings,
        commit=False,
    )
    props = HazardFeatureCreate.model_validate(
        hazard_feature(geom, actors.org_a, external_id="TWIN-BULK", **PROPS_)
    ).properties
    stated, _ = hazards.stated_values(session, props, principal, settings)
    org = organisation_by_code(session, actors.org_a)
    [bulk_id] = hazards.bulk_create(
        session,
        [
            hazards.NewHazard(
                org.id,
                stated,
                geom if geom.geom_type == "Point" else MultiPolygon([geom]),
                None,
                date(2024, 3, 2),
            )
        ],
        principal=principal,
        source="api",
    )
    session.expire_all()
    api_rows, bulk_rows = _rows(session, via_api.id), _rows(session, bulk_id)
    for a, b in zip(api_rows, bulk_rows, strict=True):
        assert a == b
    # the database's own measure, to the last bit (trigger hazards_measure, migration 0022)
    stored, measured = session.execute(
        text("SELECT area_m2, sg_area_m2(geom) FROM hazards WHERE id = :h"),
        {"h": bulk_id},
    ).one()
    assert stored == measured
    # and what a full recomputation gives them
    before = _rows(session, bulk_id)
    land_release.recompute(session, [bulk_id, via_api.id])
    session.expire_all()
    assert _rows(session, bulk_id) == before
    expected = {
        "closed": "open" if geom.geom_type != "Point" else "closed",
        "handed_over": "open",
        "worked_on": "worked_on",
    }.get(extra.get("status"), "open")
    assert before[0]["status"] == expected
    assert before[0]["admin_pcodes"][0] == "ZZ" and len(before[0]["admin_pcodes"]) >= 2
    assert bulk_rows[1]["kind"] == "create" and bulk_rows[3]["classification"] == [
        None,
        "CHA",
    ]

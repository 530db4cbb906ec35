"""Nothing restricted reaches an anonymous caller: a marker string is written into every
restricted field (victims' personal data, informants' contacts, notes, raw submissions,
internal names and ids) and EO finds and accidents sit at recognisable exact coordinates;
then every GET route the app serves (enumerated from ``app.routes``, path parameters filled
with the seeded ids, tiles at several zooms) is called without credentials and no body may
carry the marker or the coordinates. Public vector tiles are checked for their contract."""

import uuid
from datetime import date

import mapbox_vector_tile
import morecantile
import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point, box

from api.db.models import (
    Accident,
    EOFind,
    HazardReport,
    Victim,
    VictimPersonalData,
)
from api.db.models.hazard_reports import HazardReportContact
from api.ogc.collections import REGISTRY
from api.services import public, tiles
from tests.factories import make_activity, make_admin_area, make_hazard, release
from tests.helpers import walk_routes

MARK = "RESTRICTED-" + uuid.uuid4().hex[:10]
FIND_AT = (24.4123457, 50.4987653)  # exact EO-find location
ACCIDENT_AT = (24.4134561, 50.4976541)  # exact accident location
SECRET_DIGITS = ("4123457", "4987653", "4134561", "4976541")
HAZARD = box(24.41, 50.49, 24.42, 50.50)
TMS = morecantile.tms.get("WebMercatorQuad")


@pytest.fixture
def seeded(session, actors, settings):
    p = actors.coordinator_a.principal
    org_id = p.organisation_id
    make_admin_area(session, "LK", box(24.0, 50.0, 25.0, 51.0), 0)
    hid = make_hazard(
        session, settings, p, HAZARD, actors.org_a, name=MARK, notes=MARK,
        external_id=MARK,
    )  # fmt: skip
    cleared = box(24.43, 50.49, 24.44, 50.50)
    hid2 = make_hazard(session, settings, p, cleared, actors.org_a, notes=MARK)
    activity = make_activity(
        session, settings, p, actors.org_a, [hid2], [release(cleared, "cleared")],
        notes=MARK, external_id=MARK,
    )  # fmt: skip
    find = EOFind(
        organisation_id=org_id, hazard_id=hid, eo_category="ap_mine", model=MARK,
        notes=MARK, external_id=MARK, geom=from_shape(Point(*FIND_AT), srid=4326),
    )  # fmt: skip
    accident = Accident(
        organisation_id=org_id, occurred_on=date(2024, 5, 1),
        accident_class="mine_erw_accident", killed=1, notes=MARK, external_id=MARK,
        hazard_id=hid, geom=from_shape(Point(*ACCIDENT_AT), srid=4326),
    )  # fmt: skip
    session.add_all([find, accident])
    session.flush()
    victim = Victim(
        accident_id=accident.id, role="civilian", outcome="killed",
        activity_at_time=MARK,
    )  # fmt: skip
    session.add(victim)
    session.flush()
    session.add(
        VictimPersonalData(
            victim_id=victim.id, name=MARK, address=MARK, phone=MARK, email=MARK
        )
    )
    report = HazardReport(
        organisation_id=org_id, source="hotline", reported_on=date(2024, 5, 2),
        description=MARK, location_text=MARK, raw_submission={"note": MARK},
        content_sha256=MARK, submitted_by=MARK, external_id=MARK,
        geom=from_shape(Point(*FIND_AT), srid=4326),
    )  # fmt: skip
    session.add(report)
    session.flush()
    session.add(
        HazardReportContact(
            report_id=report.id, seq=1, name=MARK, phone=MARK, email=MARK, role=MARK,
            notes=MARK,
        )
    )  # fmt: skip
    session.flush()
    publication = public.publish(
        session, principal=actors.admin.principal, settings=settings
    )
    areas = public.public_hazards(session).rows
    return {
        "hazard_id": hid,
        "activity_id": activity.id,
        "find_id": find.id,
        "accident_id": accident.id,
        "victim_id": victim.id,
        "report_id": report.id,
        "featureId": hid,
        "area_id": areas[0]["id"],
        "publication": publication,
    }


def _urls(app, ids) -> list[str]:
    urls = []
    for path, methods in walk_routes(app.routes):
        if "GET" not in methods:
            continue
        if path == "/tiles/{layer}/{z}/{x}/{y}.mvt":
            for layer in tiles.LAYERS:
                for z in (6, 10, 13, 15):
                    t = TMS.tile(24.415, 50.495, z)
                    urls.append(f"/tiles/{layer}/{t.z}/{t.x}/{t.y}.mvt")
            continue
        if path == "/api/v1/public/check":
            urls += [f"{path}?lon={FIND_AT[0]}&lat={FIND_AT[1]}", path]
            continue
        candidates = {
            **{k: [str(v)] for k, v in ids.items() if k != "publication"},
            "session_id": [str(uuid.uuid4())],
            "import_id": [str(uuid.uuid4())],
            "collectionId": list(REGISTRY),
            "layer": ["hazards", "eo-finds", "accidents", "hazard-reports"],
            "fmt": ["geojson", "csv"],
            "language": ["en", "uk"],
        }
        filled = [path]
        for name, values in candidates.items():
            token = "{" + name + "}"
            if token in path:
                filled = [u.replace(token, v) for u in filled for v in values]
        urls += [u for u in filled if "{" not in u]
    return urls


def test_no_restricted_text_or_exact_location_reaches_anonymous_callers(
    app, client, seeded
):
    urls = _urls(app, seeded)
    assert len(urls) > 60
    ok = set()
    for url in urls:
        r = client.get(url)
        body = r.content
        assert MARK.encode() not in body, url
        for digits in SECRET_DIGITS:
            assert digits.encode() not in body, (url, digits)
        if r.status_code == 200:
            ok.add(url.split("?")[0])
    # the public surface really was read (this test is not vacuous)
    for must in (
        "/",
        "/api/v1/public/hazards",
        "/api/v1/public/released",
        "/api/v1/public/counts",
        "/api/v1/public/check",
        "/api/v1/public/alerts.cap",
        "/api/v1/public/alerts.atom",
        f"/api/v1/public/alerts/{seeded['area_id']}.cap",
    ):
        assert must in ok, must
    assert any(u.startswith("/tiles/public-hazards/") for u in ok)
    # and operational data was refused, not served
    assert "/api/v1/hazards" not in ok and "/api/v1/eo-finds" not in ok
    assert not any(u.startswith("/tiles/hazards/") for u in ok)


def test_public_feature_properties_are_the_public_fields_only(client, seeded):
    hazards = client.get("/api/v1/public/hazards").json()["features"]
    released = client.get("/api/v1/public/released").json()["features"]
    assert hazards and released
    for f in hazards:
        assert not {"name", "notes", "external_id", "organisation"} & set(
            f["properties"]
        )
    assert {f["properties"]["outcome"] for f in released} == {"cleared"}


def _tile(client, layer, z, lon=24.415, lat=50.495):
    t = TMS.tile(lon, lat, z)
    return client.get(f"/tiles/{layer}/{t.z}/{t.x}/{t.y}.mvt")


def test_public_tiles_for_anyone_from_the_latest_publication(client, seeded):
    r = _tile(client, "public-hazards", 13)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert r.headers["cache-control"] == "public, max-age=60"
    etag = r.headers["etag"]
    features = mapbox_vector_tile.decode(r.content)["public-hazards"]["features"]
    assert features
    for f in features:
        assert set(f["properties"]) == {
            "id",
            "classification",
            "hazard_type",
            "status",
            "marking",
            "last_update",
        }
    assert features[0]["properties"]["id"] == str(seeded["area_id"])
    again = _tile(client, "public-hazards", 13)
    assert again.headers["etag"] == etag
    not_modified = client.get(r.request.url.path, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    released = _tile(client, "public-released", 13, lon=24.435)
    assert released.status_code == 200
    props = mapbox_vector_tile.decode(released.content)["public-released"]["features"][
        0
    ]["properties"]
    assert set(props) == {"id", "outcome", "completed_on", "residual_risk"}
    assert props["outcome"] == "cleared" and "risk" in props["residual_risk"]
    assert _tile(client, "hazards", 13).status_code == 401


def test_public_tile_etag_changes_with_a_new_publication(
    client, session, actors, settings, seeded
):
    before = _tile(client, "public-hazards", 13).headers["etag"]
    public.publish(session, principal=actors.admin.principal, settings=settings)
    after = _tile(client, "public-hazards", 13)
    assert after.headers["etag"] != before

"""CAP 1.2 and Atom warnings: valid against the OASIS schema, one alert per new or grown
area, polygons as closed ``lat,lon`` rings, filtered by administrative area."""

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from fastapi.testclient import TestClient
from shapely.geometry import Point, Polygon, box
from sqlalchemy import text

from api.services import public
from tests.factories import make_admin_area, make_hazard
from tests.helpers import assert_problem

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"
SCHEMA = xmlschema.XMLSchema(Path(__file__).parent / "data" / "CAP-v1.2.xsd")
WEST = box(26.0, 51.0, 26.01, 51.006)
EAST = box(26.5, 51.0, 26.51, 51.006)


def cap(response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/cap+xml")
    SCHEMA.validate(response.content)  # raises with the reason when invalid
    return ET.fromstring(response.content)


@pytest.fixture
def two_areas(session, actors, settings):
    make_admin_area(session, "FD", box(25.5, 50.5, 27.0, 51.5), 0)
    make_admin_area(session, "FD01", box(25.5, 50.5, 26.25, 51.5), 1, parent="FD")
    make_admin_area(session, "FD02", box(26.25, 50.5, 27.0, 51.5), 1, parent="FD")
    p = actors.coordinator_a.principal
    make_hazard(session, settings, p, WEST, actors.org_a, classification="CHA")
    make_hazard(
        session, settings, p, EAST, actors.org_a, external_id="E-1", hazard_type=None
    )
    return public.publish(session, principal=actors.admin.principal, settings=settings)


def test_cap_has_an_info_per_area_and_language_and_validates(client, two_areas):
    alert = cap(client.get("/api/v1/public/alerts.cap"))
    assert alert.findtext(f"{CAP}identifier") == (
        f"safeground-publication-{two_areas['id']}"
    )
    assert alert.findtext(f"{CAP}status") == "Actual"
    assert alert.findtext(f"{CAP}scope") == "Public"
    sent = alert.findtext(f"{CAP}sent")
    assert sent.endswith("+00:00") and "." not in sent
    infos = alert.findall(f"{CAP}info")
    assert sorted(i.findtext(f"{CAP}language") for i in infos) == [
        "en",
        "en",
        "uk",
        "uk",
    ]
    by_severity = {}
    for info in infos:
        assert info.findtext(f"{CAP}category") == "Safety"
        assert info.findtext(f"{CAP}responseType") == "Avoid"
        assert info.findtext(f"{CAP}urgency") == "Immediate"
        assert info.findtext(f"{CAP}contact") == "101"
        by_severity.setdefault(info.findtext(f"{CAP}severity"), set()).add(
            info.findtext(f"{CAP}certainty")
        )
    assert by_severity == {"Severe": {"Observed"}, "Moderate": {"Likely"}}
    uk = next(i for i in infos if i.findtext(f"{CAP}language") == "uk")
    assert uk.findtext(f"{CAP}headline") == "Нова небезпечна територія"


def test_cap_polygons_are_closed_lat_lon_rings_covering_the_hazards(client, two_areas):
    alert = cap(client.get("/api/v1/public/alerts.cap"))
    rings = []
    for info in alert.findall(f"{CAP}info"):
        (area,) = info.findall(f"{CAP}area")
        assert area.findtext(f"{CAP}areaDesc")
        for polygon in area.findall(f"{CAP}polygon"):
            pairs = [tuple(map(float, p.split(","))) for p in polygon.text.split(" ")]
            assert len(pairs) >= 4 and pairs[0] == pairs[-1]
            assert all(50.9 < lat < 51.1 and 25.9 < lon < 26.6 for lat, lon in pairs)
            rings.append(Polygon([(lon, lat) for lat, lon in pairs]))
        codes = {
            g.findtext(f"{CAP}value")
            for g in area.findall(f"{CAP}geocode")
            if g.findtext(f"{CAP}valueName") == "pcode"
        }
        assert "FD" in codes
    assert any(r.covers(WEST) for r in rings) and any(r.covers(EAST) for r in rings)


def test_only_new_or_grown_areas_are_announced(
    client, session, actors, settings, two_areas
):
    public.publish(session, principal=actors.admin.principal, settings=settings)
    quiet = cap(client.get("/api/v1/public/alerts.cap"))
    assert quiet.findall(f"{CAP}info") == []
    assert quiet.findtext(f"{CAP}note")
    make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        box(26.5, 51.0, 26.52, 51.006),
        actors.org_a,
        external_id="E-1",
        date_of_information="2024-09-01",
    )
    public.publish(session, principal=actors.admin.principal, settings=settings)
    grown = cap(client.get("/api/v1/public/alerts.cap"))
    infos = grown.findall(f"{CAP}info")
    assert len(infos) == 2  # the east area, in two languages
    for info in infos:
        parameter = info.find(f"{CAP}parameter")
        assert parameter.findtext(f"{CAP}valueName") == "change"
        assert parameter.findtext(f"{CAP}value") == "grown"


def test_filter_by_admin_area_code_or_id(client, session, two_areas):
    west = cap(client.get("/api/v1/public/alerts.cap?admin_area=FD01"))
    assert len(west.findall(f"{CAP}info")) == 2
    area_id = session.execute(
        text("SELECT id FROM admin_areas WHERE pcode = 'FD02'")
    ).scalar_one()
    east = cap(client.get(f"/api/v1/public/alerts.cap?admin_area={area_id}"))
    (polygon,) = {p.text for p in east.iter(f"{CAP}polygon")}
    assert "26.5" in polygon
    assert_problem(client.get("/api/v1/public/alerts.cap?admin_area=NOPE"), 404)
    assert_problem(client.get("/api/v1/public/alerts.atom?admin_area=NOPE"), 404)


def test_one_area_alert_and_atom_entries(client, two_areas):
    r = client.get("/api/v1/public/alerts.atom", headers={"Accept-Language": "uk"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(r.content)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "Safeground: публічні попередження"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    for entry in entries:
        assert entry.findtext(f"{ATOM}id").startswith("urn:uuid:")
        link = entry.find(f"{ATOM}link[@rel='alternate']")
        assert link.get("type") == "application/cap+xml"
        one = cap(client.get(link.get("href")))
        assert one.findtext(f"{CAP}identifier").startswith("safeground-area-")
        assert len(one.findall(f"{CAP}info")) == 2
    filtered = ET.fromstring(
        client.get("/api/v1/public/alerts.atom?admin_area=FD02").content
    )
    assert len(filtered.findall(f"{ATOM}entry")) == 1
    missing = client.get(
        "/api/v1/public/alerts/00000000-0000-0000-0000-000000000000.cap"
    )
    assert_problem(missing, 404)


def test_feeds_before_any_publication(client):
    alert = cap(client.get("/api/v1/public/alerts.cap"))
    assert alert.findall(f"{CAP}info") == []
    feed = ET.fromstring(client.get("/api/v1/public/alerts.atom").content)
    assert feed.findall(f"{ATOM}entry") == []


def test_text_is_escaped_not_formatted_into_xml(client, session, actors, settings):
    """A point hazard (uxo_spot) becomes a circle-like polygon; XML stays well-formed."""
    make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        Point(26.7, 51.2),
        actors.org_a,
        hazard_type="uxo_spot",
        name="<b>&amp; ']]>",
    )
    public.publish(session, principal=actors.admin.principal, settings=settings)
    r = client.get("/api/v1/public/alerts.cap")
    alert = cap(r)
    assert b"<b>" not in r.content and b"]]>" not in r.content
    assert len(alert.findall(f"{CAP}info")) == 2


def test_feed_links_never_come_from_the_host_header(client, two_areas):
    """The feeds are cached publicly: a forged Host must not end up in them."""
    evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    for path in (
        "/api/v1/public/alerts.atom",
        "/api/v1/public/alerts.cap",
        "/api/v1/public/hazards",
        "/api/v1/public/released",
    ):
        r = client.get(path, headers=evil)
        assert r.status_code == 200, r.text
        assert b"evil.example" not in r.content, path
    feed = ET.fromstring(client.get("/api/v1/public/alerts.atom", headers=evil).content)
    entry = feed.find(f"{ATOM}entry")
    href = entry.find(f"{ATOM}link[@rel='alternate']").get("href")
    assert href.startswith(
        "http://testserver/api/v1/public/alerts/"
    )  # the server's own
    one = cap(client.get(feed.find(f"{ATOM}entry/{ATOM}link").get("href")))
    assert "evil.example" not in ET.tostring(one).decode()


def test_feed_links_use_the_configured_public_base_url(app, settings, two_areas):
    app.state.settings = settings.model_copy(
        update={"public_base_url": "https://warnings.example.org"}
    )
    with TestClient(app) as c:
        r = c.get(
            "/api/v1/public/alerts.atom?lang=uk", headers={"Host": "evil.example"}
        )
        feed = ET.fromstring(r.content)
        assert feed.find(f"{ATOM}link[@rel='self']").get("href") == (
            "https://warnings.example.org/api/v1/public/alerts.atom?lang=uk"
        )
        for link in feed.findall(f"{ATOM}entry/{ATOM}link"):
            assert link.get("href").startswith(
                "https://warnings.example.org/api/v1/public/alerts/"
            )
        alert = cap(c.get("/api/v1/public/alerts.cap"))
        webs = {i.findtext(f"{CAP}web") for i in alert.findall(f"{CAP}info")}
        assert webs == {"https://warnings.example.org/api/v1/public/hazards"}

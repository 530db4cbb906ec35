"""The public feeds read by readers nobody here wrote: feedparser (the Atom reader behind
most feed aggregators) and capparser (a CAP 1.2 parser from PyPI) read every alert."""

import feedparser
import pytest
from capparser import capparser
from shapely.geometry import Polygon, box

from api.services import public
from tests.factories import make_admin_area, make_hazard

AREAS = [box(27.0 + i * 0.05, 52.0, 27.01 + i * 0.05, 52.006) for i in range(3)]


@pytest.fixture
def published(session, actors, settings):
    make_admin_area(session, "FC", box(26.5, 51.5, 28.0, 52.5), 0)
    p = actors.coordinator_a.principal
    for i, area in enumerate(AREAS):
        make_hazard(
            session,
            settings,
            p,
            area,
            actors.org_a,
            classification="CHA" if i % 2 else "SHA",
            name=f'Поле <{i}> & "лісосмуга"',
        )
    return public.publish(session, principal=actors.admin.principal, settings=settings)


def value(field):
    """capparser keeps each element as (value, type)."""
    return field[0]


def test_feedparser_reads_the_atom_feed_and_capparser_every_linked_alert(
    client, published
):
    r = client.get("/api/v1/public/alerts.atom", headers={"Accept-Language": "uk"})
    assert r.status_code == 200, r.text
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.bozo_exception  # well-formed, as feedparser reads it
    assert feed.version == "atom10"
    assert feed.feed.title == "Safeground: публічні попередження"
    assert len(feed.entries) == len(AREAS)
    rings = []
    for entry in feed.entries:
        assert entry.id.startswith("urn:uuid:") and entry.updated_parsed
        (link,) = [x for x in entry.links if x.type == "application/cap+xml"]
        one = client.get(link.href)
        assert one.status_code == 200, one.text
        alert = capparser.parse(stringXML=one.text)
        assert value(alert.identifier).startswith("safeground-area-")
        assert value(alert.status) == "Actual"
        assert value(alert.msgType) == "Alert"
        assert value(alert.scope) == "Public"
        infos = value(alert.info)
        assert sorted(value(i.language) for i in infos) == ["en", "uk"]
        for info in infos:
            assert value(info.category) == "Safety"
            assert value(info.severity) in ("Severe", "Moderate")
            (area,) = value(info.area)
            polygon = value(area.polygon)  # one element: its text; several: a list
            assert isinstance(polygon, str), polygon
            pairs = [p.split(",") for p in polygon.split()]
            ring = [(float(lon), float(lat)) for lat, lon in pairs]  # CAP: lat,lon
            assert ring[0] == ring[-1] and len(ring) >= 4
            rings.append(Polygon(ring))
    # every published area is announced, and each announcement covers a hazard
    for hazard in AREAS:
        assert any(ring.covers(hazard) for ring in rings), hazard.bounds


def test_capparser_reads_the_whole_publication_alert(client, published):
    r = client.get("/api/v1/public/alerts.cap")
    assert r.status_code == 200, r.text
    alert = capparser.parse(stringXML=r.text)
    assert value(alert.identifier) == f"safeground-publication-{published['id']}"
    infos = value(alert.info)
    assert len(infos) == 2 * len(AREAS)  # one per area and language
    headlines = {value(i.headline) for i in infos}
    assert "Нова небезпечна територія" in headlines

"""The printable community risk sheet: one A4 page, public data only, escaped, no script."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from geoalchemy2.shape import from_shape
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, box

from api.db.models import PublicHazard, PublicPublication, Settlement
from api.db.models.context import LandUseArea, Road
from api.deps import get_session
from api.main import create_app
from api.spatial.svg_map import metres_per_degree, project
from tests.factories import make_hazard
from tests.helpers import assert_problem

URL = "/api/v1/eore-sessions/community-sheet"
LON, LAT = 35.10, 47.80  # Zaporizhzhia oblast
HOSTILE = "<img src=x onerror=alert(1)>"
SECRET = "Operational field name 7731"


@pytest.fixture
def place(session):
    row = Settlement(
        external_id=f"S-{uuid.uuid4().hex[:8]}",
        name=HOSTILE,
        population=12_345,
        geom=from_shape(Point(LON, LAT), srid=4326),
    )
    session.add(row)
    session.flush()
    return str(row.id)


def publish(session, areas, *, at=None):
    """A publication holding ``areas`` (lon/lat polygons) as public hazard areas."""
    publication = PublicPublication(
        published_by_name="test",
        parameters={"buffer_m": 50},
        counts={"hazards": len(areas)},
    )
    if at is not None:
        publication.published_at = at
    session.add(publication)
    session.flush()
    for area in areas:
        session.add(
            PublicHazard(
                publication_id=publication.id,
                classification="SHA",
                hazard_type="minefield",
                status="open",
                marking="unmarked",
                last_update=datetime.now(UTC).date(),
                what_to_do={"en": "Keep away", "uk": "Тримайтеся подалі"},
                change="new",
                admin_pcodes=[],
                area_m2=1.0,
                geom=from_shape(MultiPolygon([area]), srid=4326),
            )
        )
    session.flush()
    return publication


def sheet(client, user, place, **params):
    r = client.get(URL, params={"settlement": place, **params}, headers=user.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    return r.text


def assert_printable_and_safe(html):
    assert "<script" not in html.lower()
    assert "@page" in html and "size: A4" in html
    assert (
        "http://" not in html and "https://" not in html
    )  # nothing loaded from elsewhere
    assert HOSTILE not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert re.search(r"<svg\b", html)


def test_sheet_without_publication_says_so(client, actors, place):
    html = sheet(client, actors.eore_a, place, lang="en")
    assert_printable_and_safe(html)
    assert "No public hazard map has been published yet" in html
    assert 'class="map"' not in html  # no map is drawn without a publication
    assert '<html lang="en">' in html
    for message in (
        "Recognise the danger",
        "Do not touch it",
        "mark the place",
        "Go back the way you came",
        "Report it: call the hotline",
    ):
        assert message in html
    assert "101" in html  # the default hotline
    assert "12,345" in html


def test_sheet_draws_only_the_latest_public_layer(
    client, session, settings, actors, place
):
    m_lon, m_lat = metres_per_degree(LAT)
    # an operational hazard 1 km east: never drawn, its name never shown
    make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        box(LON + 1000 / m_lon, LAT, LON + 1200 / m_lon, LAT + 200 / m_lat),
        actors.org_a,
        name=SECRET,
    )
    # an older publication with an area north, the latest with one area 1 km west
    publish(
        session,
        [box(LON, LAT + 500 / m_lat, LON + 0.002, LAT + 0.003)],
        at=datetime.now(UTC) - timedelta(days=30),
    )
    publish(
        session,
        [
            box(LON - 1300 / m_lon, LAT - 0.001, LON - 1000 / m_lon, LAT + 0.001),
            box(LON + 0.5, LAT, LON + 0.51, LAT + 0.01),  # far away: off the map
        ],
    )
    html = sheet(client, actors.eore_a, place, lang="en")
    assert_printable_and_safe(html)
    assert 'class="map"' in html
    paths = re.findall(r'<path d="([^"]+)"', html)
    assert len(paths) == 1  # the latest publication's area on the map, nothing else
    xs = [float(v) for v in re.findall(r"[ML]([\d.]+) ", paths[0])]
    assert max(xs) < 300  # west of the settlement, which is at the centre (x = 300)
    assert SECRET not in html
    assert "No public hazard map" not in html
    assert "Nearest published dangerous area" in html
    assert "1.0 km" in html  # 1000 m to the west
    today = datetime.now(UTC).date()
    assert f"Public hazard map published on {today.day} {today:%B} {today.year}" in html


def test_sheet_in_ukrainian_with_the_configured_hotline(
    settings, session, actors, place
):
    app = create_app(settings.model_copy(update={"public_hotline": "0 800 123 456"}))
    app.dependency_overrides[get_session] = lambda: session
    publish(session, [])
    with TestClient(app) as client:
        html = sheet(client, actors.coordinator_a, place, lang="uk")
        english = sheet(client, actors.admin, place, lang="en")
    assert_printable_and_safe(html)
    assert '<html lang="uk">' in html
    assert "Небезпека: міни та вибухонебезпечні предмети" in html
    assert "Не торкайтеся" in html
    assert "Поверніться назад тим самим шляхом" in html
    assert "Гаряча лінія" in html
    assert "0 800 123 456" in html and "0 800 123 456" in english
    assert "12\u202f345" in html
    # a publication without areas here: a map, and a warning that absence is not safety
    assert 'class="map"' in html
    assert "не означає, що місцевість безпечна" in html
    assert "Recognise the danger" not in html


def test_sheet_works_under_the_content_security_policy(client, actors, place):
    r = client.get(URL, params={"settlement": place}, headers=actors.eore_a.headers)
    policy = r.headers["content-security-policy"]
    assert (
        "script-src 'self'" in policy
        and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    )
    assert r.headers["cache-control"] == "private, no-store"


def test_sheet_is_for_eore_coordinators_and_admins(client, actors, place):
    assert_problem(client.get(URL, params={"settlement": place}), 401)
    body = assert_problem(
        client.get(URL, params={"settlement": place}, headers=actors.analyst_a.headers),
        403,
    )
    assert "analyst" in body["detail"]
    missing = assert_problem(
        client.get(
            URL, params={"settlement": str(uuid.uuid4())}, headers=actors.eore_a.headers
        ),
        404,
    )
    assert "no settlement" in missing["detail"]
    assert_problem(client.get(URL, headers=actors.eore_a.headers), 422)
    assert_problem(
        client.get(
            URL,
            params={"settlement": place, "radius_m": 10},
            headers=actors.eore_a.headers,
        ),
        422,
    )


def test_project_places_and_clips_polygons():
    m_lon, m_lat = metres_per_degree(LAT)
    square = box(LON, LAT, LON + 500 / m_lon, LAT + 500 / m_lat)  # NE of the centre
    out = project([square], centre=(LON, LAT), half_width_m=1000, size=600)
    assert out.centre == (300, 300)
    assert out.scale_m == 500 and out.scale_px == pytest.approx(150)
    (d,) = out.paths
    numbers = [float(v) for v in re.findall(r"[\d.]+", d)]
    xs, ys = numbers[0::2], numbers[1::2]
    assert min(xs) == pytest.approx(300, abs=0.2) and max(xs) == pytest.approx(
        450, abs=0.2
    )
    assert min(ys) == pytest.approx(150, abs=0.2) and max(ys) == pytest.approx(
        300, abs=0.2
    )
    huge = box(LON - 1, LAT - 1, LON + 1, LAT + 1)  # covers the whole map: clipped
    (frame,) = project([huge], centre=(LON, LAT), half_width_m=1000).paths
    assert set(re.findall(r"[\d.]+", frame)) <= {"0.0", "600.0"}
    assert (
        project(
            [box(LON + 1, LAT, LON + 1.1, LAT + 0.1)],
            centre=(LON, LAT),
            half_width_m=1000,
        ).paths
        == []
    )
    with pytest.raises(ValueError, match="half_width_m"):
        project([], centre=(LON, LAT), half_width_m=0)


UK_GENITIVE = "січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня"


def test_sheet_map_draws_roads_water_and_the_built_up_area_with_the_name(
    client, session, actors, place
):
    """A community relates the shapes to its own fields: its roads, its water and its
    built-up area are drawn under the dangerous areas, with its name (issue 18, item 1)."""
    m_lon, m_lat = metres_per_degree(LAT)

    def land_use(use, west_m, south_m, east_m, north_m):
        """A land-use square, its edges in metres east and north of the settlement."""
        square = box(
            LON + west_m / m_lon,
            LAT + south_m / m_lat,
            LON + east_m / m_lon,
            LAT + north_m / m_lat,
        )
        return LandUseArea(
            land_use=use, geom=from_shape(MultiPolygon([square]), srid=4326)
        )

    track = LineString([(LON - 0.02, LAT), (LON + 0.02, LAT)])
    session.add_all(
        [
            Road(
                name="Demo track",
                road_class="track",
                geom=from_shape(MultiLineString([track]), srid=4326),
            ),
            land_use("water_source", 800, 800, 1200, 1600),
            land_use("residential", -300, -300, 300, 300),
            # a built-up area of another village, 2.5 km away: not this one's outline
            land_use("residential", -2500, -100, -2300, 100),
        ]
    )
    session.flush()
    publish(
        session, [box(LON - 1300 / m_lon, LAT - 0.001, LON - 1000 / m_lon, LAT + 0.001)]
    )
    html = sheet(client, actors.eore_a, place, lang="en")
    assert_printable_and_safe(html)
    roads = re.findall(r'<path class="ctx-road" d="([^"]+)"', html)
    assert len(roads) == 2  # one road: a white casing and the line
    # the track runs west-east through the settlement (the map's centre, y = 300)
    ys = [float(v) for v in re.findall(r"[ML][\d.]+ ([\d.]+)", roads[0])]
    assert ys and all(abs(y - 300) < 1 for y in ys)
    assert len(re.findall(r'<path class="ctx-water"', html)) == 1
    assert len(re.findall(r'<path class="ctx-outline"', html)) == 1
    # drawn under the dangerous areas: every context path before the first hazard path
    assert html.rindex('class="ctx-') < html.index('<path d="')
    assert re.search(r'<text class="place-name"[^>]*>&lt;img src=x', html)  # escaped
    for words in ("Road or track", "Water", "Built-up area of the community"):
        assert words in html


def test_sheet_dates_in_the_readers_language(client, session, actors, place):
    publish(session, [])
    today = datetime.now(UTC).date()
    html = sheet(client, actors.eore_a, place, lang="uk")
    month = UK_GENITIVE.split()[today.month - 1]
    assert f"{today.day} {month} {today.year}" in html
    assert today.isoformat() not in html

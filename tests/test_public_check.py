"""GET /api/v1/public/check: inside, near, clear and no_data at known distances; advice in
the caller's language; bad coordinates refused; no coordinate ever reaches a log.

A leaf administrative area (coverage) spans 25.0–25.3°E, 49.9–50.3°N; the published
hazard is a 0.01° x 0.006° box at 25.1°E, 50.0°N. Distances are laid out with pyproj's
geodesic on WGS 84: the published edge lies buffer (50 m) + tolerance (10 m) = 60 m beyond
a straight hazard edge.
"""

import logging
import threading
import time

import httpx2 as httpx
import pytest
import uvicorn
from pyproj import Geod
from shapely.geometry import Polygon, box

from api.main import create_app
from api.privacy import RedactCheckQuery
from api.schemas.public import CheckResult
from api.services import public
from tests.factories import make_admin_area, make_hazard
from tests.helpers import assert_problem, free_port

GEOD = Geod(ellps="WGS84")
HAZARD = box(25.1, 50.0, 25.11, 50.006)
EDGE_LON, MID_LAT = 25.11, 50.003  # the middle of the hazard's east edge
GROWN_M = 60.0  # public_buffer_m + public_simplify_m


def east_of_edge(metres: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(EDGE_LON, MID_LAT, 90, metres)
    return lon, lat


@pytest.fixture
def published(session, actors, settings):
    make_admin_area(session, "CK", box(24.0, 49.0, 26.0, 51.0), 0)
    make_admin_area(session, "CK01", box(25.0, 49.9, 25.3, 50.3), 1, parent="CK")
    make_admin_area(session, "CK02", box(25.3, 49.9, 25.6, 50.3), 1, parent="CK")
    make_hazard(session, settings, actors.coordinator_a.principal, HAZARD, actors.org_a)
    return public.publish(session, principal=actors.admin.principal, settings=settings)


def check(client, lon, lat, **headers):
    r = client.get(
        "/api/v1/public/check", params={"lon": lon, "lat": lat}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    CheckResult.model_validate(r.json())  # the body is what the OpenAPI schema says
    return r.json()


def test_inside_the_hazard(client, published):
    body = check(client, 25.105, 50.003)
    assert body["status"] == "inside"
    assert body["nearest_m"] == 0
    assert body["publication"]["id"] == published["id"]
    assert body["advice"]["hotline"] == "101"
    assert body["advice"]["do"] and body["advice"]["dont"]


def test_inside_the_buffer_and_at_its_edge(client, published):
    assert check(client, *east_of_edge(30))["status"] == "inside"
    assert check(client, *east_of_edge(GROWN_M - 1))["status"] == "inside"
    just_out = check(client, *east_of_edge(GROWN_M + 1))
    assert just_out["status"] == "near"
    assert just_out["nearest_m"] == pytest.approx(1, abs=0.5)


@pytest.mark.parametrize("metres", [150, 300, 500])
def test_near_at_known_distances(client, published, metres):
    body = check(client, *east_of_edge(metres))
    assert body["status"] == "near"
    assert body["nearest_m"] == pytest.approx(metres - GROWN_M, abs=0.5)
    assert body["near_m"] == 500


def test_the_near_threshold_and_clear_beyond_it(client, published):
    assert check(client, *east_of_edge(GROWN_M + 495))["status"] == "near"
    beyond = check(client, *east_of_edge(GROWN_M + 510))
    assert beyond["status"] == "clear"  # in CK01, where work is recorded
    assert beyond["nearest_m"] == pytest.approx(510, abs=0.5)
    assert "stay alert" in beyond["message"]


def test_a_point_in_a_hole_farther_than_the_buffer_is_not_inside(
    client, session, actors, settings
):
    make_admin_area(session, "HO", box(25.0, 49.0, 25.9, 50.9), 0)
    outer = box(25.7, 50.5, 25.73, 50.52)  # about 2.1 km x 2.2 km
    hole = box(25.71, 50.505, 25.72, 50.515)  # about 715 m x 1110 m
    donut = Polygon(outer.exterior.coords, [hole.exterior.coords])
    make_hazard(session, settings, actors.coordinator_a.principal, donut, actors.org_a)
    public.publish(session, principal=actors.admin.principal, settings=settings)
    centre = check(client, 25.715, 50.51)
    to_hole_edge = GEOD.inv(25.715, 50.51, 25.72, 50.51)[2]  # about 357 m
    assert centre["status"] == "near"
    assert centre["nearest_m"] == pytest.approx(to_hole_edge - GROWN_M, abs=1)
    # 20 m from the hole's edge, the point is within the (inward) buffer: inside
    lon, lat, _ = GEOD.fwd(25.72, 50.51, 270, 20)
    assert check(client, lon, lat)["status"] == "inside"


def test_no_data_outside_coverage_is_never_clear(client, published):
    # in CK02: an administrative area with nothing recorded
    assert check(client, 25.45, 50.1)["status"] == "no_data"
    # outside every administrative area
    body = check(client, 30.0, 45.0)
    assert body["status"] == "no_data"
    assert "NOT" in body["message"]
    assert any("safe" in line for line in body["advice"]["dont"])


def test_no_data_before_anything_is_published(client):
    body = check(client, 25.105, 50.003)
    assert body["status"] == "no_data"
    assert body["nearest_m"] is None and body["publication"] is None


def test_advice_follows_accept_language(client, published):
    uk = check(client, 25.105, 50.003, **{"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.5"})
    assert uk["language"] == "uk"
    assert uk["advice"]["do"][0] == "Зупиніться на місці й зберігайте спокій."
    assert "101" in uk["advice"]["do"][-1]
    en = check(client, 25.105, 50.003, **{"Accept-Language": "fr"})
    assert en["language"] == "en"
    assert en["advice"]["do"][0] == "Stop where you are and stay calm."


@pytest.mark.parametrize(
    "params, parameter",
    [
        ({"lon": 181, "lat": 50}, "lon"),
        ({"lon": -180.5, "lat": 50}, "lon"),
        ({"lon": 25, "lat": 90.01}, "lat"),
        ({"lon": 25, "lat": -91}, "lat"),
        ({"lon": "east", "lat": 50}, "lon"),
        ({"lon": "nan", "lat": 50}, "lon"),
        ({"lat": 50}, "lon"),
    ],
)
def test_bad_coordinates_are_422_problems(client, params, parameter):
    r = client.get("/api/v1/public/check", params=params)
    body = assert_problem(r, 422)
    assert body["errors"][0]["parameter"] == parameter
    assert parameter in body["detail"]


# ---- the access log never carries a checked point ----------------------------------------


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_access_log_redacts_checked_coordinates(settings):
    """A real uvicorn server, configured as ``safeground serve`` does; its access log
    records every request but never the query of /public/check."""
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, access_log=True)
    server = uvicorn.Server(config)
    capture = _Capture()
    loggers = [logging.getLogger(n) for n in ("uvicorn.access", "uvicorn.error")]
    for logger in loggers:
        logger.addHandler(capture)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        ok = httpx.get(f"{base}/api/v1/public/check?lon=25.123457&lat=50.987653")
        assert ok.status_code == 200
        bad = httpx.get(f"{base}/api/v1/public/check?lon=181.654321&lat=49.135791")
        assert bad.status_code == 422
        other = httpx.get(f"{base}/api/v1/public/hazards?bbox=25.1,50.0,25.2,50.1")
        assert other.status_code == 200
        for _ in range(50):  # the access line is written after the response
            if sum("/api/v1/public/" in line for line in capture.lines) >= 3:
                break
            time.sleep(0.05)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        for logger in loggers:
            logger.removeHandler(capture)
    access = [line for line in capture.lines if "/api/v1/public/" in line]
    assert len(access) == 3, capture.lines
    checks = [line for line in access if "/api/v1/public/check" in line]
    assert len(checks) == 2
    assert all("/api/v1/public/check?[redacted]" in line for line in checks)
    text = "\n".join(capture.lines)
    for secret in ("25.123457", "50.987653", "181.654321", "49.135791", "lon=", "lat="):
        assert secret not in text
    # other queries are left alone: the filter touches the check path only
    assert any("bbox=25.1,50.0,25.2,50.1" in line for line in access)


def test_redaction_filter_on_any_record():
    record = logging.LogRecord(
        "api", logging.INFO, __file__, 1,
        "request %s failed near /api/v1/public/check?lon=1.5&lat=2.5 too",
        ("GET /api/v1/public/check?lat=3.25&lon=4.75 HTTP/1.1",), None,
    )  # fmt: skip
    assert RedactCheckQuery().filter(record) is True
    message = record.getMessage()
    assert message.count("/api/v1/public/check?[redacted]") == 2
    assert not any(v in message for v in ("1.5", "2.5", "3.25", "4.75"))

"""Smaller hardening items: no caching of secrets, Vary on language, the serve guard, the
one CSV writer and sign-in throttling per address and account."""

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from geoalchemy2.shape import from_shape
from pydantic import ValidationError
from shapely.geometry import Point, box
from typer.testing import CliRunner

from api import cli, csvout
from api.db.models import LoginAttempt, Settlement
from api.services import auth, priorities
from api.settings import DEV_SECRET, Settings, get_settings
from api.vocab import Role
from tests.factories import make_hazard
from tests.helpers import assert_problem


def test_answers_carrying_tokens_or_keys_are_never_stored(client, session, actors):
    auth.create_user(
        session, username="nostore", password="the password", role=Role.analyst
    )
    session.commit()
    token = client.post(
        "/api/v1/auth/token", data={"username": "nostore", "password": "the password"}
    )
    assert token.status_code == 200, token.text
    refreshed = client.post(
        "/api/v1/auth/refresh", data={"refresh_token": token.json()["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": "the password", "new_password": "another password"},
        headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"},
    )
    assert changed.status_code == 200, changed.text
    key = client.post(
        "/api/v1/api-keys",
        json={"name": "k", "organisation": actors.org_a},
        headers=actors.admin.headers,
    )
    assert key.status_code == 201 and key.json()["key"].startswith("sgk_")
    for r in (token, refreshed, changed, key):
        # "private, no-store" when the request carried credentials (api.caching)
        assert "no-store" in r.headers["Cache-Control"].split(", "), r.request.url
        assert r.headers["Pragma"] == "no-cache"


def _varies_by_language(r) -> bool:
    names = {n.strip().lower() for n in r.headers.get("Vary", "").split(",")}
    return "accept-language" in names


def test_answers_in_the_asked_language_say_vary_accept_language(client, actors):
    uk = {"Accept-Language": "uk"}
    for path in (
        "/api/v1/public/hazards",
        "/api/v1/public/released",
        "/api/v1/public/check?lon=30&lat=50",
        "/api/v1/public/alerts.atom",
    ):
        r = client.get(path, headers=uk)
        assert r.status_code == 200, r.text
        assert _varies_by_language(r), path
    r = client.get("/api/v1/vocabularies", headers={**uk, **actors.analyst_a.headers})
    assert r.status_code == 200 and _varies_by_language(r)
    # one header, merged with any other Vary; and none where nothing is translated
    assert len(r.headers.get_list("Vary")) == 1
    for path in ("/api/v1/public/alerts.cap", "/api/v1/public/counts"):
        r = client.get(path, headers=uk)
        assert r.status_code == 200 and not _varies_by_language(r), path


@pytest.fixture
def serve_calls(monkeypatch, tmp_path):
    """``safeground serve`` with uvicorn replaced by a recorder, outside any .env."""
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: calls.append(kw))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


def _serve(*args, **env):
    get_settings.cache_clear()
    base = {"SAFEGROUND_SECRET_KEY": None, "SAFEGROUND_ENV": None}
    return CliRunner().invoke(cli.app, ["serve", *args], env={**base, **env})


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "safeground.example"])
def test_serve_refuses_the_development_secret_beyond_loopback(serve_calls, host):
    r = _serve("--host", host)
    assert r.exit_code == 2 and serve_calls == []
    assert "SAFEGROUND_SECRET_KEY" in r.output and "development secret" in r.output
    r = _serve("--host", host, SAFEGROUND_SECRET_KEY=DEV_SECRET, SAFEGROUND_ENV="dev")
    assert r.exit_code == 2 and serve_calls == []


def test_serve_refuses_the_development_secret_in_prod_with_a_message(serve_calls):
    r = _serve("--host", "0.0.0.0", SAFEGROUND_ENV="prod")
    assert r.exit_code == 2 and serve_calls == []
    assert "SAFEGROUND_SECRET_KEY" in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_serve_on_loopback_stays_convenient(serve_calls, host):
    r = _serve("--host", host)
    assert r.exit_code == 0, r.output
    assert serve_calls[0]["host"] == host


def test_serve_beyond_loopback_with_a_real_secret(serve_calls):
    r = _serve(
        "--host", "0.0.0.0", SAFEGROUND_SECRET_KEY="s" * 48, SAFEGROUND_ENV="prod"
    )
    assert r.exit_code == 0, r.output
    assert serve_calls[0]["host"] == "0.0.0.0"


# --- the one CSV writer ------------------------------------------------------------------

INJECTED = "\r=1+1"  # a carriage return, then a formula: a new record if left unquoted
NOTES = 'a, "quoted"\r\nsecond line'


def _records(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def _assert_safe(rows: list[list[str]]) -> None:
    """No cell a spreadsheet would run: formulas carry the apostrophe, numbers stay bare."""
    for row in rows:
        assert len(row) == len(rows[0]), row
        for value in row:
            if value.startswith(csvout.FORMULA_PREFIXES):
                float(value)  # only a (negative) number may start with '-'


def test_the_csv_writer_quotes_line_breaks_and_neutralises_formulas():
    text = csvout.to_text(
        ["text", "n"],
        [[INJECTED, -5], ["-x", -1.5], ["@SUM(A1)", 0], [NOTES, None], ["+1", True]],
    )
    rows = _records(text)
    assert rows == [
        ["text", "n"],
        ["'\r=1+1", "-5"],
        ["'-x", "-1.5"],
        ["'@SUM(A1)", "0"],
        [NOTES, ""],
        ["'+1", "true"],
    ]
    assert "\n-5" not in text and ",-5\r\n" in text  # the number is a bare number


@pytest.fixture
def injected(session, settings, actors):
    """A hazard and a settlement beside it whose names start a record and a formula."""
    geom = box(30.50, 50.40, 30.502, 50.402)
    hazard = make_hazard(
        session,
        settings,
        actors.coordinator_a.principal,
        geom,
        actors.org_a,
        name=INJECTED,
        notes=NOTES,
    )
    priorities.refresh(session, [hazard])
    session.add(
        Settlement(
            external_id="S-INJ",
            name=INJECTED,
            population=1200,
            geom=from_shape(Point(30.501, 50.401), srid=4326),
        )
    )
    session.commit()
    return hazard


def test_eore_planning_csv_keeps_a_carriage_return_inside_its_cell(
    client, actors, injected
):
    r = client.get(
        "/api/v1/eore-sessions/planning",
        params={"f": "csv"},
        headers=actors.eore_a.headers,
    )
    assert r.status_code == 200, r.text
    rows = _records(r.text)
    _assert_safe(rows)
    assert len(rows) == 2 == int(r.headers["X-Total-Count"]) + 1
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["name"] == "'" + INJECTED and record["population"] == "1200"


def test_every_csv_answer_round_trips(client, actors, injected):
    headers = actors.analyst_restricted.headers
    ranked = client.get("/api/v1/priorities", params={"format": "csv"}, headers=headers)
    assert ranked.status_code == 200, ranked.text
    exported = client.get("/api/v1/exports/hazards.csv", headers=headers)
    assert exported.status_code == 200, exported.text
    planning = client.get(
        "/api/v1/eore-sessions/planning", params={"f": "csv"}, headers=headers
    )
    assert planning.status_code == 200, planning.text
    for r in (ranked, exported, planning):
        assert r.headers["content-type"].startswith("text/csv")
        rows = _records(r.text)
        _assert_safe(rows)
        assert len(rows) == 2, r.request.url
        record = dict(zip(rows[0], rows[1], strict=True))
        assert record["name"] == "'" + INJECTED
        if "notes" in record:
            assert record["notes"] == NOTES
    shp = client.get("/api/v1/exports/hazards.shp.zip", headers=headers)
    with zipfile.ZipFile(io.BytesIO(shp.content)) as archive:
        fields = _records(archive.read("fields.csv").decode("utf-8"))
    _assert_safe(fields)
    assert fields[0] == ["name", "shapefile_name"] and ["name", "name"] in fields


# --- sign-in throttling: per address and account, with backoff ----------------------------

TOKEN = "/api/v1/auth/token"


def _from(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


def test_guesses_from_one_address_never_lock_the_owner_out(app, session, settings):
    auth.create_user(
        session, username="owner", password="the owner's password", role=Role.analyst
    )
    session.commit()
    attacker, owner = _from(app, "10.0.0.1"), _from(app, "10.0.0.2")
    answers = [
        attacker.post(TOKEN, data={"username": "owner", "password": f"guess {i}"})
        for i in range(20)
    ]
    statuses = [r.status_code for r in answers]
    assert statuses == [401] * settings.login_max_failures + [429] * (
        20 - settings.login_max_failures
    )
    # the owner, from their own address, signs in at once
    mine = owner.post(
        TOKEN, data={"username": "OWNER", "password": "the owner's password"}
    )
    assert mine.status_code == 200, mine.text
    # the attacker is still refused, even with the right password
    refused = attacker.post(
        TOKEN, data={"username": "owner", "password": "the owner's password"}
    )
    body = assert_problem(refused, 429)
    assert 0 < int(refused.headers["Retry-After"]) <= settings.login_backoff_seconds + 1
    assert "too many failed sign-ins" in body["detail"]


def _fail_earlier(session, username: str, client: str, count: int, minutes_ago: int):
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    session.add_all(
        LoginAttempt(username=username, client=client, succeeded=False, at=at)
        for _ in range(count)
    )
    session.commit()


@pytest.mark.parametrize("earlier", [5, 6, 7, 9, 20])
def test_the_wait_doubles_with_each_failure_up_to_the_window(
    app, session, settings, earlier
):
    """Failures an hour ago have waited out their delay; one more failure now starts a
    delay of backoff * 2 ** (failures - max), capped at the window."""
    auth.create_user(
        session, username="slowed", password="the password", role=Role.analyst
    )
    _fail_earlier(session, "slowed", "10.0.0.7", earlier, minutes_ago=60)
    c = _from(app, "10.0.0.7")
    assert (
        c.post(TOKEN, data={"username": "slowed", "password": "nope"}).status_code
        == 401
    )
    r = c.post(TOKEN, data={"username": "slowed", "password": "the password"})
    assert_problem(r, 429)
    failures = earlier + 1
    expected = min(
        settings.login_backoff_seconds * 2 ** (failures - settings.login_max_failures),
        settings.login_window_minutes * 60,
    )
    assert expected - 5 <= int(r.headers["Retry-After"]) <= expected + 1
    # another address, and another account from this address, are not slowed
    other = _from(app, "10.0.0.8").post(
        TOKEN, data={"username": "slowed", "password": "the password"}
    )
    assert other.status_code == 200


def test_once_the_wait_is_over_one_more_try_is_allowed(app, session, settings):
    auth.create_user(
        session, username="patient", password="the password", role=Role.analyst
    )
    _fail_earlier(session, "patient", "10.0.0.9", settings.login_max_failures, 1)
    c = _from(app, "10.0.0.9")  # 5 failures a minute ago: the 30 s wait is over
    assert (
        c.post(
            TOKEN, data={"username": "patient", "password": "the password"}
        ).status_code
        == 200
    )
    # the success resets the count for this address
    assert (
        c.post(TOKEN, data={"username": "patient", "password": "nope"}).status_code
        == 401
    )
    assert (
        c.post(
            TOKEN, data={"username": "patient", "password": "the password"}
        ).status_code
        == 200
    )


def test_one_address_guessing_many_accounts_is_stopped(app, session, settings):
    c = _from(app, "10.0.0.10")
    limit = settings.login_max_failures_per_client
    for i in range(limit):
        r = c.post(TOKEN, data={"username": f"nobody-{i}", "password": "x"})
        assert r.status_code == 401
    r = c.post(TOKEN, data={"username": "nobody-else", "password": "x"})
    assert_problem(r, 429)
    assert 0 < int(r.headers["Retry-After"]) <= settings.login_window_minutes * 60 + 1
    assert (
        _from(app, "10.0.0.11")
        .post(TOKEN, data={"username": "nobody-else", "password": "x"})
        .status_code
        == 401
    )


def test_the_community_sheet_varies_with_accept_language(
    client, session, actors, injected
):
    place = session.query(Settlement).filter_by(external_id="S-INJ").one()
    r = client.get(
        "/api/v1/eore-sessions/community-sheet",
        params={"settlement": str(place.id)},
        headers={"Accept-Language": "uk", **actors.eore_a.headers},
    )
    assert r.status_code == 200, r.text
    assert _varies_by_language(r)


def test_the_public_base_url_setting_is_checked(database_url):
    def base(value):
        return Settings(
            database_url=database_url, public_base_url=value
        ).public_base_url

    assert base("https://warnings.example.org/") == "https://warnings.example.org"
    assert base("https://example.org/safeground") == "https://example.org/safeground"
    assert base("") is None
    for bad in (
        "evil.example",
        "javascript:alert(1)",
        "https://a@b.example",
        "http://x/?q",
    ):
        with pytest.raises(ValidationError):
            base(bad)

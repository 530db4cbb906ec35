"""Faults: the database goes away and comes back; statements run too long.

The shared PostgreSQL is never stopped: the app reaches the test database through a small TCP
proxy in this process, and "the database is down" is the proxy refusing connections and
cutting the open ones. The app must answer 503 problem+json meanwhile and recover by itself
(``pool_pre_ping``) once the proxy accepts again, without a restart.
"""

import contextlib
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.db.engine import make_engine
from api.main import create_app
from tests.helpers import assert_problem


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``; ``down()`` refuses and cuts, ``up()`` resumes."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self.up()

    def up(self) -> None:
        """Listen (on the same port as before, once there was one) and forward."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Stop listening (new connections are refused) and cut every open connection."""
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown wakes the thread blocked in accept(); close alone would leave the
            # socket listening until accept returned
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by down()
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxy(database_url):
    url = make_url(database_url)
    p = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    yield p
    p.down()


def _through(database_url: str, proxy: TcpProxy) -> str:
    url = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)


def _unknown_user_token(settings) -> str:
    """A well-signed token of a user who does not exist: the database must say so (401)."""
    now = datetime.now(UTC)
    claims = {
        "sub": str(uuid.uuid4()),
        "tv": 0,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "typ": "access",
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), "HS256")


def test_database_outage_is_503_and_recovers_without_restart(
    settings, database_url, proxy
):
    config = settings.model_copy(
        update={
            "database_url": _through(database_url, proxy),
            "db_pool_size": 2,
            "db_startup_wait_seconds": 0,
        }
    )
    me = {"Authorization": f"Bearer {_unknown_user_token(config)}"}
    with TestClient(create_app(config), raise_server_exceptions=False) as c:
        assert c.get("/health").status_code == 200
        assert_problem(c.get("/api/v1/auth/me", headers=me), 401)  # the DB answered

        proxy.down()
        health = c.get("/health")
        assert assert_problem(health, 503)["database"] == "unreachable"
        assert health.headers["Retry-After"] == "5"
        session_route = c.get("/api/v1/auth/me", headers=me)
        body = assert_problem(session_route, 503)
        assert "database cannot be reached" in body["detail"]
        assert "password" not in session_route.text and "5432" not in session_route.text

        proxy.up()  # the same app, no restart: pooled connections are re-checked
        assert c.get("/health").status_code == 200
        assert_problem(c.get("/api/v1/auth/me", headers=me), 401)
        assert c.get("/health").json()["database"] == "ok"


def test_start_up_waits_for_the_database(settings, database_url, proxy):
    proxy.down()
    config = settings.model_copy(
        update={
            "database_url": _through(database_url, proxy),
            "db_startup_wait_seconds": 20,
        }
    )
    threading.Timer(1.0, proxy.up).start()
    started = time.monotonic()
    with TestClient(create_app(config)) as c:
        waited = time.monotonic() - started
        assert c.get("/health").status_code == 200
    assert 0.9 < waited < 15


def test_start_up_gives_up_waiting_and_serves_503(settings, database_url, proxy):
    proxy.down()
    config = settings.model_copy(
        update={
            "database_url": _through(database_url, proxy),
            "db_startup_wait_seconds": 1,
        }
    )
    with TestClient(create_app(config), raise_server_exceptions=False) as c:
        assert_problem(c.get("/health"), 503)
        proxy.up()
        assert c.get("/health").status_code == 200


def test_every_connection_gets_the_statement_timeout(settings):
    engine = make_engine(settings.model_copy(update={"db_statement_timeout_ms": 1234}))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "1234ms"
            assert conn.execute(text("SHOW jit")).scalar() == "off"
    finally:
        engine.dispose()


def test_a_signed_in_request_holds_no_connection_while_it_waits_for_its_route(
    settings, monkeypatch
):
    """Found by scripts/bench/load.py: with the token's lookup left open, 200 signed-in
    clients starved the pool (threads waiting for connections held by requests waiting for
    threads) and every request timed out."""
    from fastapi import APIRouter

    from api import deps
    from api.deps import PrincipalDep
    from api.services.auth import Principal
    from api.vocab import Role

    def lookup(session, settings, token):
        session.execute(text("SELECT 1"))  # as principal_from_token's query does
        return Principal(Role.analyst, None, None, False, name="probe")

    monkeypatch.setattr(deps, "principal_from_token", lookup)
    app = create_app(settings)
    probe = APIRouter()

    @probe.get("/probe")
    def connections_in_use(principal: PrincipalDep):
        return {"checked_out": app.state.engine.pool.checkedout()}

    app.include_router(probe)
    with TestClient(app) as c:
        r = c.get("/probe", headers={"Authorization": "Bearer anything"})
    assert r.status_code == 200, r.text
    assert r.json() == {"checked_out": 0}

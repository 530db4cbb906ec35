"""The ``safeground`` command line."""

import getpass
import logging
import sys
import time
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy import text

from api.errors import ProblemError
from api.settings import get_settings
from api.vocab import OrganisationType, Role

app = typer.Typer(help="Safeground: mine-risk data platform.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
orgs_app = typer.Typer(help="Organisations.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for integrations.", no_args_is_help=True)
demo_app = typer.Typer(help="Demonstration data (fictional).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(orgs_app, name="orgs")
app.add_typer(keys_app, name="keys")
app.add_typer(demo_app, name="demo")


@contextmanager
def _session():
    from api.db.engine import make_engine, make_sessionmaker

    engine = make_engine(get_settings(), pool_size=1, max_overflow=0)
    try:
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _fail(exc: ProblemError) -> None:
    typer.echo(f"error: {exc.detail}", err=True)
    raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from api.db import migrate

    migrate.upgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` removes every table)."""
    from api.db import migrate

    migrate.downgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("wait")
def db_wait(timeout: Annotated[float, typer.Option(help="seconds")] = 60.0) -> None:
    """Wait until the database answers."""
    from api.db.engine import make_engine

    engine = make_engine(get_settings(), pool_size=1, max_overflow=0)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            typer.echo("database is up")
            return
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            if time.monotonic() > deadline:
                typer.echo(
                    f"database not reachable: {exc.__class__.__name__}", err=True
                )
                raise typer.Exit(1) from exc
            time.sleep(1)


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != first:
            typer.echo("error: the passwords differ", err=True)
            raise typer.Exit(1)
        return first
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("create")
def users_create(
    name: str,
    role: Annotated[Role, typer.Option(help="admin, coordinator, eore or analyst")],
    org: Annotated[str | None, typer.Option(help="organisation code")] = None,
    restricted: Annotated[bool, typer.Option(help="grant restricted:read")] = False,
) -> None:
    """Create a user; the password is read from standard input or prompted for."""
    from api.services import auth

    password = _read_password()
    with _session() as session:
        try:
            user = auth.create_user(
                session,
                username=name,
                password=password,
                role=role,
                organisation_code=org,
                restricted=restricted,
            )
        except ProblemError as exc:
            _fail(exc)
    typer.echo(
        f"created user {user.username} ({role.value}{', ' + org if org else ''})"
    )


@orgs_app.command("create")
def orgs_create(
    code: str,
    name: str,
    type: Annotated[OrganisationType, typer.Option("--type")] = OrganisationType.other,
) -> None:
    """Create an organisation."""
    from api.schemas.organisations import OrganisationCreate
    from api.services import organisations

    with _session() as session:
        try:
            organisations.create(
                session, data=OrganisationCreate(code=code, name=name, type=type)
            )
        except ProblemError as exc:
            _fail(exc)
    typer.echo(f"created organisation {code}")


@keys_app.command("create")
def keys_create(
    org: Annotated[str, typer.Option(help="organisation code")],
    name: Annotated[str, typer.Option(help="what the key is for")],
    role: Annotated[Role, typer.Option()] = Role.coordinator,
    restricted: Annotated[bool, typer.Option(help="grant restricted:read")] = False,
) -> None:
    """Create an API key; it is printed once and only its hash is stored."""
    from api.services import auth

    with _session() as session:
        try:
            plain, _ = auth.create_api_key(
                session,
                organisation_code=org,
                name=name,
                role=role,
                restricted=restricted,
            )
        except ProblemError as exc:
            _fail(exc)
    typer.echo(plain)


@demo_app.command("load")
def demo_load(
    if_empty: Annotated[
        bool, typer.Option(help="do nothing when data already exist")
    ] = False,
    seed: Annotated[int, typer.Option(help="random seed")] = 20240501,
) -> None:
    """Load the fictional demo programme (every record is flagged and named as demo)."""
    from api.services import demo

    with _session() as session:
        try:
            report = demo.load(session, seed=seed, if_empty=if_empty)
        except ProblemError as exc:
            _fail(exc)
    typer.echo(report)


@app.command("recompute")
def recompute() -> None:
    """Recompute the land-release figures of every hazard (one set-based statement)."""
    from api.services import land_release

    with _session() as session:
        started = time.perf_counter()
        count = land_release.recompute(session, None)
        session.commit()
    typer.echo(f"recomputed {count} hazards in {time.perf_counter() - started:.2f} s")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option()] = 1,
    reload: Annotated[bool, typer.Option(help="reload on code changes")] = False,
) -> None:
    """Serve the API and the web map."""
    import uvicorn

    logging.basicConfig(level=logging.INFO)
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
    )


if __name__ == "__main__":  # pragma: no cover
    app()

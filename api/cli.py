"""The ``safeground`` command line."""

import getpass
import ipaddress
import logging
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy import text

from api.errors import ProblemError
from api.settings import DEV_SECRET, get_settings
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
            session.info["audit"] = {
                "name": f"cli:{getpass.getuser()}",
                "request": "safeground " + " ".join(sys.argv[1:2]),
            }
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


@users_app.command("deactivate")
def users_deactivate(name: str) -> None:
    """Deactivate a user: no more sign-ins, and every token they hold is revoked."""
    from api.services import auth

    with _session() as session:
        try:
            auth.deactivate_user(session, name)
        except ProblemError as exc:
            _fail(exc)
    typer.echo(f"deactivated user {name}; their tokens are revoked")


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


@app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    user: Annotated[
        str, typer.Option(help="the admin or coordinator account the import runs as")
    ],
    kind: Annotated[
        str,
        typer.Option(
            help="hazards, activities, releases, eo_finds, admin_areas or context"
        ),
    ] = "hazards",
    profile: Annotated[str, typer.Option(help="native, imsma, kobo or osm")] = "native",
    mode: Annotated[str, typer.Option(help="dry_run or commit")] = "dry_run",
    atomic: Annotated[bool, typer.Option(help="all or nothing")] = False,
    layer: Annotated[str | None, typer.Option(help="GeoPackage layer")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS when the file has none")] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="a profile file (YAML/JSON) laid over --profile")
    ] = None,
    organisation: Annotated[
        str | None, typer.Option(help="organisation code for rows without one")
    ] = None,
    context: Annotated[
        str | None,
        typer.Option(help="for --kind context: settlements, roads, facilities, ..."),
    ] = None,
    queue: Annotated[
        bool, typer.Option(help="queue it for a worker instead of running it here")
    ] = False,
    report_file: Annotated[
        Path | None, typer.Option("--report", help="write the full JSON report here")
    ] = None,
) -> None:
    """Import a file exactly as POST /api/v1/imports does, and print its report."""
    import json

    from sqlalchemy import select

    from api import jobs
    from api.db.models import User
    from api.services import auth, imports

    settings = get_settings()
    with _session() as session:
        account = session.scalar(select(User).where(User.username == user))
        if account is None or not account.active:
            typer.echo(f"error: no active user {user!r}", err=True)
            raise typer.Exit(1)
        principal = auth.principal_for_import(session, account.id, None)
        try:
            with path.open("rb") as upload:
                imp = imports.create(
                    session,
                    upload=upload,
                    filename=path.name,
                    kind=kind,
                    profile=profile,
                    mode=mode,
                    atomic=atomic,
                    principal=principal,
                    settings=settings,
                    layer=layer,
                    crs=crs,
                    mapping=mapping.read_text(encoding="utf-8") if mapping else None,
                    organisation=organisation,
                    context=context,
                )
            if queue:
                imp.job_id = jobs.enqueue_import(session, imp.id)
        except ProblemError as exc:
            _fail(exc)
        session.commit()
        import_id = imp.id
    if queue:
        typer.echo(f"queued import {import_id}")
        return
    started = time.perf_counter()
    with _progress_bar(path.name) as on_progress:
        jobs.run_import_now(import_id, settings, on_progress)
    with _session() as session:
        report = imports.report(session, import_id, principal)
    if report_file:
        report_file.write_text(json.dumps(report, indent=2), encoding="utf-8")
    counts = ", ".join(f"{k} {v}" for k, v in report["counts"].items())
    typer.echo(
        f"import {import_id}: {report['status']} in {time.perf_counter() - started:.1f} s"
        f" ({counts})"
    )
    for kind_, items in (("error", report["errors"]), ("flag", report["flags"])):
        for item in items[:50]:
            where = f"row {item['row']}" if item["row"] is not None else "file"
            field = f" [{item['field']}]" if item["field"] else ""
            typer.echo(f"  {kind_}: {where}{field}: {item['message']}")
        if len(items) > 50:
            typer.echo(f"  ... and {len(items) - 50} more {kind_}s (see --report)")
    if report["failure"]:
        typer.echo(f"  failure: {report['failure']}")
    if report["status"] != "succeeded":
        raise typer.Exit(1)


@contextmanager
def _progress_bar(name: str):
    """A progress bar on stderr (rich) fed with the import's stage and rows; yields the
    callback for ``run_import_now``. Silent when stderr is not a terminal."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(name, total=None)

        def update(stage: str, done: int, total: int | None) -> None:
            bar.update(
                task, description=f"{name}: {stage}", completed=done, total=total
            )

        yield update


def _libpq_url() -> str:
    from sqlalchemy.engine import make_url

    url = make_url(get_settings().database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@app.command("backup")
def backup(
    path: Annotated[
        Path, typer.Argument(help="the dump file to write (custom format)")
    ],
) -> None:
    """Dump the whole database (schema, data, history, the job queue) with pg_dump."""
    import subprocess

    started = time.perf_counter()
    result = subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", "--file", str(path), _libpq_url()],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        typer.echo(f"error: pg_dump failed: {result.stderr.strip()}", err=True)
        raise typer.Exit(1)
    size = path.stat().st_size
    typer.echo(
        f"backup written to {path} ({size} bytes, {time.perf_counter() - started:.1f} s)"
    )


@app.command("restore")
def restore(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Restore a backup into the configured database, which must be empty (no tables).

    Create the database first (with PostGIS available); the dump brings the schema, the data
    and the migration version, so the restored database is at the revision it was dumped at.
    """
    import os
    import re
    import subprocess
    import tempfile

    from sqlalchemy import create_engine, inspect

    engine = create_engine(get_settings().database_url)
    tables = [t for t in inspect(engine).get_table_names() if t != "spatial_ref_sys"]
    engine.dispose()
    if tables:
        typer.echo(
            f"error: the target database is not empty ({len(tables)} tables); "
            "restore into a new database",
            err=True,
        )
        raise typer.Exit(1)
    listing = subprocess.run(
        ["pg_restore", "--list", str(path)], capture_output=True, text=True
    )
    if listing.returncode != 0:
        typer.echo(f"error: not a backup: {listing.stderr.strip()}", err=True)
        raise typer.Exit(1)
    # PostGIS comes with the database (make db, the template, the image), it is not restored:
    # its CREATE, COMMENT and reference rows belong to the extension's owner
    extension_owned = re.compile(
        r"\b(EXTENSION|COMMENT) - (EXTENSION )?(postgis|plpgsql)\b"
        r"|TABLE DATA public spatial_ref_sys\b"
    )
    keep = [
        line for line in listing.stdout.splitlines() if not extension_owned.search(line)
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as toc:
        toc.write("\n".join(keep) + "\n")
    try:
        result = subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                "--use-list",
                toc.name,
                "--dbname",
                _libpq_url(),
                str(path),
            ],
            capture_output=True,
            text=True,
        )
    finally:
        os.unlink(toc.name)
    if result.returncode != 0:
        typer.echo(f"error: pg_restore failed: {result.stderr.strip()}", err=True)
        raise typer.Exit(1)
    typer.echo(f"restored {path}")


@app.command("worker")
def worker(
    once: Annotated[bool, typer.Option(help="run what is queued, then stop")] = False,
) -> None:
    """Run a background worker for imports (PostgreSQL-backed queue)."""
    from api import jobs

    logging.basicConfig(level=logging.INFO)
    jobs.run_worker(wait=not once)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost`` (any other name or address,
    ``0.0.0.0`` and ``::`` included, may be reached from elsewhere)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve_refusal(host: str) -> str | None:
    """Why the server must not start on ``host`` with the configured settings, or None.

    The development secret signs tokens anyone can forge (it is in the source): refused on
    any address but loopback, whatever ``SAFEGROUND_ENV`` says, and always in ``prod``.
    """
    try:
        settings = get_settings()
    except ValidationError as exc:
        return "invalid settings: " + "; ".join(e["msg"] for e in exc.errors())
    if settings.secret_key.get_secret_value() == DEV_SECRET and not is_loopback(host):
        return (
            f"refusing to serve on {host} with the development secret key: set "
            'SAFEGROUND_SECRET_KEY to 32+ random bytes (python3 -c "import secrets; '
            'print(secrets.token_urlsafe(48))"), or serve on 127.0.0.1'
        )
    return None


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option()] = 1,
    reload: Annotated[bool, typer.Option(help="reload on code changes")] = False,
) -> None:
    """Serve the API and the web map (only on loopback with the development secret)."""
    import uvicorn

    refusal = serve_refusal(host)
    if refusal:
        typer.echo(f"error: {refusal}", err=True)
        raise typer.Exit(2)
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


@app.command("start")
def start(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option()] = 1,
    wait: Annotated[
        float, typer.Option(help="seconds to wait for the database")
    ] = 60.0,
) -> None:
    """Start a deployment (the container's command): wait for the database, migrate it,
    load the demo into an empty database only when SAFEGROUND_DEMO=1 (refused in prod),
    then serve. The first admin of a real deployment comes from ``users create``."""
    refusal = serve_refusal(host)
    if refusal:
        typer.echo(f"error: {refusal}", err=True)
        raise typer.Exit(2)
    db_wait(timeout=wait)
    db_upgrade("head")
    if get_settings().demo:
        demo_load(if_empty=True)
    serve(host=host, port=port, workers=workers)


if __name__ == "__main__":  # pragma: no cover
    app()

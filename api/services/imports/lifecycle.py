"""An import's life: created (the upload stored in chunks), claimed by a worker, run, retried or swept when its worker died."""

import hashlib
import tempfile
import traceback
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO, cast

from pyproj import CRS
from sqlalchemy import (
    CursorResult,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from api import audit
from api.db.models import Import, ImportChunk
from api.errors import InvalidInput, NotFound, PayloadTooLarge
from api.ingest import readers
from api.ingest.profile import (
    ProfileError,
    load_profile,
    merged,
    parse_mapping,
)
from api.services.auth import (
    Principal,
    organisation_by_code,
    require_import_scope,
    require_reader,
    require_writer,
)
from api.services.imports.book import COUNT_KEYS, Book
from api.services.imports.common import (
    CHUNK_BYTES,
    CONTEXT_LAYERS,
    SUPPORTED_KINDS,
    ImportFailed,
    logger,
)
from api.services.imports.job import Job
from api.settings import Settings
from api.vocab import Role


def _check_params(
    kind: str, profile: str, mode: str, mapping: str | None, context: str | None = None
) -> dict | None:
    if kind == "context" and context not in CONTEXT_LAYERS:
        raise InvalidInput(
            "a context import names its layer: context=" + "|".join(CONTEXT_LAYERS),
            errors=[{"pointer": "/context", "message": f"got {context!r}"}],
        )
    if kind not in SUPPORTED_KINDS:
        raise InvalidInput(
            f"unknown kind {kind!r}",
            errors=[{"pointer": "/kind", "message": "unknown"}],
        )
    if mode not in ("dry_run", "commit"):
        raise InvalidInput(
            "mode must be dry_run or commit",
            errors=[{"pointer": "/mode", "message": f"got {mode!r}"}],
        )
    try:
        spec = merged(
            load_profile(profile), parse_mapping(mapping) if mapping else None
        )
    except ProfileError as exc:
        raise InvalidInput(
            str(exc),
            errors=[
                {"pointer": "/mapping" if mapping else "/profile", "message": str(exc)}
            ],
        ) from exc
    mapped_kind = context if kind == "context" else kind
    if mapped_kind not in (spec.get("kinds") or {}):
        raise InvalidInput(
            f"profile {profile!r} has no mapping for {mapped_kind!r}",
            errors=[
                {"pointer": "/profile", "message": f"no {mapped_kind} in {profile}"}
            ],
        )
    return parse_mapping(mapping) if mapping else None


def _check_crs(crs: str | None) -> str | None:
    if not crs:
        return None
    try:
        return CRS.from_user_input(crs).to_string()
    except Exception as exc:  # pyproj.exceptions.CRSError
        raise InvalidInput(
            f"unknown CRS {crs!r}", errors=[{"pointer": "/crs", "message": str(exc)}]
        ) from exc


def require_importer(principal: Principal | None) -> Principal:
    """The caller, if they may import: 401 when anonymous, 403 for a role that cannot.

    Needs the request's headers only, so the route calls it before reading the upload.
    """
    principal = require_reader(principal)
    if principal.role not in (Role.admin, Role.coordinator):
        from api.errors import Forbidden

        raise Forbidden(f"the {principal.role.value} role cannot import records")
    return principal


def create(
    session: Session,
    *,
    upload: BinaryIO,
    filename: str,
    kind: str,
    profile: str,
    mode: str,
    atomic: bool,
    principal: Principal | None,
    settings: Settings,
    layer: str | None = None,
    crs: str | None = None,
    mapping: str | None = None,
    organisation: str | None = None,
    dayfirst: bool = True,
    context: str | None = None,
    refuse_repairs: bool = False,
) -> Import:
    """Check the request and the file's outline, store the upload, and record the job.

    Raises 4xx problems for what can be known before reading rows: bad parameters, an
    unreadable file, a GeoPackage with several layers and none chosen, too many features.
    """
    principal = require_importer(principal)
    mapping_obj = _check_params(kind, profile, mode, mapping, context)
    require_import_scope(principal, kind, context)
    crs = _check_crs(crs)
    org = None
    if organisation:
        try:
            org = organisation_by_code(session, organisation)
        except NotFound as exc:
            raise InvalidInput(
                f"unknown organisation {organisation!r}",
                errors=[{"pointer": "/organisation", "message": "unknown"}],
            ) from exc
        require_writer(principal, org.id, org.code)
    try:
        fmt = readers.detect_format(filename)
    except readers.ReadError as exc:
        raise InvalidInput(
            str(exc), errors=[{"pointer": "/file", "message": str(exc)}]
        ) from exc
    imp = Import(
        kind=kind,
        profile=profile,
        mode=mode,
        atomic=atomic,
        options={
            "layer": layer,
            "crs": crs,
            "mapping": mapping_obj,
            "dayfirst": dayfirst,
            "context": context,
            "refuse_repairs": refuse_repairs,
        },
        filename=filename,
        file_format=fmt,
        organisation_id=org.id if org else principal.organisation_id,
        created_by=principal.user_id,
        api_key_id=principal.api_key_id,
        author=principal.name,
        status="queued",
        counts=dict.fromkeys(COUNT_KEYS, 0),
    )
    session.add(imp)
    session.flush()
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryDirectory(prefix="sg-import-") as tmp:
        path = Path(tmp) / (
            "upload." + fmt.replace("shp.zip", "zip").replace("kobo_json", "json")
        )
        with path.open("wb") as out:
            seq = 0
            while chunk := upload.read(CHUNK_BYTES):
                size += len(chunk)
                if size > settings.max_upload_bytes:
                    raise PayloadTooLarge(
                        f"the file exceeds the upload limit of {settings.max_upload_bytes} bytes"
                    )
                digest.update(chunk)
                out.write(chunk)
                session.execute(
                    insert(ImportChunk),
                    {"import_id": imp.id, "seq": seq, "data": chunk},
                )
                seq += 1
        if size == 0:
            raise InvalidInput(
                "the file is empty", errors=[{"pointer": "/file", "message": "0 bytes"}]
            )
        try:
            source = readers.open_source(
                path,
                fmt,
                workdir=Path(tmp) / "x",
                layer=layer,
                max_unpacked_bytes=settings.max_unpacked_bytes,
            )
        except (readers.ReadError, ValueError) as exc:
            raise InvalidInput(
                f"{filename}: {exc}", errors=[{"pointer": "/file", "message": str(exc)}]
            ) from exc
        if (
            source.feature_count is not None
            and source.feature_count > settings.max_import_features
        ):
            raise PayloadTooLarge(
                f"the file holds {source.feature_count} features; the limit is {settings.max_import_features}"
            )
        imp.options = {**imp.options, "layer": source.layer or layer}
    imp.size_bytes = size
    imp.sha256 = digest.hexdigest()
    session.flush()
    return imp


def prepare_retry(
    session: Session, import_id: uuid.UUID, principal: Principal | None
) -> Import:
    """Put a failed import back in the queue (its report is replaced when it runs)."""
    principal = require_reader(principal)
    imp = session.get(Import, import_id, with_for_update=True)
    if imp is None:
        raise NotFound(f"no import {import_id}")
    if (
        principal.role != Role.admin
        and imp.organisation_id != principal.organisation_id
    ):
        raise NotFound(f"no import {import_id}")
    if principal.role not in (Role.admin, Role.coordinator):
        from api.errors import Forbidden

        raise Forbidden(f"the {principal.role.value} role cannot run imports")
    if imp.status != "failed":
        from api.errors import Conflict

        raise Conflict(
            f"only a failed import can be run again; this one is {imp.status}"
        )
    imp.status = "queued"
    imp.counts = dict.fromkeys(COUNT_KEYS, 0)
    imp.progress = 0
    session.flush()
    return imp


def sweep_interrupted(
    session: Session, stale_after: timedelta = timedelta(minutes=5)
) -> int:
    """Mark running imports whose worker stopped sending heartbeats as failed (re-runnable)."""
    result = session.execute(
        update(Import)
        .where(
            Import.status == "running", Import.heartbeat_at < func.now() - stale_after
        )
        .values(
            status="failed",
            finished_at=func.now(),
            failure=(
                "interrupted: the worker stopped (crash or restart) without finishing; "
                "rows of committed batches are kept; run it again with "
                "POST /api/v1/imports/{id}/retry (re-imported rows count as unchanged)"
            ),
        )
    )
    # an UPDATE through a Session gives a CursorResult; SQLAlchemy types it as Result
    return cast(CursorResult[Any], result).rowcount or 0


def _principal_of(session: Session, imp: Import) -> Principal:
    from api.services.auth import principal_for_import

    return principal_for_import(session, imp.created_by, imp.api_key_id)


def _spool(session: Session, import_id: uuid.UUID, path: Path) -> None:
    """Write the stored upload to ``path`` one chunk at a time."""
    seqs = session.scalars(
        select(ImportChunk.seq)
        .where(ImportChunk.import_id == import_id)
        .order_by(ImportChunk.seq)
    ).all()
    with path.open("wb") as out:
        for seq in seqs:
            out.write(
                session.execute(
                    select(ImportChunk.data).where(
                        ImportChunk.import_id == import_id, ImportChunk.seq == seq
                    )
                ).scalar_one()
            )


def start(session: Session, import_id: uuid.UUID) -> bool:
    """Claim a queued import for running; False if it is not queued (another worker has it)."""
    result = session.execute(
        update(Import)
        .where(Import.id == import_id, Import.status == "queued")
        .values(
            status="running",
            started_at=func.now(),
            heartbeat_at=func.now(),
            failure=None,
            progress=0,
            attempts=Import.attempts + 1,
        )
    )
    session.commit()
    return bool(cast(CursorResult[Any], result).rowcount)


def run(
    data: Session,
    book_session: Session,
    import_id: uuid.UUID,
    settings: Settings,
    on_progress: Callable[[str, int, int | None], None] | None = None,
) -> None:
    """Run an import job to the end; the outcome is in the ``imports`` row, never raised."""
    imp = data.get(Import, import_id)
    if imp is None:
        raise NotFound(f"no import {import_id}")
    book = Book(
        book_session,
        book_session is not data,
        import_id,
        per_rule=settings.import_report_per_rule,
        on_progress=on_progress,
    )
    try:
        principal = _principal_of(data, imp)
        audit.actor(
            data,
            name=principal.name,
            user_id=principal.user_id,
            api_key_id=principal.api_key_id,
            request=f"import {import_id} ({imp.filename})",
        )
        if imp.file_format is None:  # create() records the format it detected
            raise readers.ReadError("the import records no file format")
        with tempfile.TemporaryDirectory(prefix="sg-import-") as tmp:
            path = Path(tmp) / (
                "upload."
                + imp.file_format.replace("shp.zip", "zip").replace("kobo_json", "json")
            )
            _spool(data, import_id, path)
            source = readers.open_source(
                path,
                imp.file_format,
                workdir=Path(tmp) / "x",
                layer=(imp.options or {}).get("layer"),
                max_unpacked_bytes=settings.max_unpacked_bytes,
            )
            job = Job(data, book, imp, principal, settings, source)
            outcome = job.execute()
        book.finish(*outcome)
    except (ImportFailed, readers.ReadError, ProfileError, ValueError) as exc:
        data.rollback()
        book.add("error", None, None, str(exc))
        book.finish("failed", str(exc))
    except Exception:  # a fault of ours: logged in full, reported without internals
        data.rollback()
        logger.error("import %s failed:\n%s", import_id, traceback.format_exc())
        book.finish(
            "failed",
            "an internal error stopped the import; it is logged for the administrators",
        )

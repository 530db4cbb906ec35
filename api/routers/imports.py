"""File imports: ``POST /imports`` (202) and ``GET /imports/{id}`` (status and report)."""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api import jobs
from api.deps import LanguageDep, PrincipalDep, SessionDep, SettingsDep
from api.messages import translate_report
from api.responses import JSONOut
from api.schemas.imports import ImportForm, ImportQueued, ImportReport
from api.services import imports

router = APIRouter(prefix="/imports", tags=["imports"])

DESCRIPTION = """
Upload a file (multipart) and get a job id (202). `GET /api/v1/imports/{id}` shows progress,
counts and every rejected row (`errors: [{row, field, message}]`), repair (`warnings`) and
finding for review (`flags`, e.g. possible duplicates).

Formats (by file name): `.geojson`/`.json` (also KoboToolbox submission lists), `.gpkg`
(`layer`), zipped Shapefile `.zip` (`.prj` and `.cpg` honoured), `.kml`, `.kmz`, `.csv` and
`.xlsx` (coordinates in `lon`/`lat`, `wkt`, `dms`, `utm_zone`+`easting`+`northing`, `mgrs`, or
Kobo `geopoint`/`geoshape` columns). A file without a CRS whose coordinates look projected is
refused: give `crs=EPSG:....`. A file is read only as the format its name declares (its first
bytes and GDAL's driver must agree); GDAL virtual datasets, links to other files and anything
fetched from the network (e.g. a GeoJSON `crs` of type `link`) are refused. `mapping` is at
most 64 KB, without YAML aliases.

Sign in first: the caller is checked before the upload is read (401/403 without reading it).
The report of an EO-find import shows positions generalised to 0.01° (and coordinates in its
messages withheld) to readers without exact-location rights.

`mode=dry_run` reports what `commit` would do and writes nothing; `atomic=true` writes all or
nothing; `refuse_repairs=true` rejects a row whose geometry would be repaired (the reason is the
repair's message) instead of storing the repaired shape. Re-importing the same file changes
nothing (rows count as `unchanged`).

Each reported row carries its `reference` and `name` (as the file gives them); a repair (and a
refused repair) carries `repaired_geometry` and `submitted_geometry`, and a row outside the
programme that a swap or sign flip would put inside carries `correction` and
`corrected_geometry`, so that the rows can be drawn before anything is committed.
"""


def _body(request: Request, imp) -> dict:
    return {
        "id": str(imp.id),
        "status": imp.status,
        "links": [
            {
                "rel": "self",
                "href": str(request.url_for("get_import", import_id=imp.id)),
            }
        ],
    }


def _form_schema() -> dict:
    schema = ImportForm.model_json_schema()
    schema["properties"] = {
        "file": {
            "type": "string",
            "format": "binary",
            "description": "the file to import",
        },
        **schema["properties"],
    }
    schema["required"] = ["file"]
    return schema


async def _read_form(request: Request) -> tuple[UploadFile, ImportForm]:
    """The upload and its fields, checked as FastAPI checks a body (422 with pointers)."""
    form = await request.form(max_files=1, max_fields=50)
    upload = form.get("file")
    # an empty field means its default, as FastAPI reads forms
    fields = {
        k: v for k, v in form.items() if k != "file" and isinstance(v, str) and v != ""
    }
    problems: list[dict[str, Any]] = []
    if not isinstance(upload, UploadFile):
        problems.append(
            {"type": "missing", "loc": ("body", "file"), "msg": "Field required"}
        )
    try:
        params = ImportForm.model_validate(fields)
    except ValidationError as exc:
        problems += [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
    if problems or not isinstance(upload, UploadFile):
        await form.close()
        raise RequestValidationError(problems)
    return upload, params


@router.post(
    "",
    status_code=202,
    response_model=ImportQueued,
    response_class=JSONOut,
    summary="Import a file",
    description=DESCRIPTION,
    responses={
        202: {
            "content": {
                "application/json": {"example": {"id": "8d1c…", "status": "queued"}}
            },
        },
        401: {"description": "not signed in (answered before the upload is read)"},
        413: {"description": "file or feature count over the configured limit"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": _form_schema(),
                    "example": {
                        "file": "hazards.gpkg",
                        "kind": "hazards",
                        "profile": "native",
                        "mode": "dry_run",
                        "atomic": False,
                        "layer": "hazards",
                    },
                }
            },
        }
    },
)
async def create_import(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
):
    """Store the upload, queue the job (or run it inline), answer 202 with its id.

    The caller is checked (from the headers) before the upload is read: the body is parsed
    here, not by FastAPI, which would read all of it before any dependency runs.
    """
    imports.require_importer(principal)
    upload, form = await _read_form(request)
    try:
        imp = await run_in_threadpool(
            imports.create,
            session,
            upload=upload.file,
            filename=upload.filename or "upload",
            kind=form.kind,
            profile=form.profile,
            mode=form.mode,
            atomic=form.atomic,
            principal=principal,
            settings=settings,
            layer=form.layer,
            crs=form.crs,
            mapping=form.mapping,
            organisation=form.organisation,
            dayfirst=form.dayfirst,
            context=form.context,
            refuse_repairs=form.refuse_repairs,
        )
        await run_in_threadpool(jobs.dispatch_import, session, imp.id, settings)
        await run_in_threadpool(session.refresh, imp)
    finally:
        await upload.close()
    return JSONOut(
        _body(request, imp),
        status_code=202,
        headers={"Location": str(request.url_for("get_import", import_id=imp.id))},
    )


@router.get(
    "/{import_id}",
    name="get_import",
    response_model=ImportReport,
    response_class=JSONOut,
    summary="An import's status and report",
)
def get_import(
    import_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    language: LanguageDep,
):
    """Status, progress, counts, and every rejected row, repair and flag; the messages in
    the language of ``Accept-Language`` (or ``lang``), English where none is written."""
    body = imports.report(session, import_id, principal)
    session.commit()
    return JSONOut(
        translate_report(body, language), headers={"Content-Language": language}
    )


@router.post(
    "/{import_id}/retry",
    status_code=202,
    response_model=ImportQueued,
    response_class=JSONOut,
    summary="Run a failed import again",
)
def retry_import(
    request: Request,
    import_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
):
    """Queue a failed import again (re-imported rows count as unchanged)."""
    imp = imports.prepare_retry(session, import_id, principal)
    jobs.dispatch_import(session, imp.id, settings)
    session.refresh(imp)
    return JSONOut(_body(request, imp), status_code=202)

"""File imports: ``POST /imports`` (202) and ``GET /imports/{id}`` (status and report)."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from api import jobs
from api.deps import PrincipalDep, SessionDep, SettingsDep
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
refused: give `crs=EPSG:....`.

`mode=dry_run` reports what `commit` would do and writes nothing; `atomic=true` writes all or
nothing. Re-importing the same file changes nothing (rows count as `unchanged`).
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


@router.post(
    "",
    status_code=202,
    summary="Import a file",
    description=DESCRIPTION,
    responses={
        202: {
            "content": {
                "application/json": {"example": {"id": "8d1c…", "status": "queued"}}
            }
        },
        413: {"description": "file or feature count over the configured limit"},
    },
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "example": {
                        "file": "hazards.gpkg",
                        "kind": "hazards",
                        "profile": "native",
                        "mode": "dry_run",
                        "atomic": False,
                        "layer": "hazards",
                    }
                }
            }
        }
    },
)
def create_import(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="the file to import")],
    kind: Annotated[
        Literal[
            "hazards", "activities", "releases", "eo_finds", "admin_areas", "context"
        ],
        Form(),
    ] = "hazards",
    profile: Annotated[Literal["native", "imsma", "kobo", "osm"], Form()] = "native",
    mode: Annotated[Literal["dry_run", "commit"], Form()] = "dry_run",
    atomic: Annotated[bool, Form()] = False,
    layer: Annotated[str | None, Form(description="GeoPackage layer / sheet")] = None,
    crs: Annotated[str | None, Form(description="CRS when the file has none")] = None,
    mapping: Annotated[
        str | None, Form(description="a profile in YAML/JSON laid over `profile`")
    ] = None,
    organisation: Annotated[
        str | None, Form(description="organisation code for rows without one")
    ] = None,
    dayfirst: Annotated[bool, Form(description="read 05/06/2024 as 5 June")] = True,
    context: Annotated[
        Literal["settlements", "roads", "facilities", "land_use", "security_zones"]
        | None,
        Form(description="the context layer, for kind=context"),
    ] = None,
):
    """Store the upload, queue the job (or run it inline), answer 202 with its id."""
    imp = imports.create(
        session,
        upload=file.file,
        filename=file.filename or "upload",
        kind=kind,
        profile=profile,
        mode=mode,
        atomic=atomic,
        principal=principal,
        settings=settings,
        layer=layer,
        crs=crs,
        mapping=mapping,
        organisation=organisation,
        dayfirst=dayfirst,
        context=context,
    )
    jobs.dispatch_import(session, imp.id, settings)
    session.refresh(imp)
    return JSONResponse(
        _body(request, imp),
        status_code=202,
        headers={"Location": str(request.url_for("get_import", import_id=imp.id))},
    )


@router.get("/{import_id}", name="get_import", summary="An import's status and report")
def get_import(import_id: uuid.UUID, session: SessionDep, principal: PrincipalDep):
    """Status, progress, counts, and every rejected row, repair and flag."""
    body = imports.report(session, import_id, principal)
    session.commit()
    return body


@router.post("/{import_id}/retry", status_code=202, summary="Run a failed import again")
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
    return JSONResponse(_body(request, imp), status_code=202)

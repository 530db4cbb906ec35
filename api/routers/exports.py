"""Layer exports as files (GeoJSON, GeoPackage, zipped Shapefile, KML, CSV)."""

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.deps import BBoxDep, ReaderDep, SessionDep
from api.errors import problem_responses
from api.services import exports
from api.vocab import Classification, HazardStatus, HazardType

router = APIRouter(prefix="/exports", tags=["exports"])


class ExportProfile(StrEnum):
    """Column names of an export."""

    native = "native"
    imsma = "imsma"


SHAPEFILE_TABLE = "\n".join(
    f"| `{name}` | `{short}` |" for name, short in exports.SHAPEFILE_NAMES.items()
)

DESCRIPTION = f"""
A whole layer as one file, for GIS, national information systems and spreadsheets.

* **Layers:** `hazards` (current, not retired, with the land-release figures), `releases`
  (cancelled, reduced and cleared polygons), `eo-finds` (exact points: admins, coordinators
  and holders of `restricted:read`, as for reading them; otherwise 403) and `admin-areas`.
* **Formats:** `geojson` (RFC 7946), `gpkg`, `shp.zip`, `kml`, `csv`; all in EPSG:4326.
  Example: `GET /api/v1/exports/hazards.shp.zip?profile=imsma`. Coordinates are exact in
  every format but KML (text formats carry the shortest text that reads back as the stored
  value), so an export imported back finds the same geometry.
* **Hazard columns:** the hazard properties (`id`, `external_id`, `name`, `classification`,
  `hazard_type`, `status`, `status_source` (`derived` from activities or `set`),
  `contamination`, `organisation`, `date_of_information`, `estimated_area_m2`, `evidence`,
  `blockages`, `notes`, `area_m2`, `version`, `admin`) and the land-release figures
  (`baseline_area_m2` … `remaining_area_m2`).
* **Columns:** our field names (`profile=native`), or with `profile=imsma` the IMSMA column
  names of the `imsma` import profile (`external_id` → `imsma_id`, …); values stay our codes.
* **Lists** (`contamination`, `blockages`, `admin`) are JSON arrays in GeoJSON and
  comma-separated elsewhere; an empty list is null.
* **Types:** GeoPackage (version 1.2) and Shapefile have dates as Date fields, integers
  (`version`, `quantity`, `depth_cm`, `level`) as Integer and areas as Real; GeoJSON, CSV
  and KML have dates as `YYYY-MM-DD` text.
* **CSV:** UTF-8 starting with a BOM (Excel then reads Cyrillic; in Python read it with
  `utf-8-sig`). The geometry as WKT in `wkt`, plus `lon`/`lat` for point layers. Text cells that
  start with `=`, `+`, `-`, `@`, a tab or a carriage return get a leading `'` so spreadsheets
  do not run them as formulas (such cells do not re-import unchanged); numbers are untouched.
* **Shapefile zip:** `.shp .shx .dbf .prj .cpg` (UTF-8) per geometry type — hazards come as
  `hazards_polygons.shp` and `hazards_points.shp` — with `fields.csv` mapping names to the
  10-character shapefile names below. Text over 254 bytes is cut: use GeoPackage for notes.

| name | shapefile name |
|---|---|
{SHAPEFILE_TABLE}

Filters: `bbox`, `organisation` and `admin` (P-code) for hazards, releases and EO finds;
`classification`, `status` and `hazard_type` for hazards; `bbox` for admin areas. A filter a
layer does not take is refused (400).
"""


@router.get(
    "/{layer}.{fmt}",
    response_class=FileResponse,
    description=DESCRIPTION,
    responses={
        200: {
            "description": "the file, as an attachment named "
            "`safeground-<layer>-<YYYY-MM-DD>.<format>`",
            "content": {
                f.media_type: {"schema": {"type": "string", "format": "binary"}}
                for f in exports.FORMATS.values()
            },
        },
        **problem_responses(400, 401, 403, 404, 422),
    },
)
def export_layer(
    layer: Annotated[
        str,
        Path(
            description="`hazards`, `releases`, `eo-finds` or `admin-areas`",
            examples=["hazards"],
        ),
    ],
    fmt: Annotated[
        str,
        Path(
            description="`geojson`, `gpkg`, `shp.zip`, `kml` or `csv`",
            examples=["gpkg"],
        ),
    ],
    session: SessionDep,
    principal: ReaderDep,
    bbox: BBoxDep,
    profile: Annotated[
        ExportProfile, Query(description="column names: ours or IMSMA's")
    ] = ExportProfile.native,
    organisation: Annotated[str | None, Query(description="organisation code")] = None,
    admin: Annotated[
        str | None, Query(description="P-code of an area, any level")
    ] = None,
    classification: Classification | None = None,
    status: HazardStatus | None = None,
    hazard_type: HazardType | None = None,
):
    """Export a layer as a file."""
    # "{layer}.{fmt}" splits "hazards.shp.zip" at its last dot; the service re-splits the
    # whole name against the known formats.
    file = exports.export(
        session,
        name=f"{layer}.{fmt}",
        principal=principal,
        profile=profile.value,
        filters=exports.ExportFilters(
            bbox=bbox,
            organisation=organisation,
            admin=admin,
            classification=classification.value if classification else None,
            status=status.value if status else None,
            hazard_type=hazard_type.value if hazard_type else None,
        ),
    )
    return FileResponse(
        file.path,
        media_type=file.media_type,
        filename=file.filename,
        background=BackgroundTask(file.cleanup),
    )

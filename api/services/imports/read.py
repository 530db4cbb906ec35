"""Read: the geometry of a row in WGS 84."""

from typing import Any

import shapely
import shapely.geometry
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from api.ingest import coords, gate, readers, values
from api.services.imports.common import ImportFailed
from api.services.imports.crs import _looks_projected
from api.services.imports.state import JobState


class Reading(JobState):
    """Read: a row's geometry in WGS 84, from the file's geometry (in its CRS) or from coordinate columns in any notation the profile names."""

    def _where(self, number: int) -> str | None:
        """EWKT of a point of row ``number``'s file geometry in WGS 84, or None when the row
        has none, it cannot be placed (unknown CRS) or it lies off the globe."""
        row = self._batch_rows.get(number)
        if row is None or row.geometry is None or self.to_wgs84 is None:
            return None
        try:
            if row.geometry.is_empty:
                return None
            point = self.to_wgs84(row.geometry.representative_point())
        except Exception:  # a broken geometry: the message says why; no point then
            return None
        if not isinstance(point, Point) or not (
            -180 <= point.x <= 180 and -90 <= point.y <= 90
        ):
            return None
        return f"SRID=4326;POINT({point.x!r} {point.y!r})"

    def _geometry(
        self, row: readers.Row, values_: dict[str, Any]
    ) -> tuple[BaseGeometry, dict[str, Any]]:
        """The row's geometry in WGS 84 and its origin (text as entered, CRS, GPS accuracy)."""
        c = self.mapper.coords
        origin: dict[str, Any] = {
            "row": row.number,
            "file": self.imp.filename,
            "crs": self.crs_name,
        }
        acc_col = c.get("gps_accuracy")
        if acc_col and row.values.get(acc_col) not in (None, ""):
            try:
                origin["gps_accuracy_m"] = values.parse_number(row.values[acc_col])
            except values.ValueProblem as exc:
                raise gate.GateRejection(acc_col, str(exc)) from exc
        if row.geometry is not None:
            geom = row.geometry
            if self.to_wgs84 is None:
                if _looks_projected(geom):
                    raise ImportFailed(
                        "the file has no coordinate reference system (no .prj or CRS) and its "
                        f"coordinates look projected (e.g. {geom.bounds[0]:.0f}, {geom.bounds[1]:.0f}); "
                        "import it again with crs=EPSG:<code>"
                    )
                self.book.add(
                    "warning",
                    None,
                    None,
                    "the file declares no CRS; its coordinates are in the longitude/latitude range and are read as WGS 84 (EPSG:4326)",
                )
                self.to_wgs84, self.crs_name = (lambda g: g), "EPSG:4326 (assumed)"
                origin["crs"] = self.crs_name
            if origin["crs"] != "EPSG:4326":
                origin["coordinates_text"] = shapely.to_wkt(
                    geom, rounding_precision=3 if _looks_projected(geom) else 8
                )[:4000]
            return self.to_wgs84(geom), origin
        return self._coordinate_columns(row, origin), origin

    def _coordinate_columns(
        self, row: readers.Row, origin: dict[str, Any]
    ) -> BaseGeometry:
        c, v = self.mapper.coords, row.values

        def cell(name: str) -> Any:
            col = c.get(name)
            value = v.get(col) if col else None
            return None if value in (None, "") else value

        try:
            if cell("wkt") is not None:
                origin["coordinates_text"] = str(cell("wkt"))[:4000]
                geom = coords.parse_wkt(cell("wkt"))
                return self._projected_or_wgs84(geom)
            if cell("geoshape") is not None:
                from api.ingest import kobo

                origin["coordinates_text"] = str(cell("geoshape"))[:4000]
                geom, acc = kobo.parse_geoshape(str(cell("geoshape")))
                if acc is not None:
                    origin.setdefault("gps_accuracy_m", acc)
                return geom
            if cell("geopoint") is not None:
                from api.ingest import kobo

                origin["coordinates_text"] = str(cell("geopoint"))
                geom, acc = kobo.parse_geopoint(str(cell("geopoint")))
                if acc is not None:
                    origin.setdefault("gps_accuracy_m", acc)
                return geom
            if cell("mgrs") is not None:
                origin["coordinates_text"] = str(cell("mgrs"))
                origin["crs"] = "MGRS"
                return Point(coords.parse_mgrs(cell("mgrs")))
            if cell("utm_zone") is not None:
                origin["coordinates_text"] = (
                    f"{cell('utm_zone')} {cell('easting')} {cell('northing')}"
                )
                origin["crs"] = "UTM"
                return Point(
                    coords.parse_utm(
                        cell("utm_zone"), cell("easting"), cell("northing")
                    )
                )
            if cell("dms") is not None:
                origin["coordinates_text"] = str(cell("dms"))
                return Point(coords.parse_dms_pair(str(cell("dms"))))
            if cell("lon") is not None or cell("lat") is not None:
                lon_raw, lat_raw = cell("lon"), cell("lat")
                if lon_raw is None or lat_raw is None:
                    missing = "lat" if lat_raw is None else "lon"
                    raise gate.GateRejection(
                        c.get(missing) or missing, f"{missing} is empty"
                    )
                origin["coordinates_text"] = f"{lon_raw} {lat_raw}"
                try:
                    x = coords.parse_decimal(lon_raw, "longitude")
                    y = coords.parse_decimal(lat_raw, "latitude")
                except coords.CoordinateError:
                    lon, lat = coords.parse_dms_pair(f"{lat_raw} {lon_raw}")
                    return Point(lon, lat)
                return self._projected_or_wgs84(Point(x, y))
        except coords.CoordinateError as exc:
            raise gate.GateRejection("coordinates", str(exc)) from exc
        except ValueError as exc:  # kobo parsers
            raise gate.GateRejection("coordinates", str(exc)) from exc
        if c:  # the file has coordinate columns: this row left them empty
            raise gate.GateRejection(
                "geometry",
                f"the row has no geometry and its coordinate cells ({', '.join(sorted(set(c.values())))}) are empty",
            )
        raise gate.GateRejection(
            "geometry",
            "the row has no geometry and no coordinate columns (lon/lat, wkt, dms, utm, mgrs)",
        )

    def _projected_or_wgs84(self, geom: BaseGeometry) -> BaseGeometry:
        if self.to_wgs84 is not None and self.crs_name != "EPSG:4326":
            return self.to_wgs84(geom)
        if _looks_projected(geom):
            raise ImportFailed(
                f"coordinates such as {geom.bounds[0]:.0f}, {geom.bounds[1]:.0f} look projected but no CRS "
                "was given; import again with crs=EPSG:<code>"
            )
        return geom

"""Coordinates as people type them: decimal lon/lat, DMS, UTM, MGRS and WKT.

Every parser returns WGS 84 longitude/latitude (EPSG:4326) and raises ``CoordinateError`` with a
message that quotes the text it could not read. Nothing is guessed: a decimal comma, a missing
hemisphere or an ambiguous zone letter is either read by a documented rule or refused.

* Decimal degrees: ``30.5``; a decimal comma (``30,5``) is read as a decimal point.
* DMS: ``49°06'11.5"N``, ``49 06 11.5 N``, ``N49 06 11.5``, ``49:06:11.5N``, ``49°06.192'N``,
  ``49.1032N``; a pair ``49°06'11.5"N 36°12'18.4"E`` (either order: the hemisphere letters say
  which is which). Without hemisphere letters a DMS pair is read latitude first, as written on
  maps and GPS screens.
* UTM: zone number and latitude band letter (``36U``; C–M south of the equator, N–X north), or
  zone number with an explicit hemisphere word (``36 north``, ``36 south``). A single letter is
  always a latitude band (``36S`` is band S, 32°–40° N, not "south"), and the point must fall in
  its band: otherwise the row is refused, so that a hemisphere written as a band letter cannot
  move a hazard by 8,000 km.
* MGRS: ``36UXA1234567890`` (spaces allowed), read with the ``mgrs`` library.
* WKT: read with Shapely.
"""

import math
import re
from functools import lru_cache

import mgrs as mgrs_lib
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry


class CoordinateError(ValueError):
    """A coordinate text could not be read."""


_NUMBER = r"[-+]?\d+(?:[.,]\d+)?"


def parse_decimal(text: object, what: str) -> float:
    """A decimal number from a cell (a number, or text with a decimal point or comma)."""
    if isinstance(text, bool):
        raise CoordinateError(f"{what}: expected a number, got {text!r}")
    if isinstance(text, int | float):
        value = float(text)
    else:
        s = str(text).strip()
        if not re.fullmatch(_NUMBER, s):
            raise CoordinateError(f"{what}: {s!r} is not a decimal number")
        value = float(s.replace(",", "."))
    if not math.isfinite(value):
        raise CoordinateError(f"{what}: {text!r} is not a finite number")
    return value


_DMS = re.compile(
    r"""^\s*(?P<h1>[NSEWnsew])?\s*
    (?P<deg>\d+(?:[.,]\d+)?)\s*(?:°|º|d|:|\s)?\s*
    (?:(?P<min>\d+(?:[.,]\d+)?)\s*(?:'|′|’|m|:|\s)?\s*)?
    (?:(?P<sec>\d+(?:[.,]\d+)?)\s*(?:"|″|”|''|s)?\s*)?
    (?P<h2>[NSEWnsew])?\s*$""",
    re.VERBOSE,
)


def parse_dms_part(text: str) -> tuple[float, str | None]:
    """One angle in degrees (signed by its hemisphere) and its axis ``lat``/``lon`` if known."""
    s = text.strip().replace("−", "-")
    sign = 1.0
    if s.startswith("-"):
        sign, s = -1.0, s[1:]
    m = _DMS.match(s)
    if not m or (m["h1"] and m["h2"]):
        raise CoordinateError(
            f"cannot read {text.strip()!r} as degrees, minutes, seconds"
        )
    deg = float(m["deg"].replace(",", "."))
    minutes = float(m["min"].replace(",", ".")) if m["min"] else 0.0
    seconds = float(m["sec"].replace(",", ".")) if m["sec"] else 0.0
    if minutes >= 60 or seconds >= 60:
        raise CoordinateError(f"{text.strip()!r}: minutes and seconds must be below 60")
    value = deg + minutes / 60 + seconds / 3600
    hemi = (m["h1"] or m["h2"] or "").upper()
    if hemi in ("S", "W"):
        if sign < 0:
            raise CoordinateError(f"{text.strip()!r}: both a minus sign and {hemi}")
        sign = -1.0
    axis = {"N": "lat", "S": "lat", "E": "lon", "W": "lon"}.get(hemi)
    return sign * value, axis


_HEMI = re.compile(r"[NSEWnsew]")


def _split_pair(text: str) -> list[str]:
    """Split a coordinate pair at a comma or semicolon, or after/before hemisphere letters."""
    s = text.strip()
    if re.search(r"[,;]", s) and not re.fullmatch(r".*\d,\d.*", s.replace(" ", "")):
        return [p for p in re.split(r"\s*[,;]\s*", s) if p]
    letters = list(_HEMI.finditer(s))
    if len(letters) == 2:
        if letters[0].start() == 0:  # prefix style: N49 06 11.5 E36 12 18.4
            return [s[: letters[1].start()], s[letters[1].start() :]]
        return [s[: letters[0].end()], s[letters[0].end() :]]  # suffix style
    tokens = s.split()
    if not letters and tokens and len(tokens) % 2 == 0:
        half = len(tokens) // 2
        return [" ".join(tokens[:half]), " ".join(tokens[half:])]
    return [s]


def parse_dms_pair(text: str) -> tuple[float, float]:
    """``(lon, lat)`` from a DMS pair such as ``49°06'11.5"N 36°12'18.4"E``."""
    parts = [p for p in _split_pair(text) if p.strip()]
    if len(parts) != 2:
        raise CoordinateError(
            f"cannot read {text.strip()!r} as a latitude/longitude pair "
            "(separate them with a space after the hemisphere letter, or a comma)"
        )
    (a, axis_a), (b, axis_b) = parse_dms_part(parts[0]), parse_dms_part(parts[1])
    if axis_a == "lon" or axis_b == "lat":
        a, b = b, a
        axis_a, axis_b = axis_b, axis_a
    if axis_a == axis_b and axis_a is not None:
        raise CoordinateError(f"{text.strip()!r}: both values are {axis_a}")
    lat, lon = a, b
    check_lon_lat(lon, lat, text)
    return lon, lat


def check_lon_lat(lon: float, lat: float, text: object) -> None:
    """Refuse a longitude outside ±180 or a latitude outside ±90, quoting the input."""
    if not -180 <= lon <= 180:
        raise CoordinateError(f"longitude {lon:g} from {text!r} is outside -180..180")
    if not -90 <= lat <= 90:
        raise CoordinateError(f"latitude {lat:g} from {text!r} is outside -90..90")


_ZONE = re.compile(
    r"^\s*(?P<zone>\d{1,2})\s*(?:(?P<band>[C-HJ-NP-Xc-hj-np-x])|(?P<hemi>north|south|n\.h\.|s\.h\.))?\s*$",
    re.IGNORECASE,
)
BANDS = "CDEFGHJKLMNPQRSTUVWX"


@lru_cache(maxsize=128)
def _utm_transformer(zone: int, south: bool) -> Transformer:
    crs = CRS.from_dict({"proj": "utm", "zone": zone, "south": south, "ellps": "WGS84"})
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def parse_utm(
    zone_text: object, easting: object, northing: object
) -> tuple[float, float]:
    """``(lon, lat)`` from a UTM zone (``36U`` or ``36 north``), easting and northing in metres."""
    m = _ZONE.match(str(zone_text))
    if not m:
        raise CoordinateError(
            f"UTM zone {zone_text!r}: expected a zone number and latitude band (e.g. 36U) "
            "or a zone number and hemisphere (e.g. 36 north)"
        )
    zone = int(m["zone"])
    if not 1 <= zone <= 60:
        raise CoordinateError(f"UTM zone {zone} is outside 1..60")
    band = m["band"].upper() if m["band"] else None
    hemi = (m["hemi"] or "").lower()
    if band is None and not hemi:
        raise CoordinateError(
            f"UTM zone {zone_text!r} has no latitude band or hemisphere: "
            "write e.g. 36U or 36 north"
        )
    south = band < "N" if band else hemi.startswith("s")
    e = parse_decimal(easting, "UTM easting")
    n = parse_decimal(northing, "UTM northing")
    if not 100_000 <= e <= 900_000:
        raise CoordinateError(f"UTM easting {e:g} is outside 100000..900000 m")
    if not 0 <= n <= 10_000_000:
        raise CoordinateError(f"UTM northing {n:g} is outside 0..10000000 m")
    lon, lat = _utm_transformer(zone, south).transform(e, n)
    if band is not None:
        i = BANDS.index(band)
        lo, hi = -80 + 8 * i, (-80 + 8 * (i + 1)) if band != "X" else 84
        if not lo - 0.5 <= lat <= hi + 0.5:
            raise CoordinateError(
                f"UTM {zone}{band} {e:g} {n:g} lies at latitude {lat:.4f}, outside band "
                f"{band} ({lo}° to {hi}°); a single letter is a latitude band, not a "
                "hemisphere: write the band (e.g. 36U) or '36 north'/'36 south'"
            )
    return lon, lat


_MGRS = mgrs_lib.MGRS()


def parse_mgrs(text: object) -> tuple[float, float]:
    """``(lon, lat)`` of the south-west corner of an MGRS square such as ``36UXA1234567890``."""
    s = re.sub(r"\s+", "", str(text)).upper()
    if not re.fullmatch(r"\d{1,2}[C-HJ-NP-X][A-HJ-NP-Z]{2}(\d\d){0,5}", s):
        raise CoordinateError(
            f"{text!r} is not an MGRS reference (e.g. 36UXA1234567890)"
        )
    try:
        lat, lon = _MGRS.toLatLon(s)
    except Exception as exc:  # the library raises bare exceptions on bad squares
        raise CoordinateError(f"{text!r} is not a valid MGRS reference: {exc}") from exc
    return lon, lat


def parse_wkt(text: object) -> BaseGeometry:
    """A geometry from WKT (``POLYGON ((30 50, ...))``), refusing unreadable text."""
    s = str(text).strip()
    try:
        geom = shapely.from_wkt(s)
    except Exception as exc:  # shapely raises GEOSException with the parser's message
        snippet = s if len(s) < 60 else s[:57] + "..."
        raise CoordinateError(f"cannot read WKT {snippet!r}: {exc}") from exc
    if geom is None or geom.is_empty:
        raise CoordinateError("the WKT geometry is empty")
    return geom

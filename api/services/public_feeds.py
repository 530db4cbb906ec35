"""Public warnings as CAP 1.2 and Atom, from the latest publication of the public layer.

An alert is issued for every public hazard area that is **new** (it meets no area of the
previous publication) or **grown** (part of it lies outside the previous areas); unchanged
areas are not re-announced. Each such area is one CAP alert
(``/api/v1/public/alerts/{id}.cap``); ``/api/v1/public/alerts.cap`` gathers those of the
latest publication in one CAP message with one ``<info>`` per area and language, and
``/api/v1/public/alerts.atom`` lists them as Atom entries linking to each CAP alert.

CAP mapping (the same in every language):

============  =========================================================================
CAP element   value
============  =========================================================================
status        ``Actual``; msgType ``Alert``; scope ``Public``
category      ``Safety``; responseType ``Avoid``
urgency       ``Immediate``: the action (keep out) applies as soon as the alert is read
severity      ``Severe`` for a confirmed area (CHA: a threat to life is established),
              ``Moderate`` for a suspected one (SHA: a possible threat to life)
certainty     ``Observed`` for CHA (evidence of explosive ordnance was recorded),
              ``Likely`` for SHA (suspicion is evidence-based; erring on the safe side)
sent          the publication time (UTC, ``+00:00``); effective = sent; no expiry (an
              area stays dangerous until a later publication releases it)
area          one ``<polygon>`` per part of the public area: its outer ring as
              space-separated ``lat,lon`` pairs, closed (holes are not expressible in
              CAP and are covered, erring on the large side); ``<geocode>`` ``pcode`` per
              administrative area it touches
parameter     ``change`` = ``new`` or ``grown``
============  =========================================================================

XML is built with ``xml.etree.ElementTree``: values are element text, escaped by the
serialiser, never formatted into markup.
"""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request

from api.db.models import PublicPublication
from api.services.public import _public_label
from api.settings import Settings
from api.vocab import available_languages, catalogue, label

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MEDIA_TYPE = "application/cap+xml"
ATOM_MEDIA_TYPE = "application/atom+xml"

SEVERITY = {"CHA": "Severe", "SHA": "Moderate"}
CERTAINTY = {"CHA": "Observed", "SHA": "Likely"}
URGENCY = "Immediate"


def public_base(request: Request, settings: Settings) -> str:
    """Where the public reaches the app's root: ``public_base_url``, else the address the
    server listens on. Never the request's ``Host`` header: the feeds are cached publicly,
    so a forged Host would be served to everyone."""
    if settings.public_base_url:
        return settings.public_base_url
    host, port = request.scope.get("server") or ("localhost", None)
    if ":" in host:  # IPv6
        host = f"[{host}]"
    scheme = request.url.scheme
    default = {"http": 80, "https": 443}.get(scheme)
    netloc = host if port in (None, default) else f"{host}:{port}"
    return f"{scheme}://{netloc}{request.scope.get('root_path', '')}"


def public_url(
    request: Request, settings: Settings, name: str, *, query: bool = False, **params
) -> str:
    """The absolute public URL of the route ``name`` (with the request's query string if
    ``query``), on ``public_base``."""
    url = public_base(request, settings) + request.app.url_path_for(name, **params)
    if query and request.url.query:
        url += "?" + request.url.query
    return url


def cap_time(moment: datetime) -> str:
    """A CAP date-time: seconds, explicit offset (``2024-05-17T08:00:00+00:00``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def cap_polygons(geometry: str | dict) -> list[str]:
    """CAP polygons (outer rings, ``lat,lon`` pairs, closed) of a GeoJSON (Multi)Polygon."""
    geom = orjson.loads(geometry) if isinstance(geometry, str) else geometry
    parts = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    out = []
    for rings in parts:
        ring = rings[0]
        if ring[0] != ring[-1]:
            ring = [*ring, ring[0]]
        out.append(" ".join(f"{lat:.6f},{lon:.6f}" for lon, lat in ring))
    return out


def _message(key: str, language: str, **values: Any) -> str:
    template = catalogue(language).get(key) or catalogue("en").get(key, key)
    return template.format(**values)


def _sub(parent: ET.Element, tag: str, text: str | None = None, ns: str = CAP_NS):
    element = ET.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _value_pair(parent: ET.Element, tag: str, name: str, value: str) -> None:
    pair = _sub(parent, tag)
    _sub(pair, "valueName", name)
    _sub(pair, "value", value)


def headline(row: dict, language: str) -> str:
    """The alert headline of a public area in ``language``."""
    return _message(f"public.cap.headline.{row['change']}", language)


def description(row: dict, language: str) -> str:
    """What the area is, in plain words, in ``language``."""
    return _message(
        "public.cap.description",
        language,
        classification=label("classification", row["classification"], language),
        hazard_type=_public_label("hazard_type", row["hazard_type"], language),
        status=_public_label("public_status", row["status"], language),
        last_update=row["last_update"].isoformat(),
        area_ha=f"{row['area_m2'] / 10_000:.1f}",
    )


def _info(
    alert: ET.Element,
    row: dict,
    language: str,
    *,
    sent: str,
    settings: Settings,
    web: str,
) -> None:
    info = _sub(alert, "info")
    _sub(info, "language", language)
    _sub(info, "category", "Safety")
    _sub(info, "event", _message("public.cap.event", language))
    _sub(info, "responseType", "Avoid")
    _sub(info, "urgency", URGENCY)
    _sub(info, "severity", SEVERITY[row["classification"]])
    _sub(info, "certainty", CERTAINTY[row["classification"]])
    _sub(info, "effective", sent)
    _sub(info, "senderName", "Safeground")
    _sub(info, "headline", headline(row, language))
    _sub(info, "description", description(row, language))
    what = row["what_to_do"]
    _sub(info, "instruction", what.get(language) or what.get("en", ""))
    _sub(info, "web", web)
    _sub(info, "contact", settings.public_hotline)
    _value_pair(info, "parameter", "change", row["change"])
    area = _sub(info, "area")
    _sub(area, "areaDesc", _message("public.cap.area", language))
    for polygon in cap_polygons(row["geometry"]):
        _sub(area, "polygon", polygon)
    for pcode in row["admin_pcodes"]:
        _value_pair(area, "geocode", "pcode", pcode)


ET.register_namespace("atom", ATOM_NS)  # Atom links carry unprefixed attributes


def _serialise(root: ET.Element) -> bytes:
    if root.tag.startswith(f"{{{CAP_NS}}}"):  # CAP: the namespace as the default one
        return ET.tostring(
            root, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NS
        )
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _alert_head(identifier: str, sent: str, settings: Settings) -> ET.Element:
    alert = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(alert, "identifier", identifier)
    _sub(alert, "sender", settings.public_cap_sender)
    _sub(alert, "sent", sent)
    _sub(alert, "status", "Actual")
    _sub(alert, "msgType", "Alert")
    _sub(alert, "scope", "Public")
    return alert


def area_alert(
    publication: PublicPublication, row: dict, *, settings: Settings, web: str
) -> bytes:
    """One CAP 1.2 alert for one new or grown public area, in every language."""
    sent = cap_time(publication.published_at)
    alert = _alert_head(f"safeground-area-{row['id']}", sent, settings)
    for language in available_languages():
        _info(alert, row, language, sent=sent, settings=settings, web=web)
    return _serialise(alert)


def publication_alert(
    publication: PublicPublication | None,
    rows: list[dict],
    *,
    settings: Settings,
    web: str,
) -> bytes:
    """One CAP 1.2 message with the alerts of the latest publication (one info per area
    and language); without alerts, a message with a note and no info."""
    if publication is None:
        alert = _alert_head(
            "safeground-no-publication", cap_time(datetime.now(UTC)), settings
        )
        _sub(alert, "note", "Nothing has been published yet.")
        return _serialise(alert)
    sent = cap_time(publication.published_at)
    alert = _alert_head(f"safeground-publication-{publication.id}", sent, settings)
    if not rows:
        _sub(alert, "note", "No new or enlarged hazard area in this publication.")
    for row in rows:
        for language in available_languages():
            _info(alert, row, language, sent=sent, settings=settings, web=web)
    return _serialise(alert)


def atom_feed(
    publication: PublicPublication | None,
    rows: list[dict],
    *,
    language: str,
    self_url: str,
    cap_url: str,
) -> bytes:
    """An Atom feed (RFC 4287) of the alerts of the latest publication.

    ``cap_url`` is a format string with ``{id}``: the URL of one area's CAP alert.
    """
    updated = (
        publication.published_at if publication else datetime(2000, 1, 1, tzinfo=UTC)
    )
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", language)
    _sub(feed, "id", "urn:safeground:public-alerts", ATOM_NS)
    _sub(feed, "title", _message("public.feed.title", language), ATOM_NS)
    _sub(feed, "updated", updated.astimezone(UTC).isoformat(), ATOM_NS)
    author = _sub(feed, "author", None, ATOM_NS)
    _sub(author, "name", "Safeground", ATOM_NS)
    link = _sub(feed, "link", None, ATOM_NS)
    link.set("rel", "self")
    link.set("href", self_url)
    for row in rows:
        entry = _sub(feed, "entry", None, ATOM_NS)
        _sub(entry, "id", f"urn:uuid:{row['id']}", ATOM_NS)
        _sub(entry, "title", headline(row, language), ATOM_NS)
        _sub(entry, "updated", updated.astimezone(UTC).isoformat(), ATOM_NS)
        what = row["what_to_do"]
        summary = description(row, language) + " " + (what.get(language) or "")
        _sub(entry, "summary", summary.strip(), ATOM_NS)
        category = _sub(entry, "category", None, ATOM_NS)
        category.set("term", row["change"])
        alternate = _sub(entry, "link", None, ATOM_NS)
        alternate.set("rel", "alternate")
        alternate.set("type", CAP_MEDIA_TYPE)
        alternate.set("href", cap_url.format(id=row["id"]))
    return _serialise(feed)

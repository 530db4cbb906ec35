"""An import's report shows everything the gate decided, before anyone commits: each reported
row named by its reference or name, a repair with the submitted and the repaired shape, a
row outside the programme with the position a swap would give it, and ``refuse_repairs``
turning repairs into rejections."""

import uuid

import pytest
from shapely import make_valid
from shapely.geometry import Point, box, shape
from sqlalchemy import func, select

from api.db.models import Hazard
from api.services import imports
from tests.helpers import run_import as run
from tests.ingest import files as F

BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [[30.6, 50.6], [30.601, 50.601], [30.601, 50.6], [30.6, 50.601], [30.6, 50.6]]
    ],
}
SWAPPED = box(
    50.45, 30.5, 50.451, 30.501
)  # a Kyiv square, latitude and longitude swapped
KYIV = box(30.5, 50.45, 30.501, 50.451)


def load_programme(client, actors) -> None:
    """A top-level admin area around Kyiv, so that the programme-extent check runs."""
    country = box(22, 44, 40, 52.5)
    data = F.geojson_bytes(
        [F.feature(country, {"pcode": "UA", "name": "Country", "level": 0})]
    )
    rep = run(client, actors.admin, "adm.geojson", data, kind="admin_areas")
    assert rep["status"] == "succeeded" and not rep["errors"], rep


def stored(session, external_id: str) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Hazard)
        .where(Hazard.external_id == external_id, Hazard.retired_at.is_(None))
    )


def test_a_dry_run_lists_a_repair_with_both_shapes(client, actors):
    feats = [
        F.feature(BOWTIE, F.hazard_props(23, actors.org_a)),
        F.feature(F.square(24), F.hazard_props(24, actors.org_a)),
    ]
    rep = run(
        client,
        actors.coordinator_a,
        "bowtie.geojson",
        F.geojson_bytes(feats),
        mode="dry_run",
    )
    assert rep["counts"]["created"] == 2 and rep["counts"]["rejected"] == 0
    (repair,) = [w for w in rep["warnings"] if w["message"].startswith("repaired")]
    assert repair["row"] == 1
    assert repair["reference"] == "IMP-00023" and repair["name"] == "Field 23"
    assert "made valid as 2 polygon(s)" in repair["message"]
    assert repair["submitted_geometry"] == BOWTIE
    repaired = shape(repair["repaired_geometry"])
    assert repaired.geom_type == "MultiPolygon" and len(repaired.geoms) == 2
    assert repaired.is_valid
    # both lobes of the bowtie, as ST_MakeValid gives them
    assert repaired.area == pytest.approx(make_valid(shape(BOWTIE)).area, rel=1e-6)


def test_refuse_repairs_makes_a_repair_a_rejection(client, session, actors):
    feats = [
        F.feature(BOWTIE, F.hazard_props(25, actors.org_a)),
        F.feature(F.square(26), F.hazard_props(26, actors.org_a)),
    ]
    data = F.geojson_bytes(feats)
    rep = run(
        client,
        actors.coordinator_a,
        "bowtie.geojson",
        data,
        mode="dry_run",
        refuse_repairs=True,
    )
    assert rep["counts"]["rejected"] == 1 and rep["counts"]["created"] == 1
    (err,) = rep["errors"]
    assert err["row"] == 1 and err["reference"] == "IMP-00025"
    assert err["field"] == "geometry"
    assert "refused instead of repaired" in err["message"]
    assert err["rule"] == "repair_refused"
    assert "repaired geometry" in err["message"] and "made valid" in err["message"]
    assert err["submitted_geometry"] == BOWTIE and err["repaired_geometry"]
    assert not [w for w in rep["warnings"] if w["message"].startswith("repaired")]

    rep = run(client, actors.coordinator_a, "bowtie.geojson", data, refuse_repairs=True)
    assert rep["status"] == "succeeded" and rep["counts"]["rejected"] == 1
    assert stored(session, "IMP-00025") == 0 and stored(session, "IMP-00026") == 1
    # without the option, the same row is repaired and stored
    rep = run(client, actors.coordinator_a, "bowtie.geojson", data)
    assert rep["counts"]["created"] == 1 and stored(session, "IMP-00025") == 1


def test_a_swapped_square_carries_its_corrected_position(client, actors):
    load_programme(client, actors)
    feats = [F.feature(SWAPPED, F.hazard_props(70, actors.org_a))]
    rep = run(
        client,
        actors.coordinator_a,
        "swapped.geojson",
        F.geojson_bytes(feats),
        mode="dry_run",
    )
    (err,) = rep["errors"]
    assert err["row"] == 1 and err["reference"] == "IMP-00070"
    assert "swapped" in err["message"]
    assert err["correction"] == "swap_lon_lat"
    corrected = shape(err["corrected_geometry"])
    assert corrected.equals_exact(KYIV, 1e-9) or corrected.equals(KYIV)
    lon, lat = err["location"]  # the point where the file puts it: still in Iraq
    assert lon > 40


def test_every_kind_of_report_line_names_its_row(client, actors):
    load_programme(client, actors)
    first = [F.feature(F.square(80), F.hazard_props(80, actors.org_a))]
    run(client, actors.coordinator_a, "a.geojson", F.geojson_bytes(first))
    sliver = box(30.5, 50.9, 30.51, 50.900001)
    jump = box(30.5, 50.95, 30.6, 50.951)  # two edges of about 7 km
    unnamed = F.hazard_props(85, actors.org_a, classification="maybe")
    del unnamed["name"]
    no_reference = F.hazard_props(86, actors.org_a, classification="maybe")
    del no_reference["external_id"]
    feats = [
        F.feature(F.square(80), F.hazard_props(81, actors.org_a)),  # 1 duplicate
        F.feature(sliver, F.hazard_props(82, actors.org_a)),  # 2 sliver
        F.feature(jump, F.hazard_props(83, actors.org_a)),  # 3 vertex jump
        F.feature(BOWTIE, F.hazard_props(84, actors.org_a)),  # 4 repair
        F.feature(F.square(85), unnamed),  # 5 rejected, reference only
        F.feature(F.square(86), no_reference),  # 6 rejected, name only
        F.feature(SWAPPED, F.hazard_props(87, actors.org_a)),  # 7 swapped
    ]
    rep = run(
        client,
        actors.coordinator_a,
        "all.geojson",
        F.geojson_bytes(feats),
        mode="dry_run",
    )
    lines = [
        *[("error", e) for e in rep["errors"]],
        *[("warning", w) for w in rep["warnings"] if w["row"] is not None],
        *[("flag", f) for f in rep["flags"]],
    ]
    seen = {}
    for severity, line in lines:
        key = (severity, line["row"], line["message"].split(":")[0].split(" ")[0])
        seen[key] = (line.get("reference"), line.get("name"))
    assert seen[("flag", 1, "possible")] == ("IMP-00081", "Field 81")
    assert seen[("flag", 2, "sliver")] == ("IMP-00082", "Field 82")
    assert seen[("flag", 3, "vertex")] == ("IMP-00083", "Field 83")
    assert seen[("warning", 4, "repaired")] == ("IMP-00084", "Field 84")
    assert seen[("error", 5, "unknown")] == ("IMP-00085", None)
    assert seen[("error", 6, "unknown")] == (None, "Field 86")
    assert seen[("error", 7, "lies")] == ("IMP-00087", "Field 87")
    rules = {(sev, line["row"]): line["rule"] for sev, line in lines}
    assert rules == {
        ("flag", 1): "duplicate",
        ("flag", 2): "sliver",
        ("flag", 3): "vertex_jump",
        ("warning", 4): "repaired",
        ("error", 5): "unknown_value",
        ("error", 6): "unknown_value",
        ("error", 7): "outside_programme",
    }


def test_rows_of_an_activity_file_are_named_too(client, actors):
    """Rows refused while read and rows refused once their activity is written (after the
    whole file is read) both carry the activity's reference."""
    csv = (
        "external_id,activity_type,status,start_date,hazard_ids,organisation\n"
        f"ACT-R1,technical_survey,completed,2024-13-45,,{actors.org_a}\n"
        f"ACT-R2,technical_survey,completed,2024-05-01,NO-SUCH-HAZARD,{actors.org_a}\n"
    )
    rep = run(
        client,
        actors.coordinator_a,
        "acts.csv",
        csv.encode(),
        kind="activities",
        mode="dry_run",
    )
    refs = {e["row"]: e.get("reference") for e in rep["errors"]}
    assert refs == {2: "ACT-R1", 3: "ACT-R2"}, rep["errors"]  # CSV rows: line numbers


def test_corrected_positions_of_finds_are_generalised_for_readers_without_rights(
    client, actors
):
    load_programme(client, actors)
    exact = (30.512345, 50.456789)
    point = {"type": "Point", "coordinates": [exact[1], exact[0]]}  # swapped
    props = {"external_id": "EO-S1", "eo_category": "uxo", "organisation": actors.org_a}
    data = F.geojson_bytes([F.feature(point, props)])
    res = client.post(
        "/api/v1/imports",
        files={"file": ("eo.geojson", data)},
        data={"kind": "eo_finds", "mode": "dry_run"},
        headers=actors.coordinator_a.headers,
    )
    assert res.status_code == 202, res.text
    own = client.get(res.headers["Location"], headers=actors.coordinator_a.headers)
    (err,) = own.json()["errors"]
    assert err["reference"] == "EO-S1"
    assert err["corrected_geometry"]["coordinates"] == list(exact)
    rep = client.get(res.headers["Location"], headers=actors.analyst_a.headers)
    (err,) = rep.json()["errors"]
    assert err["geometry_precision"] == "generalised_0.01deg"
    assert err["corrected_geometry"]["coordinates"] == pytest.approx([30.51, 50.46])
    assert "30.5123" not in rep.text and "50.4567" not in rep.text


def test_the_shapes_kept_with_a_report_are_bounded():
    """A huge shape is left out of the report (the line says why), and so is any shape past
    the report's budget; a small one is kept, its coordinates rounded to 7 decimals."""
    book = imports.Book(session=None, separate=False, import_id=uuid.uuid4())
    huge = Point(30.5, 50.5).buffer(0.1, quad_segs=imports.REVIEW_VERTICES // 4 + 1)
    small = box(30.123456789, 50.1, 30.2, 50.2)
    book.attach(0, repaired_geometry=huge, correction="swap_lon_lat")
    book.attach(1, corrected_geometry=small)
    assert book.shapes[0] == {
        "correction": "swap_lon_lat",
        "geometry_omitted": f"more than {imports.REVIEW_VERTICES} vertices",
    }
    assert book.shapes[1]["corrected_geometry"]["coordinates"][0][0][0] == 30.2
    assert 30.1234568 in {
        x for x, _ in book.shapes[1]["corrected_geometry"]["coordinates"][0]
    }
    book.shape_vertices = imports.REVIEW_BUDGET
    book.attach(2, corrected_geometry=small)
    assert "corrected_geometry" not in book.shapes[2]
    assert "in all" in book.shapes[2]["geometry_omitted"]

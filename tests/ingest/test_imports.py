"""Imports through the API: every format and profile, each broken case, modes and re-imports."""

import json
import zipfile

import pytest
from pyproj import Geod
from shapely.geometry import Point, box, shape
from sqlalchemy import func, select, text

from api.db.models import Hazard, HazardVersion
from tests.factories import activity_body
from tests.helpers import import_finds, import_square, upload
from tests.helpers import run_import as run
from tests.ingest import files as F

GEOD = Geod(ellps="WGS84")


def hazard_count(session, org_code: str | None = None) -> int:
    return session.scalar(
        select(func.count()).select_from(Hazard).where(Hazard.retired_at.is_(None))
    )


def test_geojson_commit_then_reimport_is_unchanged(client, session, actors):
    feats = [F.feature(F.square(i), F.hazard_props(i, actors.org_a)) for i in range(5)]
    data = F.geojson_bytes(feats)
    before = hazard_count(session)
    rep = run(client, actors.coordinator_a, "hazards.geojson", data)
    assert rep["status"] == "succeeded", rep
    assert rep["counts"]["created"] == 5 and rep["counts"]["rejected"] == 0
    assert hazard_count(session) == before + 5
    h = session.scalar(select(Hazard).where(Hazard.external_id == "IMP-00003"))
    assert h.contamination == ["ap_mine", "av_mine"] and h.classification == "SHA"
    assert str(h.date_of_information) == "2024-05-17"
    # the area is the ellipsoidal area of the square
    assert h.area_m2 == pytest.approx(
        abs(GEOD.geometry_area_perimeter(F.square(3))[0]), rel=1e-4
    )
    version = session.scalar(
        select(HazardVersion).where(HazardVersion.hazard_id == h.id)
    )
    assert version.origin["row"] == 4 and version.origin["crs"] == "EPSG:4326"
    assert version.source.startswith("import:")
    # the hazard API shows it with land-release figures
    got = client.get(f"/api/v1/hazards/{h.id}", headers=actors.analyst_a.headers).json()
    assert got["properties"]["land_release"]["remaining_area_m2"] == pytest.approx(
        h.area_m2
    )

    versions_before = session.scalar(select(func.count()).select_from(HazardVersion))
    again = run(client, actors.coordinator_a, "hazards.geojson", data)
    assert again["counts"]["unchanged"] == 5
    assert again["counts"]["created"] == again["counts"]["updated"] == 0
    assert (
        session.scalar(select(func.count()).select_from(HazardVersion))
        == versions_before
    )
    assert hazard_count(session) == before + 5


def test_dry_run_reports_and_writes_nothing(client, session, actors):
    feats = [
        F.feature(F.square(i + 10), F.hazard_props(i + 10, actors.org_a))
        for i in range(3)
    ]
    before = hazard_count(session)
    rep = run(
        client,
        actors.coordinator_a,
        "h.geojson",
        F.geojson_bytes(feats),
        mode="dry_run",
    )
    assert rep["status"] == "succeeded" and rep["counts"]["created"] == 3
    assert hazard_count(session) == before


BAD_RING = {
    "type": "Polygon",
    "coordinates": [[[30.5, 50.5], [30.501, 50.5], [30.501, 50.501], [30.5, 50.5001]]],
}
FEW_POINTS = {
    "type": "Polygon",
    "coordinates": [[[30.5, 50.5], [30.501, 50.5], [30.5, 50.5]]],
}
BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [[30.6, 50.6], [30.601, 50.601], [30.601, 50.6], [30.6, 50.601], [30.6, 50.6]]
    ],
}


def _mixed(org):
    return [
        F.feature(F.square(20), F.hazard_props(20, org)),
        F.feature(BAD_RING, F.hazard_props(21, org)),
        F.feature(FEW_POINTS, F.hazard_props(22, org)),
        F.feature(BOWTIE, F.hazard_props(23, org)),
        F.feature(F.square(24), F.hazard_props(24, org, classification="maybe")),
    ]


def test_bad_rows_are_reported_and_good_rows_kept(client, session, actors):
    before = hazard_count(session)
    rep = run(
        client,
        actors.coordinator_a,
        "mixed.geojson",
        F.geojson_bytes(_mixed(actors.org_a)),
    )
    assert rep["status"] == "succeeded"
    assert rep["counts"]["created"] == 2 and rep["counts"]["rejected"] == 3
    by_row = {e["row"]: e for e in rep["errors"]}
    assert "not closed" in by_row[2]["message"]
    assert "at least 4 positions" in by_row[3]["message"]
    assert "classification" in by_row[5]["message"]
    assert any(
        w["row"] == 4 and "repaired" in w["message"] for w in rep["warnings"]
    )  # bowtie
    assert hazard_count(session) == before + 2


def test_atomic_import_is_all_or_nothing(client, session, actors):
    before = hazard_count(session)
    rep = run(
        client,
        actors.coordinator_a,
        "mixed.geojson",
        F.geojson_bytes(_mixed(actors.org_a)),
        atomic=True,
    )
    assert rep["status"] == "failed" and "nothing was written" in rep["failure"]
    assert rep["counts"]["created"] == 0 and rep["counts"]["rejected"] == 3
    assert hazard_count(session) == before


def test_older_date_of_information_goes_to_history_only(client, session, actors):
    feats = [
        F.feature(
            F.square(30),
            F.hazard_props(30, actors.org_a, date_of_information="2024-06-01"),
        )
    ]
    run(client, actors.coordinator_a, "a.geojson", F.geojson_bytes(feats))
    older = [
        F.feature(
            F.square(30),
            F.hazard_props(
                30, actors.org_a, date_of_information="2023-01-01", classification="CHA"
            ),
        )
    ]
    rep = run(client, actors.coordinator_a, "b.geojson", F.geojson_bytes(older))
    assert rep["counts"]["history_only"] == 1
    h = session.scalar(select(Hazard).where(Hazard.external_id == "IMP-00030"))
    assert h.classification == "SHA" and str(h.date_of_information) == "2024-06-01"
    assert (
        session.scalar(
            select(func.count())
            .select_from(HazardVersion)
            .where(HazardVersion.hazard_id == h.id)
        )
        == 2
    )


def test_gpkg_lists_layers_and_imports_the_chosen_one(
    client, session, actors, tmp_path
):
    gdf = F.hazards_gdf(4, actors.org_a)
    data = F.write_gpkg(tmp_path / "h.gpkg", {"hazards": gdf, "other": gdf.iloc[:1]})
    res = upload(client, actors.coordinator_a, "h.gpkg", data)
    assert res.status_code == 422
    assert "hazards" in res.json()["detail"] and "other" in res.json()["detail"]
    rep = run(client, actors.coordinator_a, "h.gpkg", data, layer="hazards")
    assert rep["counts"]["created"] == 4, rep


def test_projected_shapefile_is_transformed(client, session, actors, tmp_path):
    gdf = F.hazards_gdf(3, actors.org_a, crs="EPSG:32636")
    rep = run(client, actors.coordinator_a, "h.zip", F.shapefile_zip(tmp_path, gdf))
    assert rep["counts"]["created"] == 3, rep
    h = session.scalar(select(Hazard).where(Hazard.external_id == "IMP-00001"))
    assert h.area_m2 == pytest.approx(
        abs(GEOD.geometry_area_perimeter(F.square(1))[0]), rel=1e-3
    )
    v = session.scalar(select(HazardVersion).where(HazardVersion.hazard_id == h.id))
    assert "32636" in v.origin["crs"] and v.origin["coordinates_text"].startswith(
        "POLYGON"
    )


def test_shapefile_without_prj(client, session, actors, tmp_path):
    projected = F.shapefile_zip(
        tmp_path, F.hazards_gdf(2, actors.org_a, crs="EPSG:32636"), drop=(".prj",)
    )
    rep = run(client, actors.coordinator_a, "p.zip", projected)
    assert rep["status"] == "failed" and "crs=EPSG" in rep["failure"]
    # with the CRS given, it imports
    rep = run(client, actors.coordinator_a, "p.zip", projected, crs="EPSG:32636")
    assert rep["counts"]["created"] == 2, rep


@pytest.mark.parametrize(
    ("name", "members", "expected"),
    [
        ("noshp.zip", {"readme.txt": b"x"}, "no .shp"),
        ("slip.zip", {"../evil.shp": b"x"}, "outside the archive"),
        ("bomb.zip", {"a.shp": b"\0" * (60 << 20)}, "zip bomb"),
    ],
)
def test_unsafe_or_incomplete_zips_are_refused(client, actors, name, members, expected):
    res = upload(client, actors.coordinator_a, name, F.zip_bytes(members))
    assert res.status_code == 422, res.text
    assert expected in res.json()["detail"]
    assert res.headers["content-type"].startswith("application/problem+json")


def test_kml_and_kmz(client, session, actors):
    marks = [
        (
            f"KML {i}",
            {
                "external_id": f"KML-{i}",
                "classification": "CHA",
                "organisation": actors.org_a,
                "date_of_information": "17.05.2024",
            },
            F.kml_polygon(F.square(40 + i)),
        )
        for i in range(2)
    ]
    rep = run(client, actors.coordinator_a, "h.kml", F.kml_bytes(marks))
    assert rep["counts"]["created"] == 2, rep
    h = session.scalar(select(Hazard).where(Hazard.external_id == "KML-1"))
    assert h.classification == "CHA" and str(h.date_of_information) == "2024-05-17"
    kmz = F.zip_bytes({"doc.kml": F.kml_bytes(marks)})
    assert run(client, actors.coordinator_a, "h.kmz", kmz)["counts"]["unchanged"] == 2


def test_kml_with_external_entity_is_refused(client, actors):
    evil = b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]><kml><Document><Placemark><name>&x;</name></Placemark></Document></kml>'
    res = upload(client, actors.coordinator_a, "evil.kml", evil)
    assert res.status_code == 422
    assert "DTD" in res.json()["detail"] and "root:" not in res.text


def test_csv_coordinates_in_every_notation(client, session, actors):
    org = actors.org_a
    rows = [
        "external_id,hazard_type,classification,organisation,date_of_information,lon,lat,dms,utm_zone,easting,northing,mgrs,wkt,gps_accuracy",
        f'P1,uxo_spot,SHA,{org},2024-05-17,"30,6","50,6",,,,,,,4.5',
        f'P2,uxo_spot,SHA,{org},17/05/2024,,,"50°36\'00""N 30°36\'36""E",,,,,,',
        f"P3,uxo_spot,SHA,{org},May 17 2024,,,,36U,368000,5442000,,,",
        f"P4,uxo_spot,SHA,{org},20240517,,,,,,,36UUA1234567890,,",
        f'P5,minefield,SHA,{org},2024/05/17,,,,,,,,"POLYGON ((30.7 50.7, 30.701 50.7, 30.701 50.701, 30.7 50.701, 30.7 50.7))",',
        f"P6,uxo_spot,SHA,{org},31/02/2024,30.6,50.6,,,,,,,",
        f"P7,uxo_spot,SHA,{org},2024-05-17,,,,36S,368000,5442000,,,",
    ]
    rep = run(client, actors.coordinator_a, "points.csv", "\n".join(rows).encode())
    assert rep["counts"]["created"] == 5, rep["errors"]
    errors = {e["row"]: e["message"] for e in rep["errors"]}
    assert "31/02/2024" in errors[7]  # impossible date, quoted
    assert "band S" in errors[8]  # UTM zone letter read as a band, not 'south'
    geoms = {
        h.external_id: h
        for h in session.scalars(
            select(Hazard).where(Hazard.external_id.in_(["P1", "P2", "P3"]))
        )
    }
    from geoalchemy2.shape import to_shape

    assert to_shape(geoms["P1"].geom).equals(Point(30.6, 50.6))
    assert to_shape(geoms["P2"].geom).distance(Point(30.61, 50.6)) < 1e-9
    v = session.scalar(
        select(HazardVersion).where(HazardVersion.hazard_id == geoms["P1"].id)
    )
    assert (
        v.origin["gps_accuracy_m"] == 4.5
        and v.origin["coordinates_text"] == "30,6 50,6"
    )
    v3 = session.scalar(
        select(HazardVersion).where(HazardVersion.hazard_id == geoms["P3"].id)
    )
    assert (
        v3.origin["crs"] == "UTM"
        and v3.origin["coordinates_text"] == "36U 368000 5442000"
    )


def test_csv_with_wrong_columns_rejects_rows(client, actors):
    rep = run(client, actors.coordinator_a, "w.csv", b"foo,bar\n1,2\n3,4\n")
    assert rep["counts"]["rejected"] == 2 and rep["counts"]["created"] == 0
    assert any("foo" in w["message"] for w in rep["warnings"])  # unused columns listed


def test_empty_file(client, actors):
    res = upload(client, actors.coordinator_a, "e.csv", b"")
    assert res.status_code == 422 and "empty" in res.json()["detail"]


def test_xlsx_formula_rejects_the_row(client, actors):
    org = actors.org_a
    data = F.xlsx_bytes(
        [
            [
                "external_id",
                "classification",
                "hazard_type",
                "organisation",
                "date_of_information",
                "lon",
                "lat",
            ],
            ["X1", "SHA", "uxo_spot", org, "2024-05-17", 30.8, 50.8],
            ["X2", "SHA", "uxo_spot", org, "2024-05-17", "=1+1", 50.8],
        ]
    )
    rep = run(client, actors.coordinator_a, "h.xlsx", data)
    assert rep["counts"]["created"] == 1 and rep["counts"]["rejected"] == 1
    assert (
        "F3" in rep["errors"][0]["message"] and "formula" in rep["errors"][0]["message"]
    )


def test_imsma_profile_labels_links_and_unknown_values(client, session, actors):
    org = actors.org_a
    feats = [
        F.feature(
            F.square(50),
            {
                "IMSMA_ID": "HAZ-0001",
                "Hazard_Name": "North field",
                "Hazard_Type_Status": "Confirmed Hazardous Area",
                "HAZARD_TYPE": "Mined Area",
                "Device_Classification": "AP Mine; Anti-Tank Mine",
                "Organisation_Code": org,
                "DateOfInfo": "05.03.2024",
                "imsma_links": "ACT-9;ACT-10",
            },
        ),
        F.feature(
            F.square(51),
            {
                "IMSMA_ID": "HAZ-0002",
                "Hazard_Type_Status": "probably",
                "Organisation_Code": org,
            },
        ),
    ]
    rep = run(
        client,
        actors.coordinator_a,
        "imsma.geojson",
        F.geojson_bytes(feats),
        profile="imsma",
    )
    assert rep["counts"]["created"] == 1 and rep["counts"]["rejected"] == 1
    assert "'probably'" in rep["errors"][0]["message"] and rep["errors"][0]["row"] == 2
    h = session.scalar(select(Hazard).where(Hazard.external_id == "HAZ-0001"))
    assert (h.classification, h.hazard_type, h.contamination) == (
        "CHA",
        "minefield",
        ["ap_mine", "av_mine"],
    )
    v = session.scalar(select(HazardVersion).where(HazardVersion.hazard_id == h.id))
    assert v.origin["source_fields"]["imsma_links"] == "ACT-9;ACT-10"


def test_osm_profile_imports_hazard_tags_only(client, session, actors):
    feats = [
        F.feature(
            F.square(60),
            {
                "@id": "way/1",
                "boundary": "hazard",
                "hazard": "minefield",
                "name": "Mined slope",
            },
        ),
        F.feature(F.square(61), {"@id": "way/2", "military": "danger_area"}),
        F.feature(F.square(62), {"@id": "way/3", "landuse": "farmland"}),
    ]
    rep = run(
        client,
        actors.coordinator_a,
        "osm.geojson",
        F.geojson_bytes(feats),
        profile="osm",
        organisation=actors.org_a,
    )
    assert rep["counts"]["created"] == 2 and rep["counts"]["skipped"] == 1, rep
    h = session.scalar(select(Hazard).where(Hazard.external_id == "way/1"))
    assert (h.classification, h.hazard_type) == ("SHA", "minefield")


def test_kobo_submission_json(client, session, actors):
    subs = [
        {
            "_uuid": "kobo-uuid-1",
            "hazard/hazard_type": "minefield",
            "hazard/classification": "suspected",
            "hazard/contamination": "ap_mine av_mine",
            "hazard/hazard_area": "50.9 30.9 0 5; 50.9 30.901 0 5; 50.901 30.901 0 5; 50.901 30.9 0 5; 50.9 30.9 0 5",
            "today": "2024-05-17",
        },
        {  # a repeat group of devices, and a point form (uxo spot)
            "_uuid": "kobo-uuid-2",
            "hazard/hazard_type": "uxo_spot",
            "hazard/classification": "SHA",
            "hazard/hazard_location": "50.95 30.95 120 3.5",
            "hazard/devices": [
                {"hazard/devices/device_type": "uxo"},
                {"hazard/devices/device_type": "cmr"},
            ],
            "today": "2024-05-18",
        },
    ]
    rep = run(
        client,
        actors.coordinator_a,
        "kobo.json",
        json.dumps(subs).encode(),
        profile="kobo",
        organisation=actors.org_a,
    )
    assert rep["counts"]["created"] == 2, rep
    spot = session.scalar(select(Hazard).where(Hazard.external_id == "kobo-uuid-2"))
    assert spot.contamination == ["uxo", "cmr"]
    v = session.scalar(select(HazardVersion).where(HazardVersion.hazard_id == spot.id))
    assert v.origin["gps_accuracy_m"] == 3.5
    assert v.origin["coordinates_text"] == "50.95 30.95 120 3.5"
    h = session.scalar(select(Hazard).where(Hazard.external_id == "kobo-uuid-1"))
    from geoalchemy2.shape import to_shape

    assert to_shape(h.geom).bounds == pytest.approx(
        (30.9, 50.9, 30.901, 50.901)
    )  # lat-first order
    assert h.contamination == ["ap_mine", "av_mine"]


def test_outside_the_programme_and_swapped_coordinates(client, session, actors):
    ukraine_ish = box(22, 44, 40, 52.5)
    admin = F.geojson_bytes(
        [F.feature(ukraine_ish, {"pcode": "UA", "name": "Country", "level": 0})]
    )
    rep = run(client, actors.admin, "adm.geojson", admin, kind="admin_areas")
    assert (
        rep["counts"]["created"] + rep["counts"]["updated"] + rep["counts"]["unchanged"]
        == 1
    ), rep
    swapped = box(50.45, 30.5, 50.451, 30.501)  # lat/lon swapped Kyiv square
    far = box(-70, -30, -69.999, -29.999)
    feats = [
        F.feature(swapped, F.hazard_props(70, actors.org_a)),
        F.feature(far, F.hazard_props(71, actors.org_a)),
    ]
    rep = run(client, actors.coordinator_a, "out.geojson", F.geojson_bytes(feats))
    errors = {e["row"]: e["message"] for e in rep["errors"]}
    assert "outside the programme" in errors[1] and "swapped" in errors[1]
    assert "outside the programme" in errors[2] and "swapped" not in errors[2]


def test_possible_duplicates_are_flagged_not_merged(client, session, actors):
    first = [F.feature(F.square(80), F.hazard_props(80, actors.org_a))]
    run(client, actors.coordinator_a, "a.geojson", F.geojson_bytes(first))
    other_id = [F.feature(F.square(80), F.hazard_props(81, actors.org_a))]
    rep = run(client, actors.coordinator_a, "b.geojson", F.geojson_bytes(other_id))
    assert rep["counts"]["created"] == 1 and rep["counts"]["flagged"] == 1
    assert (
        "possible duplicate" in rep["flags"][0]["message"]
        and "IMP-00080" in rep["flags"][0]["message"]
    )


def test_duplicates_within_one_file_are_flagged_not_merged(client, session, actors):
    org = actors.org_a
    near = box(
        *F.square(83).bounds[:2], F.square(83).bounds[2], F.square(83).bounds[3] * 1
    )
    shifted = box(
        F.square(83).bounds[0] + 0.00001,  # 1% of the width: 99% overlap
        F.square(83).bounds[1],
        F.square(83).bounds[2] + 0.00001,
        F.square(83).bounds[3],
    )
    feats = [
        F.feature(F.square(82), F.hazard_props(820, org)),
        F.feature(F.square(82), F.hazard_props(821, org)),  # 2: same geometry as row 1
        F.feature(near, F.hazard_props(830, org)),
        F.feature(shifted, F.hazard_props(831, org)),  # 4: 99% overlap with row 3
        F.feature(F.square(84), F.hazard_props(840, org)),  # 5: alone
    ]
    for mode in ("dry_run", "commit"):
        rep = run(
            client, actors.coordinator_a, "d.geojson", F.geojson_bytes(feats), mode=mode
        )
        assert rep["counts"]["created"] == 5, rep
        flags = {f["row"]: f["message"] for f in rep["flags"]}
        assert set(flags) == {2, 4}, flags
        assert "the same geometry as row 1 (IMP-00820) of this file" in flags[2]
        assert "99% overlap with row 3 (IMP-00830) of this file" in flags[4]
        assert all(f["rule"] == "duplicate" for f in rep["flags"])
    # in Ukrainian too
    res = client.get(
        f"/api/v1/imports/{rep['id']}",
        headers={**actors.coordinator_a.headers, "Accept-Language": "uk"},
    )
    uk = {f["row"]: f["message"] for f in res.json()["flags"]}
    assert uk[2].startswith("можливий дублікат"), uk


def test_slivers_and_vertex_jumps_are_flagged(client, actors):
    sliver = box(30.5, 50.9, 30.51, 50.900001)
    jump = {
        "type": "Polygon",
        "coordinates": [
            [
                [30.5, 50.95],
                [30.6, 50.95],
                [30.6, 50.951],
                [30.5, 50.951],
                [30.5, 50.95],
            ]
        ],
    }
    feats = [
        F.feature(sliver, F.hazard_props(90, actors.org_a)),
        F.feature(jump, F.hazard_props(91, actors.org_a)),
    ]
    rep = run(client, actors.coordinator_a, "s.geojson", F.geojson_bytes(feats))
    flags = {f["row"]: f["message"] for f in rep["flags"]}
    assert flags[1].startswith("sliver") and flags[2].startswith("vertex jump")


def test_admin_areas_keep_leading_zeros_and_refuse_numeric_pcodes(
    client, session, actors
):
    csv = 'pcode,name,level,parent_pcode,wkt\n0102,Zero-led,1,,"POLYGON ((30 50, 30.1 50, 30.1 50.1, 30 50.1, 30 50))"\n'
    rep = run(client, actors.admin, "adm.csv", csv.encode(), kind="admin_areas")
    assert rep["counts"]["created"] == 1, rep
    got = client.get(
        "/api/v1/admin-areas?level=1", headers=actors.analyst_a.headers
    ).json()
    assert "0102" in json.dumps(got)
    xlsx = F.xlsx_bytes(
        [
            ["pcode", "name", "level", "wkt"],
            [
                102,
                "Numeric",
                1,
                "POLYGON ((30 50, 30.1 50, 30.1 50.1, 30 50.1, 30 50))",
            ],
        ]
    )
    rep = run(client, actors.admin, "adm.xlsx", xlsx, kind="admin_areas")
    assert (
        rep["counts"]["rejected"] == 1
        and "leading zeros" in rep["errors"][0]["message"]
    )


def test_permissions_and_limits(client, actors, settings):
    data = F.geojson_bytes([F.feature(F.square(95), F.hazard_props(95, actors.org_a))])
    assert (
        client.post("/api/v1/imports", files={"file": ("h.geojson", data)}).status_code
        == 401
    )
    assert upload(client, actors.analyst_a, "h.geojson", data).status_code == 403
    # a coordinator of another organisation: the row is rejected, not written
    rep = run(client, actors.coordinator_b, "h.geojson", data)
    assert (
        rep["counts"]["rejected"] == 1
        and "own organisation" in rep["errors"][0]["message"]
    )
    assert (
        upload(client, actors.admin, "h.geojson", data, kind="context").status_code
        == 422
    )


def test_feature_limit_is_413(client, actors, settings, app):
    app.state.settings = settings.model_copy(update={"max_import_features": 2})
    feats = [F.feature(F.square(i), F.hazard_props(i, actors.org_a)) for i in range(3)]
    res = upload(client, actors.coordinator_a, "h.geojson", F.geojson_bytes(feats))
    assert res.status_code == 413 and res.headers["content-type"].startswith(
        "application/problem+json"
    )


def test_unknown_import_is_404(client, actors):
    res = client.get(
        "/api/v1/imports/00000000-0000-0000-0000-000000000000",
        headers=actors.analyst_a.headers,
    )
    assert res.status_code == 404


def test_ten_thousand_features(client, session, actors, tmp_path):
    gdf = F.hazards_gdf(10_000, actors.org_a)
    data = F.write_gpkg(tmp_path / "big.gpkg", {"hazards": gdf})
    before = hazard_count(session)
    rep = run(client, actors.coordinator_a, "big.gpkg", data)
    assert rep["status"] == "succeeded" and rep["counts"]["created"] == 10_000, rep[
        "errors"
    ][:3]
    assert hazard_count(session) == before + 10_000


def test_zip_member_names(tmp_path):
    data = F.zip_bytes({"a/b.txt": b"x"})
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as zf:
        assert zf.namelist() == ["a/b.txt"]
    assert shape(F.feature(F.square(0), {})["geometry"]).area > 0


def test_activities_with_release_polygons(client, session, actors):
    from api.db.models import Activity, HazardLandRelease

    org = actors.org_a
    import_square(client, actors.coordinator_a, org, 300)
    hz = F.square(300)
    left = box(
        hz.bounds[0], hz.bounds[1], (hz.bounds[0] + hz.bounds[2]) / 2, hz.bounds[3]
    )
    away = box(31.9, 50.1, 31.901, 50.101)  # touches no hazard
    act = {
        "external_id": "ACT-1",
        "activity_type": "clearance",
        "organisation": org,
        "hazard_ids": "IMP-00300",
        "status": "completed",
        "start_date": "2024-06-01",
        "end_date": "2024-06-20",
        "methods": "manual",
    }
    feats = [
        F.feature(left, {**act, "outcome": "cleared", "release_date": "20.06.2024"}),
        F.feature(away, {**act, "outcome": "cancelled"}),
    ]
    rep = run(
        client,
        actors.coordinator_a,
        "act.geojson",
        F.geojson_bytes(feats),
        kind="activities",
    )
    assert rep["counts"]["created"] == 1, rep
    assert (
        rep["errors"][0]["row"] == 2
        and "does not touch its hazard" in rep["errors"][0]["message"]
    )
    a = session.scalar(select(Activity).where(Activity.external_id == "ACT-1"))
    assert a.status == "completed" and a.methods == ["manual"]
    h = session.scalar(select(Hazard).where(Hazard.external_id == "IMP-00300"))
    fig = session.get(HazardLandRelease, h.id)
    assert fig.cleared_area_m2 == pytest.approx(
        abs(GEOD.geometry_area_perimeter(left)[0]), rel=1e-3
    )
    again = run(
        client,
        actors.coordinator_a,
        "act.geojson",
        F.geojson_bytes(feats[:1]),
        kind="activities",
    )
    assert again["counts"]["unchanged"] == 1 and again["counts"]["updated"] == 0, again
    # the releases kind replaces an existing activity's polygons
    whole = [
        F.feature(
            hz,
            {
                "activity_external_id": "ACT-1",
                "outcome": "cleared",
                "release_date": "2024-06-21",
            },
        )
    ]
    rep = run(
        client,
        actors.coordinator_a,
        "rel.geojson",
        F.geojson_bytes(whole),
        kind="releases",
        organisation=org,
    )
    assert rep["counts"]["updated"] == 1, rep
    session.expire_all()
    assert session.get(HazardLandRelease, h.id).remaining_area_m2 == pytest.approx(
        0, abs=0.01
    )
    missing = [F.feature(hz, {"activity_external_id": "NOPE", "outcome": "cleared"})]
    rep = run(
        client,
        actors.coordinator_a,
        "rel.geojson",
        F.geojson_bytes(missing),
        kind="releases",
        organisation=org,
    )
    assert "import the activity first" in rep["errors"][0]["message"]


def test_eo_finds_csv(client, session, actors):
    from api.db.models import EOFind

    org = actors.org_a
    import_square(client, actors.coordinator_a, org, 310)
    c = F.square(310).centroid
    csv = (
        "external_id,eo_category,model,quantity,condition,found_on,hazard_id,organisation,lon,lat\n"
        f"EO-1,AP_MINE,PMN-2,2,armed,12/06/2024,IMP-00310,{org},{c.x},{c.y}\n"
        f"EO-2,rocket,,1,,2024-06-12,IMP-00310,{org},{c.x},{c.y}\n"
        f"EO-3,uxo,,x,,2024-06-12,IMP-00310,{org},{c.x},{c.y}\n"
    )
    rep = run(client, actors.coordinator_a, "eo.csv", csv.encode(), kind="eo_finds")
    assert rep["counts"]["created"] == 1 and rep["counts"]["rejected"] == 2, rep
    errors = {e["row"]: e["message"] for e in rep["errors"]}
    assert "'rocket'" in errors[3] and "quantity" in errors[4]
    f = session.scalar(select(EOFind).where(EOFind.external_id == "EO-1"))
    assert (f.eo_category, f.quantity, str(f.found_on)) == ("ap_mine", 2, "2024-06-12")
    assert f.origin["row"] == 2
    assert (
        run(client, actors.coordinator_a, "eo.csv", csv.encode(), kind="eo_finds")[
            "counts"
        ]["unchanged"]
        == 1
    )


def test_eo_finds_are_written_set_based_with_every_rule_of_the_single_write(
    client, session, actors
):
    """New finds go in together (one flush, audited); each refusal, update and warning is
    what ``POST /eo-finds`` (``eo_finds.create``) gives one by one."""
    from api.db.models import EOFind

    org, other = actors.org_a, actors.org_b
    import_square(client, actors.coordinator_a, org, 320)
    import_square(client, actors.coordinator_b, other, 321)
    b_hazard = next(
        f["id"]
        for f in client.get(
            "/api/v1/hazards", headers=actors.coordinator_b.headers
        ).json()["features"]
        if f["properties"]["external_id"] == "IMP-00321"
    )
    act = client.post(
        "/api/v1/activities",
        json=activity_body(other, [b_hazard], [], status="ongoing", end_date=None),
        headers=actors.coordinator_b.headers,
    )
    assert act.status_code == 201, act.text
    activity_of_b = act.json()["id"]
    c = F.square(320).centroid
    far = (c.x + 0.01, c.y)  # about 700 m away
    header = (
        "external_id,eo_category,quantity,hazard_id,activity_id,organisation,lon,lat\n"
    )
    rows = [
        f"EOB-1,ap_mine,1,IMP-00320,,{org},{c.x},{c.y}",  # 2: created
        f"EOB-2,uxo,2,IMP-00320,,{org},{far[0]},{far[1]}",  # 3: created, far away
        f"EOB-3,uxo,1,NO-SUCH,,{org},{c.x},{c.y}",  # 4: unknown hazard
        f"EOB-4,uxo,1,,,{org},{c.x},{c.y}",  # 5: neither activity nor hazard
        f"EOB-5,uxo,1,,{activity_of_b},{org},{c.x},{c.y}",  # 6: B's activity
        f"EOB-1,ap_mine,3,IMP-00320,,{org},{c.x},{c.y}",  # 7: updates row 2's find
        f",cmr,1,IMP-00320,,{org},{c.x},{c.y}",  # 8: created, no external id
    ]
    rep = import_finds(client, actors.coordinator_a, header, rows)
    counts = rep["counts"]
    assert (counts["created"], counts["updated"], counts["rejected"]) == (3, 1, 3), rep
    errors = {e["row"]: (e["field"], e["message"]) for e in rep["errors"]}
    assert errors[4] == ("hazard_id", "unknown hazard")
    assert errors[5] == ("activity_id", "a find belongs to an activity or a hazard")
    assert errors[6][0] == "activity_id" and f"belongs to {other}" in errors[6][1]
    warnings = {w["row"]: w["message"] for w in rep["warnings"] if w["row"]}
    assert warnings == {
        3: "the find lies more than 100 m from its hazard; check the position"
    }
    stored = {
        f.external_id: f
        for f in session.scalars(
            select(EOFind).where(
                EOFind.organisation_id == actors.coordinator_a.principal.organisation_id
            )
        )
    }
    # the same position as an earlier find: flagged, never merged
    flags = {f["row"]: f["message"] for f in rep["flags"]}
    assert flags == {
        8: f"possible duplicate: the same position as EO find {stored['EOB-1'].id} "
        "(EOB-1); review before merging"
    }
    assert counts["flagged"] == 1
    # and against the finds stored before, in a later file
    again = run(
        client,
        actors.coordinator_a,
        "eo2.csv",
        (header + f"EOB-9,uxo,1,IMP-00320,,{org},{c.x},{c.y}\n").encode(),
        kind="eo_finds",
        mode="commit",
    )
    assert again["counts"]["created"] == 1 and again["counts"]["flagged"] == 1
    assert any("(EOB-1)" in f["message"] for f in again["flags"]), again["flags"]
    assert stored["EOB-1"].quantity == 3  # row 7 updated row 2's find
    assert stored["EOB-1"].origin["row"] == 7 and stored["EOB-2"].origin["row"] == 3
    assert stored["EOB-2"].created_by == actors.coordinator_a.principal.user_id
    assert None in stored and stored[None].eo_category == "cmr"
    audited = session.execute(
        text(
            "SELECT count(*) FROM audit_log WHERE entity = 'eo_finds' "
            "AND action = 'insert' AND entity_id = ANY(:ids)"
        ),
        {"ids": [str(f.id) for f in stored.values()]},
    ).scalar_one()
    assert audited == 3
    # the COPY's audit rows are what an ORM insert writes: a find posted one by one with
    # the values of row 2 has the same audit row, but for its id and origin
    posted = client.post(
        "/api/v1/eo-finds",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [c.x, c.y]},
            "properties": {
                "external_id": "EOB-POSTED",
                "eo_category": "uxo",
                "quantity": 2,
                "hazard_id": "IMP-00320",
                "organisation": org,
            },
        },
        headers=actors.coordinator_a.headers,
    )
    assert posted.status_code == 201, posted.text

    def audit_after(find_id) -> dict:
        return session.execute(
            text(
                "SELECT after FROM audit_log WHERE entity = 'eo_finds' "
                "AND action = 'insert' AND entity_id = :id"
            ),
            {"id": str(find_id)},
        ).scalar_one()

    via_api = audit_after(posted.json()["id"])
    via_copy = audit_after(stored["EOB-2"].id)
    assert via_copy["geom"] == via_api["geom"] == "(changed)"
    assert via_copy["origin"]["row"] == 3 and via_copy["origin"]["import_id"]
    ignore = {"id", "external_id", "origin"}
    assert {k: v for k, v in via_copy.items() if k not in ignore} == {
        k: v for k, v in via_api.items() if k not in ignore
    }


def test_finds_of_a_failed_copy_are_written_one_by_one(
    client, session, actors, monkeypatch
):
    """When the database refuses the batch's COPY, what it wrote is rolled back and every
    row goes through the single write, each with its own answer: none lost, none twice."""
    from api.services.imports import eo_finds as module

    org = actors.org_a
    import_square(client, actors.coordinator_a, org, 322)
    real = module.copy_rows

    def refused(*args, **kwargs):
        real(*args, **kwargs)  # written, then refused: the savepoint must undo it
        raise RuntimeError("refused by the database")

    monkeypatch.setattr(module, "copy_rows", refused)
    c = F.square(322).centroid
    header = "external_id,eo_category,quantity,hazard_id,organisation,lon,lat\n"
    rows = [f"EOF-{i},uxo,1,IMP-00322,{org},{c.x + i * 1e-5},{c.y}" for i in range(3)]
    rep = import_finds(client, actors.coordinator_a, header, rows)
    assert rep["counts"]["created"] == 3 and rep["counts"]["rejected"] == 0, rep
    ids = session.scalars(
        text("SELECT id FROM eo_finds WHERE external_id LIKE 'EOF-%'")
    ).all()
    assert len(ids) == 3
    audited = session.execute(
        text(
            "SELECT count(*) FROM audit_log WHERE entity = 'eo_finds' "
            "AND action = 'insert' AND entity_id = ANY(:ids)"
        ),
        {"ids": [str(i) for i in ids]},
    ).scalar_one()
    assert audited == 3


def test_a_repeated_derived_status_is_not_pinned(client, session, actors):
    """An export states each hazard's (derived) status; importing it back pins nothing."""
    feats = [F.feature(F.square(320), F.hazard_props(320, actors.org_a))]
    run(client, actors.coordinator_a, "a.geojson", F.geojson_bytes(feats))
    again = [F.feature(F.square(320), F.hazard_props(320, actors.org_a, status="open"))]
    rep = run(client, actors.coordinator_a, "b.geojson", F.geojson_bytes(again))
    assert rep["counts"]["unchanged"] == 1, rep
    h = session.scalar(select(Hazard).where(Hazard.external_id == "IMP-00320"))
    assert h.status_set is None and h.version == 1
    closed = [
        F.feature(F.square(320), F.hazard_props(320, actors.org_a, status="suspended"))
    ]
    rep = run(client, actors.coordinator_a, "c.geojson", F.geojson_bytes(closed))
    assert rep["counts"]["updated"] == 1
    session.expire_all()
    assert session.get(Hazard, h.id).status_set == "suspended"


@pytest.mark.parametrize("profile", ["native", "imsma"])
def test_shapefile_export_imports_back_unchanged(client, session, actors, profile):
    feats = [
        F.feature(
            F.square(330 + i),
            F.hazard_props(330 + i, actors.org_a, notes="\tkept as is"),
        )
        for i in range(3)
    ]
    run(client, actors.coordinator_a, "a.geojson", F.geojson_bytes(feats))
    exported = client.get(
        "/api/v1/exports/hazards.shp.zip",
        params={"organisation": actors.org_a, "profile": profile},
        headers=actors.admin.headers,
    )
    assert exported.status_code == 200, exported.text
    rep = run(
        client,
        actors.admin,
        "h.zip",
        exported.content,
        layer="hazards_polygons",
        profile=profile,
    )
    assert rep["counts"]["rejected"] == 0 and rep["counts"]["created"] == 0, rep[
        "errors"
    ][:3]
    assert rep["counts"]["unchanged"] == rep["counts"]["read"] >= 3, rep["counts"]


def test_context_layers(client, session, actors):
    from shapely.geometry import LineString

    from api.db.models import Facility, LandUseArea, Road, SecurityZone, Settlement

    settlements = (
        "geonameid,name,population,lon,lat\n"
        "703448,Kyiv,2797553,30.5234,50.4501\n"
        "706483,Kharkiv,1430885,36.25,49.98\n"
    )
    rep = run(
        client,
        actors.admin,
        "s.csv",
        settlements.encode(),
        kind="context",
        context="settlements",
    )
    assert rep["counts"]["created"] == 2, rep
    kyiv = session.scalar(select(Settlement).where(Settlement.external_id == "703448"))
    assert kyiv.population == 2797553 and kyiv.name == "Kyiv"
    assert (
        run(
            client,
            actors.admin,
            "s.csv",
            settlements.encode(),
            kind="context",
            context="settlements",
        )["counts"]["unchanged"]
        == 2
    )

    roads = [
        F.feature(
            LineString([(30.5, 50.45), (30.6, 50.46)]),
            {"highway": "primary", "name": "M-06"},
        )
    ]
    rep = run(
        client,
        actors.admin,
        "r.geojson",
        F.geojson_bytes(roads),
        kind="context",
        context="roads",
    )
    assert rep["counts"]["created"] == 1, rep
    # no id in the file: a content id makes the re-import unchanged
    again = run(
        client,
        actors.admin,
        "r.geojson",
        F.geojson_bytes(roads),
        kind="context",
        context="roads",
    )
    assert again["counts"]["unchanged"] == 1, again
    road = session.scalar(select(Road).where(Road.name == "M-06"))
    assert road.road_class == "primary" and road.external_id.startswith("sha1:roads:")

    facilities = [
        F.feature(
            Point(30.51, 50.45),
            {"osm_id": "n1", "amenity": "school", "name": "School 1"},
        ),
        F.feature(Point(30.52, 50.45), {"osm_id": "n2", "amenity": "bar"}),
        F.feature(F.square(400), {"osm_id": "n3", "amenity": "clinic"}),
    ]
    rep = run(
        client,
        actors.admin,
        "f.geojson",
        F.geojson_bytes(facilities),
        kind="context",
        context="facilities",
    )
    assert rep["counts"]["created"] == 1 and rep["counts"]["rejected"] == 2, rep
    errors = {e["row"]: e["message"] for e in rep["errors"]}
    assert "'bar'" in errors[2] and "Polygon" in errors[3]
    assert (
        session.scalar(
            select(Facility).where(Facility.external_id == "n1")
        ).facility_type
        == "school"
    )

    land = [F.feature(F.square(401), {"id": "lu1", "landuse": "farmland"})]
    rep = run(
        client,
        actors.admin,
        "l.geojson",
        F.geojson_bytes(land),
        kind="context",
        context="land_use",
    )
    assert rep["counts"]["created"] == 1, rep
    assert (
        session.scalar(
            select(LandUseArea).where(LandUseArea.external_id == "lu1")
        ).land_use
        == "agricultural_crop"
    )

    zones = [
        F.feature(
            F.square(402),
            {"id": "z1", "reason": "shelling", "valid_from": "01.03.2024"},
        )
    ]
    rep = run(
        client,
        actors.admin,
        "z.geojson",
        F.geojson_bytes(zones),
        kind="context",
        context="security_zones",
    )
    assert rep["counts"]["created"] == 1, rep
    z = session.scalar(select(SecurityZone).where(SecurityZone.external_id == "z1"))
    assert str(z.valid_from) == "2024-03-01" and z.reason == "shelling"

    res = upload(
        client,
        actors.admin,
        "z.geojson",
        F.geojson_bytes(zones),
        kind="context",
    )
    assert res.status_code == 422 and "context=" in res.json()["detail"]
    assert (
        upload(
            client,
            actors.analyst_a,
            "z.geojson",
            F.geojson_bytes(zones),
            kind="context",
            context="roads",
        ).status_code
        == 403
    )


def test_queue_mode_enqueues_with_the_import(session, settings, actors):
    """With the queue runner, the request stores the import and its job, nothing more."""
    from starlette.testclient import TestClient

    from api.deps import get_session
    from api.main import create_app

    app = create_app(settings.model_copy(update={"import_runner": "queue"}))
    app.dependency_overrides[get_session] = lambda: session
    data = F.geojson_bytes(
        [F.feature(F.square(340), F.hazard_props(340, actors.org_a))]
    )
    with TestClient(app) as c:
        res = upload(c, actors.coordinator_a, "q.geojson", data)
        assert res.status_code == 202 and res.json()["status"] == "queued"
        import_id = res.json()["id"]
    job = session.execute(
        text(
            "SELECT j.id, i.job_id FROM procrastinate_jobs j JOIN imports i "
            "ON i.id = CAST(j.args->>'import_id' AS uuid) WHERE i.id = :i"
        ),
        {"i": import_id},
    ).one()
    assert job.id == job.job_id
    assert (
        session.scalar(
            select(func.count())
            .select_from(Hazard)
            .where(Hazard.external_id == "IMP-00340")
        )
        == 0
    )


def test_refused_rows_carry_a_point_of_their_geometry(client, actors, tmp_path):
    """The workspace shows refused rows on the map before a commit: each error of a row whose
    file gave a geometry carries a point of it in WGS 84 (projected files too)."""
    rep = run(
        client,
        actors.coordinator_a,
        "mixed.geojson",
        F.geojson_bytes(_mixed(actors.org_a)),
        mode="dry_run",
    )
    by_row = {e["row"]: e for e in rep["errors"]}
    lon, lat = by_row[5]["location"]  # a bad classification on a good square
    assert F.square(24).contains(Point(lon, lat))
    gdf = F.hazards_gdf(2, actors.org_a, crs="EPSG:32636")
    gdf.loc[1, "classification"] = "maybe"
    rep = run(
        client,
        actors.coordinator_a,
        "utm.zip",
        F.shapefile_zip(tmp_path, gdf),
        mode="dry_run",
    )
    (err,) = rep["errors"]
    assert F.square(1).buffer(1e-6).contains(Point(err["location"]))
    csv = b"name,classification\nno geometry,SHA\n"
    rep = run(client, actors.coordinator_a, "h.csv", csv, mode="dry_run")
    assert rep["errors"] and all("location" not in e for e in rep["errors"])


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # past Python's recursion limit
        b'[{"a": ' + b"[" * 100 + b"]" * 100 + b"}]",  # parses, but no form nests so
        b"[\xff\xfe\x00]",  # not UTF-8
    ],
    ids=["deep", "deeper-than-forms", "not-utf8"],
)
@pytest.mark.parametrize("mode", ["dry_run", "commit"])
def test_a_submission_list_that_cannot_be_read_is_a_failed_import(
    client, actors, body, mode
):
    """Review finding: a deeply nested kobo.json was a RecursionError (500)."""
    res = upload(
        client,
        actors.coordinator_a,
        "kobo.json",
        body,
        profile="kobo",
        organisation=actors.org_a,
        mode=mode,
    )
    if res.status_code == 202:
        rep = client.get(
            res.headers["Location"], headers=actors.coordinator_a.headers
        ).json()
        assert rep["status"] == "failed", rep
        text_ = str(rep)
    else:
        assert 400 <= res.status_code < 500, res.text
        text_ = res.text
    assert "JSON" in text_


@pytest.mark.parametrize("kind", ["admin_areas", "context"])
def test_programme_wide_data_is_imported_by_admins_only(client, session, actors, kind):
    """Review finding: a coordinator, or a key with only imports:write, renamed and
    reshaped the programme's admin area UA (every organisation's P-codes, filters and
    public counts follow it); context layers feed every organisation's ranking, so no API
    key imports them, and only signed-in coordinators (issue 18: from the workspace) and
    admins import settlements, roads, facilities and land use."""
    from api.services import auth

    feature = (
        {"pcode": "UA", "name": "Renamed by one organisation", "level": 0}
        if kind == "admin_areas"
        else {"external_id": "S-1", "name": "Village", "population": 100}
    )
    data = F.geojson_bytes([F.feature(F.square(0), feature)])
    form = {"kind": kind} | ({"context": "settlements"} if kind == "context" else {})
    key, _ = auth.create_api_key(
        session,
        organisation_code=actors.org_a,
        name="import-only",
        permissions=["imports:write"],
    )
    admin_key, _ = auth.create_api_key(
        session, organisation_code=actors.org_a, name="admin-key", role=auth.Role.admin
    )
    refused = (actors.coordinator_a, actors.analyst_a, actors.eore_a)
    if kind == "context":  # field context layers: coordinators too (issue 18)
        refused = (actors.analyst_a, actors.eore_a)
        assert run(client, actors.coordinator_a, "a.geojson", data, **form)[
            "status"
        ] == ("succeeded")
    for who in refused:
        r = upload(client, who, "a.geojson", data, **form)
        assert r.status_code == 403, r.text
    for plain in (key, admin_key):
        r = client.post(
            "/api/v1/imports",
            files={"file": ("a.geojson", data)},
            data={"mode": "commit", **form},
            headers={"X-API-Key": plain},
        )
        assert r.status_code == 403, r.text
        assert "programme-wide" in r.json()["detail"] or "import" in r.json()["detail"]
    assert run(client, actors.admin, "a.geojson", data, **form)["status"] == "succeeded"


def test_security_zones_stay_an_admins_import(client, session, actors):
    """Security zones close hazards to work: coordinators import the other context layers
    (issue 18), never these."""
    data = F.geojson_bytes(
        [F.feature(F.square(0), {"name": "Zone", "reason": "shelling"})]
    )
    form = {"kind": "context", "context": "security_zones"}
    r = upload(client, actors.coordinator_a, "z.geojson", data, **form)
    assert r.status_code == 403, r.text
    assert "programme-wide" in r.json()["detail"]
    assert run(client, actors.admin, "z.geojson", data, **form)["status"] == "succeeded"

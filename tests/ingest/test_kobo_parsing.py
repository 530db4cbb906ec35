"""Kobo/ODK submissions: flattening, geopoints and geoshapes (latitude first), field mapping."""

import pytest
from shapely.geometry import Point

from api.ingest import kobo
from api.vocab import Contamination

CODES = {"contamination": [c.value for c in Contamination]}


# --- geopoints ---------------------------------------------------------------------------


def test_geopoint_is_latitude_first_and_keeps_accuracy():
    point, accuracy = kobo.parse_geopoint("49.1032 36.2051 152.0 4.5")
    assert (point.x, point.y) == (36.2051, 49.1032)  # lon, lat as GeoJSON
    assert accuracy == 4.5
    assert not point.has_z


def test_geopoint_without_altitude_or_accuracy():
    point, accuracy = kobo.parse_geopoint("  -33.9 18.4 ")
    assert point.equals(Point(18.4, -33.9)) and accuracy is None
    assert kobo.parse_geopoint("10 20 30")[1] is None


def test_geopoint_out_of_range_latitude_names_the_order():
    with pytest.raises(
        ValueError, match=r"latitude 120\.5 is outside -90\.\.90.*latitude first"
    ):
        kobo.parse_geopoint("120.5 49.1 0 5")  # longitude written first by mistake


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected 'latitude longitude"),
        ("49.1", "expected 'latitude longitude"),
        ("49.1 36.2 1 2 3", "expected 'latitude longitude"),
        ("49.1 east 0 5", "'east' is not a number"),
        ("49.1 nan 0 5", "'nan' is not a finite number"),
        ("49.1 200 0 5", "longitude 200 is outside -180..180"),
        ("49.1 36.2 0 -3", "accuracy -3 is negative"),
    ],
)
def test_bad_geopoints_are_refused_with_a_reason(text, message):
    with pytest.raises(ValueError, match=message):
        kobo.parse_geopoint(text)


# --- geoshapes ---------------------------------------------------------------------------

SHAPE = "49.10 36.20 150 3;49.10 36.21 151 8.5;49.11 36.21 149 4;49.10 36.20 150 3"


def test_geoshape_is_latitude_first_closed_and_keeps_the_worst_accuracy():
    polygon, accuracy = kobo.parse_geoshape(SHAPE)
    assert list(polygon.exterior.coords) == [
        (36.20, 49.10),
        (36.21, 49.10),
        (36.21, 49.11),
        (36.20, 49.10),
    ]
    assert accuracy == 8.5


def test_open_geoshape_is_closed_and_trailing_separator_ignored():
    polygon, accuracy = kobo.parse_geoshape("49.10 36.20;49.10 36.21;49.11 36.21;")
    coords = list(polygon.exterior.coords)
    assert coords[0] == coords[-1] == (36.20, 49.10) and len(coords) == 4
    assert accuracy is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "49.10 36.20;49.10 x;49.11 36.21",
            r"geoshape point 2 of 3: 'x' is not a number",
        ),
        ("49.10 36.20;91 36.21 0 1;49.11 36.21", r"geoshape point 2 of 3: latitude 91"),
        ("49.10 36.20;;49.11 36.21", r"geoshape point 2 of 3 is empty"),
        ("49.10 36.20;49.10 36.21;49.10 36.20", r"at least 3 distinct points, got 2"),
        ("   ", "geoshape: expected"),
    ],
)
def test_bad_geoshapes_name_the_bad_position(text, message):
    with pytest.raises(ValueError, match=message):
        kobo.parse_geoshape(text)


def test_odk_central_geojson_answers_are_used_as_they_are():
    geometry, accuracy = kobo.geometry_from_answer(
        {
            "type": "Point",
            "coordinates": [36.2051, 49.1032, 150],
            "properties": {"accuracy": 3.2},
        },
        "geopoint",
    )
    assert geometry == {"type": "Point", "coordinates": [36.2051, 49.1032, 150]}
    assert accuracy == 3.2


# --- flattening and matching --------------------------------------------------------------


def test_flatten_keeps_group_paths_and_gathers_repeat_groups():
    flat = kobo.flatten(
        {
            "report/description": "seen",
            "devices": [
                {"devices/device_type": "ap_mine", "devices/count": "2"},
                {"devices/device_type": "av_mine"},
            ],
            "_tags": [],
        }
    )
    assert flat == {
        "report/description": "seen",
        "devices[]/device_type": ["ap_mine", "av_mine"],
        "devices[]/count": ["2"],
        "_tags": [],
    }


def test_flatten_reads_odk_central_nesting_the_same_way():
    flat = kobo.flatten(
        {
            "meta": {"instanceID": "uuid:1"},
            "grp": {"devices": [{"device_type": "ap_mine"}, {"device_type": "uxo"}]},
            "where": {"type": "Point", "coordinates": [36.2, 49.1]},
        }
    )
    assert flat["meta/instanceID"] == "uuid:1"
    assert flat["grp/devices[]/device_type"] == ["ap_mine", "uxo"]
    assert flat["where"] == {"type": "Point", "coordinates": [36.2, 49.1]}


def test_nested_repeats_in_kobo_keys():
    flat = kobo.flatten(
        {
            "grp/devices": [
                {
                    "grp/devices/device_type": "ap_mine",
                    "grp/devices/parts": [
                        {"grp/devices/parts/name": "fuze"},
                        {"grp/devices/parts/name": "body"},
                    ],
                }
            ]
        }
    )
    assert flat == {
        "grp/devices[]/device_type": ["ap_mine"],
        "grp/devices[]/parts[]/name": ["fuze", "body"],
    }


def test_pointers_locate_answers_in_the_submission():
    submission = {"report/hazard_location": "1 2", "devices": [{"devices/x": "a"}]}
    pointers = kobo.flatten_pointers(submission)
    assert pointers == {
        "report/hazard_location": "/report~1hazard_location",
        "devices[]/x": "/devices",
    }


def test_paths_match_by_their_last_segments():
    assert kobo.path_matches("group_a/group_b/hazard_location", "hazard_location")
    assert kobo.path_matches(
        "group_a/group_b/hazard_location", "group_b/hazard_location"
    )
    assert kobo.path_matches("report/Hazard-Location", "hazard_location")
    assert kobo.path_matches("grp/devices[]/device_type", "devices[]/device_type")
    assert not kobo.path_matches("report/hazard_location_text", "hazard_location")
    assert not kobo.path_matches("hazard_location", "report/hazard_location")


def test_an_alias_naming_two_different_answers_is_not_guessed():
    flat = {"a/description": "one", "b/description": "two"}
    with pytest.raises(ValueError, match="several different answers"):
        kobo.find_answer(flat, ["description"])
    assert kobo.find_answer({"a/x": "same", "b/x": "same"}, ["x"]) == ("a/x", "same")


def test_select_multiple_answers_split_into_lists():
    assert kobo.split_multiple("ap_mine  uxo") == ["ap_mine", "uxo"]
    assert kobo.split_multiple(["ap_mine uxo", "av_mine"]) == [
        "ap_mine",
        "uxo",
        "av_mine",
    ]
    assert kobo.split_multiple(None) == []


# --- mapping a submission -----------------------------------------------------------------


def test_map_report_reads_groups_select_multiple_repeats_and_geopoint():
    fields = kobo.map_report(
        {
            "_uuid": "abc-123",
            "today": "2024-05-17",
            "report/description": "metal object near the stream",
            "report/contamination": "ap_mine unexploded",
            "devices": [
                {"devices/device_type": "AT"},
                {"devices/device_type": "ap_mine"},
            ],
            "report/hazard_location": "49.1032 36.2051 152 4.5",
            "informant/informant_name": "Name",
            "informant/informant_phone": "+380",
            "informant/consent_to_contact": "yes",
        },
        codes=CODES,
    )
    assert fields.external_id == "abc-123"
    assert fields.reported_on.isoformat() == "2024-05-17"
    assert fields.contamination == ["ap_mine", "uxo", "av_mine"]
    assert fields.geometry == {"type": "Point", "coordinates": [36.2051, 49.1032]}
    assert fields.gps_accuracy_m == 4.5
    assert fields.contacts == [
        {"name": "Name", "phone": "+380", "consent_to_contact": True}
    ]
    assert fields.pointers["geometry"] == "/report~1hazard_location"


def test_map_report_unknown_code_names_field_and_value():
    with pytest.raises(kobo.MappingProblem) as info:
        kobo.map_report(
            {
                "devices": [
                    {"devices/device_type": "ap_mine"},
                    {"devices/device_type": "tank_trap"},
                ]
            },
            codes=CODES,
        )
    assert "contamination" in info.value.message and "'tank_trap'" in info.value.message
    assert info.value.pointer == "/devices"


def test_map_report_bad_geoshape_points_at_the_field():
    with pytest.raises(kobo.MappingProblem) as info:
        kobo.map_report({"g/hazard_area": "49.1 36.2;49.1 oops;49.2 36.2"}, codes=CODES)
    assert info.value.field == "geometry"
    assert info.value.pointer == "/g~1hazard_area"
    assert "point 2 of 3" in info.value.message


def test_map_report_prefers_the_root_uuid_and_drops_the_uuid_prefix():
    fields = kobo.map_report(
        {
            "_uuid": "new-version",
            "meta/instanceID": "uuid:new-version",
            "meta/rootUuid": "uuid:first-version",
            "_submission_time": "2024-05-17T23:05:07",
        },
        codes=CODES,
    )
    assert fields.external_id == "first-version"
    assert fields.reported_on.isoformat() == "2024-05-17"

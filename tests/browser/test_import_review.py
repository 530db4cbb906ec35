"""A coordinator's dry run shows everything the gate decided before the commit, in a browser.

The file holds a self-intersecting ("bowtie") hazard, a good hazard and a square with latitude
and longitude swapped (it lands far outside the programme). The table names each row by its
reference, the summary is not green, the map draws the repaired bowtie over the submitted one
and the swapped square where it would lie once corrected, and the view stays on the
programme. With "Refuse repairs" ticked the bowtie is a rejection. Screenshots
(``import-*.png``) in English and Ukrainian.
"""

import pytest

from tests.browser.pages import ARTIFACTS, demo_site, geojson_file, preview_import

# slow: Chromium against a live server (make test-fast leaves it out)
pytestmark = pytest.mark.slow

BOWTIE = [
    [31.33, 49.33],
    [31.34, 49.336],
    [31.34, 49.33],
    [31.33, 49.336],
    [31.33, 49.33],
]
GOOD = [
    [31.35, 49.35],
    [31.36, 49.35],
    [31.36, 49.356],
    [31.35, 49.356],
    [31.35, 49.35],
]
SQUARE = [
    [31.37, 49.37],
    [31.38, 49.37],
    [31.38, 49.376],
    [31.37, 49.376],
    [31.37, 49.37],
]
SWAPPED = [[lat, lon] for lon, lat in SQUARE]  # lon 49.37, lat 31.37: far outside


@pytest.fixture(scope="module")
def site():
    with demo_site("import_review", SAFEGROUND_IMPORT_RUNNER="inline") as s:
        s["programme"] = s["api"].get(s["base"] + "/map-config.json").json()["bounds"]
        assert s["programme"], "the demo has admin areas: the programme has an extent"
        yield s


@pytest.fixture
def survey(tmp_path):
    def feature(ring, reference, name):
        return {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {
                "external_id": reference,
                "name": name,
                "classification": "SHA",
                "hazard_type": "minefield",
                "contamination": ["ap_mine"],
                "organisation": "DEMO-INGO",
                "date_of_information": "2025-10-02",
            },
        }

    path = tmp_path / "review.geojson"
    geojson_file(
        path,
        [
            feature(BOWTIE, "BR-BOWTIE", "Bowtie field"),
            feature(GOOD, "BR-GOOD", "Good field"),
            feature(SWAPPED, "BR-SWAPPED", "Swapped field"),
        ],
    )
    return path


def dry_run(page, site, path, *, refuse_repairs=False):
    preview_import(page, site["base"], path, refuse_repairs=refuse_repairs)
    page.locator("#import-errors").wait_for(timeout=30_000)
    page.wait_for_timeout(500)  # the map has moved


def line(page, reference):
    """The table rows naming ``reference``."""
    return page.locator("#import-errors tbody tr", has_text=reference)


def to_ukrainian(page):
    page.select_option("#language", "uk")
    page.wait_for_function("() => document.documentElement.lang === 'uk'")
    page.wait_for_function(
        "() => document.querySelector('#import-errors thead').textContent.includes('Правило')"
    )


def view_on_programme(page, programme):
    """The map's centre lies in the programme's extent, and the view is not wider than a
    country (no zoom out to show a far-away square)."""
    (south, west), (north, east) = programme
    view = page.evaluate(
        """() => { const m = window.safeground.map, c = m.getCenter(), b = m.getBounds();
                   return [c.lat, c.lng, b.getWest(), b.getEast()]; }"""
    )
    lat, lon, view_west, view_east = view
    assert south <= lat <= north and west <= lon <= east, (view, programme)
    assert view_east - view_west < 2 * (east - west) + 1, (view, programme)


def test_a_dry_run_shows_the_repair_and_the_swapped_square(site, page, survey):
    dry_run(page, site, survey)
    summary = page.locator("#import-summary")
    assert (
        summary.get_attribute("data-state") == "rejected"
    )  # the swapped row is refused
    assert "refused" in summary.inner_text()
    colour = summary.evaluate("n => getComputedStyle(n).borderLeftColor")
    assert colour == "rgb(163, 0, 0)", colour  # --danger, not green

    bowtie = line(page, "BR-BOWTIE")
    assert bowtie.count() == 1
    assert bowtie.get_attribute("data-rule") == "repaired"
    text = bowtie.inner_text()
    assert "Repaired" in text and "made valid as 2 polygon(s)" in text
    assert "Bowtie field" in text
    swapped = line(page, "BR-SWAPPED")
    assert swapped.get_attribute("data-severity") == "error"
    assert "latitude and longitude swapped back" in swapped.inner_text()
    assert line(page, "BR-GOOD").count() == 0  # nothing to say about the good row

    # the repaired shape over the submitted one: one path each, the repaired one drawn later
    submitted = page.locator("#map path.sg-import-submitted")
    repaired = page.locator("#map path.sg-import-repaired")
    assert submitted.count() == 1 and repaired.count() == 1
    order = page.evaluate(
        """() => { const s = document.querySelector('#map path.sg-import-submitted'),
                         r = document.querySelector('#map path.sg-import-repaired');
                   return s.compareDocumentPosition(r) & Node.DOCUMENT_POSITION_FOLLOWING; }"""
    )
    assert order, "the repaired shape is drawn over the submitted one"
    assert page.locator("#import-legend li[data-kind=repaired]").count() == 1
    assert page.locator("#import-legend li[data-kind=submitted]").count() == 1

    # the swapped square at its corrected position, inside the programme, with its note
    corrected = page.locator("#map path.sg-import-corrected")
    assert corrected.count() == 1
    (south, west), (north, east) = site["programme"]
    assert west <= 31.37 <= east and south <= 49.37 <= north
    box = corrected.bounding_box()
    frame = page.locator("#map").bounding_box()
    assert box and frame["x"] <= box["x"] <= frame["x"] + frame["width"]
    assert frame["y"] <= box["y"] <= frame["y"] + frame["height"]
    note = page.locator(".leaflet-tooltip.import-note")
    assert note.count() == 1 and "Row 3" in note.inner_text()
    view_on_programme(page, site["programme"])
    page.screenshot(path=str(ARTIFACTS / "import-review-en.png"))

    # a click on a table row zooms to that row
    bowtie.locator("button").click()
    page.wait_for_timeout(500)
    centre = page.evaluate(
        "() => { const c = window.safeground.map.getCenter(); return [c.lng, c.lat]; }"
    )
    assert abs(centre[0] - 31.335) < 0.01 and abs(centre[1] - 49.333) < 0.01, centre
    page.screenshot(path=str(ARTIFACTS / "import-review-row-en.png"))

    to_ukrainian(page)
    assert "Виправлено" in line(page, "BR-BOWTIE").inner_text()
    assert "відхилено" in page.locator("#import-summary").inner_text().lower()
    assert "Рядок 3" in page.locator(".leaflet-tooltip.import-note").inner_text()
    # the server's messages asked again in Ukrainian: in the table and on the map
    assert "самоперетин" in line(page, "BR-BOWTIE").inner_text()
    tips = page.locator(".leaflet-tooltip.import-tip").all_inner_texts()
    assert any("Рядок 1 виправлено" in x and "самоперетин" in x for x in tips), tips
    assert page.locator("#import-legend").inner_text().startswith("Перевірка імпорту")
    page.screenshot(path=str(ARTIFACTS / "import-review-uk.png"))


def test_refuse_repairs_makes_the_bowtie_a_rejection(site, page, survey):
    dry_run(page, site, survey, refuse_repairs=True)
    bowtie = line(page, "BR-BOWTIE")
    assert bowtie.get_attribute("data-severity") == "error"
    assert bowtie.get_attribute("data-rule") == "repair_refused"
    assert "refused instead of repaired" in bowtie.inner_text()
    assert page.locator("#map path.sg-import-repaired").count() == 0
    assert (
        page.locator("#map path.sg-import-rejected").count() == 1
    )  # the bowtie as given
    assert page.locator("#import-summary").get_attribute("data-state") == "rejected"
    view_on_programme(page, site["programme"])
    to_ukrainian(page)
    assert "Виправлення відхилено" in line(page, "BR-BOWTIE").inner_text()
    page.screenshot(path=str(ARTIFACTS / "import-refuse-repairs-uk.png"))


def test_a_clean_file_is_green_in_words_and_colour(site, page, tmp_path):
    path = tmp_path / "clean.geojson"
    geojson_file(
        path,
        [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [GOOD]},
                "properties": {
                    "external_id": "BR-CLEAN",
                    "name": "Clean field",
                    "classification": "SHA",
                    "hazard_type": "minefield",
                    "contamination": ["ap_mine"],
                    "organisation": "DEMO-INGO",
                    "date_of_information": "2025-10-02",
                },
            }
        ],
    )
    preview_import(page, site["base"], path)
    summary = page.locator("#import-summary")
    summary.wait_for(timeout=30_000)
    assert summary.get_attribute("data-state") == "clean"
    assert "No problems found" in summary.inner_text()
    colour = summary.evaluate("n => getComputedStyle(n).borderLeftColor")
    assert colour == "rgb(47, 107, 0)", colour  # --ok
    page.screenshot(path=str(ARTIFACTS / "import-clean-en.png"))

"""Risk-education staff at work in the workspace (issue 18, items 1 and 6), in Ukrainian: the
planning list as a table and on the map, its spreadsheet, recording a session at a point with
the people reached, the session among the organisation's past ones, and the community risk
sheet of the settlement. Screenshots ``eore-*.png`` in test-artifacts/browser/."""

import csv
import io
from pathlib import Path

import pytest

from tests.browser.pages import ARTIFACTS, demo_site, login, tiles_drawn

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site():
    with demo_site("eore") as s:
        pub = s["api"].post("/public/publications", headers=s["token"]("demo-admin"))
        assert pub.status_code in (200, 201), pub.text
        yield s


def _uk(pg):
    pg.select_option("#language", "uk")
    pg.wait_for_function("() => document.documentElement.lang === 'uk'")


def test_eore_user_plans_records_a_session_and_prints_a_sheet_in_ukrainian(site, page):
    login(page, site["base"], user="demo-eore")
    # the eore role's home is the risk-education pane
    assert page.locator("#tab-eore").get_attribute("aria-selected") == "true"
    assert page.locator("#pane-eore").is_visible()
    _uk(page)
    assert "освіта з ризиків" in page.locator("#pane-eore h2").inner_text().lower()
    rows = page.locator("#eore-planning tbody tr")
    rows.first.wait_for()
    planned = (
        site["api"]
        .get(
            "/eore-sessions/planning",
            params={"limit": 100},
            headers=site["token"]("demo-eore"),
        )
        .json()["items"]
    )
    assert rows.count() == len(planned) > 0
    first = planned[0]
    assert first["name"] in rows.first.inner_text()
    # the same settlements on the map
    tiles_drawn(page)
    assert page.locator("#map path.sg-eore-settlement").count() == len(planned)
    page.screenshot(path=str(ARTIFACTS / "eore-planning-uk.png"))

    # the spreadsheet, downloaded with the sign-in
    with page.expect_download() as dl:
        page.click("#eore-csv")
    text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert "name" in table[0] and "population" in table[0]
    assert len(table) - 1 >= len(planned)

    # record a session for the first settlement, at its point, with the people reached
    rows.first.locator("button[data-record]").click()
    dialog = page.locator("#eore-dialog")
    dialog.wait_for(state="visible")
    assert first["name"] in dialog.inner_text()
    page.select_option("#eore-f-audience", "children")
    page.fill("#eore-b-female-age_5_12-without_disability", "14")
    page.fill("#eore-b-male-age_5_12-without_disability", "11")
    page.fill("#eore-b-male-age_18_plus-with_disability", "2")
    page.screenshot(path=str(ARTIFACTS / "eore-record-uk.png"))
    # a date in the future: the API's problem message shows beside the date field
    today = page.input_value("#eore-f-date")
    page.fill("#eore-f-date", "2099-01-01")
    dialog.locator("button[type=submit]").click()
    beside = dialog.locator(".field-error[data-field=session_date]")
    beside.wait_for()
    assert beside.inner_text().strip()
    page.fill("#eore-f-date", today)
    dialog.locator("button[type=submit]").click()
    dialog.wait_for(state="hidden")
    page.wait_for_function(
        "() => document.querySelector('#eore-status').textContent.length > 0"
    )
    # it is among the organisation's past sessions, and the settlement is no longer due
    sessions = page.locator("#eore-sessions li")
    page.wait_for_function(
        "() => document.querySelector('#eore-sessions').textContent.includes('27')"
    )
    assert "27" in sessions.first.inner_text()
    stored = (
        site["api"]
        .get(
            "/eore-sessions",
            params={"settlement_id": first["id"]},
            headers=site["token"]("demo-eore"),
        )
        .json()["features"]
    )
    assert len(stored) == 1
    p = stored[0]["properties"]
    assert p["audience"] == "children"
    assert sorted(c["count"] for c in p["beneficiaries"]) == [2, 11, 14]
    assert stored[0]["geometry"]["coordinates"] == pytest.approx(
        [first["lon"], first["lat"]], abs=1e-6
    )
    page.wait_for_function(
        "(name) => !document.querySelector('#eore-planning').textContent.includes(name)",
        arg=first["name"],
    )
    page.screenshot(path=str(ARTIFACTS / "eore-recorded-uk.png"))

    # the community risk sheet of the next settlement, in Ukrainian
    second = planned[1]
    with page.context.expect_page() as popup:
        page.locator(
            f"#eore-planning tr[data-id='{second['id']}'] button[data-sheet=uk]"
        ).click()
    sheet = popup.value
    sheet.wait_for_load_state()
    body = sheet.content()
    assert second["name"] in body
    assert '<html lang="uk">' in body
    assert "Гаряча лінія" in body
    sheet.screenshot(path=str(ARTIFACTS / "eore-sheet-uk.png"), full_page=True)
    sheet.close()


def test_coordinators_have_the_pane_and_import_context_layers(site, page):
    login(page, site["base"], user="demo-coordinator")
    assert page.locator("#tab-eore").is_visible()
    assert page.locator("#tab-priorities").get_attribute("aria-selected") == "true"
    page.click("#tab-import")
    values = page.eval_on_selector_all(
        "#import-kind option",
        "(os) => os.filter((o) => !o.parentElement.hidden).map((o) => o.value)",
    )
    assert {
        "context:settlements",
        "context:roads",
        "context:facilities",
        "context:land_use",
    } <= set(values)

"""The demo shows what the product is for: a ranking with a top, a bottom and reasons.

The fictional programme comes with context layers (settlements, roads, facilities, land
use, one security zone) and a few recent accidents, so the first ranking a new user sees
is not flat (issue 17, item 9). Loaded once into a throwaway database of its own, as in
``tests/test_demo.py``.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from api.db import migrate
from api.errors import Conflict
from api.services import demo, eore, priorities
from api.services.auth import Principal
from api.settings import Settings
from api.vocab import Role
from tests.helpers import throwaway_database

WEB_STATIC = Path(__file__).resolve().parents[1] / "web" / "static"
WEB = WEB_STATIC.parent
ADMIN = Principal(
    role=Role.admin,
    organisation_id=None,
    organisation_code=None,
    restricted=True,
    name="test reader",
)
# what an explanation says when context, not only the hazard's own record, ranks it
CONTEXT_REASON = re.compile(
    r"people within 1 km|schools?|health|water points?|roads?|accidents?", re.I
)


@dataclass
class Loaded:
    engine: Engine
    settings: Settings


@pytest.fixture(scope="module")
def loaded() -> Iterator[Loaded]:
    with throwaway_database("sg_demo_rank") as url:
        migrate.upgrade(url)
        settings = Settings(database_url=url, env="test")
        engine = create_engine(settings.database_url)
        try:
            with Session(engine) as session:
                demo.load(session, settings=settings)
            yield Loaded(engine, settings)
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def ranking(loaded) -> dict:
    with Session(loaded.engine) as session:
        return priorities.ranked(session, principal=ADMIN, limit=None)


def scalar(loaded: Loaded, sql: str):
    with loaded.engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def test_the_top_of_the_ranking_differs_from_the_bottom(ranking):
    ranked = [i for i in ranking["items"] if i["rank"] is not None]
    assert len(ranked) >= 100
    top, bottom = ranked[:10], ranked[-10:]
    assert min(i["score"] for i in top) - max(i["score"] for i in bottom) >= 25
    assert {i["band"] for i in top} == {"high"}
    assert "high" not in {i["band"] for i in bottom}
    assert bottom[-1]["band"] == "low"
    assert {i["band"] for i in ranking["items"]} == {"high", "medium", "low"}


def test_the_top_hazard_is_explained_by_its_surroundings(ranking):
    first = ranking["items"][0]
    assert first["rank"] == 1
    assert CONTEXT_REASON.search(first["explanation"]), first["explanation"]
    exposure = first["breakdown"]["exposure"]["indicators"]
    assert exposure["population_1km"]["value"] > 0
    # reasons of the first ten: more than one kind of context shows up
    reasons = {
        m.lower()
        for i in ranking["items"][:10]
        for m in CONTEXT_REASON.findall(i["explanation"])
    }
    assert len(reasons) >= 2, reasons


def test_the_security_zone_gates_a_hazard_or_two(ranking):
    gated = [i for i in ranking["items"] if i["rank"] is None]
    assert 1 <= len(gated) <= 3
    for item in gated:
        assert item["gates"]["security_exclusion"] == "fail"
        assert item["explanation"].startswith("Not ranked for tasking")


def test_the_demo_has_context_and_recent_accidents(loaded):
    assert scalar(loaded, "SELECT count(*) FROM context_settlements") >= 40
    assert scalar(loaded, "SELECT min(population) FROM context_settlements") > 0
    for table in ("context_roads", "context_facilities", "context_land_use"):
        assert scalar(loaded, f"SELECT count(*) FROM {table}") > 0, table
    kinds = scalar(
        loaded, "SELECT array_agg(DISTINCT facility_type) FROM context_facilities"
    )
    assert {"school", "health", "water_point"} <= set(kinds)
    assert scalar(loaded, "SELECT count(*) FROM context_security_zones") == 1
    assert scalar(loaded, "SELECT count(*) FROM accidents WHERE is_demo") >= 5
    assert scalar(loaded, "SELECT count(*) FROM accidents WHERE NOT is_demo") == 0
    # each accident lies near a hazard of the demo, as a real one would
    assert (
        scalar(
            loaded,
            """
        SELECT count(*) FROM accidents a WHERE NOT EXISTS (
            SELECT 1 FROM hazards h
            WHERE ST_DWithin(h.geom::geography, a.geom::geography, 1000))""",
        )
        == 0
    )
    # fictional and numbered as such
    for table in (
        "context_settlements",
        "context_roads",
        "context_facilities",
        "context_land_use",
        "context_security_zones",
        "accidents",
    ):
        assert scalar(
            loaded, f"SELECT bool_and(external_id LIKE 'DEMO-%') FROM {table}"
        ), table
    assert scalar(
        loaded, "SELECT bool_and(name LIKE 'Demo %') FROM context_settlements"
    )


def test_eore_planning_lists_exposed_settlements(loaded):
    with Session(loaded.engine) as session:
        rows, matched, _ = eore.planning(
            session,
            principal=ADMIN,
            params=eore.PlanningParameters(),
            limit=10,
            offset=0,
        )
    assert matched >= 10
    assert rows[0]["population"] > 0
    assert all(r["name"].startswith("Demo ") and r["open_hazards"] > 0 for r in rows)


def test_demo_eore_has_past_sessions_and_a_planning_list(loaded):
    """The EORE workspace of demo-eore shows its organisation's past sessions and a
    planning list in which the communities reached last year show their last session."""
    with Session(loaded.engine) as session:
        eore_user = Principal(
            role=Role.eore,
            organisation_id=session.execute(
                text("SELECT id FROM organisations WHERE code = 'DEMO-INGO'")
            ).scalar_one(),
            organisation_code="DEMO-INGO",
            restricted=False,
            name="demo-eore",
        )
        rows, matched, _ = eore.planning(
            session,
            principal=eore_user,
            params=eore.PlanningParameters(),
            limit=500,
            offset=0,
        )
    assert matched == len(rows) > 50
    reached = [r for r in rows if r["last_session_on"] is not None]
    assert len(reached) == 6
    assert {r["last_session_on"].year for r in reached} == {2025}
    assert rows[0]["last_session_on"] is None and rows[1]["last_session_on"] is None
    assert (
        scalar(
            loaded,
            "SELECT count(*) FROM eore_sessions s JOIN organisations o "
            "ON o.id = s.organisation_id WHERE o.code = 'DEMO-INGO' "
            "AND s.external_id LIKE 'DEMO-RE-%' AND s.settlement_id IS NOT NULL",
        )
        == 6
    )
    assert (
        scalar(
            loaded,
            "SELECT count(*) FROM eore_sessions WHERE NOT location_safe_to_record",
        )
        == 1
    )
    assert scalar(loaded, "SELECT sum(count) FROM eore_session_beneficiaries") > 100
    assert scalar(loaded, "SELECT count(*) FROM eore_session_hazards") >= 6


def test_security_zones_and_personal_data_stay_out_of_public_outputs(loaded):
    assert scalar(loaded, "SELECT count(*) FROM victim_personal_data") == 0
    with loaded.engine.connect() as conn:
        zone = conn.execute(
            text("SELECT external_id, name, reason FROM context_security_zones")
        ).one()
    with loaded.engine.connect() as conn:
        published = {
            table: json.dumps(
                [list(r) for r in conn.execute(text(sql)).all()], default=str
            )
            for table, sql in (
                ("public_hazards", "SELECT * FROM public_hazards"),
                ("public_counts", "SELECT * FROM public_counts"),
                ("public_publications", "SELECT * FROM public_publications"),
            )
        }
    assert published["public_hazards"] != "[]"
    for table, content in published.items():
        assert "security" not in content.lower(), table
        for value in zone:
            assert value not in content, (table, value)
    counts = scalar(
        loaded,
        "SELECT coalesce(min(count), 5) FROM public_counts WHERE kind = 'accidents'",
    )
    assert counts >= 5


def test_the_ranking_names_its_model_and_version_never_a_file(ranking):
    model = ranking["model"]
    assert model["version"] == 1
    assert "docs/" not in model["name"] and ".md" not in model["name"]
    for language in ("en", "uk"):
        caption = json.loads((WEB_STATIC / "i18n" / f"{language}.json").read_text())[
            "priorities.caption"
        ]
        assert "{model}" in caption and "{version}" in caption, language


def _without_comments(source: str) -> str:
    """JavaScript or HTML without its comments (which no user sees)."""
    source = re.sub(r"/\*.*?\*/|<!--.*?-->", "", source, flags=re.S)
    return re.sub(r"^\s*//.*$", "", source, flags=re.M)


def test_no_user_facing_text_names_a_repository_file():
    files = [
        *WEB_STATIC.glob("i18n/*.json"),
        *WEB_STATIC.glob("js/*.js"),
        *WEB.glob("*.html"),
    ]
    assert len(files) >= 5
    for path in files:
        content = _without_comments(path.read_text())
        if path.suffix == ".json":
            content = "\n".join(json.loads(content).values())
        for needle in ("docs/", ".md"):
            assert needle not in content, (path.name, needle)
    assert "version: data.model" in (WEB_STATIC / "js" / "app.js").read_text()


def test_an_explanation_names_what_was_counted():
    from api.domain import priority_model as pm

    values = dict.fromkeys(pm.INDICATORS, 0) | {
        "threat_class": 1.0,
        "evidence_class": 0.5,
        "population_1km": 4780,
        "facilities_500m": 1,
        "roads_50m": 2,
        "accidents_1km_24m": 3,
        "area_m2": 10_000,
    }
    model = pm.validate(pm.DEFAULT_MODEL)
    score, parts = pm.breakdown(values, model)
    sentence = pm.explain(1, score, parts, {})
    assert sentence.startswith(
        f"Ranked 1 with {score:.1f} of 100, mostly for threat to"
    )
    assert "3 accidents within 1 km in the last 24 months" in sentence
    assert "4,780 people within 1 km" in sentence
    assert "1 school, health post or water point within 500 m" in sentence
    assert "2 roads or tracks within 50 m" in sentence
    assert "land use" not in sentence  # nothing blocked: not said


def test_real_context_layers_are_never_mixed_with_the_demo():
    """A database holding real context (a settlement, an accident) gets no demo added."""
    with throwaway_database("sg_demo_ctx") as url:
        migrate.upgrade(url)
        settings = Settings(database_url=url, env="test")
        engine = create_engine(settings.database_url)
        try:
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO context_settlements (external_id, name, population, "
                        "geom) VALUES ('OSM-1', 'A real village', 800, "
                        "ST_SetSRID(ST_MakePoint(31, 49), 4326))"
                    )
                )
            with Session(engine) as session:
                with pytest.raises(Conflict, match=r"real data \(1 settlements\)"):
                    demo.load(session, settings=settings)
                report = demo.load(session, if_empty=True, settings=settings)
            assert report.startswith("Nothing loaded")
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM hazards")).scalar() == 0
        finally:
            engine.dispose()


@pytest.mark.slow
def test_migration_renames_the_default_model_of_existing_databases():
    """A database whose version 1 was made under the old name shows "Default" after 0018."""
    with throwaway_database("sg_model_name") as url:
        migrate.upgrade(url, "0017")
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO priority_models (version, name, document, is_active, "
                        "author) VALUES (1, :n, '{}', true, 'system'), "
                        "(2, :n, '{}', false, 'an admin')"
                    ),
                    {"n": "default (docs/domain.md §4.7)"},
                )
            migrate.upgrade(url)
            names = "SELECT version, name FROM priority_models ORDER BY version"
            with engine.connect() as conn:
                assert conn.execute(text(names)).all() == [
                    (1, priorities.DEFAULT_MODEL_NAME),
                    (2, "default (docs/domain.md §4.7)"),  # an admin's name stays
                ]
            migrate.downgrade(url, "0017")
            with engine.connect() as conn:
                assert conn.execute(text(names)).scalars().all() == [1, 2]
                assert {n for _, n in conn.execute(text(names))} == {
                    "default (docs/domain.md §4.7)"
                }
        finally:
            engine.dispose()

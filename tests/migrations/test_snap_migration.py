"""Migration 0021: geometries stored before the intake snapped them are put on the served grid.

Rows are written at revision 0020 through the services (0021 changes no table), then given
positions off the 1e-9° grid as a row stored before 0020 had, then the database is upgraded.
"""

import pytest
from shapely import wkb
from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from api.db import migrate
from api.settings import Settings
from tests.factories import make_activity, make_actors, make_hazard, release
from tests.helpers import throwaway_database

pytestmark = pytest.mark.slow  # a migration on a throwaway database

E = 3e-10  # under half the grid
# valid as stored; rounded to 9 decimals its hole's left side lies on the shell's
HOLE_NEAR_SHELL = MultiPolygon(
    [
        Polygon(
            [(31.0, 50.0), (31.001, 50.0), (31.001, 50.001), (31.0, 50.001)],
            [
                [
                    (31.0 + E, 50.0002),
                    (31.0005, 50.0002),
                    (31.0005, 50.0008),
                    (31.0 + E, 50.0008),
                ]
            ],
        )
    ]
)
SHIFT = 3.3e-10  # moves every position off the grid; rounding moves it back


def _set_geometry(s: Session, table: str, column: str, hid, geom) -> None:
    s.execute(
        text(f"UPDATE {table} SET geom = ST_GeomFromWKB(:g, 4326) WHERE {column} = :h"),
        {"g": geom.wkb, "h": hid},
    )


def test_stored_geometries_are_put_on_the_served_grid_and_repairs_audited():
    with throwaway_database("sg_snap") as url:
        migrate.upgrade(url, "0020")
        settings = Settings(database_url=url, env="test", secret_key="s" * 32)
        engine = create_engine(settings.database_url)
        try:
            with Session(engine) as s:
                actors = make_actors(s, settings)
                admin = actors.admin.principal
                plain = make_hazard(
                    s, settings, admin, box(30.0, 50.0, 30.01, 50.01), actors.org_a
                )
                make_activity(
                    s,
                    settings,
                    admin,
                    actors.org_a,
                    [plain],
                    [release(box(30.0, 50.0, 30.005, 50.01), "cleared")],
                )
                holed = make_hazard(
                    s, settings, admin, box(31.0, 50.0, 31.001, 50.001), actors.org_a
                )
                legacy = make_hazard(
                    s, settings, admin, box(32.0, 50.0, 32.001, 50.001), actors.org_a
                )
                s.commit()
                # a row stored before a later rule (0015 added it NOT VALID): no update of
                # it passes, so it is kept unchanged, and said so
                rule = s.execute(
                    text(
                        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conname = 'ck_hazards_beneficiaries'"
                    )
                ).scalar_one()
                s.execute(
                    text("ALTER TABLE hazards DROP CONSTRAINT ck_hazards_beneficiaries")
                )
                s.execute(
                    text(
                        "UPDATE hazards SET beneficiaries = '99999999999999999999'::jsonb, "
                        "geom = ST_Translate(geom, :d, :d) WHERE id = :h"
                    ),
                    {"d": SHIFT, "h": legacy},
                )
                s.execute(
                    text(
                        "ALTER TABLE hazards ADD CONSTRAINT ck_hazards_beneficiaries "
                        + rule.replace(" NOT VALID", "")
                        + " NOT VALID"
                    )
                )
                s.commit()
                legacy_before = s.execute(
                    text("SELECT ST_AsText(geom) FROM hazards WHERE id = :h"),
                    {"h": legacy},
                ).scalar_one()
                # as stored before the intake rounded: off the grid
                for table, column in (
                    ("hazards", "id"),
                    ("hazard_states", "hazard_id"),
                ):
                    s.execute(
                        text(
                            f"UPDATE {table} SET geom = ST_Translate(geom, :d, :d) "
                            f"WHERE {column} = :h"
                        ),
                        {"d": SHIFT, "h": plain},
                    )
                    _set_geometry(s, table, column, holed, HOLE_NEAR_SHELL)
                s.execute(
                    text(
                        "UPDATE release_polygons SET geom = ST_Translate(geom, :d, :d) "
                        "WHERE hazard_id = :h"
                    ),
                    {"d": SHIFT, "h": plain},
                )
                s.commit()
                served_before = s.execute(
                    text("SELECT ST_AsGeoJSON(geom, 9) FROM hazards WHERE id = :h"),
                    {"h": plain},
                ).scalar_one()
                assert (
                    s.execute(
                        text(
                            "SELECT ST_IsValid(ST_GeomFromGeoJSON(ST_AsGeoJSON(geom, 9))) "
                            "FROM hazards WHERE id = :h"
                        ),
                        {"h": holed},
                    ).scalar_one()
                    is False
                )  # what was served was invalid

            migrate.upgrade(url)

            with Session(engine) as s:
                # the legacy row: unchanged, and the audit says why
                assert (
                    s.execute(
                        text("SELECT ST_AsText(geom) FROM hazards WHERE id = :h"),
                        {"h": legacy},
                    ).scalar_one()
                    == legacy_before
                )
                kept = s.execute(
                    text(
                        "SELECT after FROM audit_log WHERE actor = 'migration 0021' "
                        "AND entity = 'hazard' AND entity_id = :h"
                    ),
                    {"h": str(legacy)},
                ).scalar_one()
                assert (
                    kept["kept"] is True
                    and "ck_hazards_beneficiaries" in kept["message"]
                )
                for table in ("hazards", "hazard_states", "release_polygons"):
                    off, invalid = s.execute(
                        text(
                            "SELECT count(*) FILTER (WHERE NOT ST_OrderingEquals(geom, "
                            "ST_SetSRID(ST_GeomFromGeoJSON(ST_AsGeoJSON(geom, 9)), 4326))), "
                            f"count(*) FILTER (WHERE NOT ST_IsValid(geom)) FROM {table} "
                            + ("WHERE id <> :legacy" if table == "hazards" else "")
                        ),
                        {"legacy": legacy},
                    ).one()
                    assert (off, invalid) == (0, 0), table
                # stored = served, and what was served before did not move
                assert (
                    s.execute(
                        text("SELECT ST_AsGeoJSON(geom, 9) FROM hazards WHERE id = :h"),
                        {"h": plain},
                    ).scalar_one()
                    == served_before
                )
                audit = s.execute(
                    text(
                        "SELECT entity, entity_id, before, after FROM audit_log "
                        "WHERE actor = 'migration 0021' AND entity_id NOT LIKE :legacy "
                        "ORDER BY entity"
                    ),
                    {"legacy": f"{legacy}%"},
                ).all()
                # the repaired rows only (the hazard and its state), with what was stored
                assert [(a.entity, a.entity_id.split("@")[0]) for a in audit] == [
                    ("hazard", str(holed)),
                    ("hazard_state", str(holed)),
                ]
                for a in audit:
                    assert a.before["geometry"]["coordinates"][0][1][0][
                        0
                    ] == pytest.approx(31.0 + E, abs=1e-14)
                    assert "made valid" in a.after["message"]
                stored = wkb.loads(
                    s.execute(
                        text("SELECT ST_AsBinary(geom) FROM hazards WHERE id = :h"),
                        {"h": holed},
                    ).scalar_one()
                )
                assert stored.is_valid and stored.area > 0
                # figures measured again, still balanced
                for hid in (plain, holed):
                    area, baseline, released, remaining, measured = s.execute(
                        text(
                            "SELECT h.area_m2, lr.baseline_area_m2, lr.released_area_m2, "
                            "lr.remaining_area_m2, sg_area_m2(h.geom) FROM hazards h "
                            "JOIN hazard_land_release lr ON lr.hazard_id = h.id WHERE h.id = :h"
                        ),
                        {"h": hid},
                    ).one()
                    assert area == measured == baseline
                    assert released + remaining == pytest.approx(baseline, abs=1e-6)
        finally:
            engine.dispose()

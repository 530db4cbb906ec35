"""Files without external ids: a row is matched to the stored hazard of equal geometry, and the
look-up stays in the spatial index while a large import is still running."""

from sqlalchemy import create_engine, text

from api.db import migrate
from api.services.imports.write import SAME_GEOMETRY_SQL
from tests.helpers import run_import as run
from tests.helpers import throwaway_database
from tests.ingest import files as F


def _without_id(i: int, org: str, **extra) -> dict:
    props = F.hazard_props(i, org, **extra)
    del props["external_id"]
    return props


def test_rows_without_ids_match_the_stored_hazard_of_equal_geometry(client, actors):
    squares = [F.square(9150 + i) for i in range(3)]
    feats = [F.feature(g, _without_id(i, actors.org_a)) for i, g in enumerate(squares)]
    first = run(client, actors.coordinator_a, "h.geojson", F.geojson_bytes(feats))
    assert first["counts"]["created"] == 3, first
    again = run(client, actors.coordinator_a, "h.geojson", F.geojson_bytes(feats))
    assert again["counts"]["unchanged"] == 3 and again["counts"]["created"] == 0, again
    # a newer statement about the second square updates that hazard, not a new one
    feats[1] = F.feature(
        squares[1], _without_id(1, actors.org_a, date_of_information="2024-06-01")
    )
    third = run(client, actors.coordinator_a, "h.geojson", F.geojson_bytes(feats))
    assert third["counts"]["updated"] == 1, third
    assert third["counts"]["unchanged"] == 2 and third["counts"]["created"] == 0


def test_the_equal_geometry_look_up_uses_the_spatial_index_without_statistics():
    """The plan while an import runs: thousands of hazards written in the same transaction,
    no statistics for them yet. Each row must be looked up in the GiST index; a plan that
    compares every row with every stored hazard made a 20,000-row file take 64 s."""
    with throwaway_database("sg_noids") as url:
        migrate.upgrade(url)
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                org = conn.scalar(
                    text(
                        "INSERT INTO organisations (code, name, type) "
                        "VALUES ('NOID', 'No ids', 'ngo_national') RETURNING id"
                    )
                )
                conn.execute(
                    text(
                        """
                        INSERT INTO hazards (id, name, classification, hazard_type,
                            status_set, contamination, organisation_id,
                            date_of_information, geom, version)
                        SELECT gen_random_uuid(), 'h' || i, 'SHA', 'minefield', 'open',
                               '{ap_mine}', :org, DATE '2024-05-17',
                               ST_Multi(ST_MakeEnvelope(30 + (i % 100) * 0.01,
                                   48 + (i / 100) * 0.01, 30.005 + (i % 100) * 0.01,
                                   48.005 + (i / 100) * 0.01, 4326)), 1
                        FROM generate_series(0, 3999) AS i
                        """
                    ),
                    {"org": org},
                )
                plan = "\n".join(
                    conn.execute(
                        text("EXPLAIN " + SAME_GEOMETRY_SQL),
                        {
                            "ns": list(range(2000)),
                            "orgs": [str(org)] * 2000,
                            "wkbs": [F.square(i).wkb for i in range(2000)],
                        },
                    ).scalars()
                )
        finally:
            engine.dispose()
    assert "idx_hazards_geom" in plan, plan

"""Land-release history kept current by the database: the burn-down reads it, set-based.

The figures of a hazard as known on a date D (``summary.summarise(as_of=D)``) depend only on
the state of the hazard valid on D (``hazard_states``) and on its releases dated on or before D
(``release_polygons``, not retired). They can change only on a date where a state starts or
ends or a release is dated. Between two such dates of one hazard they are constant, so the
history of a hazard is a short list of **segments** ``[valid_from, valid_to)`` (its
breakpoints: a hazard with a state and two releases has about three), each with the figures and
the group keys of the summary as known on any day of it:

* ``land_release_segments``: one row per hazard and segment in which the hazard was known and
  not retired: organisation, contamination types (from the state), admin1 and admin2 (the areas
  holding a point on its surface), every P-code it touches (the ``admin`` filter), and the
  baseline, cancelled, reduced, cleared, released and remaining m²;
* ``land_release_segment_methods``: per segment and release method (the ``method`` grouping:
  the activity's method, ``combined`` for several, ``not_recorded`` for none), the cancelled,
  reduced and cleared m² of the pieces of releases of that method (with the segment's end,
  organisation and P-codes, so that the burn-down by method reads this table alone).

Areas are stored as ``numeric`` (the ``double precision`` figures, 15 significant digits): the
burn-down adds a segment's figures in the month it starts and takes them off in the month it
ends, and in ``numeric`` the two cancel exactly (and it sums faster than it converts).

The figures are computed with the same land-release accounting as ``land_release.PIECES_SQL``
(each square metre counted once, cleared > reduced > cancelled, then by date and id; areas with
``sg_area_m2``), once per segment instead of once per requested date. A migration never imports
the application, so this is a copy; ``tests/services/test_land_release_history.py`` compares
every month of the burn-down with the summary ``as_of`` (which runs ``PIECES_SQL``), so the two
cannot drift apart unnoticed: a change of the accounting needs a migration that replaces
``sg_land_release_refresh``, and one that changes ``sg_area_m2`` (or anything else the figures
are computed with) must end with ``SELECT sg_land_release_refresh(NULL)``, which recomputes
every hazard's history.

**Kept current by triggers**, so that no write path can forget (services, imports, bulk COPY,
hand-written SQL): statement-level triggers on ``hazard_states``, ``release_polygons``,
``activities`` (``methods``) and ``admin_areas`` note the hazards they touch in
``land_release_pending`` (per transaction), and a deferred constraint trigger recomputes those
hazards' segments once, when the transaction commits. A transaction that reads the burn-down
after its own writes first calls ``sg_land_release_flush()``, which does the same at once (it
does nothing when the transaction has written nothing). Concurrent transactions recomputing the
same hazard take its ``hazards`` row lock in turn.

Upgrade fills the tables for every hazard; downgrade drops them, the triggers and functions.

Revision ID: 0019_land_release_history
Revises: 0018
Create Date: 2026-12-04 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019_land_release_history"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = """
CREATE TABLE land_release_segments (
    hazard_id uuid NOT NULL
        CONSTRAINT fk_land_release_segments_hazard_id_hazards
        REFERENCES hazards (id) ON DELETE CASCADE,
    valid_from date NOT NULL,
    valid_to date,
    organisation_id uuid NOT NULL
        CONSTRAINT fk_land_release_segments_organisation_id_organisations
        REFERENCES organisations (id),
    contamination text[] NOT NULL,
    admin1 text,
    admin2 text,
    admin_pcodes text[] NOT NULL,
    baseline_area_m2 numeric NOT NULL,
    cancelled_area_m2 numeric NOT NULL,
    reduced_area_m2 numeric NOT NULL,
    cleared_area_m2 numeric NOT NULL,
    released_area_m2 numeric NOT NULL,
    remaining_area_m2 numeric NOT NULL,
    CONSTRAINT pk_land_release_segments PRIMARY KEY (hazard_id, valid_from)
);
CREATE TABLE land_release_segment_methods (
    hazard_id uuid NOT NULL
        CONSTRAINT fk_land_release_segment_methods_hazard_id_hazards
        REFERENCES hazards (id) ON DELETE CASCADE,
    valid_from date NOT NULL,
    method text NOT NULL,
    valid_to date,
    organisation_id uuid NOT NULL
        CONSTRAINT fk_land_release_segment_methods_organisation_id_organisations
        REFERENCES organisations (id),
    admin_pcodes text[] NOT NULL,
    cancelled_area_m2 numeric NOT NULL,
    reduced_area_m2 numeric NOT NULL,
    cleared_area_m2 numeric NOT NULL,
    CONSTRAINT pk_land_release_segment_methods PRIMARY KEY (hazard_id, valid_from, method)
);
CREATE TABLE land_release_pending (
    xact bigint NOT NULL,
    hazard_id uuid NOT NULL,
    CONSTRAINT pk_land_release_pending PRIMARY KEY (xact, hazard_id)
);
"""

# The segments of the hazards ``ids`` (NULL: every hazard), recomputed. The land-release
# accounting is that of land_release.PIECES_SQL, per segment instead of per date.
REFRESH = """
CREATE FUNCTION sg_land_release_refresh(ids uuid[]) RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    n integer;
BEGIN
    -- one recomputation of a hazard at a time: a concurrent one waits for this one to commit
    -- and then reads what it wrote (each statement below takes a new snapshot)
    PERFORM 1 FROM hazards WHERE ids IS NULL OR id = ANY (ids) ORDER BY id
        FOR NO KEY UPDATE;
    DELETE FROM land_release_segment_methods WHERE ids IS NULL OR hazard_id = ANY (ids);
    DELETE FROM land_release_segments WHERE ids IS NULL OR hazard_id = ANY (ids);
    WITH st AS MATERIALIZED (
        SELECT s.hazard_id, s.valid_from, s.valid_to, s.retired, s.organisation_id, s.geom,
               ARRAY(SELECT jsonb_array_elements_text(
                         COALESCE(s.state -> 'contamination', '[]'::jsonb))) AS contamination
        FROM hazard_states s
        WHERE ids IS NULL OR s.hazard_id = ANY (ids)
    ),
    keys AS MATERIALIZED (  -- per state: its area and the admin keys of the summary
        SELECT st.hazard_id, st.valid_from, sg_area_m2(st.geom) AS baseline,
               (SELECT a.pcode FROM admin_areas a WHERE a.level = 1
                  AND ST_Intersects(a.geom, ST_PointOnSurface(st.geom))
                ORDER BY a.pcode LIMIT 1) AS admin1,
               (SELECT a.pcode FROM admin_areas a WHERE a.level = 2
                  AND ST_Intersects(a.geom, ST_PointOnSurface(st.geom))
                ORDER BY a.pcode LIMIT 1) AS admin2,
               ARRAY(SELECT DISTINCT a.pcode FROM admin_areas a
                     WHERE ST_Intersects(a.geom, st.geom) ORDER BY 1) AS admin_pcodes
        FROM st
        WHERE NOT st.retired
    ),
    bp AS (  -- the dates on which a hazard's figures can change
        SELECT hazard_id, valid_from AS d FROM st
        UNION
        SELECT hazard_id, valid_to FROM st WHERE valid_to IS NOT NULL
        UNION
        SELECT r.hazard_id, r.date FROM release_polygons r
        WHERE (ids IS NULL OR r.hazard_id = ANY (ids)) AND r.retired_at IS NULL
          AND r.date IS NOT NULL
    ),
    seg AS (
        SELECT hazard_id, d AS valid_from,
               lead(d) OVER (PARTITION BY hazard_id ORDER BY d) AS valid_to
        FROM bp
    ),
    hz AS MATERIALIZED (  -- the segments in which the hazard is known and not retired
        SELECT seg.hazard_id AS id, seg.valid_from, seg.valid_to, st.geom,
               st.organisation_id, st.contamination, st.valid_from AS state_from
        FROM seg
        JOIN st ON st.hazard_id = seg.hazard_id AND st.valid_from <= seg.valid_from
               AND (st.valid_to IS NULL OR st.valid_to > seg.valid_from)
        WHERE NOT st.retired
    ),
    rel AS MATERIALIZED (
        SELECT r.id, hz.id AS hazard_id, hz.valid_from AS seg, r.activity_id, r.outcome,
               r.date, x.inside,
               GeometryType(hz.geom) = 'POINT' AS point_hazard,
               CASE r.outcome WHEN 'cleared' THEN 3 WHEN 'reduced' THEN 2 ELSE 1 END
                   AS strength
        FROM hz
        JOIN release_polygons r ON r.hazard_id = hz.id AND r.retired_at IS NULL
                               AND r.date <= hz.valid_from
        CROSS JOIN LATERAL (SELECT ST_Intersection(r.geom, hz.geom) AS inside) x
    ),
    ranked AS (
        SELECT rel.*, COALESCE(sg_area_m2(inside), 0) AS inside_m2,
               ST_Union(inside) OVER (
                   PARTITION BY hazard_id, seg ORDER BY strength DESC, date, id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
        FROM rel
    ),
    pieces AS MATERIALIZED (
        SELECT hazard_id, seg, activity_id, outcome,
               CASE WHEN before IS NULL THEN inside_m2
                    ELSE COALESCE(sg_area_m2(ST_Difference(inside, before)), 0) END
                   AS piece_m2
        FROM ranked
    ),
    per_hazard AS (
        SELECT hazard_id, seg,
               COALESCE(SUM(piece_m2) FILTER (WHERE outcome = 'cancelled'), 0) AS cancelled,
               COALESCE(SUM(piece_m2) FILTER (WHERE outcome = 'reduced'), 0) AS reduced,
               COALESCE(SUM(piece_m2) FILTER (WHERE outcome = 'cleared'), 0) AS cleared
        FROM pieces
        GROUP BY hazard_id, seg
    ),
    saved AS (
        INSERT INTO land_release_segments (
            hazard_id, valid_from, valid_to, organisation_id, contamination, admin1, admin2,
            admin_pcodes, baseline_area_m2, cancelled_area_m2, reduced_area_m2,
            cleared_area_m2, released_area_m2, remaining_area_m2)
        SELECT hz.id, hz.valid_from, hz.valid_to, hz.organisation_id, hz.contamination,
               k.admin1, k.admin2, k.admin_pcodes, k.baseline,
               COALESCE(ph.cancelled, 0), COALESCE(ph.reduced, 0), COALESCE(ph.cleared, 0),
               COALESCE(ph.cancelled + ph.reduced + ph.cleared, 0),
               GREATEST(k.baseline - COALESCE(ph.cancelled + ph.reduced + ph.cleared, 0), 0)
        FROM hz
        JOIN keys k ON k.hazard_id = hz.id AND k.valid_from = hz.state_from
        LEFT JOIN per_hazard ph ON ph.hazard_id = hz.id AND ph.seg = hz.valid_from
        RETURNING 1
    ),
    methods_saved AS (
        INSERT INTO land_release_segment_methods (
            hazard_id, valid_from, method, valid_to, organisation_id, admin_pcodes,
            cancelled_area_m2, reduced_area_m2, cleared_area_m2)
        SELECT p.hazard_id, p.seg, m.method, hz.valid_to, hz.organisation_id,
               k.admin_pcodes,
               COALESCE(SUM(p.piece_m2) FILTER (WHERE p.outcome = 'cancelled'), 0),
               COALESCE(SUM(p.piece_m2) FILTER (WHERE p.outcome = 'reduced'), 0),
               COALESCE(SUM(p.piece_m2) FILTER (WHERE p.outcome = 'cleared'), 0)
        FROM pieces p
        JOIN hz ON hz.id = p.hazard_id AND hz.valid_from = p.seg
        JOIN keys k ON k.hazard_id = hz.id AND k.valid_from = hz.state_from
        LEFT JOIN activities a ON a.id = p.activity_id
        CROSS JOIN LATERAL (
            SELECT CASE WHEN a.methods IS NULL OR cardinality(a.methods) = 0
                             THEN 'not_recorded'
                        WHEN cardinality(a.methods) = 1 THEN a.methods[1]
                        ELSE 'combined' END AS method
        ) m
        GROUP BY p.hazard_id, p.seg, m.method, hz.valid_to, hz.organisation_id,
                 k.admin_pcodes
        RETURNING 1
    )
    SELECT count(*) INTO n FROM saved;  -- methods_saved runs all the same
    RETURN n;
END
$fn$;
"""

MARKING = """
CREATE FUNCTION sg_land_release_mark(ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    IF cardinality(ids) > 0 THEN
        -- the nil uuid marks the transaction: its insert queues the deferred recomputation
        INSERT INTO land_release_pending (xact, hazard_id)
        SELECT pg_current_xact_id()::text::bigint, h
        FROM unnest(ids || '00000000-0000-0000-0000-000000000000'::uuid) h
        WHERE h IS NOT NULL
        ON CONFLICT DO NOTHING;
    END IF;
END
$fn$;

CREATE FUNCTION sg_land_release_flush() RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    x bigint := pg_current_xact_id_if_assigned()::text::bigint;
    ids uuid[];
BEGIN
    IF x IS NULL THEN  -- this transaction has written nothing
        RETURN 0;
    END IF;
    WITH gone AS (DELETE FROM land_release_pending WHERE xact = x RETURNING hazard_id)
    SELECT array_agg(hazard_id) INTO ids FROM gone
    WHERE hazard_id <> '00000000-0000-0000-0000-000000000000'::uuid;
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    RETURN sg_land_release_refresh(ids);
END
$fn$;

CREATE FUNCTION sg_land_release_flush_at_commit() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM sg_land_release_flush();
    RETURN NULL;
END
$fn$;

CREATE CONSTRAINT TRIGGER land_release_flush_at_commit
AFTER INSERT ON land_release_pending DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (NEW.hazard_id = '00000000-0000-0000-0000-000000000000'::uuid)
EXECUTE FUNCTION sg_land_release_flush_at_commit();

CREATE FUNCTION sg_land_release_states_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        PERFORM sg_land_release_mark(ARRAY(SELECT DISTINCT hazard_id FROM new_rows));
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM sg_land_release_mark(ARRAY(SELECT DISTINCT hazard_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$fn$;

CREATE FUNCTION sg_land_release_releases_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'UPDATE' THEN  -- not when only the stored pieces (effective area) change
        PERFORM sg_land_release_mark(ARRAY(
            SELECT h FROM new_rows n JOIN old_rows o ON o.id = n.id
            CROSS JOIN LATERAL (VALUES (n.hazard_id), (o.hazard_id)) v(h)
            WHERE (n.hazard_id, n.date, n.outcome, n.retired_at, n.activity_id)
                      IS DISTINCT FROM (o.hazard_id, o.date, o.outcome, o.retired_at,
                                        o.activity_id)
               OR ST_AsEWKB(n.geom) IS DISTINCT FROM ST_AsEWKB(o.geom)));
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM sg_land_release_mark(ARRAY(SELECT DISTINCT hazard_id FROM new_rows));
    ELSE
        PERFORM sg_land_release_mark(ARRAY(SELECT DISTINCT hazard_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$fn$;

CREATE FUNCTION sg_land_release_methods_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM sg_land_release_mark(ARRAY(
        SELECT DISTINCT r.hazard_id FROM new_rows n JOIN old_rows o ON o.id = n.id
        JOIN release_polygons r ON r.activity_id = n.id
        WHERE n.methods IS DISTINCT FROM o.methods));
    RETURN NULL;
END
$fn$;

CREATE FUNCTION sg_land_release_admin_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM sg_land_release_mark(ARRAY(
            SELECT DISTINCT s.hazard_id FROM new_rows a
            JOIN hazard_states s ON ST_Intersects(s.geom, a.geom)));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM sg_land_release_mark(ARRAY(
            SELECT DISTINCT s.hazard_id FROM old_rows a
            JOIN hazard_states s ON ST_Intersects(s.geom, a.geom)));
    ELSE  -- only a new outline, P-code or level changes what a hazard is grouped under
        PERFORM sg_land_release_mark(ARRAY(
            WITH changed AS (
                SELECT n.geom AS now, o.geom AS was
                FROM new_rows n JOIN old_rows o ON o.id = n.id
                WHERE (n.pcode, n.level) IS DISTINCT FROM (o.pcode, o.level)
                   OR ST_AsEWKB(n.geom) IS DISTINCT FROM ST_AsEWKB(o.geom)
            )
            SELECT s.hazard_id FROM changed c
            JOIN hazard_states s ON ST_Intersects(s.geom, c.now)
            UNION
            SELECT s.hazard_id FROM changed c
            JOIN hazard_states s ON ST_Intersects(s.geom, c.was)));
    END IF;
    RETURN NULL;
END
$fn$;
"""

# (table, function, events); a trigger with transition tables has one event
WATCHED = [
    ("hazard_states", "sg_land_release_states_changed", ("INSERT", "UPDATE", "DELETE")),
    (
        "release_polygons",
        "sg_land_release_releases_changed",
        ("INSERT", "UPDATE", "DELETE"),
    ),
    ("activities", "sg_land_release_methods_changed", ("UPDATE",)),
    ("admin_areas", "sg_land_release_admin_changed", ("INSERT", "UPDATE", "DELETE")),
]
TRANSITIONS = {
    "INSERT": "NEW TABLE AS new_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
}
FUNCTIONS = (
    "sg_land_release_admin_changed()",
    "sg_land_release_methods_changed()",
    "sg_land_release_releases_changed()",
    "sg_land_release_states_changed()",
    "sg_land_release_flush_at_commit()",
    "sg_land_release_flush()",
    "sg_land_release_mark(uuid[])",
    "sg_land_release_refresh(uuid[])",
)


def _trigger_name(table: str, event: str) -> str:
    return f"land_release_{table}_{event.lower()}"


def upgrade() -> None:
    op.execute(TABLES)
    op.execute(REFRESH)
    op.execute(MARKING)
    for table, function, events in WATCHED:
        for event in events:
            op.execute(
                f"CREATE TRIGGER {_trigger_name(table, event)} AFTER {event} ON {table} "
                f"REFERENCING {TRANSITIONS[event]} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {function}()"
            )
    op.execute("SET LOCAL statement_timeout = 0")
    op.execute("SELECT sg_land_release_refresh(NULL)")


def downgrade() -> None:
    for table, _function, events in WATCHED:
        for event in events:
            op.execute(f"DROP TRIGGER {_trigger_name(table, event)} ON {table}")
    op.execute("DROP TRIGGER land_release_flush_at_commit ON land_release_pending")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
    op.execute(
        "DROP TABLE land_release_pending, land_release_segment_methods, "
        "land_release_segments"
    )

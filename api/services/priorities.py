"""Clearance priorities: indicators in PostGIS, scores from the active model, overrides.

* ``refresh_indicators`` computes every raw indicator of the given hazards (or all) in one
  statement: distances on the WGS 84 ellipsoid (``ST_DWithin`` on geography), after an index
  filter on a box expanded by the distance in degrees at the hazard's latitude.
* ``score`` turns stored indicators into scores under a model in one statement; it needs no
  indicator computation, so a weight change re-ranks at once. A hazard's score depends on its
  own indicators only (fixed caps), so refreshing one hazard scores only that hazard.
* ``ranked`` reads a page of the ranking (an index scan) with each hazard's breakdown, gates,
  override and a one-sentence explanation; ``ranking_file`` reads the whole ranking for a
  CSV or XLSX file, up to ``MAX_FILE_ROWS`` hazards.

Hazard writes, context imports and accident writes call ``refresh``.
"""

import uuid
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, text, update
from sqlalchemy.orm import Session

from api.db.models import (
    Hazard,
    PriorityFlag,
    PriorityModel,
    PriorityOverride,
)
from api.domain import priority_model as pm
from api.errors import BadRequest, Conflict, Forbidden, InvalidInput, NotFound
from api.services.auth import (
    Principal,
    require_programme_admin,
    require_reader,
    require_writer,
)
from api.vocab import Role

DEFAULT_MODEL_NAME = "Default"
"""The name of version 1, made from ``priority_model.DEFAULT_MODEL`` (shown to users)."""

# metres per degree of latitude (its smallest value) and of longitude at the equator
_M_LAT, _M_LON = 110_574.0, 111_320.0


def _near(table: str, alias: str, metres: int) -> str:
    """SQL: rows of ``table`` within ``metres`` of hazard ``h`` (ellipsoidal distance)."""
    return f"""
        {table} {alias}
        WHERE {alias}.geom && ST_Expand(h.geom, {metres} / (:m_lon * e.coslat), {metres} / :m_lat)
          AND ST_DWithin({alias}.geom::geography, h.geom::geography, {metres})"""


INDICATORS_SQL = f"""
INSERT INTO hazard_indicators AS t (
    hazard_id, accidents_1km_24m, threat_class, evidence_class, population_1km,
    facilities_500m, roads_50m, blocked_land_uses, area_m2, development_requests,
    security_exclusion, computed_at)
SELECT h.id,
    (SELECT count(*) FROM {_near("accidents", "a", 1000)}
        AND a.retired_at IS NULL AND a.occurred_on >= CURRENT_DATE - INTERVAL '24 months')
    + (SELECT count(*) FROM accidents a2
        WHERE a2.hazard_id = h.id AND a2.retired_at IS NULL
          AND a2.occurred_on >= CURRENT_DATE - INTERVAL '24 months'
          AND NOT ST_DWithin(a2.geom::geography, h.geom::geography, 1000)),
    COALESCE((SELECT max(CASE c WHEN 'ap_mine' THEN 1.0 WHEN 'ied' THEN 1.0
                                WHEN 'booby_trap' THEN 1.0 WHEN 'cmr' THEN 0.8
                                WHEN 'av_mine' THEN 0.6 WHEN 'uxo' THEN 0.4 ELSE 0.3 END)
              FROM unnest(h.contamination) c), 0.3),
    CASE h.classification WHEN 'CHA' THEN 1.0 ELSE 0.5 END,
    (SELECT COALESCE(sum(s.population), 0) FROM {_near("context_settlements", "s", 1000)}),
    (SELECT count(*) FROM {_near("context_facilities", "f", 500)}),
    (SELECT count(*) FROM {_near("context_roads", "r", 50)}),
    (SELECT count(DISTINCT u) FROM (
        SELECT unnest(h.blockages) AS u
        UNION
        SELECT l.land_use FROM context_land_use l
        WHERE l.geom && h.geom AND ST_Intersects(l.geom, h.geom)
          AND l.land_use NOT IN ('wasteland', 'other')) x),
    COALESCE(lr.remaining_area_m2, h.area_m2),
    0,
    EXISTS (SELECT 1 FROM context_security_zones z
            WHERE z.geom && h.geom AND ST_Intersects(z.geom, h.geom)
              AND (z.valid_from IS NULL OR z.valid_from <= CURRENT_DATE)
              AND (z.valid_to IS NULL OR z.valid_to >= CURRENT_DATE)),
    now()
FROM hazards h
LEFT JOIN hazard_land_release lr ON lr.hazard_id = h.id
CROSS JOIN LATERAL (
    SELECT cos(radians(LEAST(89.0, GREATEST(abs(ST_YMin(h.geom)), abs(ST_YMax(h.geom))) + 0.1)))
           AS coslat
) e
WHERE h.retired_at IS NULL
  AND (CAST(:all AS boolean) OR h.id = ANY(CAST(:ids AS uuid[])))
ON CONFLICT (hazard_id) DO UPDATE SET
    accidents_1km_24m = EXCLUDED.accidents_1km_24m, threat_class = EXCLUDED.threat_class,
    evidence_class = EXCLUDED.evidence_class, population_1km = EXCLUDED.population_1km,
    facilities_500m = EXCLUDED.facilities_500m, roads_50m = EXCLUDED.roads_50m,
    blocked_land_uses = EXCLUDED.blocked_land_uses, area_m2 = EXCLUDED.area_m2,
    development_requests = EXCLUDED.development_requests,
    security_exclusion = EXCLUDED.security_exclusion, computed_at = EXCLUDED.computed_at
"""


def refresh_indicators(
    session: Session, hazard_ids: Iterable[uuid.UUID] | None = None
) -> None:
    """Compute the raw indicators of ``hazard_ids`` (None: every current hazard)."""
    ids = None if hazard_ids is None else [str(i) for i in set(hazard_ids)]
    if ids == []:
        return
    if ids is None:
        session.execute(text("SET LOCAL statement_timeout = 0"))
    session.execute(
        text(INDICATORS_SQL),
        {"all": ids is None, "ids": ids or [], "m_lat": _M_LAT, "m_lon": _M_LON},
    )


def _normalised_sql(
    indicator: str, rule: dict[str, Any], params: dict[str, Any]
) -> str:
    """SQL for an indicator's normalised value; the cap is a bound parameter."""
    column = f"i.{indicator}"  # a name from pm.INDICATORS, checked by pm.validate
    how = rule["normalise"]
    if how == "identity":
        return f"LEAST(GREATEST({column}, 0), 1)"
    key = f"cap_{indicator}"
    params[key] = rule["cap"]
    if how == "cap":
        return f"LEAST({column} / CAST(:{key} AS float8), 1)"
    if how == "log_cap":
        return f"LEAST(ln(1 + {column}) / ln(1 + CAST(:{key} AS float8)), 1)"
    return f"1 - LEAST({column} / CAST(:{key} AS float8), 1)"


def _scoring_sql(model: dict[str, Any], params: dict[str, Any]) -> str:
    """One INSERT ... SELECT that scores hazards under ``model`` (validated).

    Only the number: the breakdown of the hazards a page shows is computed from their stored
    indicators by ``priority_model.breakdown`` with the same arithmetic (a test holds them
    equal).
    """
    criteria = model["criteria"]
    params["total_weight"] = sum(c["weight"] for c in criteria.values())
    terms = []
    for ci, crit in enumerate(criteria.values()):
        params[f"w{ci}"] = crit["weight"]
        norms = [
            _normalised_sql(ind, rule, params)
            for ind, rule in crit["indicators"].items()
        ]
        terms.append(f"CAST(:w{ci} AS float8) * ({' + '.join(norms)}) / {len(norms)}.0")
    gated = (
        " OR ".join(
            "i.security_exclusion"
            if g == "security_exclusion"
            else "COALESCE(f.do_no_harm, false)"
            for g in model["gates"]
        )
        or "false"
    )
    params["high"], params["medium"] = model["bands"]["high"], model["bands"]["medium"]
    return f"""
    INSERT INTO priority_scores AS t (model_id, hazard_id, score, band, gated, computed_at)
    SELECT CAST(:model_id AS uuid), x.hazard_id, x.score,
           CASE WHEN x.score >= :high THEN 'high' WHEN x.score >= :medium THEN 'medium'
                ELSE 'low' END,
           x.gated, now()
    FROM (
        SELECT i.hazard_id, {gated} AS gated,
               100 * ({" + ".join(terms)}) / CAST(:total_weight AS float8) AS score
        FROM hazard_indicators i
        JOIN hazards h ON h.id = i.hazard_id AND h.retired_at IS NULL
        LEFT JOIN priority_flags f ON f.hazard_id = i.hazard_id
        WHERE CAST(:all AS boolean) OR i.hazard_id = ANY(CAST(:ids AS uuid[]))
    ) x
    ON CONFLICT (model_id, hazard_id) DO UPDATE SET
        score = EXCLUDED.score, band = EXCLUDED.band, gated = EXCLUDED.gated,
        computed_at = EXCLUDED.computed_at
    """


def score(
    session: Session,
    model: PriorityModel,
    hazard_ids: Iterable[uuid.UUID] | None = None,
) -> None:
    """Score hazards (None: all) under ``model`` from their stored indicators."""
    ids = None if hazard_ids is None else [str(i) for i in set(hazard_ids)]
    if ids == []:
        return
    params: dict[str, Any] = {
        "model_id": str(model.id),
        "all": ids is None,
        "ids": ids or [],
    }
    sql = _scoring_sql(pm.validate(model.document), params)
    if ids is None:
        session.execute(
            text("DELETE FROM priority_scores WHERE model_id = CAST(:m AS uuid)"),
            {"m": str(model.id)},
        )
    else:
        session.execute(
            text(
                "DELETE FROM priority_scores WHERE model_id = CAST(:m AS uuid) "
                "AND hazard_id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"m": str(model.id), "ids": ids},
        )
    session.execute(text(sql), params)


def active_model(session: Session) -> PriorityModel:
    """The active model, created from the defaults the first time it is needed."""
    model = session.scalar(select(PriorityModel).where(PriorityModel.is_active))
    if model is None:
        model = PriorityModel(
            version=1,
            name=DEFAULT_MODEL_NAME,
            document=pm.validate(pm.DEFAULT_MODEL),
            is_active=True,
            author="system",
            activated_at=func.now(),
        )
        session.add(model)
        session.flush()
    return model


def refresh(session: Session, hazard_ids: Iterable[uuid.UUID] | None = None) -> None:
    """Recompute indicators and the active model's scores of ``hazard_ids`` (None: all)."""
    ids = None if hazard_ids is None else list(hazard_ids)
    refresh_indicators(session, ids)
    score(session, active_model(session), ids)


def hazards_near_accident(session: Session, accident_id: uuid.UUID) -> set[uuid.UUID]:
    """Hazards whose accident indicator an accident counts in (within 1 km, or linked).

    The box filter of 0.03° holds 1 km up to latitude 70°.
    """
    return set(
        session.scalars(
            text(
                "SELECT h.id FROM hazards h JOIN accidents a ON a.id = :a "
                "WHERE h.retired_at IS NULL AND (h.id = a.hazard_id OR ("
                "h.geom && ST_Expand(a.geom, 0.03) "
                "AND ST_DWithin(h.geom::geography, a.geom::geography, 1000)))"
            ),
            {"a": accident_id},
        )
    )


# ------------------------------------------------------------------------------ models


def _model_json(m: PriorityModel) -> dict[str, Any]:
    return {
        "id": str(m.id),
        "version": m.version,
        "name": m.name,
        "active": m.is_active,
        "notes": m.notes,
        "author": m.author,
        "created_at": m.created_at.isoformat() if m.created_at else None,
        "activated_at": m.activated_at.isoformat() if m.activated_at else None,
        "model": m.document,
    }


def list_models(session: Session, principal: Principal | None) -> list[dict[str, Any]]:
    """Every version, newest first (the default model is created if none exists)."""
    require_reader(principal)
    active_model(session)
    return [
        _model_json(m)
        for m in session.scalars(
            select(PriorityModel).order_by(PriorityModel.version.desc())
        )
    ]


def _require_tasking(principal: Principal | None) -> Principal:
    principal = require_reader(principal)
    if principal.role not in (Role.admin, Role.coordinator):
        raise Forbidden(f"the {principal.role.value} role cannot change priorities")
    return principal


def create_model(
    session: Session,
    *,
    document: dict[str, Any],
    name: str,
    notes: str | None,
    activate: bool,
    principal: Principal | None,
) -> dict[str, Any]:
    """Store a new version of the model; when ``activate``, score every hazard under it.

    The model ranks every organisation's hazards: admins only (signed in, not a key).
    """
    principal = require_programme_admin(principal, "the priority model")
    try:
        checked = pm.validate(document)
    except pm.ModelError as exc:
        raise InvalidInput(
            exc.message,
            errors=[{"pointer": "/model" + exc.pointer, "message": exc.message}],
        ) from exc
    active_model(session)
    version = (session.scalar(select(func.max(PriorityModel.version))) or 0) + 1
    model = PriorityModel(
        version=version,
        name=name,
        document=checked,
        notes=notes,
        author=principal.name,
        created_by=principal.user_id,
    )
    session.add(model)
    session.flush()
    if activate:
        _activate(session, model)
    session.commit()
    return _model_json(model)


def _activate(session: Session, model: PriorityModel) -> None:
    session.execute(
        update(PriorityModel).where(PriorityModel.is_active).values(is_active=False)
    )
    session.flush()
    model.is_active = True
    model.activated_at = func.now()
    session.flush()
    if not session.scalar(text("SELECT EXISTS (SELECT 1 FROM hazard_indicators)")):
        refresh_indicators(session, None)
    score(session, model, None)


def activate_model(
    session: Session, model_id: uuid.UUID, principal: Principal | None
) -> dict[str, Any]:
    """Make a stored version the active one and score every hazard under it (admins)."""
    require_programme_admin(principal, "the priority model")
    model = session.get(PriorityModel, model_id)
    if model is None:
        raise NotFound(f"no priority model {model_id}")
    _activate(session, model)
    session.commit()
    session.refresh(model)
    return _model_json(model)


# ------------------------------------------------------------------------------ ranking

RANKED_FROM = """
FROM priority_scores p
JOIN hazards h ON h.id = p.hazard_id AND h.retired_at IS NULL
JOIN organisations o ON o.id = h.organisation_id
WHERE p.model_id = CAST(:model_id AS uuid)
  AND (CAST(:admin AS text) IS NULL OR CAST(:admin AS text) = ANY(h.admin_pcodes))
  AND (CAST(:organisation AS text) IS NULL OR o.code = CAST(:organisation AS text))
  AND (CAST(:hazard_type AS text) IS NULL OR h.hazard_type = CAST(:hazard_type AS text))
  AND (CAST(:status AS text) IS NULL OR h.status = CAST(:status AS text))
  AND (CAST(:status AS text) IS NOT NULL OR h.status NOT IN ('closed', 'handed_over'))
"""
RANKED_SQL = """
SELECT p.hazard_id, p.score, p.band, p.gated,
       h.external_id, h.name, h.classification, h.hazard_type, h.status,
       o.code AS organisation, h.admin_pcodes, h.area_m2,
       to_jsonb(i) AS indicators, COALESCE(fl.do_no_harm, false) AS do_no_harm,
       ov.band AS override_band, ov.justification AS override_justification,
       ov.author AS override_author, ov.created_at AS override_at
FROM priority_scores p
JOIN hazards h ON h.id = p.hazard_id AND h.retired_at IS NULL
JOIN organisations o ON o.id = h.organisation_id
JOIN hazard_indicators i ON i.hazard_id = p.hazard_id
LEFT JOIN priority_flags fl ON fl.hazard_id = p.hazard_id
LEFT JOIN priority_overrides ov ON ov.hazard_id = p.hazard_id AND ov.revoked_at IS NULL
WHERE p.model_id = CAST(:model_id AS uuid)
  AND (CAST(:admin AS text) IS NULL OR CAST(:admin AS text) = ANY(h.admin_pcodes))
  AND (CAST(:organisation AS text) IS NULL OR o.code = CAST(:organisation AS text))
  AND (CAST(:hazard_type AS text) IS NULL OR h.hazard_type = CAST(:hazard_type AS text))
  AND (CAST(:status AS text) IS NULL OR h.status = CAST(:status AS text))
  AND (CAST(:status AS text) IS NOT NULL OR h.status NOT IN ('closed', 'handed_over'))
-- scores equal to 6 decimals (float noise of areas is ~1e-15) are ties, broken by keys that
-- survive loading the same data into another database; the random uuid only last
ORDER BY p.gated, round(p.score::numeric, 6) DESC, o.code, h.external_id NULLS LAST,
         h.date_of_information DESC, h.created_at, h.name NULLS LAST, p.hazard_id
LIMIT :limit OFFSET :offset
"""
COUNT_SQL = "SELECT count(*) " + RANKED_FROM

MAX_FILE_ROWS = 100_000
"""The most hazards a priorities file (CSV, XLSX) holds; a larger ranking is refused (400)."""


def _scored_model(session: Session) -> PriorityModel:
    """The active model, with every hazard scored under it (computed on first use)."""
    model = active_model(session)
    if not session.scalar(
        text(
            "SELECT EXISTS (SELECT 1 FROM priority_scores WHERE model_id = CAST(:m AS uuid))"
        ),
        {"m": str(model.id)},
    ):
        refresh(session, None)  # first use: compute everything once
        session.commit()
    return model


def _ranking_params(model: PriorityModel, **filters: str | None) -> dict[str, Any]:
    return {"model_id": str(model.id), **filters}


def ranked(
    session: Session,
    *,
    principal: Principal | None,
    admin: str | None = None,
    organisation: str | None = None,
    hazard_type: str | None = None,
    status: str | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of hazards in priority order, each with its breakdown and explanation.

    ``limit=None`` reads the rest of the ranking from ``offset``. ``numberMatched`` counts
    the hazards the ranking lists under these filters: closed and handed-over hazards only
    when ``status`` asks for them; gated hazards are listed (without a rank) and counted.
    """
    require_reader(principal)
    model = _scored_model(session)
    params = _ranking_params(
        model,
        admin=admin,
        organisation=organisation,
        hazard_type=hazard_type,
        status=status,
    )
    rows = (
        session.execute(text(RANKED_SQL), {**params, "limit": limit, "offset": offset})
        .mappings()
        .all()
    )
    last_page = limit is None or len(rows) < limit
    if last_page and (rows or offset == 0):  # the count is known without counting
        matched = offset + len(rows)
    else:
        matched = session.execute(text(COUNT_SQL), params).scalar_one()
    document = pm.validate(model.document)
    items = []
    for position, r in enumerate(rows, start=offset + 1):
        rank = None if r["gated"] else position
        _, parts = pm.breakdown(r["indicators"], document)
        gates = {
            "security_exclusion": not r["indicators"]["security_exclusion"],
            "do_no_harm": not r["do_no_harm"],
        }
        gates = {g: ok for g, ok in gates.items() if g in document["gates"]}
        item = {
            "hazard_id": str(r["hazard_id"]),
            "external_id": r["external_id"],
            "name": r["name"],
            "classification": r["classification"],
            "hazard_type": r["hazard_type"],
            "status": r["status"],
            "organisation": r["organisation"],
            "admin": r["admin_pcodes"],
            "area_m2": r["area_m2"],
            "rank": rank,
            "score": round(r["score"], 2),
            "band": r["band"],
            "gates": {g: ("pass" if ok else "fail") for g, ok in gates.items()},
            "breakdown": parts,
            "explanation": pm.explain(rank, r["score"], parts, gates),
            "override": None,
        }
        if r["override_band"]:
            item["override"] = {
                "band": r["override_band"],
                "justification": r["override_justification"],
                "author": r["override_author"],
                "at": r["override_at"].isoformat(),
            }
        items.append(item)
    return {
        "model": {"id": str(model.id), "version": model.version, "name": model.name},
        "numberMatched": int(matched),
        "numberReturned": len(items),
        "items": items,
    }


def ranking_file(
    session: Session,
    *,
    principal: Principal | None,
    admin: str | None = None,
    organisation: str | None = None,
    hazard_type: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """The whole ranking under the filters, for a CSV or XLSX file (``ranked``'s shape).

    Raises:
        BadRequest: more than ``MAX_FILE_ROWS`` hazards match; the detail says how many
            and how to narrow them.
    """
    require_reader(principal)
    filters = {
        "admin": admin,
        "organisation": organisation,
        "hazard_type": hazard_type,
        "status": status,
    }
    model = _scored_model(session)
    count = session.execute(
        text(COUNT_SQL), _ranking_params(model, **filters)
    ).scalar_one()
    if count > MAX_FILE_ROWS:
        raise BadRequest(
            f"the ranking holds {count} hazards, more than the {MAX_FILE_ROWS} a CSV or "
            "XLSX file holds; narrow it with admin, organisation, hazard_type or status, "
            "or page through the JSON list (limit, offset)"
        )
    return ranked(
        session,
        principal=principal,
        limit=None,
        admin=admin,
        organisation=organisation,
        hazard_type=hazard_type,
        status=status,
    )


# ------------------------------------------------------------------------------ overrides


def _hazard_for_tasking(
    session: Session, hazard_id: uuid.UUID, principal: Principal
) -> Hazard:
    hazard = session.get(Hazard, hazard_id)
    if hazard is None or hazard.retired_at is not None:
        raise NotFound(f"no hazard {hazard_id}")
    from api.db.models import Organisation

    org = session.get_one(Organisation, hazard.organisation_id)
    require_writer(principal, hazard.organisation_id, org.code)
    return hazard


def _justification(text_: str | None, pointer: str) -> str:
    if text_ is None or len(text_.strip()) < 10:
        raise InvalidInput(
            "a written justification of at least 10 characters is required",
            errors=[{"pointer": pointer, "message": "justify the decision in writing"}],
        )
    return text_.strip()


def set_override(
    session: Session,
    *,
    hazard_id: uuid.UUID,
    band: str,
    justification: str | None,
    principal: Principal | None,
) -> dict[str, Any]:
    """Record a manual band for a hazard (the previous one, if any, is revoked)."""
    principal = _require_tasking(principal)
    _hazard_for_tasking(session, hazard_id, principal)
    if band not in pm.BANDS:
        raise InvalidInput(
            f"band must be one of {', '.join(pm.BANDS)}",
            errors=[{"pointer": "/band", "message": f"got {band!r}"}],
        )
    why = _justification(justification, "/justification")
    session.execute(
        update(PriorityOverride)
        .where(
            PriorityOverride.hazard_id == hazard_id,
            PriorityOverride.revoked_at.is_(None),
        )
        .values(
            revoked_at=func.now(),
            revoked_by=principal.name,
            revoke_justification="replaced: " + why,
        )
    )
    override = PriorityOverride(
        hazard_id=hazard_id,
        band=band,
        justification=why,
        author=principal.name,
        author_user_id=principal.user_id,
    )
    session.add(override)
    session.commit()
    return override_history(session, hazard_id, principal)


def revoke_override(
    session: Session,
    *,
    hazard_id: uuid.UUID,
    justification: str | None,
    principal: Principal | None,
) -> dict[str, Any]:
    """Revoke the current override (kept in the audit trail)."""
    principal = _require_tasking(principal)
    _hazard_for_tasking(session, hazard_id, principal)
    why = _justification(justification, "/justification")
    result = session.execute(
        update(PriorityOverride)
        .where(
            PriorityOverride.hazard_id == hazard_id,
            PriorityOverride.revoked_at.is_(None),
        )
        .values(
            revoked_at=func.now(), revoked_by=principal.name, revoke_justification=why
        )
    )
    # an UPDATE through a Session gives a CursorResult; SQLAlchemy types it as Result
    if not cast(CursorResult[Any], result).rowcount:
        raise Conflict("this hazard has no override to revoke")
    session.commit()
    return override_history(session, hazard_id, principal)


def override_history(
    session: Session, hazard_id: uuid.UUID, principal: Principal | None
) -> dict[str, Any]:
    """Every override of a hazard, current first (the audit trail)."""
    require_reader(principal)
    rows = session.scalars(
        select(PriorityOverride)
        .where(PriorityOverride.hazard_id == hazard_id)
        .order_by(
            PriorityOverride.revoked_at.is_not(None), PriorityOverride.created_at.desc()
        )
    ).all()
    return {
        "hazard_id": str(hazard_id),
        "overrides": [
            {
                "id": str(o.id),
                "band": o.band,
                "justification": o.justification,
                "author": o.author,
                "created_at": o.created_at.isoformat(),
                "revoked_at": o.revoked_at.isoformat() if o.revoked_at else None,
                "revoked_by": o.revoked_by,
                "revoke_justification": o.revoke_justification,
            }
            for o in rows
        ],
    }


def set_do_no_harm(
    session: Session,
    *,
    hazard_id: uuid.UUID,
    flag: bool,
    justification: str | None,
    principal: Principal | None,
) -> None:
    """Set or clear the do-no-harm gate of a hazard, with a reason; scores it again."""
    principal = _require_tasking(principal)
    _hazard_for_tasking(session, hazard_id, principal)
    why = _justification(justification, "/justification")
    existing = session.get(PriorityFlag, hazard_id)
    if existing is None:
        session.add(
            PriorityFlag(
                hazard_id=hazard_id,
                do_no_harm=flag,
                justification=why,
                author=principal.name,
            )
        )
    else:
        existing.do_no_harm, existing.justification, existing.author = (
            flag,
            why,
            principal.name,
        )
        existing.set_at = func.now()
    session.flush()
    refresh(session, [hazard_id])
    session.commit()

"""Clearance priorities: the versioned model, the ranked list and its exports, overrides."""

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response

from api import csvout, xlsxout
from api.deps import PrincipalDep, SessionDep
from api.domain.priority_model import DEFAULT_MODEL
from api.errors import BadRequest, problem_responses
from api.responses import JSONOut
from api.schemas.priorities import (
    DoNoHarm,
    DoNoHarmOut,
    Justification,
    ModelCreate,
    OverrideCreate,
    OverrideHistory,
    PriorityModelList,
    PriorityModelOut,
    Ranking,
)
from api.services import priorities

router = APIRouter(tags=["priorities"])


MODEL_EXAMPLE = {
    "name": "Agriculture first (spring 2025)",
    "notes": "Raise socio-economic blockage before the planting season",
    "activate": True,
    "model": {
        **DEFAULT_MODEL,
        "criteria": {
            **DEFAULT_MODEL["criteria"],
            "socio_economic_blockage": {
                "weight": 0.35,
                "indicators": {"blocked_land_uses": {"normalise": "cap", "cap": 3}},
            },
        },
    },
}


@router.get(
    "/priority-models",
    response_model=PriorityModelList,
    summary="Every version of the priority model",
)
def list_models(session: SessionDep, principal: PrincipalDep):
    """Versions, newest first, with the active one marked."""
    return JSONOut({"items": priorities.list_models(session, principal)})


@router.post(
    "/priority-models",
    status_code=201,
    response_model=PriorityModelOut,
    summary="Store a new version (and by default activate it: every hazard is re-scored) "
    "(admins)",
    responses=problem_responses(401, 403, 422),
)
def create_model(
    session: SessionDep,
    principal: PrincipalDep,
    body: Annotated[
        ModelCreate,
        Body(
            openapi_examples={
                "agriculture": {"summary": "New weights", "value": MODEL_EXAMPLE}
            }
        ),
    ],
):
    """Validate, store and (optionally) activate a model version.

    The model ranks every organisation's hazards, so it is a programme-wide setting: only
    an admin, signed in, may store or activate one (coordinators and API keys get 403).
    """
    return JSONOut(
        priorities.create_model(
            session,
            document=body.model,
            name=body.name,
            notes=body.notes,
            activate=body.activate,
            principal=principal,
        ),
        status_code=201,
    )


@router.post(
    "/priority-models/{model_id}/activate",
    response_model=PriorityModelOut,
    summary="Make a stored version the active one (admins)",
    responses=problem_responses(401, 403, 404),
)
def activate_model(model_id: uuid.UUID, session: SessionDep, principal: PrincipalDep):
    """Activate a version; scores are computed again from the stored indicators.

    Admins only, signed in (a programme-wide setting).
    """
    return JSONOut(priorities.activate_model(session, model_id, principal))


EXPORT_COLUMNS = (
    "rank", "score", "band", "override_band", "override_justification", "external_id",
    "name", "organisation", "hazard_type", "classification", "status", "area_m2", "admin",
    "gates", "explanation", "hazard_id",
)  # fmt: skip


def _rows(page: dict[str, Any]) -> list[list[Any]]:
    out = []
    for item in page["items"]:
        ov = item["override"] or {}
        values = {
            **item,
            "override_band": ov.get("band"),
            "override_justification": ov.get("justification"),
            "admin": ",".join(item["admin"] or []),
            "gates": ",".join(f"{k}:{v}" for k, v in item["gates"].items()),
        }
        out.append([values[c] for c in EXPORT_COLUMNS])  # each writer neutralises
    return out


@router.get(
    "/priorities",
    response_model=Ranking,
    summary="Hazards ranked for clearance, with an explained score",
    responses=problem_responses(400, 401, 422),
)
def ranked(
    session: SessionDep,
    principal: PrincipalDep,
    admin: Annotated[str | None, Query(description="P-code of any level")] = None,
    organisation: Annotated[str | None, Query(description="organisation code")] = None,
    hazard_type: str | None = None,
    status: str | None = None,
    limit: Annotated[
        int | None,
        Query(ge=1, le=10_000, description="JSON page size (default 100)"),
    ] = None,
    offset: Annotated[
        int | None, Query(ge=0, description="JSON page start (default 0)")
    ] = None,
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
):
    """The ranking: score, band, per-criterion breakdown, gates, override, explanation.

    ``numberMatched`` counts the hazards the ranking lists under the filters (closed and
    handed-over hazards only when ``status`` asks for them). ``format=csv`` or ``xlsx`` gives
    the same rows for tasking meetings: the WHOLE ranking under the filters, never a page
    (``limit`` and ``offset`` are refused with a file format), up to 100,000 hazards (more
    is refused: narrow the filters). The file's row count is in ``X-Total-Count``. The CSV
    is UTF-8 with a BOM, as every CSV we serve.
    """
    filters = {
        "admin": admin,
        "organisation": organisation,
        "hazard_type": hazard_type,
        "status": status,
    }
    if format == "json":
        return JSONOut(
            priorities.ranked(
                session,
                principal=principal,
                limit=100 if limit is None else limit,
                offset=offset or 0,
                **filters,
            )
        )
    if limit is not None or offset:
        raise BadRequest(
            f"a {format.upper()} file holds the whole ranking: limit and offset page the "
            "JSON list only; narrow the file with admin, organisation, hazard_type or status"
        )
    page = priorities.ranking_file(session, principal=principal, **filters)
    name = f"safeground-priorities-v{page['model']['version']}"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}.{format}"',
        "X-Total-Count": str(page["numberMatched"]),
    }
    if format == "csv":
        return Response(
            csvout.to_text(EXPORT_COLUMNS, _rows(page)).encode("utf-8"),
            media_type=csvout.MEDIA_TYPE,
            headers=headers,
        )
    return Response(
        xlsxout.to_bytes("priorities", EXPORT_COLUMNS, _rows(page)),
        media_type=xlsxout.MEDIA_TYPE,
        headers=headers,
    )


@router.get(
    "/priorities/{hazard_id}/overrides",
    response_model=OverrideHistory,
    summary="The override audit trail",
)
def overrides(hazard_id: uuid.UUID, session: SessionDep, principal: PrincipalDep):
    """Every override of the hazard, with who, when and why; revoked ones included."""
    return JSONOut(priorities.override_history(session, hazard_id, principal))


@router.post(
    "/priorities/{hazard_id}/override",
    status_code=201,
    response_model=OverrideHistory,
    summary="Override a hazard's band, with a written justification",
    responses=problem_responses(401, 403, 404, 422),
)
def set_override(
    hazard_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    body: Annotated[
        OverrideCreate,
        Body(
            openapi_examples={
                "road": {
                    "summary": "Community request",
                    "value": {
                        "band": "high",
                        "justification": "The only road to the school crosses this field; "
                        "the village council asked for it in writing on 3 May.",
                    },
                }
            }
        ),
    ],
):
    """Record the band; it is shown beside the computed rank, never instead of it."""
    return JSONOut(
        priorities.set_override(
            session,
            hazard_id=hazard_id,
            band=body.band,
            justification=body.justification,
            principal=principal,
        ),
        status_code=201,
    )


@router.post(
    "/priorities/{hazard_id}/override/revoke",
    response_model=OverrideHistory,
    summary="Revoke a hazard's override (kept in the audit trail)",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def revoke_override(
    hazard_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    body: Annotated[
        Justification,
        Body(
            openapi_examples={
                "done": {
                    "summary": "Reason",
                    "value": {
                        "justification": "The council withdrew its request after the road was rebuilt.",
                    },
                }
            }
        ),
    ],
):
    """Revoke with a reason."""
    return JSONOut(
        priorities.revoke_override(
            session,
            hazard_id=hazard_id,
            justification=body.justification,
            principal=principal,
        )
    )


@router.post(
    "/priorities/{hazard_id}/do-no-harm",
    response_model=DoNoHarmOut,
    summary="Set or clear the do-no-harm gate (e.g. a land dispute)",
    responses=problem_responses(401, 403, 404, 422),
)
def do_no_harm(
    hazard_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    body: Annotated[
        DoNoHarm,
        Body(
            openapi_examples={
                "dispute": {
                    "summary": "Land dispute",
                    "value": {
                        "do_no_harm": True,
                        "justification": "Two families claim the land; clearing now would decide the dispute.",
                    },
                }
            }
        ),
    ],
):
    """A gate, not a weight: a flagged hazard is listed but not ranked for tasking."""
    priorities.set_do_no_harm(
        session,
        hazard_id=hazard_id,
        flag=body.do_no_harm,
        justification=body.justification,
        principal=principal,
    )
    return JSONOut({"hazard_id": str(hazard_id), "do_no_harm": body.do_no_harm})

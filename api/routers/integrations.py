"""Integrations: webhooks for field-data platforms, authenticated by organisation API keys."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request

from api.deps import SessionDep, SettingsDep, api_key_scheme
from api.errors import Unauthorized, problem_responses
from api.responses import GeoJSONOut
from api.routers.hazard_reports import written
from api.schemas.hazard_reports import HazardReportFeatureOut
from api.services import hazard_reports
from api.services.auth import Principal, principal_from_api_key, require_key_scope

router = APIRouter(prefix="/integrations", tags=["integrations"])

API_KEY_CHALLENGE = {"WWW-Authenticate": 'APIKey header="X-API-Key"'}


def get_integration_key(
    request: Request,
    session: SessionDep,
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The organisation API key (``X-API-Key``) of a webhook call; nothing else is accepted.

    Webhooks are set up once in a form server and run unattended, so they use an
    organisation's key, which an administrator can revoke, never a person's session.
    """
    if request.headers.get("authorization"):
        raise Unauthorized(
            "this webhook accepts only an organisation API key in the X-API-Key header; "
            "bearer tokens and other Authorization credentials are refused here. "
            "Ask an administrator for a key (POST /api/v1/api-keys) and remove the "
            "Authorization header",
            headers=API_KEY_CHALLENGE,
        )
    if not api_key:
        raise Unauthorized(
            "send the organisation's API key in the X-API-Key header",
            headers=API_KEY_CHALLENGE,
        )
    principal = principal_from_api_key(session, api_key)
    require_key_scope(principal, request.method, request.url.path)
    return principal


IntegrationKeyDep = Annotated[Principal, Depends(get_integration_key)]

KOBO_EXAMPLE = {
    "_id": 40213,
    "_uuid": "5b8f5d0e-2f55-4a43-9a9b-2f1f0e5d7c11",
    "meta/instanceID": "uuid:5b8f5d0e-2f55-4a43-9a9b-2f1f0e5d7c11",
    "_submission_time": "2024-05-17T06:05:07",
    "_submitted_by": "enumerator1",
    "_xform_id_string": "aXk9mQ2cR8vF",
    "today": "2024-05-17",
    "report/description": "Children found a metal object near the stream",
    "report/contamination": "ap_mine uxo",
    "report/location_text": "stream behind the school",
    "report/hazard_location": "49.1032 36.2051 152.0 4.5",
    "devices": [
        {"devices/device_type": "ap_mine", "devices/count": "2"},
        {"devices/device_type": "uxo", "devices/count": "1"},
    ],
    "informant/informant_name": "Informant name",
    "informant/informant_phone": "+380 00 000 0000",
    "informant/consent_to_contact": "yes",
}

ODK_EXAMPLE = {
    "__id": "uuid:0c1f3c2a-8a51-4c4e-b3a4-6f2d1c9e8b70",
    "meta": {"instanceID": "uuid:0c1f3c2a-8a51-4c4e-b3a4-6f2d1c9e8b70"},
    "__system": {"submissionDate": "2024-05-18T09:12:44.120Z"},
    "report": {
        "description": "Rows of anti-tank mines seen along the track",
        "contamination": "av_mine",
        "hazard_area": {
            "type": "Polygon",
            "coordinates": [
                [
                    [36.20, 49.10],
                    [36.21, 49.10],
                    [36.21, 49.11],
                    [36.20, 49.11],
                    [36.20, 49.10],
                ]
            ],
        },
    },
}


@router.post(
    "/kobo",
    status_code=201,
    response_model=HazardReportFeatureOut,
    response_class=GeoJSONOut,
    responses={
        200: {
            "description": "this submission was received before: the stored report",
            "model": HazardReportFeatureOut,
        },
        **problem_responses(401, 403, 409, 422),
    },
)
def receive_kobo_submission(
    session: SessionDep,
    settings: SettingsDep,
    principal: IntegrationKeyDep,
    submission: Annotated[
        dict[str, Any],
        Body(
            openapi_examples={
                "kobo": {
                    "summary": "A KoboToolbox REST-service submission",
                    "value": KOBO_EXAMPLE,
                },
                "odk_central": {
                    "summary": "An ODK Central-style submission (nested groups, GeoJSON)",
                    "value": ODK_EXAMPLE,
                },
            }
        ),
    ],
):
    """Receive one KoboToolbox (REST service) or ODK Central submission as a hazard report.

    Authenticate with the receiving organisation's API key in ``X-API-Key`` (in KoboToolbox:
    *Project → Settings → REST Services → Custom HTTP headers*); bearer tokens are refused.
    The report is stored with ``source = kobo``, unverified, for the key's organisation.

    Form fields are matched by name with the ``kobo`` profile (``api/ingest/profiles``),
    whatever group they sit in: geopoints (``"lat lon alt accuracy"``, latitude first) and
    geoshapes, select_multiple answers, repeat groups. An unknown coded value or a
    malformed geopoint is answered 422, naming the field, the value and a JSON pointer. The
    submission's id (``meta/rootUuid``, ``_uuid`` or ``meta/instanceID``) makes a re-sent
    submission return the stored report (200) instead of a duplicate.
    """
    result = hazard_reports.submit_kobo(
        session, principal=principal, submission=submission, settings=settings
    )
    return written(session, principal, result, 201 if result.created else 200)

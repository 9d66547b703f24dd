"""Intake's HTTP routes (CONTRACT §7): thin — check the caller, parse, call one handler."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.intake.auth import BearerCaller, Intake, bearer_scheme, request_caller
from services.intake.handlers import (
    authenticate_cad,
    handle_approval,
    handle_incident_read,
    handle_report,
    handle_roster_replace,
    parse_report,
)
from services.intake.openapi import (
    CAD_SIGNATURE,
    INCIDENT_ACCEPTED_EXAMPLE,
    REPORT_REQUEST_BODY,
    ROSTER_REQUEST_BODY,
)
from services.intake.reporting import ReportOutcome
from services.intake.statistics import handle_statistics_read
from shared.errors import InvalidInput, UnsupportedMediaType
from shared.stored_text import Storable

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "malformed request"},
    401: {"description": "no valid credential"},
    403: {"description": "the credential may not do this"},
    404: {"description": "no such incident or agency (for this credential)"},
    413: {"description": "body over 64 KiB"},
    415: {"description": "the body is not JSON"},
    422: {"description": "a field is invalid; `detail` names it"},
    429: {"description": "too many requests; see Retry-After"},
}


class IncidentAccepted(BaseModel):
    incident_id: uuid.UUID
    status_url: str
    result: str = Field(description="created, unchanged (a repeat) or updated (new facts)")

    model_config = ConfigDict(json_schema_extra={"examples": [INCIDENT_ACCEPTED_EXAMPLE]})


class ApprovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: Annotated[str, Field(min_length=1, max_length=64), Storable]


def _require_json(request: Request) -> None:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType("send the body as application/json")


def _accepted(outcome: ReportOutcome) -> Response:
    """`IncidentAccepted`, encoded directly: a model built only to be dumped again costs more
    than the three fields it holds."""
    incident_id = str(outcome.incident_id)
    return Response(
        orjson.dumps(
            {
                "incident_id": incident_id,
                "status_url": f"/v1/incidents/{incident_id}",
                "result": outcome.result,
            }
        ),
        status_code=202 if outcome.result == "created" else 200,
        media_type="application/json",
    )


def intake_router() -> APIRouter:
    router = APIRouter(prefix="/v1", responses=ERRORS)

    @router.post(
        "/incidents",
        tags=["incidents"],
        summary="Report an incident (commander, supervisor, coordinator, manager, chief)",
        status_code=202,
        response_model=IncidentAccepted,
        responses={200: {"model": IncidentAccepted, "description": "a known incident"}},
        openapi_extra={
            "requestBody": REPORT_REQUEST_BODY,
            "security": [{bearer_scheme.scheme_name: []}],
        },
    )
    async def report_incident(request: Request) -> Response:
        ctx, caller = await request_caller(request)
        _require_json(request)
        report = parse_report(ctx, await request.body())
        return _accepted(await handle_report(ctx, report, caller))

    @router.post(
        "/cad/{agency}/events",
        tags=["incidents"],
        summary="Report an incident from the agency's CAD system (signed webhook)",
        status_code=202,
        response_model=IncidentAccepted,
        responses={200: {"model": IncidentAccepted, "description": "a known incident"}},
        openapi_extra={"requestBody": REPORT_REQUEST_BODY, "security": [{CAD_SIGNATURE: []}]},
    )
    async def cad_event(
        agency: str,
        request: Request,
        ctx: Intake,
        x_pst_signature: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Response:
        body = await request.body()
        caller = await authenticate_cad(ctx, agency, body, x_pst_signature)
        ctx.cad_limiter.check(f"cad:{agency}", now=ctx.runtime.clock.now().timestamp())
        _require_json(request)
        report = parse_report(ctx, body)
        if report.external_id is None:
            raise InvalidInput("external_id: required in a CAD report (the CAD incident number)")
        return _accepted(await handle_report(ctx, report, caller))

    @router.get(
        "/incidents/{incident_id}",
        tags=["incidents"],
        summary="An incident's decision and assignments (coordinator, manager, its reporter)",
    )
    async def read_incident(
        incident_id: uuid.UUID, ctx: Intake, caller: BearerCaller
    ) -> dict[str, Any]:
        return await handle_incident_read(ctx, caller, incident_id)

    @router.put(
        "/agencies/{agency}/roster",
        tags=["roster"],
        summary="Replace the agency's roster of specialists (coordinator, manager)",
        openapi_extra={"requestBody": ROSTER_REQUEST_BODY},
    )
    async def replace_roster(
        agency: str, request: Request, ctx: Intake, caller: BearerCaller
    ) -> dict[str, Any]:
        _require_json(request)
        change = await handle_roster_replace(ctx, caller, agency, await request.body())
        return change.as_dict()

    @router.post(
        "/incidents/{incident_id}/approvals",
        tags=["incidents"],
        summary="Record that an on-duty member's Bureau Director was consulted (kck coordinator)",
        status_code=202,
    )
    async def record_approval(
        incident_id: uuid.UUID, approval: ApprovalIn, ctx: Intake, caller: BearerCaller
    ) -> dict[str, Any]:
        return await handle_approval(ctx, caller, incident_id, approval.member_id)

    @router.get(
        "/agencies/{agency}/statistics",
        tags=["reports"],
        summary="The quarter's anonymous statistics (chief, manager, coordinator)",
    )
    async def read_statistics(
        agency: str,
        ctx: Intake,
        caller: BearerCaller,
        quarter: Annotated[str | None, Query(description="YYYYQn, e.g. 2026Q4")] = None,
    ) -> dict[str, Any]:
        return await handle_statistics_read(ctx, caller, agency, quarter)

    return router

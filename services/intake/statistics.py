"""`GET /v1/agencies/{agency}/statistics?quarter=YYYYQn` (CONTRACT §7): the quarter's anonymous
statistics for a chief, manager or coordinator of the agency. Counts of 1-4 come as "<5"; no
name, member id, incident id or day is in the answer (830 §IV.D.1)."""

from __future__ import annotations

from typing import Any

from services.intake.audit import record_audit
from services.intake.context import IntakeContext
from services.intake.credentials import Caller
from services.reports.periods import BadQuarter
from services.reports.statistics import READERS, parse_quarter, statistics_of
from shared.db.unit_of_work import unit_of_work
from shared.errors import Forbidden, InvalidInput, NotFound


async def handle_statistics_read(
    ctx: IntakeContext, caller: Caller, agency: str, quarter_text: str | None
) -> dict[str, Any]:
    if agency not in ctx.registry:
        raise NotFound(f"no agency {agency!r}")
    if agency != caller.agency:
        raise Forbidden(f"this credential is for agency {caller.agency!r}, not {agency!r}")
    if caller.role not in READERS:
        raise Forbidden("only the chief, managers and coordinators may read the statistics")
    try:
        quarter = parse_quarter(quarter_text)
    except BadQuarter as error:
        raise InvalidInput(str(error)) from None
    async with unit_of_work(ctx.runtime.sessions) as session:
        answer = await statistics_of(session, ctx.registry.get(agency), quarter)
        record_audit(
            session,
            caller,
            action="statistics.read",
            object_type="statistics",
            object_id=f"{agency}/{quarter}",
            at=ctx.runtime.clock.now(),
        )
        await session.commit()
    return answer.as_json()

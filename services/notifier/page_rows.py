"""What a page request becomes: its code, its text, its row in the outbox of pages. Pure.

Both ways of handling page requests use it (`page_commands`): one request per transaction, and a
run of them in one transaction. The run must leave exactly the rows that handling its requests
one after the other would, so `run_page_rows` carries forward what each new page changes for
the requests after it: its assignment's channels and code, and its phone's open codes (a code is
unique among a phone's open pages, and two requests in one run may be for the same phone).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from services.notifier.call_script import call_say_text
from services.notifier.page_codes import choose_page_code
from services.notifier.page_states import PageKind, SendState
from services.notifier.page_text import PageIncident, PageLocation, page_text
from shared.events import PageFacts, PageRequested
from shared.settings import Settings

MIN_SEND_WINDOW = timedelta(seconds=30)


def incident_from_facts(facts: PageFacts) -> PageIncident:
    """What a page may say, from the facts the dispatcher sent (ValueError when invalid)."""
    location = None
    if facts.lat is not None and facts.lon is not None:
        location = PageLocation(facts.lat, facts.lon, facts.address)
    return PageIncident(
        agency=facts.agency,
        occurred_at=facts.occurred_at,
        time_zone=facts.time_zone,
        event=facts.event,
        location=location,
    )


def send_deadline(*, now: datetime, answer_by: datetime, ack_timeout_s: float) -> datetime:
    """The page is sent by then or not at all: at most the channel's answer timeout from now,
    never after the answer is due, and never less than a short window."""
    deadline = min(now + timedelta(seconds=ack_timeout_s), answer_by)
    return max(deadline, now + MIN_SEND_WINDOW)


@dataclass(frozen=True, slots=True)
class AssignmentPaging:
    """What a new page of an assignment depends on, read in one statement."""

    paged_channels: frozenset[str]
    """The channels the assignment already has a page on."""
    code: str | None
    """The code its pages share, if it has one."""
    answered: bool
    withdrawn: bool
    open_codes: frozenset[str]
    """The codes of the phone's open pages; read only when the assignment has no code yet."""


@dataclass(frozen=True, slots=True)
class NewPage:
    """The page a request adds: its code, and whether it is closed at birth (the assignment
    was withdrawn or answered already), which cancels it and leaves its code free."""

    code: str
    closed: bool


def new_page(channel: str, paging: AssignmentPaging, rng: random.Random) -> NewPage | None:
    """The page a request on `channel` adds, or None when the assignment has one there already
    (a repeated command). Its pages share one code; the first draws one the phone has not open
    (ValueError when every code is)."""
    if channel in paging.paged_channels:
        return None
    return NewPage(
        code=paging.code or choose_page_code(paging.open_codes, rng),
        closed=paging.withdrawn or paging.answered,
    )


PAGE_COLUMNS = (
    "id",
    "kind",
    "channel",
    "agency",
    "assignment_id",
    "incident_id",
    "member_id",
    "phone",
    "code",
    "body",
    "facts",
    "remind_supervisor",
    "state",
    "attempts",
    "send_after",
    "send_deadline",
    "twilio_status_rank",
    "closed_at",
    "closed_reason",
    "created_at",
)
"""The columns of `page_row`, in order (the others keep their defaults)."""


def page_row(
    event: PageRequested,
    incident: PageIncident,
    page: NewPage,
    *,
    now: datetime,
    settings: Settings,
) -> dict[str, Any]:
    """The `notifier_pages` row of the request's page: its text on its channel, its send
    deadline, queued or (closed at birth) cancelled."""
    if event.channel == "sms":
        body = page_text(incident, code=page.code, remind_supervisor=event.remind_supervisor)
        ack_timeout_s = settings.sms_ack_timeout_s
    else:
        body = call_say_text(incident, remind_supervisor=event.remind_supervisor)
        ack_timeout_s = settings.call_ack_timeout_s
    return {
        "id": uuid.uuid4(),
        "kind": PageKind.PAGE.value,
        "channel": event.channel,
        "agency": event.facts.agency,
        "assignment_id": event.assignment_id,
        "incident_id": event.incident_id,
        "member_id": event.member_id,
        "phone": event.phone,
        "code": page.code,
        "body": body,
        "facts": event.facts.model_dump(mode="json"),
        "remind_supervisor": event.remind_supervisor,
        "state": (SendState.CANCELLED if page.closed else SendState.QUEUED).value,
        "attempts": 0,
        "send_after": now,
        "send_deadline": send_deadline(
            now=now, answer_by=event.answer_by, ack_timeout_s=ack_timeout_s
        ),
        "twilio_status_rank": 0,
        "closed_at": now if page.closed else None,
        "closed_reason": "withdrawn" if page.closed else None,
        "created_at": now,
    }


def run_page_rows(
    requests: Sequence[tuple[PageRequested, PageIncident]],
    pagings: Mapping[tuple[uuid.UUID, str], AssignmentPaging],
    *,
    rng: random.Random,
    now: datetime,
    settings: Settings,
) -> list[dict[str, Any]]:
    """The rows that handling `requests` one after the other would insert, from what was read
    before the first of them (`pagings`, by assignment and phone): each new page counts for the
    requests after it, so a repeated channel adds nothing, a second channel shares the code and
    a second assignment of the phone draws another one. Codes are drawn in the same order as
    one at a time, so the same `rng` gives the same codes."""
    assignments = {assignment_id: paging for (assignment_id, _), paging in pagings.items()}
    open_codes: dict[str, set[str]] = {}
    for (_, phone), paging in pagings.items():
        # Every row of a phone whose assignment has no code carries all its open codes.
        open_codes.setdefault(phone, set()).update(paging.open_codes)
    rows = []
    for event, incident in requests:
        phone_codes = open_codes[event.phone]
        paging = replace(assignments[event.assignment_id], open_codes=frozenset(phone_codes))
        page = new_page(event.channel, paging, rng)
        if page is None:
            continue
        assignments[event.assignment_id] = replace(
            paging, paged_channels=paging.paged_channels | {event.channel}, code=page.code
        )
        if not page.closed:
            phone_codes.add(page.code)
        rows.append(page_row(event, incident, page, now=now, settings=settings))
    return rows


def queued_channels(rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """The channels whose sender has a new page to send in `rows`."""
    return {row["channel"] for row in rows if row["state"] == SendState.QUEUED.value}

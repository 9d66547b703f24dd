"""The events the services exchange over Kafka: small, versioned, one schema per type.

Every event carries `event_id` (consumers record it, so a redelivery changes nothing),
`event_type` (the discriminator) and `version`. The topic each type travels on is named in
`EVENT_TOPICS`; the key is always the incident id, so one incident's events stay in order.
Consumers are nonetheless written to tolerate reordering (revisions and state machines that
never move backwards), because relays in several processes may interleave.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from shared.kafka.topics import Topics


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: str
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    version: Literal[1] = 1
    occurred_at: AwareDatetime


class Reporter(BaseModel):
    """Who sent a report: a token's holder or an agency's CAD system (never a person's words)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    via: Literal["api", "cad", "console"]
    role: str
    name: str


class IncidentReported(Event):
    """A new incident (revision 1) or new facts for a known one (revision > 1)."""

    event_type: Literal["incident.reported"] = "incident.reported"
    incident_id: uuid.UUID
    agency: str
    revision: int = Field(ge=1)
    report: dict[str, Any]
    reporter: Reporter


class ApprovalRecorded(Event):
    """A kck coordinator recorded that an on-duty member's Bureau Director was consulted."""

    event_type: Literal["incident.approval_recorded"] = "incident.approval_recorded"
    incident_id: uuid.UUID
    agency: str
    member_id: str
    recorded_by: str


class PageFacts(BaseModel):
    """What a page may say about an incident: time, place, kind. Never names, never a summary."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agency: str
    occurred_at: AwareDatetime
    time_zone: str
    event: str
    lat: float | None = None
    lon: float | None = None
    address: str | None = None


class PageRequested(Event):
    """The dispatcher asks the notifier to reach a specialist by SMS or by voice call."""

    event_type: Literal["page.requested"] = "page.requested"
    assignment_id: uuid.UUID
    incident_id: uuid.UUID
    member_id: str
    phone: str
    channel: Literal["sms", "call"]
    facts: PageFacts
    remind_supervisor: bool
    answer_by: AwareDatetime


class PageWithdrawn(Event):
    """The assignment no longer needs an answer (enough accepted, timed out, stood down)."""

    event_type: Literal["page.withdrawn"] = "page.withdrawn"
    assignment_id: uuid.UUID
    incident_id: uuid.UUID
    reason: str


class CoordinatorAlertRaised(Event):
    """Something a coordinator must know now (nobody left to page, a dead letter, ...)."""

    event_type: Literal["coordinator.alert"] = "coordinator.alert"
    alert_id: uuid.UUID
    agency: str
    incident_id: uuid.UUID | None
    reason: str
    message: str
    member_id: str | None = None
    """The specialist the alert is about, when it is about one (repeated failures: the console
    opens a review)."""
    failures: int | None = Field(default=None, ge=0)
    """Repeated failures: how many the dispatcher counted in the twelve months."""


PageOutcome = Literal[
    "sent",  # Twilio accepted the message or call
    "delivered",  # the carrier confirmed delivery of the SMS
    "delivery_failed",  # the SMS failed or was undelivered: call instead
    "send_failed",  # a permanent error (invalid number, ...): move on
    "send_uncertain",  # Twilio may or may not have sent it: do not resend, call sooner
    "opted_out",  # the number sent STOP: call instead, tell the coordinators
    "call_unanswered",  # the call ended with no keypress
    "accepted",
    "declined",
]


class PageOutcomeReported(Event):
    """What became of a page, from the notifier."""

    event_type: Literal["page.outcome"] = "page.outcome"
    assignment_id: uuid.UUID
    incident_id: uuid.UUID
    channel: Literal["sms", "call"]
    outcome: PageOutcome
    detail: str | None = None


class StandDownRequested(Event):
    """A coordinator stood the team down from the console: the incident is closed, its open
    assignments are cancelled and everyone already paged or accepted is told."""

    event_type: Literal["incident.stand_down_requested"] = "incident.stand_down_requested"
    incident_id: uuid.UUID
    agency: str
    requested_by: str


class ManualPageRequested(Event):
    """A coordinator asked for one named specialist by hand (the coordinator's call)."""

    event_type: Literal["incident.manual_page_requested"] = "incident.manual_page_requested"
    incident_id: uuid.UUID
    agency: str
    member_id: str
    requested_by: str


class NoticeRequested(Event):
    """One SMS that asks for no answer: the team was stood down, the specialist is no longer
    needed. Page facts only, never names."""

    event_type: Literal["notice.requested"] = "notice.requested"
    assignment_id: uuid.UUID
    incident_id: uuid.UUID
    member_id: str
    phone: str
    notice: Literal["stood_down"]
    facts: PageFacts


class ActivationDecided(Event):
    """The dispatcher stored a decision for a revision of an incident (read models)."""

    event_type: Literal["activation.decided"] = "activation.decided"
    incident_id: uuid.UUID
    agency: str
    revision: int = Field(ge=1)
    status: str
    activate: bool
    criteria: list[str]
    specialists: int
    reasons: list[str]
    facts: PageFacts


class ActivationClosed(Event):
    """The incident was closed (stood down): nobody more is paged for it."""

    event_type: Literal["activation.closed"] = "activation.closed"
    incident_id: uuid.UUID
    agency: str
    reason: str
    closed_by: str


class AssignmentChanged(Event):
    """An assignment was created or moved to a state of CONTRACT §6.6 (read models).
    `next_step_at` is when the dispatcher acts next if nobody answers (SMS → call → next)."""

    event_type: Literal["assignment.changed"] = "assignment.changed"
    assignment_id: uuid.UUID
    incident_id: uuid.UUID
    agency: str
    member_id: str
    state: str
    reason: str | None = None
    next_step_at: AwareDatetime | None = None
    by: str | None = None


class MessageKeptUnsent(Event):
    """Twilio is not configured: the message the notifier would have sent (test phones)."""

    event_type: Literal["message.kept_unsent"] = "message.kept_unsent"
    page_id: uuid.UUID
    kind: str
    channel: Literal["sms", "call"]
    agency: str
    incident_id: uuid.UUID | None
    assignment_id: uuid.UUID | None
    phone: str
    code: str | None
    text: str


class ContactLogInvited(Event):
    """An accepted assignment has ended (stand-down, or 24 hours after its acceptance): the
    specialist is asked, once, to log the contacts it led to (issue 13). Dispatcher →
    notifier (the exchange by SMS) and the console (the overtime report when eligible)."""

    event_type: Literal["contact_log.invited"] = "contact_log.invited"
    assignment_id: uuid.UUID
    incident_id: uuid.UUID
    agency: str
    member_id: str
    phone: str
    accepted_at: AwareDatetime
    ended_at: AwareDatetime
    overtime_eligible: bool


ContactKind = Literal["member", "family"]
Referral = Literal["eap", "mhp", "other", "none"]
"""EAP, the team's mental health professional, another professional, or none."""


class ContactLogged(Event):
    """A specialist logged contacts: counts only, no name, no incident, no specialist, no free
    text (830 §III.H). `month` is the agency's local month it was logged in ("2026-11")."""

    event_type: Literal["contact.logged"] = "contact.logged"
    contact_id: uuid.UUID
    agency: str
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    source: Literal["incident", "direct"]
    people: int = Field(ge=1, le=50)
    kind: ContactKind
    referral: Referral
    hours: float = Field(ge=0, le=48)


class OvertimeHoursLogged(Event):
    """The hours a specialist gave on an overtime-eligible assignment (830 §III.D), for payroll:
    linked to the assignment, never to the contact's answers."""

    event_type: Literal["overtime.hours_logged"] = "overtime.hours_logged"
    assignment_id: uuid.UUID
    agency: str
    hours: float = Field(ge=0, le=48)


class PhoneConfirmationRequested(Event):
    """A roster phone is new or changed: the notifier texts it a code, and the number is not
    paged until the code comes back from it (issue 14)."""

    event_type: Literal["roster.phone_confirmation_requested"] = (
        "roster.phone_confirmation_requested"
    )
    agency: str
    member_id: str
    phone: str


AnyEvent = Annotated[
    IncidentReported
    | ApprovalRecorded
    | PageRequested
    | PageWithdrawn
    | CoordinatorAlertRaised
    | PageOutcomeReported
    | StandDownRequested
    | ManualPageRequested
    | NoticeRequested
    | ActivationDecided
    | ActivationClosed
    | AssignmentChanged
    | MessageKeptUnsent
    | ContactLogInvited
    | ContactLogged
    | OvertimeHoursLogged
    | PhoneConfirmationRequested,
    Field(discriminator="event_type"),
]
_ANY_EVENT: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


def parse_event(raw: bytes | str) -> AnyEvent:
    """Parse an event from its JSON; raises pydantic.ValidationError when it is not one."""
    return _ANY_EVENT.validate_json(raw)


def encode_event(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json")


def topic_for(event: Event, topics: Topics) -> str:
    """The one topic each event type travels on."""
    match event:
        case IncidentReported() | ApprovalRecorded() | StandDownRequested() | ManualPageRequested():
            return topics.incidents
        case (
            PageRequested()
            | PageWithdrawn()
            | CoordinatorAlertRaised()
            | NoticeRequested()
            | ContactLogInvited()
            | PhoneConfirmationRequested()
        ):
            return topics.page_commands
        case (
            ActivationDecided()
            | ActivationClosed()
            | AssignmentChanged()
            | MessageKeptUnsent()
            | ContactLogged()
            | OvertimeHoursLogged()
        ):
            return topics.activity
        case PageOutcomeReported():
            return topics.page_outcomes
    raise TypeError(f"no topic for {type(event).__name__}")


def event_key(event: Event) -> str:
    """Every event is keyed by its incident, or by its agency when it has none."""
    incident_id = getattr(event, "incident_id", None)
    if incident_id is not None:
        return str(incident_id)
    return str(getattr(event, "agency", "none"))

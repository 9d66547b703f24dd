"""The roster's and the training's forms read into what `shared.roster` takes (issue 14):
each field checked, a wrong one refused (422) naming it, before anything is stored."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.errors import InvalidInput
from shared.incident_report import validation_error_line
from shared.roster.details import MemberDetails
from shared.roster.entry import Language, MemberId, Phone, ShortText
from shared.roster.lifecycle import MAX_DOCUMENT, MAX_REASON, Transition, TransitionRequest
from shared.roster.steps import Applicant
from shared.roster.training_records import MAX_TOPICS, Mark

MARK_PREFIX = "mark-"
MEMO_PREFIX = "memo-"
CHECK_PREFIX = "check-"
MAX_TITLE = 120
MAX_TOPIC = 80
MAX_MEMO = 120


def text(form: Mapping[str, str], name: str, *, limit: int, required: bool = False) -> str:
    """The field stripped; 422 when it is too long, missing while required, or holds NUL."""
    value = form.get(name, "").strip()
    if "\x00" in value:
        raise InvalidInput(f"{name}: must not contain the NUL character")
    if len(value) > limit:
        raise InvalidInput(f"{name}: at most {limit} characters")
    if required and not value:
        raise InvalidInput(f"{name}: required")
    return value


def languages(form: Mapping[str, str]) -> list[str]:
    return [part.strip() for part in form.get("languages", "").split(";") if part.strip()]


class _ApplicantForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: MemberId
    name: ShortText
    phone: Phone
    languages: list[Language] = Field(default_factory=list, max_length=10)


def applicant(form: Mapping[str, str]) -> Applicant:
    try:
        given = _ApplicantForm.model_validate(
            {
                "member_id": form.get("member_id", ""),
                "name": form.get("name", ""),
                "phone": form.get("phone", "").strip(),
                "languages": languages(form),
            }
        )
    except ValidationError as error:
        raise InvalidInput(validation_error_line(error)) from None
    return Applicant(given.member_id, given.name, given.phone, tuple(given.languages))


def details(form: Mapping[str, str]) -> MemberDetails:
    try:
        return MemberDetails.model_validate(
            {
                "name": form.get("name", ""),
                "phone": form.get("phone", "").strip(),
                "on_duty": form.get("on_duty") == "true",
                "on_call": form.get("on_call") == "true",
                "under_investigation": form.get("under_investigation") == "true",
                "languages": languages(form),
            }
        )
    except ValidationError as error:
        raise InvalidInput(validation_error_line(error)) from None


def step_request(form: Mapping[str, str], step: Transition, role: str) -> TransitionRequest:
    """The step's form: the reason, the document's reference, the checks ticked (one box
    each, `check-<id>`) and the grounds chosen. The lifecycle judges them (409)."""
    return TransitionRequest(
        transition=step.id,
        role=role,
        reason=text(form, "reason", limit=MAX_REASON, required=True),
        document=text(form, "document", limit=MAX_DOCUMENT) or None,
        checks=frozenset(
            check.id for check in step.checks if form.get(f"{CHECK_PREFIX}{check.id}") == "yes"
        ),
        grounds=text(form, "grounds", limit=40) or None,
    )


def held_on(form: Mapping[str, str]) -> date:
    value = form.get("held_on", "").strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"held_on: {value!r} is not a date (YYYY-MM-DD)") from None


def topics(form: Mapping[str, str]) -> list[str]:
    """One topic a line."""
    found = [
        line.strip()
        for line in text(form, "topics", limit=MAX_TOPICS * (MAX_TOPIC + 2)).splitlines()
        if line.strip()
    ]
    if len(found) > MAX_TOPICS or any(len(topic) > MAX_TOPIC for topic in found):
        raise InvalidInput(f"topics: at most {MAX_TOPICS}, one a line, each at most {MAX_TOPIC}")
    return found


def marks(form: Mapping[str, str]) -> tuple[list[Mark], list[str]]:
    """The members marked attended or excused (with the memo), and those marked absent."""
    given: list[Mark] = []
    absent: list[str] = []
    for key, outcome in form.items():
        if not key.startswith(MARK_PREFIX):
            continue
        member_id = key.removeprefix(MARK_PREFIX)
        if not member_id or len(member_id) > 64 or "\x00" in member_id:
            raise InvalidInput("marks: a member id that is no member id")
        memo = text(form, f"{MEMO_PREFIX}{member_id}", limit=MAX_MEMO)
        if outcome == "attended":
            given.append(Mark(member_id, "attended"))
        elif outcome == "excused":
            given.append(Mark(member_id, "excused", memo or None))
        elif outcome == "absent":
            absent.append(member_id)
        else:
            raise InvalidInput(f"{member_id}: attended, excused or absent")
    return given, absent

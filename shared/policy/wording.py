"""The words a decision's reasons use for the facts of a report (never a person's name)."""

from __future__ import annotations

from typing import Final

from shared.incident_report import Event, Outcome, Person, PersonKind

EVENT_WORDS: Final = {
    Event.OFFICER_INVOLVED_SHOOTING: "an officer-involved shooting",
    Event.USE_OF_FORCE: "a use of force",
    Event.VEHICLE_COLLISION: "a vehicle collision",
    Event.VEHICLE_PURSUIT: "a vehicle pursuit",
    Event.LINE_OF_DUTY_DEATH: "a line-of-duty death",
    Event.MEMBER_ILLNESS: "a member's illness",
    Event.MEMBER_INJURY: "a member's injury",
    Event.FAMILY_DEATH: "a death in a member's family",
    Event.TACTICAL_DEPLOYMENT: "a tactical deployment",
    Event.NATURAL_DISASTER: "a natural disaster",
    Event.OTHER: "another kind of incident",
}

FLAG_WORDS: Final = {
    "department_vehicle": "a member was operating a department vehicle on assigned duty",
    "pursuit": "the outcome resulted from a motor vehicle pursuit",
    "weapon_discharged": "a member discharged a weapon in defence of self or others",
    "tactical_team_deployed": "the tactical team was deployed",
    "requested_by_commander": "the on-scene commander or a supervisor asked for the team",
    "directed_by_chief": "the chief or designee directed the activation",
    "consent_given": "the affected member gave express permission",
}

OUTCOME_WORDS: Final = {
    Outcome.DEATH: "died",
    Outcome.SERIOUS_BODILY_INJURY: "suffered a serious bodily injury",
    Outcome.INJURY: "was injured",
    Outcome.SERIOUS_ILLNESS: "has a serious illness",
    Outcome.NONE: "was involved",
}


def describe_person(person: Person, *, with_duty: bool) -> str:
    """E.g. `member E1002 died`, `a member of the public suffered a serious bodily injury`."""
    if person.kind is PersonKind.MEMBER:
        subject = f"member {person.member_id}"
    elif person.kind is PersonKind.FAMILY:
        subject = f"a family member of member {person.member_id}"
    else:
        subject = "a member of the public"
    phrase = f"{subject} {OUTCOME_WORDS[person.outcome]}"
    if with_duty and person.on_duty is not None:
        phrase += " on duty" if person.on_duty else " off duty"
    return phrase

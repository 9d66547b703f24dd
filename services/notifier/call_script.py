"""The voice call that follows an unanswered SMS page (CONTRACT §6.5): what it says, the TwiML
that says it and gathers one key, and what the key means. Pure functions of their inputs."""

from __future__ import annotations

from enum import StrEnum

from twilio.twiml.voice_response import VoiceResponse

from services.notifier.page_text import (
    CONFIDENTIALITY_REMINDER,
    SUPERVISOR_REMINDER,
    PageIncident,
    coordinates_words,
    event_words,
    local_time,
    plain_gsm_text,
)
from shared.calendar_names import DAY_NAMES, MONTH_NAMES

SPOKEN_ADDRESS_MAX_CHARS = 200
GATHER_TIMEOUT_S = 10
SAY_LANGUAGE = "en-US"
INSTRUCTIONS = "Press 1 to accept, 2 to decline, star to repeat."
NO_ANSWER_WORDS = "No key was pressed. Goodbye."


class Keypress(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    REPEAT = "repeat"
    UNRECOGNISED = "unrecognised"


def spoken_time_words(incident: PageIncident) -> str:
    """The incident's local time as a voice says it: `Friday, November 20, at 10:14 PM`."""
    moment = local_time(incident)
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    day = DAY_NAMES[moment.weekday()]
    month = MONTH_NAMES[moment.month - 1]
    return f"{day}, {month} {moment.day}, at {hour}:{moment:%M} {half}"


def spoken_place_words(incident: PageIncident) -> str:
    location = incident.location
    if location is None:
        return "at a location not given"
    address = plain_gsm_text(location.address or "")[:SPOKEN_ADDRESS_MAX_CHARS].rstrip(" ,")
    if address:
        return f"at {address}"
    return f"at coordinates {coordinates_words(location).replace(',', ', ')}"


def call_say_text(incident: PageIncident, *, remind_supervisor: bool) -> str:
    """What the call says: who pages, the event, place and time, the reminders, the keys."""
    agency = plain_gsm_text(incident.agency)
    event = event_words(incident.event)
    parts = [
        f"Peer support team page from {agency}.",
        f"{event[:1].upper()}{event[1:]} {spoken_place_words(incident)},"
        f" {spoken_time_words(incident)}.",
        CONFIDENTIALITY_REMINDER,
    ]
    if remind_supervisor:
        parts.append(SUPERVISOR_REMINDER)
    parts.append(INSTRUCTIONS)
    return " ".join(parts)


def call_twiml(incident: PageIncident, *, action_url: str, remind_supervisor: bool) -> str:
    """The call's TwiML: the script inside a one-key `<Gather>` posting to `action_url`, said
    a second time when no key is pressed, then goodbye."""
    if not action_url:
        raise ValueError("the gather needs an action URL")
    words = call_say_text(incident, remind_supervisor=remind_supervisor)
    response = VoiceResponse()
    for _ in range(2):
        gather = response.gather(
            num_digits=1, action=action_url, method="POST", timeout=GATHER_TIMEOUT_S
        )
        gather.say(words, language=SAY_LANGUAGE)
    response.say(NO_ANSWER_WORDS, language=SAY_LANGUAGE)
    response.hangup()
    return str(response.to_xml())


def keypress_answer(digits: str) -> Keypress:
    """What the key Twilio reports in `Digits` means."""
    match digits.strip():
        case "1":
            return Keypress.ACCEPT
        case "2":
            return Keypress.DECLINE
        case "*":
            return Keypress.REPEAT
        case _:
            return Keypress.UNRECOGNISED


def closing_twiml(words: str) -> str:
    """TwiML that says `words` (the caller's confirmation) and hangs up."""
    response = VoiceResponse()
    response.say(words, language=SAY_LANGUAGE)
    response.hangup()
    return str(response.to_xml())

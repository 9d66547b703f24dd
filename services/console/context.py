"""What the console's routes are given: built once in the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher

from services.console.live import LiveBoards
from services.console.web.pages import Pages
from services.intake.context import IntakeContext
from shared.policy import AgencyRegistry
from shared.runtime import ServiceRuntime


@dataclass
class ConsoleContext:
    """`intake`: intake's handlers' context, for the forms that make or change reports and the
    roster (changes go through the owning service's handlers). `secure_cookies`: the console is
    reached over https (`PST_PUBLIC_URL`), so cookies are marked Secure."""

    runtime: ServiceRuntime
    registry: AgencyRegistry
    intake: IntakeContext
    pages: Pages
    live: LiveBoards
    secure_cookies: bool
    hasher: PasswordHasher

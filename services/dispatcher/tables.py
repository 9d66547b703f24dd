"""The tables the dispatcher reads and writes, as Core `Table`s.

Every event's work runs through these with Core statements (a multi-row INSERT, an
UPDATE … RETURNING, a SELECT of the columns it needs) rather than ORM objects: the ORM's
identity map and unit-of-work flush cost several times the CPU of the statement itself, and
the dispatcher handles several events per incident. The ORM classes stay the one definition of
each table (migrations, intake's reads, tests); these are their `__table__`s.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from services.dispatcher.models import EscalationTimer, PageOutcomeRecord, RecordedApproval
from shared.activation_records import ActivationDecision, Assignment, CoordinatorAlert
from shared.roster.models import RosterEntry

DECISIONS = cast(Table, ActivationDecision.__table__)
ASSIGNMENTS = cast(Table, Assignment.__table__)
ALERTS = cast(Table, CoordinatorAlert.__table__)
TIMERS = cast(Table, EscalationTimer.__table__)
APPROVALS = cast(Table, RecordedApproval.__table__)
PAGE_OUTCOMES = cast(Table, PageOutcomeRecord.__table__)
ROSTER = cast(Table, RosterEntry.__table__)

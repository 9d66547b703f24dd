"""Every table of the project, for Alembic's autogenerate."""

from services.console import models as console_models
from services.dispatcher import models as dispatcher_models
from services.intake import models as intake_models
from services.notifier import models as notifier_models
from services.reports import models as report_models
from shared import activation_records, dead_letters, processed_events
from shared.db.base import Base
from shared.outbox import models as outbox_models
from shared.roster import models as roster_models

metadata = Base.metadata

__all__ = ["metadata"]
_ = (
    activation_records,
    console_models,
    dispatcher_models,
    intake_models,
    notifier_models,
    dead_letters,
    processed_events,
    outbox_models,
    report_models,
    roster_models,
)

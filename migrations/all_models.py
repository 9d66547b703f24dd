"""Every table of the project, for Alembic's autogenerate."""

from services.intake import models as intake_models
from shared import dead_letters, processed_events
from shared.db.base import Base
from shared.outbox import models as outbox_models
from shared.roster import models as roster_models

metadata = Base.metadata

__all__ = ["metadata"]
_ = (intake_models, dead_letters, processed_events, outbox_models, roster_models)

"""Every table of the project, for Alembic's autogenerate and the schema checks in the tests."""

from shared import processed_events as _processed_events
from shared.db.base import Base
from shared.outbox import models as _outbox_models

metadata = Base.metadata

__all__ = ["metadata"]
_ = (_outbox_models, _processed_events)

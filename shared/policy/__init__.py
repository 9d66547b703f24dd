"""The pure policy core: agencies and policies as data, and the activation decision.

Load once at start-up with `load_registry()`, then `decide(report, registry.get(report.agency))`.
"""

from shared.policy.engine import decide
from shared.policy.errors import PolicyDataError, UnknownAgency
from shared.policy.loading import DEFAULT_DATA_DIR, load_registry
from shared.policy.model import (
    AgencyConfig,
    Criterion,
    Decision,
    OnDutySpecialistRule,
    OvertimeRule,
    Policy,
    Role,
    Status,
)
from shared.policy.registry import AgencyRegistry

__all__ = [
    "DEFAULT_DATA_DIR",
    "AgencyConfig",
    "AgencyRegistry",
    "Criterion",
    "Decision",
    "OnDutySpecialistRule",
    "OvertimeRule",
    "Policy",
    "PolicyDataError",
    "Role",
    "Status",
    "UnknownAgency",
    "decide",
    "load_registry",
]

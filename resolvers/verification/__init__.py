"""Checks that a number's provider configuration works, whatever transport asked.

target = target_for_row(row, ctx.secrets)        # or target_for_configuration(...)
result = await check(target, CheckOptions(timeout=5, allow_local_targets=False))
result.state, result.detail, result.sip_status_code, result.latency_ms
"""

from models.health import HealthState
from resolvers.verification.checks import check
from resolvers.verification.results import CheckOptions, CheckResult
from resolvers.verification.targets import (
    CheckTarget,
    Resolver,
    SipAllowlistTarget,
    SipRegistrationTarget,
    TwilioTarget,
    UncheckableTarget,
    system_resolver,
    target_for_configuration,
    target_for_row,
)

__all__ = [
    "CheckOptions",
    "CheckResult",
    "CheckTarget",
    "HealthState",
    "Resolver",
    "SipAllowlistTarget",
    "SipRegistrationTarget",
    "TwilioTarget",
    "UncheckableTarget",
    "check",
    "system_resolver",
    "target_for_configuration",
    "target_for_row",
]

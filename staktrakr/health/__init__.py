"""Feed health: is each published feed fresh? (`checks`: the judging and the core's market
check; `command`: `staktrakr health`.) Plugins add feeds with `staktrakr_health_checks`."""

from .checks import (
    CLOCK_SKEW,
    FeedHealth,
    FeedStatus,
    HealthCheck,
    HealthReport,
    TimestampField,
    check_health,
    collect_checks,
    core_checks,
    format_age,
)
from .command import health_command, parse_base_url

__all__ = [
    "CLOCK_SKEW", "FeedHealth", "FeedStatus", "HealthCheck", "HealthReport", "TimestampField", "check_health",
    "collect_checks", "core_checks", "format_age", "health_command", "parse_base_url",
]  # fmt: skip

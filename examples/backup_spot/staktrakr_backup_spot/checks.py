"""The plugin's health check (hook `staktrakr_health_checks`): `staktrakr health` and /metrics
report it as the feed `backup_spot`."""

from __future__ import annotations

from datetime import timedelta

from staktrakr.health import HealthCheck, TimestampField

from .files import LATEST_FILE

# Polled only when MetalPriceAPI has no fresh price: a week without a reading is normal only if
# the primary never failed; older than that, check that the backup still answers.
BACKUP_SPOT = TimestampField(
    "backup_spot", LATEST_FILE, "updated_at", timedelta(days=7), "Newest backup spot reading; polled when MetalPriceAPI fails."
)


def health_checks() -> list[HealthCheck]:
    return [BACKUP_SPOT]

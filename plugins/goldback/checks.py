"""The Goldback feed's health check: `scraped_at` of the day's rate file."""

from __future__ import annotations

from datetime import timedelta

from staktrakr.api import layout
from staktrakr.health import HealthCheck, TimestampField

GOLDBACK_RATE = TimestampField(
    "goldback", layout.GOLDBACK_SPOT, "scraped_at", timedelta(hours=25), "Goldback rate; scraped once a day."
)


def health_checks() -> list[HealthCheck]:
    return [GOLDBACK_RATE]

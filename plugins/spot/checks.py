"""The spot feed's health check: the last reading of the hourly spot files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from staktrakr.api import layout
from staktrakr.api.reader import DataRoot, FileProblem
from staktrakr.health import HealthCheck


@dataclass(frozen=True)
class LastSpotReading(HealthCheck):
    """Timestamp of the last entry of this hour's spot file, else of the previous hour's (the
    current file does not exist until the first poll of the hour).

    Only a missing or empty current file falls back: a corrupt one is reported, not hidden.
    """

    name: str = "spot"
    max_age: timedelta = timedelta(minutes=75)  # polled hourly
    description: str = "Last hourly spot entry; polled hourly."

    def find(self, root: DataRoot, now: datetime) -> tuple[str, str]:
        this_hour = now.replace(minute=0, second=0, microsecond=0)
        looked: list[str] = []
        for hour in (this_hour, this_hour - timedelta(hours=1)):
            relative = layout.hourly_spot(hour)
            try:
                entries = root.read_json(relative)
            except FileProblem as exc:
                if not exc.not_found:
                    raise
                looked.append(f"{relative}: {exc.reason}")
                continue
            if not isinstance(entries, list):
                raise FileProblem("expected a list of spot entries", root.where(relative))
            if not entries:
                looked.append(f"{relative}: no entries")
                continue
            last = entries[-1]
            value = last.get("timestamp") if isinstance(last, dict) else None
            if not isinstance(value, str):
                raise FileProblem("last entry has no 'timestamp'", root.where(relative))
            return value, root.where(relative)
        raise FileProblem("; ".join(looked), root.where(layout.hourly_spot(this_hour)))


def health_checks() -> list[HealthCheck]:
    return [LastSpotReading()]

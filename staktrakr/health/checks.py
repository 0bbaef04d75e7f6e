"""Is each published feed fresh? A feed's own timestamp, read from the published files, against
the feed's threshold (LIVE-SYSTEM §7, "Health thresholds").

Each feed is a `HealthCheck`. The core checks the market (`api/manifest.json` `generated_at`);
plugins add theirs through the `staktrakr_health_checks` hook (the spot plugin its hourly files,
the Goldback plugin its daily rate). `check_health(root, checks, now)` judges them all; the
command (`staktrakr health`) and /metrics only pick the root and the checks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, computed_field

from ..api import layout
from ..api.reader import DataRoot, FileProblem
from ..errors import PluginError
from ..timeutil import iso_s, parse_time

CLOCK_SKEW = timedelta(minutes=5)  # how far in the future a timestamp may be before it is suspect


class FeedStatus(StrEnum):
    FRESH = "fresh"
    STALE = "stale"
    MISSING = "missing"


class HealthCheck(ABC):
    """One feed's freshness: where its timestamp is and how old it may be.

    A plugin returns instances from `staktrakr_health_checks`; `name` is the feed's name in the
    report, the metrics' `feed` label and the key of `--max-age NAME=MINUTES`.
    """

    name: str
    max_age: timedelta
    description: str = ""

    @abstractmethod
    def find(self, root: DataRoot, now: datetime) -> tuple[str, str]:
        """(the timestamp exactly as the file has it, where it was read); raises FileProblem."""


@dataclass(frozen=True)
class TimestampField(HealthCheck):
    """A feed whose freshness is one timestamp field of one JSON object file."""

    name: str
    relative: str
    key: str
    max_age: timedelta
    description: str = ""

    def find(self, root: DataRoot, now: datetime) -> tuple[str, str]:
        document = root.read_json(self.relative)
        value = document.get(self.key) if isinstance(document, dict) else None
        if not isinstance(value, str):
            raise FileProblem(f"no {self.key!r} timestamp in it", root.where(self.relative))
        return value, root.where(self.relative)


MARKET = TimestampField("market", layout.MANIFEST, "generated_at", timedelta(minutes=30), "Manifest age; the export runs every 15 min.")


def core_checks() -> list[HealthCheck]:
    return [MARKET]


def collect_checks(pm: Any | None) -> list[HealthCheck]:
    """The core's checks, then the plugins' (by name); a later check of a taken name is dropped."""
    checks: dict[str, HealthCheck] = {c.name: c for c in core_checks()}
    found: list[HealthCheck] = []
    if pm is not None:
        for result in pm.hook.staktrakr_health_checks():
            for check in result or []:
                if not isinstance(check, HealthCheck):
                    raise PluginError(f"staktrakr_health_checks returned a {type(check).__name__}, not a HealthCheck")
                found.append(check)
    for check in sorted(found, key=lambda c: c.name):
        checks.setdefault(check.name, check)
    return list(checks.values())


class FeedHealth(BaseModel):
    """The verdict on one feed."""

    feed: str
    status: FeedStatus
    age_seconds: float | None = Field(None, description="now - source timestamp; None when missing.")
    threshold_seconds: float
    source_timestamp: str | None = Field(None, description="The timestamp exactly as the file has it.")
    location: str | None = Field(None, description="File or URL the timestamp came from (or was looked for).")
    reason: str | None = Field(None, description="Why it is not fresh.")


class HealthReport(BaseModel):
    source: str
    checked_at: str
    feeds: dict[str, FeedHealth]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return all(health.status is FeedStatus.FRESH for health in self.feeds.values())


def check_health(
    root: DataRoot,
    checks: Iterable[HealthCheck],
    now: datetime,
    *,
    max_age: Mapping[str, timedelta] | None = None,
    clock_skew: timedelta = CLOCK_SKEW,
) -> HealthReport:
    """Judge each feed's freshness at `now` (timezone-aware); `max_age` overrides thresholds by name."""
    now = now.astimezone(UTC)
    limits = dict(max_age or {})
    feeds = {c.name: judge(c, root, limits.get(c.name, c.max_age), now, clock_skew) for c in checks}
    return HealthReport(source=root.label, checked_at=iso_s(now), feeds=feeds)


def judge(check: HealthCheck, root: DataRoot, limit: timedelta, now: datetime, clock_skew: timedelta = CLOCK_SKEW) -> FeedHealth:
    try:
        text, location = check.find(root, now)
    except FileProblem as exc:
        return _missing(check.name, limit, location=exc.location, reason=exc.reason)
    try:
        stamp = parse_time(text)
    except ValueError:
        return _missing(check.name, limit, location=location, reason=f"unreadable timestamp {text!r}", source_timestamp=text)
    age = now - stamp
    if age > limit:
        status, reason = FeedStatus.STALE, f"{format_age(age.total_seconds())} old, limit {format_age(limit.total_seconds())}"
    elif -age > clock_skew:
        # A timestamp from the future would stay "fresh" forever and hide an outage.
        status, reason = FeedStatus.STALE, f"{format_age(-age.total_seconds())} in the future (clock skew?)"
    else:
        status, reason = FeedStatus.FRESH, None
    return FeedHealth(
        feed=check.name, status=status, age_seconds=age.total_seconds(), threshold_seconds=limit.total_seconds(),
        source_timestamp=text, location=location, reason=reason,
    )  # fmt: skip


def _missing(feed: str, limit: timedelta, location: str | None, reason: str, source_timestamp: str | None = None) -> FeedHealth:
    return FeedHealth(
        feed=feed, status=FeedStatus.MISSING, threshold_seconds=limit.total_seconds(),
        source_timestamp=source_timestamp, location=location, reason=reason,
    )  # fmt: skip


def format_age(seconds: float) -> str:
    """`42s`, `12m 05s`, `3h 07m`, `25h`, `3d 04h`: two units at most, a zero second unit dropped."""
    sign = "-" if seconds < 0 else ""
    total = int(abs(seconds))
    days, rest = divmod(total, 86400)
    if days < 2:  # "25h" reads better than "1d 01h" next to a 25 h threshold
        days, rest = 0, total
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        big, small, units = days, hours, "dh"
    elif hours:
        big, small, units = hours, minutes, "hm"
    elif minutes:
        big, small, units = minutes, secs, "ms"
    else:
        return f"{sign}{secs}s"
    return f"{sign}{big}{units[0]}" + (f" {small:02d}{units[1]}" if small else "")

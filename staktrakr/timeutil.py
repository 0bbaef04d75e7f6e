"""UTC time helpers. Stored timestamps are ISO-8601 UTC with a `Z` (LIVE-SYSTEM conventions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_ms(dt: datetime) -> str:
    """`2026-03-15T20:23:02.057Z` — what a JS toISOString() gives; used for scrape times."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def iso_s(dt: datetime) -> str:
    """`2026-03-15T20:15:00Z` — used for window starts."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def space_ts(dt: datetime) -> str:
    """`2026-03-15 20:15:00` — the spot files' timestamp format (implicitly UTC)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def floor_15(dt: datetime) -> datetime:
    dt = dt.astimezone(UTC)
    return dt.replace(minute=dt.minute - dt.minute % 15, second=0, microsecond=0)


def parse_time(text: str) -> datetime:
    """Parse ISO-8601 (with Z or offset, optional ms) or space-ts; naive values are UTC."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def ago(dt: datetime, **delta: float) -> datetime:
    return dt - timedelta(**delta)

"""Rows for status tests: real snapshots and runs written with the store's own functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from staktrakr.models import Status
from staktrakr.store import Database
from staktrakr.store.render_modes import remember_render_mode
from staktrakr.store.runs import finish_run, start_run
from staktrakr.store.snapshots import Snapshot, insert_snapshot
from staktrakr.timeutil import floor_15, iso_ms, iso_s

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
_count = 0


def attempt(db: Database, at: datetime, vendor: str, status: Status, coin: str = "ase", elapsed_ms: int | None = 800, price: float | None = None) -> None:
    global _count
    _count += 1
    ok = status is Status.ok
    insert_snapshot(
        db,
        Snapshot(
            id=f"t-{_count}", run_id=None, poller_id="test", scraped_at=iso_ms(at), window_start=iso_s(floor_15(at)),
            coin_slug=coin, vendor=vendor, price=price if price is not None else (30.0 if ok else None), in_stock=ok or None,
            status=status, elapsed_ms=elapsed_ms,
        ),
    )  # fmt: skip


def run(db: Database, run_id: str, job: str, started: datetime, status: str, captured: int, poller: str = "test") -> None:
    start_run(db, run_id, poller, job, iso_ms(started))
    counts = {Status.ok: captured} if captured else {Status.error: 1}
    finish_run(db, run_id, finished_at=iso_ms(started + timedelta(minutes=2)), status=status, finish_reason="finished", counts=counts, duration_s=120)


def fill_a_week(db: Database) -> None:
    """Three dealers and three jobs with known figures at NOW."""
    # a: fine all week, 500 ms; b: fine until 11:00 today, failing since; c: only out of stock.
    for day in range(7):
        at = NOW - timedelta(days=day, hours=1)
        attempt(db, at, "a", Status.ok, elapsed_ms=500)
        attempt(db, at, "b", Status.ok, elapsed_ms=900)
    attempt(db, NOW - timedelta(minutes=50), "b", Status.blocked, elapsed_ms=100)
    attempt(db, NOW - timedelta(minutes=40), "b", Status.error, elapsed_ms=None)
    attempt(db, NOW - timedelta(minutes=30), "b", Status.blocked, elapsed_ms=100)
    attempt(db, NOW - timedelta(hours=5), "c", Status.out_of_stock)
    attempt(db, NOW - timedelta(days=9), "old", Status.ok)  # outside 7 days: not a dealer of the file
    remember_render_mode(db, "b", "test", "browser", "2026-03-14T00:00:00.000Z", "static page had no price")
    run(db, "r1", "retail", NOW - timedelta(hours=1), "partial", 3)
    run(db, "r0", "retail", NOW - timedelta(hours=2), "ok", 4)
    run(db, "s1", "spot", NOW - timedelta(hours=3), "ok", 4)  # older than spot's 75 minutes
    run(db, "g1", "goldback", NOW - timedelta(hours=20), "error", 0)  # never a good run

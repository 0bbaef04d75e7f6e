"""Rows for status tests: real snapshots and runs written with the store's own functions."""

from __future__ import annotations

from datetime import datetime, timedelta

from staktrakr.models import Status
from staktrakr.store import Database
from staktrakr.store.runs import finish_run, start_run
from staktrakr.store.snapshots import Snapshot, insert_snapshot
from staktrakr.timeutil import iso_ms

_count = 0


def attempt(db: Database, at: datetime, vendor: str, status: Status, coin: str = "ase", elapsed_ms: int | None = 800, price: float | None = None) -> None:
    global _count
    _count += 1
    ok = status is Status.ok
    insert_snapshot(
        db,
        Snapshot(
            id=f"t-{_count}", run_id=None, poller_id="test", scraped_at=iso_ms(at), window_start=iso_ms(at.replace(minute=0, second=0, microsecond=0)),
            coin_slug=coin, vendor=vendor, price=price if price is not None else (30.0 if ok else None), in_stock=ok or None,
            status=status, elapsed_ms=elapsed_ms,
        ),
    )  # fmt: skip


def run(db: Database, run_id: str, job: str, started: datetime, status: str, captured: int, poller: str = "test") -> None:
    start_run(db, run_id, poller, job, iso_ms(started))
    counts = {Status.ok: captured} if captured else {Status.error: 1}
    finish_run(db, run_id, finished_at=iso_ms(started + timedelta(minutes=2)), status=status, finish_reason="finished", counts=counts, duration_s=120)

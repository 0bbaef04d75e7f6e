"""Rows with known answers for the export tests."""

from __future__ import annotations

from itertools import count

from staktrakr.models import Status
from staktrakr.store.snapshots import Snapshot, insert_snapshot
from staktrakr.timeutil import floor_15, iso_ms, iso_s, parse_time

_ids = count()


def add(db, slug, vendor, at, price=None, *, status="ok", in_stock=True, poller="api", method="table", **extra):
    when = parse_time(at)
    insert_snapshot(db, Snapshot(
        id=f"{poller}-t{next(_ids):06d}", run_id=None, poller_id=poller, scraped_at=iso_ms(when),
        window_start=iso_s(floor_15(when)), coin_slug=slug, vendor=vendor, price=price,
        in_stock=in_stock if status in ("ok", "out_of_stock") else None, status=Status(status), method=method,
        reason="test row", **extra,
    ))

"""The spot files of the published API, built from the database by the export (hook
`staktrakr_export_files`): `hourly/YYYY/MM/DD/HH.json` (every reading of the hour) and
`15min/YYYY/MM/DD/HHMM.json` (the first poll of the floor), in the live files' shape. Hourly
files cover the last 7 days (what the web app fetches on a first visit), 15-minute files a day.

Only the export writes them: it rewrites a file whose content differs, so a file left broken
(the NUL-filled `2220.json` the live API still publishes) is written again by the next export.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from staktrakr.api import layout
from staktrakr.timeutil import floor_15, iso_ms, parse_time, space_ts

from .api import SOURCE_TIMEFRAME
from .store import hours_stored_between, spot_readings_between

PROVIDER = "StakTrakr"


def _entry(row: Mapping[str, Any], source: str) -> dict[str, Any]:
    """One entry in the live files' shape."""
    return {
        "spot": row["spot"],
        "metal": row["metal"].capitalize(),
        "source": source,
        "provider": PROVIDER,
        "timestamp": space_ts(parse_time(row["timestamp"])),
    }


def hourly_files(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Every reading of each hour, oldest first: the last entry is the freshest (what `health` reads)."""
    by_hour: dict[datetime, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_hour[parse_time(row["timestamp"]).replace(minute=0, second=0, microsecond=0)].append(row)
    return {
        layout.hourly_spot(hour): [_entry(r, "hourly") for r in sorted(group, key=lambda r: (r["timestamp"], r["metal"], r["id"]))]
        for hour, group in sorted(by_hour.items())
    }


def quarter_files(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The first poll of each 15-minute floor.

    Only the first: a later poll of the same floor (a second row since B-3) must not change a
    file that is published as immutable. Daily timeframe rates are not polls and stay out.
    """
    by_floor: dict[datetime, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["source"] != SOURCE_TIMEFRAME:
            by_floor[floor_15(parse_time(row["timestamp"]))].append(row)
    files = {}
    for floor, group in sorted(by_floor.items()):
        first = min(r["timestamp"] for r in group)
        chosen: dict[str, Mapping[str, Any]] = {}
        for row in sorted(group, key=lambda r: r["id"]):
            if row["timestamp"] == first:
                chosen.setdefault(row["metal"], row)
        files[layout.quarter_spot(floor)] = [_entry(chosen[m], "seed") for m in sorted(chosen)]
    return files


# The web app fetches the hourly files of the last 7 days on a first visit; 15-minute files are
# read only for the last day.
HOURLY_HOURS = 7 * 24
QUARTER_HOURS = 24


def spot_export_files(db: Any, as_of: datetime, hourly_hours: int = HOURLY_HOURS, quarter_hours: int = QUARTER_HOURS) -> dict[str, Any]:
    """The hourly files of the last `hourly_hours` hours and the 15-minute files of the last
    `quarter_hours`, as of `as_of`, from the database, and both files of older hours that
    readings stored in the last day belong to (a backfill fills hours weeks back: they are
    published by the next export). The export rewrites only the files whose content changed."""
    this_hour = as_of.replace(minute=0, second=0, microsecond=0)
    hourly_first = this_hour - timedelta(hours=hourly_hours - 1)
    quarter_first = this_hour - timedelta(hours=quarter_hours - 1)
    cutoff = iso_ms(as_of)
    end = iso_ms(as_of + timedelta(seconds=1))
    window_first = min(hourly_first, quarter_first)
    rows = spot_readings_between(db, iso_ms(window_first), end)
    quarter_rows = [r for r in rows if parse_time(r["timestamp"]) >= quarter_first]
    stored_since = iso_ms(as_of - timedelta(hours=quarter_hours))
    for hour in hours_stored_between(db, stored_since, cutoff, iso_ms(quarter_first)):
        start = parse_time(f"{hour}:00:00Z")
        older = spot_readings_between(db, iso_ms(start), iso_ms(start + timedelta(hours=1)))
        quarter_rows += older
        if start < window_first:
            rows += older
    rows = [r for r in rows if r["timestamp"] <= cutoff]
    quarter_rows = [r for r in quarter_rows if r["timestamp"] <= cutoff]
    return {**hourly_files(rows), **quarter_files(quarter_rows)}

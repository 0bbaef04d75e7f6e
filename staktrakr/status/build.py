"""`api/status.json` computed from the database at a moment `as_of`."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ..medians import upper_median
from ..store import Database
from ..store.render_modes import learned_render_modes
from ..store.runs import last_run_per_job
from ..timeutil import iso_ms, parse_time
from . import queries
from .model import DealerStatus, FeedStatus, PollerStatus, Shares, StatusFile

# How old each feed's newest good run may be (its job's cadence plus slack; the same limits the
# health checks apply to the published files). A job not listed gets DEFAULT_THRESHOLD.
FEED_THRESHOLDS: dict[str, timedelta] = {
    "retail": timedelta(hours=2),  # crawled hourly
    "spot": timedelta(minutes=75),  # polled every 30 min
    "goldback": timedelta(hours=25),  # once a day
}
CORE_FEEDS = ("retail", "spot", "goldback")
DEFAULT_THRESHOLD = timedelta(hours=2)
RECENT_RUNS = 20
_FAILED = ("wrong_product", "no_price", "error")


def _shares(counts: Counter[str]) -> Shares:
    total = sum(counts.values())

    def share(*statuses: str) -> float:
        return round(sum(counts[s] for s in statuses) / total, 4) if total else 0.0

    return Shares(attempts=total, ok=share("ok"), out_of_stock=share("out_of_stock"), blocked=share("blocked"), failed=share(*_FAILED))


def _poller(row: Mapping[str, Any]) -> PollerStatus:
    return PollerStatus(
        poller=row["poller_id"], job=row["job"], shard=row.get("shard"), started_at=row["started_at"],
        finished_at=row.get("finished_at"), status=row["status"], total=int(row.get("total") or 0),
        captured=int(row.get("captured") or 0),
    )  # fmt: skip


def dealer_statuses(db: Database, as_of: datetime, targets: Mapping[str, int] | None = None) -> list[DealerStatus]:
    """Every dealer with a configured target or an attempt in the last 7 days."""
    until = iso_ms(as_of)
    since_24h, since_7d = iso_ms(as_of - timedelta(hours=24)), iso_ms(as_of - timedelta(days=7))
    days = [(as_of.date() - timedelta(days=n)).isoformat() for n in range(6, -1, -1)]
    week: dict[str, Counter[str]] = defaultdict(Counter)
    by_day: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for row in queries.outcome_counts(db, since_7d, until):
        week[row["vendor"]][row["status"]] += int(row["n"])
        by_day[row["vendor"]][row["day"]][row["status"]] += int(row["n"])
    day: dict[str, Counter[str]] = defaultdict(Counter)
    for row in queries.outcome_counts(db, since_24h, until):
        day[row["vendor"]][row["status"]] += int(row["n"])
    targets = dict(targets) if targets is not None else queries.dealer_targets(db, since_7d, until)
    successes = queries.last_success(db, until)
    captured = queries.last_captured(db, until)
    newest = queries.newest_attempts(db, since_7d, until)
    times = queries.response_times(db, since_24h, until)
    modes = learned_render_modes(db)
    dealers = []
    for vendor in sorted(set(targets) | set(week)):
        failure = since = None
        latest = newest.get(vendor)
        if latest is not None and latest["status"] not in ("ok", "out_of_stock"):
            failure = latest["status"]
            since = queries.first_failure_after(db, vendor, captured.get(vendor), until)
        median = upper_median(times.get(vendor, []))
        mode = modes.get(vendor)
        dealers.append(
            DealerStatus(
                dealer=vendor, targets=targets.get(vendor, 0), last_24h=_shares(day[vendor]), last_7d=_shares(week[vendor]),
                last_success=successes.get(vendor), failure=failure, failing_since=since,
                needs_browser=None if mode is None else mode["mode"] == "browser",
                median_response_ms=None if median is None else int(median),
                success_by_day={d: (_shares(by_day[vendor][d]).ok if by_day[vendor].get(d) else None) for d in days},
            )  # fmt: skip
        )
    return dealers


def feed_statuses(db: Database, as_of: datetime, thresholds: Mapping[str, timedelta] | None = None) -> list[FeedStatus]:
    """Each crawl job as a feed: when it last captured something, against its threshold."""
    limits = {**FEED_THRESHOLDS, **(thresholds or {})}
    good = queries.last_good_run(db, iso_ms(as_of))
    feeds = []
    for job in sorted(set(CORE_FEEDS) | set(queries.jobs_seen(db))):
        limit = limits.get(job, DEFAULT_THRESHOLD)
        stamp = good.get(job)
        age = None if stamp is None else (as_of - parse_time(stamp)).total_seconds()
        feeds.append(
            FeedStatus(feed=job, last_good=stamp, threshold_seconds=limit.total_seconds(),
                       fresh=age is not None and age <= limit.total_seconds())
        )  # fmt: skip
    return feeds


def configured_targets(listings: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """{dealer: active listings} of a provider set's `listings` ({slug: {dealer: listing}})."""
    counts: Counter[str] = Counter()
    for by_dealer in listings.values():
        counts.update(dealer for dealer, listing in by_dealer.items() if getattr(listing, "active", True))
    return dict(counts)


def build_status(
    db: Database,
    as_of: datetime,
    *,
    targets: Mapping[str, int] | None = None,
    thresholds: Mapping[str, timedelta] | None = None,
) -> StatusFile:
    """The status at `as_of`; `targets` ({dealer: coins}) from the provider set when known."""
    until = iso_ms(as_of)
    with db.held():
        return StatusFile(
            generated_at=until,
            dealers=dealer_statuses(db, as_of, targets),
            feeds=feed_statuses(db, as_of, thresholds),
            pollers=[_poller(r) for r in last_run_per_job(db, until)],
            recent_runs=[_poller(r) for r in queries.newest_runs(db, until, RECENT_RUNS)],
        )

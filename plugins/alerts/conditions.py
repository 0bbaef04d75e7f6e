"""Which alert conditions hold now: broken dealers, stale feeds, silent pollers (from
`api/status.json`'s figures, computed by the core) and price events (price_events.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from staktrakr.status import StatusFile
from staktrakr.status.build import CORE_FEEDS
from staktrakr.store import Database
from staktrakr.timeutil import iso_ms, parse_time

from .incidents import Condition
from .settings import AlertSettings

MIN_ATTEMPTS = 4  # fewer attempts in 24 h say too little for a success rate
_CAPTURED = ("ok", "out_of_stock")


def failures_in_a_row(db: Database, since: str, until: str, n: int) -> set[str]:
    """Dealers whose newest `n` attempts (in the period) all failed."""
    rows = db.query(
        """SELECT vendor, SUM(CASE WHEN status IN ('ok', 'out_of_stock') THEN 0 ELSE 1 END) AS failed, COUNT(*) AS seen FROM (
               SELECT vendor, status, ROW_NUMBER() OVER (PARTITION BY vendor ORDER BY scraped_at DESC, id DESC) AS rn
               FROM price_snapshots WHERE scraped_at >= ? AND scraped_at <= ?)
           WHERE rn <= ? GROUP BY vendor""",
        (since, until, n),
    )
    return {r["vendor"] for r in rows if int(r["seen"]) >= n and int(r["failed"]) == int(r["seen"])}


def dealer_conditions(db: Database, status: StatusFile, now: datetime, settings: AlertSettings) -> list[Condition]:
    in_a_row = failures_in_a_row(db, iso_ms(now - timedelta(days=7)), iso_ms(now), settings.ALERT_DEALER_FAILURES_IN_A_ROW)
    found = []
    for dealer in status.dealers:
        day = dealer.last_24h
        captured = day.ok + day.out_of_stock
        reasons = []
        if day.attempts >= MIN_ATTEMPTS and captured < settings.ALERT_DEALER_MIN_SUCCESS:
            reasons.append(f"{captured:.0%} of {day.attempts} attempts in 24 h captured")
        if dealer.dealer in in_a_row:
            reasons.append(f"its last {settings.ALERT_DEALER_FAILURES_IN_A_ROW} attempts failed")
        if reasons:
            since = f" since {dealer.failing_since}" if dealer.failing_since else ""
            failure = f" ({dealer.failure}{since})" if dealer.failure else ""
            found.append(Condition("dealer", dealer.dealer, f"dealer {dealer.dealer} is failing{failure}: " + "; ".join(reasons)))
    return found


def feed_conditions(status: StatusFile) -> list[Condition]:
    """Stale feeds among those some poller runs (a feed nobody runs is not one that went stale)."""
    running = {p.job for p in status.pollers}
    found = []
    for feed in status.feeds:
        if feed.fresh or feed.feed not in running:
            continue
        last = feed.last_good or "never"
        found.append(Condition("feed", feed.feed, f"feed {feed.feed} is stale: last good run {last}, limit {feed.threshold_seconds / 60:.0f} min"))
    return found


def poller_conditions(status: StatusFile, now: datetime, settings: AlertSettings) -> list[Condition]:
    """Pollers whose newest run of a feed job started too long ago."""
    limit = timedelta(minutes=settings.ALERT_POLLER_SILENT_MINUTES)
    found = []
    for poller in status.pollers:
        if poller.job not in CORE_FEEDS:
            continue  # one-off jobs (`retail-apmex`) have no cadence to miss
        if now - parse_time(poller.started_at) > limit:
            who = f"{poller.poller}/{poller.job}" + (f"/{poller.shard}" if poller.shard else "")
            found.append(Condition("poller", who, f"poller {who} is silent: its last run started {poller.started_at}"))
    return found

"""The reads behind `api/status.json`: core tables only (price_snapshots, poller_runs,
dealer_render_modes), so the core never reaches into a plugin's tables."""

from __future__ import annotations

from typing import Any

from ..store import Database


def outcome_counts(db: Database, since: str, until: str) -> list[dict[str, Any]]:
    """[{vendor, day, status, n}] of the attempts between `since` and `until`."""
    return db.query(
        """SELECT vendor, substr(scraped_at, 1, 10) AS day, status, COUNT(*) AS n FROM price_snapshots
           WHERE scraped_at >= ? AND scraped_at <= ? GROUP BY vendor, day, status""",
        (since, until),
    )


def dealer_targets(db: Database, since: str, until: str) -> dict[str, int]:
    """{vendor: coins attempted} in the period (used when no provider set is given)."""
    rows = db.query(
        "SELECT vendor, COUNT(DISTINCT coin_slug) AS n FROM price_snapshots WHERE scraped_at >= ? AND scraped_at <= ? GROUP BY vendor",
        (since, until),
    )
    return {r["vendor"]: int(r["n"]) for r in rows}


def last_success(db: Database, until: str) -> dict[str, str]:
    rows = db.query(
        "SELECT vendor, MAX(scraped_at) AS t FROM price_snapshots WHERE status = 'ok' AND scraped_at <= ? GROUP BY vendor",
        (until,),
    )
    return {r["vendor"]: r["t"] for r in rows}


def last_captured(db: Database, until: str) -> dict[str, str]:
    rows = db.query(
        """SELECT vendor, MAX(scraped_at) AS t FROM price_snapshots
           WHERE status IN ('ok', 'out_of_stock') AND scraped_at <= ? GROUP BY vendor""",
        (until,),
    )
    return {r["vendor"]: r["t"] for r in rows}


def newest_attempts(db: Database, since: str, until: str) -> dict[str, dict[str, Any]]:
    """{vendor: its newest attempt (scraped_at, status)} in the period."""
    rows = db.query(
        """SELECT vendor, scraped_at, status FROM (
               SELECT vendor, scraped_at, status,
                      ROW_NUMBER() OVER (PARTITION BY vendor ORDER BY scraped_at DESC, id DESC) AS rn
               FROM price_snapshots WHERE scraped_at >= ? AND scraped_at <= ?)
           WHERE rn = 1""",
        (since, until),
    )
    return {r["vendor"]: r for r in rows}


def first_failure_after(db: Database, vendor: str, after: str | None, until: str) -> str | None:
    rows = db.query(
        """SELECT MIN(scraped_at) AS t FROM price_snapshots WHERE vendor = ? AND scraped_at > ? AND scraped_at <= ?
           AND status NOT IN ('ok', 'out_of_stock')""",
        (vendor, after or "", until),
    )
    return rows[0]["t"] if rows else None


def response_times(db: Database, since: str, until: str) -> dict[str, list[int]]:
    rows = db.query(
        "SELECT vendor, elapsed_ms FROM price_snapshots WHERE scraped_at >= ? AND scraped_at <= ? AND elapsed_ms IS NOT NULL",
        (since, until),
    )
    times: dict[str, list[int]] = {}
    for r in rows:
        times.setdefault(r["vendor"], []).append(int(r["elapsed_ms"]))
    return times


def last_good_run(db: Database, until: str) -> dict[str, str]:
    """{job: when its newest run that captured something ended}."""
    rows = db.query(
        """SELECT job, MAX(COALESCE(finished_at, started_at)) AS t FROM poller_runs
           WHERE status IN ('ok', 'partial') AND captured > 0 AND started_at <= ? GROUP BY job""",
        (until,),
    )
    return {r["job"]: r["t"] for r in rows}


def jobs_seen(db: Database) -> list[str]:
    return [r["job"] for r in db.query("SELECT DISTINCT job FROM poller_runs ORDER BY job")]


def newest_runs(db: Database, until: str, limit: int) -> list[dict[str, Any]]:
    return db.query("SELECT * FROM poller_runs WHERE started_at <= ? ORDER BY started_at DESC LIMIT ?", (until, limit))

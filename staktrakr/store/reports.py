"""Read-only queries of the run reports (`staktrakr runs`, `staktrakr dealers`) and the metrics.

Timestamps are compared as text: every stored time is ISO-8601 UTC with a `Z` of one fixed shape
(timeutil.iso_ms), so text order is time order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..models import Status
from .db import Database
from .migrations import LATEST_VERSION

# Outcomes that are real information about the product; everything else is a failed attempt.
_CAPTURED = tuple(s.value for s in Status if s.captured)
_IS_CAPTURED = f"status IN ({', '.join(repr(s) for s in _CAPTURED)})"


def schema_is_current(db: Database) -> bool:
    """The database has every table these queries read (without migrating it: a reader must not write)."""
    return db.schema_version() >= LATEST_VERSION


def recent_runs(db: Database, poller_id: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The newest `limit` runs (every job), newest first; only one poller's when `poller_id` is given."""
    where, params = ("WHERE poller_id = ?", [poller_id]) if poller_id else ("", [])
    return db.query(f"SELECT * FROM poller_runs {where} ORDER BY started_at DESC, run_id DESC LIMIT ?", (*params, limit))


def run_failures_by_dealer(db: Database, run_ids: Sequence[str]) -> list[dict[str, Any]]:
    """(run_id, vendor, status, n) of the failed observations (not ok / out_of_stock) of these runs."""
    if not run_ids:
        return []
    marks = ", ".join("?" for _ in run_ids)
    return db.query(
        f"SELECT run_id, vendor, status, COUNT(*) AS n FROM price_snapshots "
        f"WHERE run_id IN ({marks}) AND NOT {_IS_CAPTURED} GROUP BY run_id, vendor, status ORDER BY run_id, vendor, status",
        tuple(run_ids),
    )


def dealer_attempts(db: Database, since: str, poller_id: str | None = None) -> list[dict[str, Any]]:
    """Per dealer since `since`: attempts, a count per status, the last attempt and the last success."""
    counts = ", ".join(f"SUM(CASE WHEN status = '{s.value}' THEN 1 ELSE 0 END) AS {s.value}" for s in Status)
    where, params = _window(since, poller_id)
    return db.query(
        f"SELECT vendor, COUNT(*) AS attempts, {counts}, MAX(scraped_at) AS last_attempt, "
        f"MAX(CASE WHEN {_IS_CAPTURED} THEN scraped_at END) AS last_success "
        f"FROM price_snapshots WHERE {where} GROUP BY vendor ORDER BY vendor",
        params,
    )


def dealer_top_failure_reasons(db: Database, since: str, poller_id: str | None = None) -> list[dict[str, Any]]:
    """Per dealer since `since`: the most common reason of its failed attempts (ties: the newest)."""
    where, params = _window(since, poller_id)
    return db.query(
        f"""SELECT vendor, reason, n FROM (
               SELECT vendor, reason, n, ROW_NUMBER() OVER (PARTITION BY vendor ORDER BY n DESC, newest DESC) AS rn
               FROM (SELECT vendor, COALESCE(reason, '') AS reason, COUNT(*) AS n, MAX(scraped_at) AS newest
                     FROM price_snapshots WHERE {where} AND NOT {_IS_CAPTURED} GROUP BY vendor, COALESCE(reason, '')))
           WHERE rn = 1 ORDER BY vendor""",
        params,
    )


def _window(since: str, poller_id: str | None) -> tuple[str, tuple[Any, ...]]:
    if poller_id:
        return "scraped_at >= ? AND poller_id = ?", (since, poller_id)
    return "scraped_at >= ?", (since,)


# -- metrics ------------------------------------------------------------------------------------


def run_counts(db: Database) -> list[dict[str, Any]]:
    """(poller_id, job, status, n) over every recorded run."""
    return db.query("SELECT poller_id, job, status, COUNT(*) AS n FROM poller_runs GROUP BY poller_id, job, status ORDER BY 1, 2, 3")


def last_finished_runs(db: Database) -> list[dict[str, Any]]:
    """The newest closed run of each poller and job."""
    return db.query(
        """SELECT * FROM (
               SELECT r.*, ROW_NUMBER() OVER (PARTITION BY poller_id, job ORDER BY started_at DESC, run_id DESC) AS rn
               FROM poller_runs r WHERE finished_at IS NOT NULL)
           WHERE rn = 1 ORDER BY poller_id, job"""
    )


def observation_counts(db: Database, since: str) -> list[dict[str, Any]]:
    """(vendor, status, n) of the retail observations since `since`."""
    return db.query(
        "SELECT vendor, status, COUNT(*) AS n FROM price_snapshots WHERE scraped_at >= ? GROUP BY vendor, status ORDER BY 1, 2",
        (since,),
    )


def last_success_per_feed(db: Database) -> list[dict[str, Any]]:
    """(feed, poller_id, at): the newest retail `ok` observation per poller, and for every other
    feed (spot, Goldback, a plugin's) the end of its newest run that captured something (what
    status.json calls its last good run). Runs are
    a core table: the core reads no plugin's tables."""
    return db.query(
        """SELECT 'retail' AS feed, poller_id, MAX(scraped_at) AS at FROM price_snapshots WHERE status = 'ok' GROUP BY poller_id
           UNION ALL SELECT job, poller_id, MAX(finished_at) FROM poller_runs
               WHERE job <> 'retail' AND job NOT LIKE 'retail-%' AND status IN ('ok', 'partial') AND captured > 0 AND finished_at IS NOT NULL
               GROUP BY job, poller_id
           ORDER BY 1, 2"""
    )

"""Crawl runs (`poller_runs`): one row per run, opened at start and closed at the end."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models import Status
from .db import Database


def start_run(db: Database, run_id: str, poller_id: str, job: str, started_at: str, shard: str | None = None) -> None:
    with db.transaction():
        db.execute(
            "INSERT INTO poller_runs (run_id, poller_id, job, started_at, status, shard) VALUES (?, ?, ?, ?, 'running', ?)",
            (run_id, poller_id, job, started_at, shard),
        )


def finish_run(
    db: Database,
    run_id: str,
    *,
    finished_at: str,
    status: str,
    finish_reason: str,
    counts: Mapping[Status, int],
    duration_s: float,
    error: str | None = None,
    extra_columns: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Close the run with its totals; returns the stored row. `extra_columns` are plugins'
    own columns of poller_runs (added by their migrations; hook staktrakr_run_figures)."""
    total = sum(counts.values())
    captured = sum(n for s, n in counts.items() if s.captured)
    with db.transaction():
        db.execute(
            """UPDATE poller_runs SET finished_at = ?, status = ?, finish_reason = ?, total = ?, captured = ?,
                   failures = ?, ok_count = ?, out_of_stock_count = ?, wrong_product_count = ?,
                   blocked_count = ?, no_price_count = ?, error_count = ?, duration_s = ?, error = ?
               WHERE run_id = ?""",
            (
                finished_at, status, finish_reason, total, captured, total - captured,
                counts.get(Status.ok, 0), counts.get(Status.out_of_stock, 0), counts.get(Status.wrong_product, 0),
                counts.get(Status.blocked, 0), counts.get(Status.no_price, 0), counts.get(Status.error, 0),
                round(duration_s, 3), error, run_id,
            ),
        )  # fmt: skip
        if extra_columns:
            names = list(extra_columns)
            if not all(name.isidentifier() for name in names):  # names come from plugin code, never from input
                raise ValueError(f"not column names: {names!r}")
            db.execute(
                f"UPDATE poller_runs SET {', '.join(f'{name} = ?' for name in names)} WHERE run_id = ?",
                (*extra_columns.values(), run_id),
            )
    return get_run(db, run_id) or {}


def get_run(db: Database, run_id: str) -> dict[str, Any] | None:
    rows = db.query("SELECT * FROM poller_runs WHERE run_id = ?", (run_id,))
    return rows[0] if rows else None


def last_run_per_job(db: Database, until: str = "9999") -> list[dict[str, Any]]:
    """The newest run of each (poller, job, shard) started by `until` (default: any time)."""
    rows = db.query(
        """SELECT * FROM (
               SELECT r.*, ROW_NUMBER() OVER (PARTITION BY poller_id, job, shard ORDER BY started_at DESC, run_id DESC) AS rn
               FROM poller_runs r WHERE started_at <= ?)
           WHERE rn = 1 ORDER BY poller_id, job, shard""",
        (until,),
    )
    return [{k: v for k, v in row.items() if k != "rn"} for row in rows]


def runs_of_shards(db: Database, job: str, since: str) -> list[dict[str, Any]]:
    """Runs of `job` by sharded poller groups started since `since`, newest first."""
    return db.query(
        "SELECT * FROM poller_runs WHERE job = ? AND shard IS NOT NULL AND started_at >= ? ORDER BY started_at DESC",
        (job, since),
    )


def close_orphaned_runs(db: Database, poller_id: str, job: str, started_before: str, now: str, shard: str | None = None) -> int:
    """Runs of this poller (and shard) and job still 'running' that started before `started_before`
    died without closing (killed process). Only old ones: a concurrent run is not an orphan (B-4).
    Another shard's run is never this one's orphan: the shards of a group run at the same time."""
    with db.transaction():
        return db.execute(
            "UPDATE poller_runs SET status = 'error', finished_at = ?, finish_reason = 'orphaned', "
            "error = 'process ended without closing the run' "
            "WHERE poller_id = ? AND job = ? AND status = 'running' AND started_at < ? AND shard IS ?",
            (now, poller_id, job, started_before, shard),
        )

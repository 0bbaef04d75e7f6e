"""What the crawls did, read back from the database (`staktrakr runs` and `staktrakr dealers`).

`runs` lists recent `poller_runs` rows with their totals per status and, from the run's own
`price_snapshots` rows, how many attempts failed at each dealer. `dealers` judges each dealer over
the last hours: attempts, success rate (captured = ok + out_of_stock, over attempts), last success,
failures per kind and the most common failure reason, so a dead URL or a ban stands out.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .health import format_age
from .models import Status
from .store import Database
from .store import reports as queries
from .timeutil import iso_ms, parse_time


class RunReport(BaseModel):
    """One crawl run: its `poller_runs` row and its failures per dealer."""

    run_id: str
    poller_id: str
    job: str
    started_at: str
    finished_at: str | None
    duration_s: float | None
    status: str = Field(description="ok, partial, error, or running")
    finish_reason: str | None
    error: str | None
    total: int
    captured: int
    failures: int
    counts: dict[Status, int] = Field(description="Observations of the run per status.")
    failures_by_dealer: dict[str, dict[Status, int]] = Field(description="Failed observations per dealer and status.")


class DealerHealth(BaseModel):
    """One dealer over the report window."""

    dealer: str
    attempts: int
    captured: int = Field(description="ok + out_of_stock: attempts that told something about the product.")
    success_rate: float = Field(description="captured / attempts, 0..1.")
    counts: dict[Status, int]
    last_attempt: str | None
    last_success: str | None = Field(description="Newest ok or out_of_stock observation in the window.")
    top_failure_reason: str | None
    top_failure_count: int = 0


class DealersReport(BaseModel):
    since: str
    until: str
    poller_id: str | None
    dealers: list[DealerHealth]


# -- building the reports -----------------------------------------------------------------------


def build_runs_report(db: Database, poller_id: str | None = None, last: int = 20) -> list[RunReport]:
    runs = queries.recent_runs(db, poller_id, last)
    by_run: dict[str, dict[str, dict[Status, int]]] = defaultdict(lambda: defaultdict(dict))
    for row in queries.run_failures_by_dealer(db, [r["run_id"] for r in runs]):
        by_run[row["run_id"]][row["vendor"]][Status(row["status"])] = int(row["n"])
    return [
        RunReport(
            run_id=run["run_id"], poller_id=run["poller_id"], job=run["job"], started_at=run["started_at"],
            finished_at=run["finished_at"], duration_s=run["duration_s"], status=run["status"],
            finish_reason=run["finish_reason"], error=run["error"], total=run["total"], captured=run["captured"],
            failures=run["failures"], counts={s: int(run[f"{s.value}_count"] or 0) for s in Status},
            failures_by_dealer={dealer: dict(counts) for dealer, counts in sorted(by_run[run["run_id"]].items())},
        )  # fmt: skip
        for run in runs
    ]


def build_dealers_report(db: Database, now: datetime, hours: float = 24.0, poller_id: str | None = None) -> DealersReport:
    since = iso_ms(now - timedelta(hours=hours))
    reasons = {r["vendor"]: r for r in queries.dealer_top_failure_reasons(db, since, poller_id)}
    dealers = []
    for row in queries.dealer_attempts(db, since, poller_id):
        counts = {s: int(row[s.value] or 0) for s in Status}
        captured = sum(n for s, n in counts.items() if s.captured)
        attempts = int(row["attempts"])
        top = reasons.get(row["vendor"])
        dealers.append(
            DealerHealth(
                dealer=row["vendor"], attempts=attempts, captured=captured,
                success_rate=captured / attempts if attempts else 0.0, counts=counts,
                last_attempt=row["last_attempt"], last_success=row["last_success"],
                top_failure_reason=top["reason"] if top else None, top_failure_count=int(top["n"]) if top else 0,
            )  # fmt: skip
        )
    # Worst first: the dealer that needs attention is at the top of the table.
    dealers.sort(key=lambda d: (d.success_rate, d.dealer))
    return DealersReport(since=since, until=iso_ms(now), poller_id=poller_id, dealers=dealers)


# -- printing -----------------------------------------------------------------------------------


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 200)


def _when(value: str | None) -> str:
    return value.replace("T", " ")[:19] if value else "-"


def _ago(value: str | None, now: datetime) -> str:
    if not value:
        return "never"
    return f"{_when(value)} ({format_age((now - parse_time(value)).total_seconds())} ago)"


_STATUS_STYLES = {"ok": "green", "partial": "yellow", "error": "red", "running": "cyan"}
_SHORT = {Status.ok: "ok", Status.out_of_stock: "oos", Status.wrong_product: "wrong", Status.blocked: "blocked", Status.no_price: "no price", Status.error: "error"}


def _shorten(text: str, limit: int = 72) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_runs(runs: list[RunReport]) -> None:
    console = _console()
    if not runs:
        console.print("no runs recorded yet")
        return
    table = Table("poller", "job", "started (UTC)", "duration", "status", *(_SHORT[s] for s in Status), "failures per dealer", title="recent runs")
    for run in runs:
        per_dealer = "\n".join(
            f"{dealer} {sum(counts.values())} ({', '.join(f'{_SHORT[s]} {n}' for s, n in counts.items())})"
            for dealer, counts in run.failures_by_dealer.items()
        )
        table.add_row(
            run.poller_id, run.job, _when(run.started_at),
            format_age(run.duration_s) if run.duration_s is not None else "-",
            Text(run.status, style=_STATUS_STYLES.get(run.status, "")),
            *(str(run.counts[s]) for s in Status),
            Text(per_dealer or "-"),
        )  # fmt: skip
    console.print(table)


def print_dealers(report: DealersReport, now: datetime) -> None:
    console = _console()
    scope = f" of poller {report.poller_id}" if report.poller_id else ""
    if not report.dealers:
        console.print(f"no observations{scope} since {_when(report.since)} UTC")
        return
    table = Table(
        "dealer", "attempts", "success", "last success (UTC)", "blocked", "no price", "error", "wrong", "most common failure",
        title=f"dealer health{scope} since {_when(report.since)} UTC",
    )  # fmt: skip
    for dealer in report.dealers:
        rate = Text(f"{dealer.success_rate:.0%}", style="red" if dealer.captured == 0 else "yellow" if dealer.success_rate < 0.5 else "green")
        reason = f"{_shorten(dealer.top_failure_reason or '(no reason)')} ({dealer.top_failure_count}x)" if dealer.top_failure_count else "-"
        table.add_row(
            dealer.dealer, str(dealer.attempts), rate, _ago(dealer.last_success, now),
            *(str(dealer.counts[s]) for s in (Status.blocked, Status.no_price, Status.error, Status.wrong_product)),
            Text(reason),
        )  # fmt: skip
    console.print(table)
    dead = [d.dealer for d in report.dealers if d.captured == 0]
    if dead:
        console.print(f"no success at all: {', '.join(dead)}", style="red", highlight=False)

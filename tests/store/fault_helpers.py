"""Helpers of the storage-fault tests: real database files with history, crawls of the sample
sites, and the checks every fault shares (one line naming the path, the exit status, no row
that the crawl reported as stored missing)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from staktrakr_samples.server import SampleSites, SiteConfig, load_truth, providers_for
from staktrakr.store import Database
from staktrakr.store.ids import new_id
from staktrakr.store.snapshots import Snapshot, insert_snapshots

from ..conftest import ROOT, scrapy, staktrakr, write_json

# Pages read without a browser: a crawl of them takes seconds.
STATIC = [e for e in load_truth() if not e.get("needs_browser")]

# Every command that opens the database (besides `scrapy crawl`).
DB_COMMANDS = (("db", "status"), ("db", "check"), ("export",), ("publish",), ("runs",), ("dealers",), ("providers", "list"))


def history_db(path: Path, rows: int = 3000) -> Path:
    """A database holding `rows` observations (about 1 MB): something worth not losing."""
    snapshots = [
        Snapshot(
            id=new_id("old"), run_id="old-run", poller_id="old", scraped_at=f"2026-01-01T00:{i % 60:02d}:00.000Z",
            window_start="2026-01-01T00:00:00Z", coin_slug="ase", vendor=f"dealer{i % 9}", status="ok",
            price=90.0 + i % 7, in_stock=True, method="table", reason="history " * 12,
        )  # fmt: skip
        for i in range(rows)
    ]
    with Database.open_local(path) as db:
        insert_snapshots(db, snapshots)
    return path


def history_in_wal(path: Path, rows: int = 300) -> int:
    """A database whose newest rows are only in its WAL (the process died before the
    checkpoint at close): returns the WAL's size."""
    code = (
        "import os, sys\n"
        "from staktrakr.store import Database\n"
        "db = Database.open_local(sys.argv[1])\n"
        "held = db.held()\n"  # one connection, never closed: no checkpoint into the main file
        "held.__enter__()\n"
        f"for i in range({rows}):\n"
        "    db.execute(\"INSERT INTO poller_runs (run_id, poller_id, job, started_at, status) VALUES (?, 'old', 'retail', '2026-01-01T00:00:00.000Z', 'ok')\", (f'r{i}',))\n"
        "db.commit()\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, check=True)
    return path.with_name(path.name + "-wal").stat().st_size


def write_garbage(path: Path, size: int = 64 * 1024) -> None:
    """64 KB of random bytes in the middle of the file (a bad sector, a stray dd)."""
    with open(path, "r+b") as f:
        f.seek(max(4096, path.stat().st_size // 2 - size // 2))
        f.write(os.urandom(size))


def truncate_half(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def crawl(tmp_path: Path, env: dict[str, str], entries: list[dict] | None = None, *args: str, run: object = None) -> subprocess.CompletedProcess[str]:
    """`scrapy crawl retail` of the static sample pages with this environment."""
    entries = STATIC if entries is None else entries
    with SampleSites(SiteConfig()) as sites:
        providers = write_json(tmp_path / "fault-providers.json", providers_for(sites, entries))
        return (run or scrapy)("crawl", "retail", "-s", "STAKTRAKR_DEALER_DELAY=0", *args, env={"STAKTRAKR_PROVIDERS": str(providers), **env})


def one_line(output: str, path: Path | str, *words: str) -> str:
    """The single line of `output` that names `path` (and says `words`): exactly one, no traceback."""
    lines = [line for line in output.splitlines() if str(path) in line]
    assert len(lines) == 1, f"want one line naming {path}, got {len(lines)}:\n" + "\n".join(lines) + "\n---\n" + output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def reported(stderr: str) -> tuple[int, int]:
    """(stored, not stored) rows from the crawl's summary line."""
    match = re.search(r"; (\d+) row\(s\) stored(?:, (\d+) row\(s\) NOT STORED)?", stderr)
    assert match, stderr[-3000:]
    return int(match.group(1)), int(match.group(2) or 0)


def run_rows(db_path: Path) -> dict[str, int]:
    """price_snapshots rows per run id."""
    with Database.open_local(db_path, migrate=False) as db:
        return {r["run_id"]: r["n"] for r in db.query("SELECT run_id, COUNT(*) AS n FROM price_snapshots GROUP BY run_id")}


def runs(db_path: Path) -> list[dict]:
    with Database.open_local(db_path, migrate=False) as db:
        return db.query("SELECT * FROM poller_runs WHERE poller_id = 'test' ORDER BY started_at")


def cli(*args: str, env: dict[str, str] | None = None, run: object = None) -> subprocess.CompletedProcess[str]:
    return (run or staktrakr)(*args, env=env)

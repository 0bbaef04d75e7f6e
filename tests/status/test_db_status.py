"""`staktrakr db status` shows the last run of each job of each poller, not one row per poller."""

from __future__ import annotations

import json

from ..conftest import staktrakr
from .rows import fill_a_week


def test_db_status_lists_the_last_run_of_every_job(db):
    fill_a_week(db)  # runs of retail (two), spot and goldback by poller `test`
    done = staktrakr("db", "status", "--json")
    text = staktrakr("db", "status")
    assert done.returncode == 0 and text.returncode == 0, done.stderr + text.stderr
    runs = json.loads(done.stdout)["last_runs"]
    assert [(r["poller_id"], r["job"], r["run_id"], r["status"]) for r in runs] == [
        ("test", "goldback", "g1", "error"), ("test", "retail", "r1", "partial"), ("test", "spot", "s1", "ok"),
    ]  # fmt: skip
    assert "last run of each job" in text.stdout
    assert all(job in text.stdout for job in ("goldback", "retail", "spot"))

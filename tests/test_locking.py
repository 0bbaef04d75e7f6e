"""Job locks: an overlapping run of the same job is skipped; a dead or ancient holder is replaced."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from staktrakr.errors import StaktrakrError
from staktrakr.locking import LockBusy, job_lock
from staktrakr.timeutil import iso_ms, utcnow


def write_lock(path: Path, pid: int, host: str | None = None, started_at: str | None = None) -> None:
    record = {"pid": pid, "host": host or socket.gethostname(), "started_at": started_at or iso_ms(utcnow()), "token": "someone-else"}
    path.write_text(json.dumps(record), encoding="utf-8")


def dead_pid() -> int:
    """The PID of a process that has exited and been reaped."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_the_lock_file_says_who_holds_it_and_is_removed_afterwards(tmp_path):
    with job_lock("publish", tmp_path) as me:
        record = json.loads((tmp_path / "publish.lock").read_text())
        assert record["pid"] == os.getpid() == me.pid
        assert record["host"] == socket.gethostname()
        assert record["started_at"].endswith("Z")
    assert not (tmp_path / "publish.lock").exists()


def test_a_second_run_of_the_same_job_is_busy_but_other_jobs_may_overlap(tmp_path):
    with job_lock("crawl-retail", tmp_path):
        with pytest.raises(LockBusy) as busy:
            with job_lock("crawl-retail", tmp_path):
                pytest.fail("acquired a lock that is held")
        # The busy attempt must not have removed the holder's lock.
        assert json.loads((tmp_path / "crawl-retail.lock").read_text())["pid"] == os.getpid()
        with job_lock("crawl-spot", tmp_path):
            assert (tmp_path / "crawl-spot.lock").exists()
    assert isinstance(busy.value, StaktrakrError) and busy.value.exit_code not in (0, 1)
    assert f"pid {os.getpid()}" in str(busy.value) and "crawl-retail" in str(busy.value)
    assert busy.value.holder is not None and busy.value.holder.pid == os.getpid()
    assert not (tmp_path / "crawl-retail.lock").exists()


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path, caplog):
    pid = dead_pid()
    write_lock(tmp_path / "publish.lock", pid)
    with caplog.at_level(logging.WARNING, logger="staktrakr.locking"):
        with job_lock("publish", tmp_path) as me:
            assert json.loads((tmp_path / "publish.lock").read_text())["pid"] == me.pid == os.getpid()
    assert f"process {pid}" in caplog.text and "no longer exists" in caplog.text
    assert not (tmp_path / "publish.lock").exists()


def test_a_lock_older_than_the_limit_is_taken_over_even_if_its_pid_lives(tmp_path, caplog):
    four_hours_ago = iso_ms(utcnow() - timedelta(hours=4))
    write_lock(tmp_path / "publish.lock", os.getppid(), started_at=four_hours_ago)
    with caplog.at_level(logging.WARNING, logger="staktrakr.locking"):
        with job_lock("publish", tmp_path):
            pass
    assert "4.0 h old" in caplog.text


def test_a_recent_lock_of_a_live_process_or_another_host_is_respected(tmp_path):
    write_lock(tmp_path / "a.lock", os.getppid())
    # A PID says nothing about a process on another machine sharing the folder: only age counts.
    write_lock(tmp_path / "b.lock", dead_pid(), host="another-host.invalid")
    for name in ("a", "b"):
        with pytest.raises(LockBusy):
            with job_lock(name, tmp_path):
                pass
        assert json.loads((tmp_path / f"{name}.lock").read_text())["token"] == "someone-else"


def test_an_unreadable_lock_is_busy_while_fresh_and_taken_over_when_old(tmp_path):
    path = tmp_path / "publish.lock"
    path.write_text("{not json")
    with pytest.raises(LockBusy) as busy:
        with job_lock("publish", tmp_path):
            pass
    assert "still writing" in str(busy.value)
    old = time.time() - 4 * 3600
    os.utime(path, (old, old))
    with job_lock("publish", tmp_path) as me:
        assert json.loads(path.read_text())["token"] == me.token


def test_the_lock_is_released_when_the_job_fails(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with job_lock("publish", tmp_path):
            raise RuntimeError("boom")
    assert not (tmp_path / "publish.lock").exists()
    with job_lock("publish", tmp_path):
        pass


def test_a_run_that_lost_its_lock_leaves_the_new_holders_lock_alone(tmp_path, caplog):
    path = tmp_path / "publish.lock"
    with job_lock("publish", tmp_path):
        write_lock(path, os.getppid())  # as if another run had taken it over meanwhile
    assert json.loads(path.read_text())["token"] == "someone-else"
    assert "taken over while this run held it" in caplog.text


def test_job_names_cannot_escape_the_lock_folder(tmp_path):
    with pytest.raises(ValueError):
        with job_lock("../publish", tmp_path):
            pass


def _contender(lock_dir: str, barrier, results) -> None:
    barrier.wait()
    try:
        with job_lock("race", Path(lock_dir)):
            results.put("won")
            time.sleep(1.0)  # hold it while the others try
    except LockBusy:
        results.put("busy")


@pytest.mark.parametrize("stale_lock_first", [False, True], ids=["free", "stale"])
def test_processes_racing_for_one_lock_exactly_one_wins(tmp_path, stale_lock_first):
    if stale_lock_first:
        write_lock(tmp_path / "race.lock", dead_pid())
    ctx = multiprocessing.get_context("spawn")
    n = 6
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_contender, args=(str(tmp_path), barrier, results)) for _ in range(n)]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=60) for _ in range(n)]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    assert sorted(outcomes) == ["busy"] * (n - 1) + ["won"]
    assert not (tmp_path / "race.lock").exists()

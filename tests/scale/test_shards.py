"""Dealer shards: each dealer to exactly one shard, stable, about 1/N moving when a shard is added;
shard settings validated in one line; a sharded crawl's run row says which shard it was."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest

from staktrakr.config import load_config
from staktrakr.errors import ConfigError
from staktrakr.models import Coin, Target
from staktrakr.shards import assignment, shard_of, shard_of_dealer, shard_states, shard_targets
from staktrakr.store import Database
from staktrakr.store.runs import close_orphaned_runs, last_run_per_job, start_run

from staktrakr.timeutil import iso_ms, parse_time, utcnow

from ..conftest import scrapy, staktrakr
from ..test_configuration_mistakes import NINE, error_lines

DEALERS = [f"dealer{i:03d}" for i in range(600)]


def test_every_dealer_belongs_to_exactly_one_shard_and_shares_are_even():
    for count in (2, 3, 5):
        shares = assignment(DEALERS, count)
        flat = [d for share in shares.values() for d in share]
        assert sorted(flat) == sorted(DEALERS)  # each once, none left out
        sizes = [len(share) for share in shares.values()]
        assert min(sizes) > 0.7 * len(DEALERS) / count, sizes


def test_adding_a_shard_moves_only_the_dealers_the_new_shard_wins():
    for count in (1, 2, 3, 6):
        before = {d: shard_of_dealer(d, count) for d in DEALERS}
        after = {d: shard_of_dealer(d, count + 1) for d in DEALERS}
        moved = [d for d in DEALERS if before[d] != after[d]]
        assert all(after[d] == count for d in moved)  # only ever to the new shard
        assert len(moved) < 1.4 * len(DEALERS) / (count + 1), (count, len(moved))


def test_the_assignment_is_the_same_in_every_process():
    # blake2b, not Python's salted hash(): pinned so a change of hash shows up here, not as two
    # shards crawling one dealer after an upgrade of half the machines.
    dealers = ("apmex", "jmbullion", "sdbullion", "summitmetals", "herobullion", "monumentmetals")
    assert [shard_of_dealer(d, 3) for d in dealers] == [0, 0, 2, 0, 1, 1]


def _targets() -> list[Target]:
    coin = Coin(slug="ase", name="American Silver Eagle", metal="silver", weight_oz=1)
    return [Target(coin=coin, vendor=d, urls=(f"https://{d}.example/ase",)) for d in DEALERS[:40]]


def test_shard_targets_is_the_identity_without_shard_settings():
    targets = _targets()
    assert shard_targets(targets, load_config(environ={})) == targets
    assert shard_targets(targets, load_config(environ={"STAKTRAKR_SHARD": "0/1"})) == targets
    # Kubernetes numbers the pods of every Indexed Job; without a count that is not sharding
    assert shard_targets(targets, load_config(environ={"JOB_COMPLETION_INDEX": "2"})) == targets


def test_the_shards_of_a_group_split_the_targets_between_them():
    targets = _targets()
    by_variable = [shard_targets(targets, load_config(environ={"STAKTRAKR_SHARD": f"{i}/3"})) for i in range(3)]
    by_kubernetes = [
        shard_targets(targets, load_config(environ={"JOB_COMPLETION_INDEX": str(i), "STAKTRAKR_SHARD_COUNT": "3"}))
        for i in range(3)
    ]
    assert by_variable == by_kubernetes
    crawled = Counter(t.vendor for share in by_variable for t in share)
    assert crawled == Counter(t.vendor for t in targets)
    assert all(share for share in by_variable)


@pytest.mark.parametrize(
    ("environ", "line"),
    [
        ({"STAKTRAKR_SHARD": "3/3"}, "STAKTRAKR_SHARD: '3/3': shard 3 does not exist among 3 (they are numbered 0..2)"),
        ({"STAKTRAKR_SHARD": "two of three"}, "STAKTRAKR_SHARD: 'two of three' is not a shard; write it as INDEX/COUNT, e.g. 0/3 (shards are numbered 0..COUNT-1, COUNT at most 64)"),
        ({"STAKTRAKR_SHARD": "0/0"}, "STAKTRAKR_SHARD: '0/0': the count must be 1..64"),
        ({"STAKTRAKR_SHARD_COUNT": "3"}, "STAKTRAKR_SHARD_COUNT: is set but neither STAKTRAKR_SHARD nor JOB_COMPLETION_INDEX says which shard this is"),
        ({"STAKTRAKR_SHARD_COUNT": "3", "JOB_COMPLETION_INDEX": "3"}, "STAKTRAKR_SHARD_COUNT: is 3 but JOB_COMPLETION_INDEX is 3 (shards are 0..2)"),
        ({"STAKTRAKR_SHARD": "1/3", "STAKTRAKR_SHARD_COUNT": "4"}, "STAKTRAKR_SHARD_COUNT: is 4 but STAKTRAKR_SHARD=1/3 says 3 shards; set one of them"),
        (
            {"STAKTRAKR_SHARD": "1/3", "STAKTRAKR_SHARD_COUNT": "3", "JOB_COMPLETION_INDEX": "2"},
            "STAKTRAKR_SHARD_COUNT: STAKTRAKR_SHARD=1/3 and JOB_COMPLETION_INDEX=2 disagree; set one of them",
        ),
    ],
)
def test_a_shard_mistake_is_one_line(environ, line):
    with pytest.raises(ConfigError) as caught:
        load_config(environ=environ)
    assert str(caught.value) == f"invalid configuration: {line}"
    assert caught.value.exit_code == 2


def test_a_shard_mistake_stops_a_crawl_with_exit_2():
    done = scrapy("crawl", "retail", env={"STAKTRAKR_SHARD": "3/3"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert error_lines(done.stderr) == ["invalid configuration: STAKTRAKR_SHARD: '3/3': shard 3 does not exist among 3 (they are numbered 0..2)"]


def test_each_shard_has_its_own_run_row_and_never_closes_a_sibling_as_orphaned(config):
    with Database.open_local(config.STAKTRAKR_DB) as db:
        start_run(db, "r0", "cloud", "retail", "2026-03-01T10:00:00.000Z", shard="0/2")
        start_run(db, "r1", "cloud", "retail", "2026-03-01T10:00:00.100Z", shard="1/2")
        start_run(db, "r-home", "home", "retail", "2026-03-01T10:00:00.000Z")
        # shard 1 starts its next run under its lock: only its own old run is an orphan
        assert close_orphaned_runs(db, "cloud", "retail", "2026-03-01T10:15:00.000Z", "2026-03-01T10:15:00.000Z", shard="1/2") == 1
        assert close_orphaned_runs(db, "home", "retail", "2026-03-01T10:15:00.000Z", "2026-03-01T10:15:00.000Z") == 1
        runs = {(r["poller_id"], r["shard"]): r["status"] for r in last_run_per_job(db)}
    assert runs == {("cloud", "0/2"): "running", ("cloud", "1/2"): "error", ("home", None): "error"}


def test_shard_of_reads_the_validated_config():
    assert shard_of(load_config(environ={"STAKTRAKR_SHARD": " 2 / 3 "})).label == "2/3"
    assert shard_of(load_config(environ={})) is None


def _run(group: str, shard: str, started: str, status: str = "ok", total: int = 5, reason: str | None = None) -> dict:
    return {"poller_id": group, "shard": shard, "started_at": started, "status": status, "total": total, "finish_reason": reason}


def test_a_shard_that_missed_the_cycle_or_never_finished_is_silent():
    now = parse_time("2026-03-01T10:20:00.000Z")
    runs = [  # newest first, as runs_of_shards gives them
        _run("home", "0/3", "2026-03-01T10:15:01.000Z"),
        _run("home", "2/3", "2026-03-01T10:15:00.500Z", status="running"),
        _run("cloud", "1/2", "2026-03-01T10:15:00.000Z", status="running"),
        _run("cloud", "0/2", "2026-03-01T10:00:00.000Z", status="running"),
        _run("home", "1/3", "2026-03-01T10:00:00.000Z"),
    ]
    states = {(s.group, s.shard): s for s in shard_states(runs, now, timedelta(minutes=10))}
    assert {k: s.state for k, s in states.items()} == {
        ("cloud", "0/2"): "silent", ("cloud", "1/2"): "running",
        ("home", "0/3"): "ok", ("home", "1/3"): "silent", ("home", "2/3"): "running",
    }  # fmt: skip
    assert states[("home", "1/3")].note == "missed the group's latest cycle"
    later = {(s.group, s.shard): s for s in shard_states(runs, parse_time("2026-03-01T10:30:00.000Z"), timedelta(minutes=10))}
    assert later[("home", "2/3")].state == "silent" and "never finished" in later[("home", "2/3")].note
    # a shard with no run at all: the count comes from the group's newest run
    only_one = shard_states([_run("cloud", "0/2", "2026-03-01T10:15:00.000Z")], now, timedelta(minutes=10))
    assert [(s.shard, s.state, s.note) for s in only_one] == [("0/2", "ok", ""), ("1/2", "silent", "no run of this shard yet")]


def test_the_shards_command_shows_who_crawls_what_and_the_silent_shard(config):
    with Database.open_local(config.STAKTRAKR_DB) as db:
        start_run(db, "r0", "cloud", "retail", iso_ms(utcnow()), shard="0/2")
    done = staktrakr("shards", "--json", env={"STAKTRAKR_SHARD": "1/2"})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["count"] == 2 and report["this_process"] == "1/2"
    assert sorted(report["dealers"]["0"] + report["dealers"]["1"]) == sorted(NINE.split(", "))
    assert report["dealers"]["1"] == [d for d in sorted(NINE.split(", ")) if shard_of_dealer(d, 2) == 1]
    assert [(s["shard"], s["state"]) for s in report["shards"]] == [("0/2", "running"), ("1/2", "silent")]
    table = staktrakr("shards")
    assert table.returncode == 0 and "no run of this shard yet" in table.stdout and "this process is not sharded" in table.stdout

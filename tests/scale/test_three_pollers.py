"""The scale-out proof on one machine, all real parts: a Turso sync server, a shared browser host
(`playwright run-server` launching Debian's Chromium), sample sites serving 20 synthetic dealers
(3 of them script-rendered), and two poller groups (cloud, home) of 3 shards each.

Every target is crawled exactly once per group, no dealer ever has more requests in flight than
one shard allows, no row is lost, the export is the one two unsharded pollers would make from the
same rows, and a shard killed mid-run shows up as silent while its dealers' prices still come
from the other group."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from staktrakr.shards import shard_of_dealer
from staktrakr.store import Database
from staktrakr.timeutil import iso_s, utcnow
from staktrakr_samples.server import Rule, SampleSites, SiteConfig

from ..conftest import ROOT, needs_chromium, staktrakr, write_json
from .browser_host import browser_host
from .farm import build_farm

SHARDS = 3
VICTIM = 1  # the home shard killed mid-run


def _start(env: dict[str, str], log: Path) -> subprocess.Popen:
    full = {**os.environ, "SCRAPY_SETTINGS_MODULE": "staktrakr.settings", **env}
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "scrapy", "crawl", "retail"], env=full, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def _finish(processes: dict[str, subprocess.Popen], logs: Path) -> None:
    for name, process in processes.items():
        code = process.wait(timeout=300)
        assert code == 0, f"{name} exited {code}:\n{(logs / f'{name}.log').read_text(errors='replace')[-3000:]}"


def _rows(db_path: Path, sql: str = "SELECT * FROM price_snapshots") -> list[dict]:
    with Database.open_local(db_path, migrate=False) as db:
        return db.query(sql)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _as_two_unsharded_pollers(source: Path, target: Path) -> None:
    """Every row of `source` as two unsharded pollers would have stored it: the same rows, the
    runs one per group instead of one per shard."""
    with Database.open_local(source, migrate=False) as db:
        tables = {t: db.query(f"SELECT * FROM {t}") for t in ("price_snapshots", "provider_failures", "dealer_render_modes")}
        runs = db.query("SELECT * FROM poller_runs")
    with Database.open_local(target) as db, db.transaction():
        for table, rows in tables.items():
            for row in rows:
                if "run_id" in row:
                    row = {**row, "run_id": f"{row['poller_id']}-unsharded-run"}
                db.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", tuple(row.values()))
        for group in ("cloud", "home"):  # from the first shard's start to the last one's end
            shard_runs = [r for r in runs if r["poller_id"] == group and r["status"] == "ok"]
            db.execute(
                "INSERT INTO poller_runs (run_id, poller_id, job, started_at, finished_at, status, total, captured) "
                "VALUES (?, ?, 'retail', ?, ?, 'ok', ?, ?)",
                (f"{group}-unsharded-run", group, min(r["started_at"] for r in shard_runs), max(r["finished_at"] for r in shard_runs),
                 sum(r["total"] for r in shard_runs), sum(r["captured"] for r in shard_runs)),
            )  # fmt: skip


@pytest.mark.slow
@pytest.mark.browser
@needs_chromium
def test_two_groups_of_three_shards_share_the_dealers_and_lose_nothing(tmp_path, turso_server):
    farm = build_farm(dealers=20, browser_dealers=3)
    victims = [d for d in farm.dealers if shard_of_dealer(d, SHARDS) == VICTIM]
    assert victims and len(victims) < len(farm.dealers)
    site_config = SiteConfig(pages=farm.pages, latency=(0.02, 0.06))
    logs = tmp_path / "logs"
    logs.mkdir()
    with browser_host(tmp_path) as host, SampleSites(site_config) as sites:
        providers = write_json(tmp_path / "providers.json", farm.providers(sites.base_url))
        pythonpath = os.pathsep.join(filter(None, [farm.plugin(tmp_path / "plugin"), os.environ.get("PYTHONPATH")]))

        def env(name: str, **extra: str) -> dict[str, str]:
            return {"POLLER_ID": name.split("-")[0], "STAKTRAKR_DB": str(tmp_path / f"{name}.db"), "TURSO_DATABASE_URL": turso_server.url,
                    "STAKTRAKR_PROVIDERS": str(providers), "STAKTRAKR_API_DIR": str(tmp_path / f"{name}-api"),
                    "PLAYWRIGHT_CONNECT_URL": host.url, "PYTHONPATH": pythonpath, **extra}  # fmt: skip

        def shard_env(group: str, index: int) -> dict[str, str]:
            return env(f"{group}-{index}", STAKTRAKR_SHARD=f"{index}/{SHARDS}")

        # -- cloud: three shards at once; each page fetched once, one shard at each dealer
        cloud = {f"cloud-{i}": _start(shard_env("cloud", i), logs / f"cloud-{i}.log") for i in range(SHARDS)}
        _finish(cloud, logs)
        assert {path: site_config.hits.get(path) for path in farm.pages} == dict.fromkeys(farm.pages, 1)
        assert max(site_config.max_in_flight.values()) <= 2  # STAKTRAKR_DEALER_CONCURRENCY, across all shards

        # -- home: three shards; the victim's dealers answer slowly and it is killed mid-run
        site_config.hits.clear()
        for dealer in victims:
            for slug in ("ase", "age"):
                site_config.rules[farm.paths[(slug, dealer)]] = Rule(delay_s=1.5)
        home = {f"home-{i}": _start(shard_env("home", i), logs / f"home-{i}.log") for i in range(SHARDS)}
        victim = home.pop(f"home-{VICTIM}")
        deadline = time.monotonic() + 120
        while not any(site_config.hits.get(farm.paths[("ase", d)]) or site_config.hits.get(farm.paths[("age", d)]) for d in victims):
            assert time.monotonic() < deadline and victim.poll() is None, "the victim shard never reached its dealers"
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        _finish(home, logs)
        site_config.rules.clear()
        survivors = {path for (_, dealer), path in farm.paths.items() if dealer not in victims}
        assert {path: site_config.hits.get(path) for path in survivors} == dict.fromkeys(survivors, 1)

        # -- what the publisher sees on the remote
        publisher = env("publisher")
        as_of = iso_s(utcnow())  # after every row; both exports below are made as of this moment
        exported = staktrakr("export", "--as-of", as_of, "--out", str(tmp_path / "sharded-export"), env=publisher)
        assert exported.returncode == 0, exported.stderr
        merged = _rows(tmp_path / "publisher.db")
        assert len({r["id"] for r in merged}) == len(merged)  # row ids unique across all shards
        by_group: dict[str, dict[tuple[str, str], list[dict]]] = {"cloud": {}, "home": {}}
        for row in merged:
            by_group[row["poller_id"]].setdefault((row["coin_slug"], row["vendor"]), []).append(row)
        # every target exactly once per group (the victim's dealers: by cloud only), each right
        assert {k: len(v) for k, v in by_group["cloud"].items()} == dict.fromkeys(farm.expected, 1)
        assert {k: len(v) for k, v in by_group["home"].items()} == {k: 1 for k in farm.expected if k[1] not in victims}
        wrong = {k: (rows[0]["status"], rows[0]["price"], rows[0]["reason"]) for g in by_group.values() for k, rows in g.items()
                 if (rows[0]["status"], rows[0]["price"]) != ("ok", farm.expected[k])}  # fmt: skip
        assert not wrong, wrong
        browser_rows = [r for r in merged if r["vendor"] in farm.browser_dealers]
        assert browser_rows and all(r["method"].startswith("browser+") for r in browser_rows)

        runs = _rows(tmp_path / "publisher.db", "SELECT poller_id, shard, status, total FROM poller_runs ORDER BY poller_id, shard")
        assert [(r["poller_id"], r["shard"], r["status"]) for r in runs] == [
            ("cloud", "0/3", "ok"), ("cloud", "1/3", "ok"), ("cloud", "2/3", "ok"), ("home", "0/3", "ok"), ("home", "2/3", "ok"),
        ]  # fmt: skip
        assert sum(r["total"] for r in runs if r["poller_id"] == "cloud") == len(farm.expected)

        # -- the silent shard, as the operator sees it
        report = staktrakr("shards", "--json", env=publisher)
        assert report.returncode == 0, report.stderr
        states = {(s["group"], s["shard"]): (s["state"], s["note"]) for s in json.loads(report.stdout)["shards"]}
        assert states == {
            **{("cloud", f"{i}/3"): ("ok", "") for i in range(SHARDS)},
            ("home", "0/3"): ("ok", ""), ("home", "1/3"): ("silent", "no run of this shard yet"), ("home", "2/3"): ("ok", ""),
        }  # fmt: skip
        assert sorted(json.loads(report.stdout)["dealers"][str(VICTIM)]) == sorted(victims)
        status = staktrakr("db", "status", env=publisher)
        assert status.returncode == 0 and "home shard 0/3" in status.stdout and "home shard 1/3" not in status.stdout

        # -- the export is blind to shards: the same rows from two unsharded pollers export the same
        reference = {**publisher, "STAKTRAKR_DB": str(tmp_path / "unsharded.db"), "TURSO_DATABASE_URL": ""}
        _as_two_unsharded_pollers(tmp_path / "publisher.db", tmp_path / "unsharded.db")
        unsharded = staktrakr("export", "--as-of", as_of, "--out", str(tmp_path / "unsharded-export"), env=reference)
        assert unsharded.returncode == 0, unsharded.stderr
        sharded_tree, unsharded_tree = _tree(tmp_path / "sharded-export"), _tree(tmp_path / "unsharded-export")
        # status.json reports runs too, and those differ (one per shard): its dealers and feeds do not
        sharded_status, unsharded_status = (json.loads(tree.pop("api/status.json")) for tree in (sharded_tree, unsharded_tree))
        assert len(sharded_tree) > 10 and sharded_tree == unsharded_tree
        for part in ("dealers", "feeds"):
            assert sharded_status[part] == unsharded_status[part]
        assert [(p["poller"], p["shard"]) for p in sharded_status["pollers"]] == [
            ("cloud", "0/3"), ("cloud", "1/3"), ("cloud", "2/3"), ("home", "0/3"), ("home", "2/3"),
        ]  # fmt: skip
        latest = {slug: json.loads(sharded_tree[f"api/{slug}/latest.json"]) for slug in ("ase", "age")}
        assert {(slug, v) for slug, doc in latest.items() for v in doc["vendors"]} == set(farm.expected)

        # -- the killed shard runs again: its local file is sound, whatever it stored before it
        # was killed goes out with this run's rows, and the group has every target again
        victim_env = shard_env("home", VICTIM)
        checked = staktrakr("db", "check", env=victim_env)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        _finish({f"home-{VICTIM}-again": _start(victim_env, logs / f"home-{VICTIM}-again.log")}, logs)
        pulled = staktrakr("db", "sync", "--pull-only", env=publisher)
        assert pulled.returncode == 0, pulled.stderr
        local_ids = {r["id"] for r in _rows(tmp_path / f"home-{VICTIM}.db", "SELECT id FROM price_snapshots")}
        remote = _rows(tmp_path / "publisher.db")
        assert local_ids and local_ids <= {r["id"] for r in remote}
        assert {(r["coin_slug"], r["vendor"]) for r in remote if r["poller_id"] == "home"} == set(farm.expected)

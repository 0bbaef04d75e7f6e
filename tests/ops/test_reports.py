"""`staktrakr runs`, `staktrakr dealers` and the metrics (`/metrics` of `staktrakr serve`, and the
textfile) show the figures of real crawls: two pollers crawl the sample dealer sites, and every
number is checked against the database and against the pages' known answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from staktrakr.reports import build_dealers_report
from staktrakr_samples.server import Rule, SampleSites, SiteConfig, load_truth, providers_for
from staktrakr.store import Database
from staktrakr.timeutil import parse_time

from ..conftest import ROOT, scrapy, staktrakr, write_json
from ..export.helpers import add
from . import isolated_env

TRUTH = load_truth()
DEAD_URL = "/jmbullion/age.html"  # answers 404: a dead product URL
PAGES = {
    # ok, out_of_stock, wrong_product, blocked (bot wall) at apmex; ok, blocked, 404 at jmbullion;
    # a truncated page (no_price) at sdbullion.
    "api": ["apmex/ase.html", "apmex/maple-silver.html", "apmex/krugerrand-gold.html", "apmex/ape.html",
            "jmbullion/ase.html", "jmbullion/buffalo.html", "jmbullion/age.html", "sdbullion/kangaroo-silver.html"],
    "home": ["apmex/ase.html", "jmbullion/buffalo.html"],
}  # fmt: skip
CAPTURED = ("ok", "out_of_stock")


@dataclass
class Crawled:
    env: dict[str, str]
    db_path: Path
    api_dir: Path

    def query(self, sql: str, params: tuple = ()) -> list[dict]:
        with Database.open_local(self.db_path, migrate=False) as db:
            return db.query(sql, params)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    """The cloud poller crawls eight pages, then the home poller two; then the cloud one exports."""
    tmp = tmp_path_factory.mktemp("ops-crawl")
    envs = {}
    with SampleSites(SiteConfig(rules={DEAD_URL: Rule(status=404)})) as sites:
        for poller, pages in PAGES.items():
            providers = write_json(tmp / f"providers-{poller}.json", providers_for(sites, [e for e in TRUTH if e["path"] in pages]))
            envs[poller] = isolated_env(tmp, poller, STAKTRAKR_PROVIDERS=str(providers))
            done = scrapy("crawl", "retail", "-s", "STAKTRAKR_DEALER_DELAY=0", env=envs[poller])
            assert done.returncode == 0, done.stderr[-3000:]
    exported = staktrakr("export", env=envs["api"])
    assert exported.returncode == 0, exported.stderr[-3000:]
    return Crawled(env=envs["api"], db_path=tmp / "staktrakr.db", api_dir=tmp / "api")


# -- staktrakr runs ---------------------------------------------------------------------------------


def test_runs_lists_each_run_with_its_totals_and_failures_per_dealer(crawled: Crawled) -> None:
    done = staktrakr("runs", "--json", env=crawled.env)
    assert done.returncode == 0, done.stderr
    reports = json.loads(done.stdout)
    rows = crawled.query("SELECT * FROM poller_runs ORDER BY started_at DESC")
    assert [r["run_id"] for r in reports] == [r["run_id"] for r in rows] and [r["poller_id"] for r in reports] == ["home", "api"]
    for report, row in zip(reports, rows, strict=True):
        assert (report["job"], report["status"], report["duration_s"]) == (row["job"], row["status"], row["duration_s"])
        assert (report["total"], report["captured"], report["failures"]) == (row["total"], row["captured"], row["failures"])
        assert report["counts"] == {s: row[f"{s}_count"] for s in report["counts"]}
        failed = crawled.query(
            "SELECT vendor, status, COUNT(*) AS n FROM price_snapshots WHERE run_id = ? AND status NOT IN ('ok', 'out_of_stock') "
            "GROUP BY vendor, status", (row["run_id"],),
        )  # fmt: skip
        assert report["failures_by_dealer"] == _nest(failed)
        assert sum(sum(by_status.values()) for by_status in report["failures_by_dealer"].values()) == row["failures"]
    # and what the pages are known to be
    home, api = reports
    assert api["failures_by_dealer"] == {
        "apmex": {"blocked": 1, "wrong_product": 1},
        "jmbullion": {"blocked": 1, "error": 1},
        "sdbullion": {"no_price": 1},
    }
    assert api["counts"] == {"ok": 2, "out_of_stock": 1, "wrong_product": 1, "blocked": 2, "no_price": 1, "error": 1}
    assert home["failures_by_dealer"] == {"jmbullion": {"blocked": 1}} and home["counts"]["ok"] == 1


def test_runs_filters_by_poller_and_count_and_prints_a_table(crawled: Crawled) -> None:
    api_only = json.loads(staktrakr("runs", "--poller", "api", "--json", env=crawled.env).stdout)
    newest = json.loads(staktrakr("runs", "--last", "1", "--json", env=crawled.env).stdout)
    table = staktrakr("runs", "--poller", "api", env=crawled.env)
    assert [r["poller_id"] for r in api_only] == ["api"]
    assert [r["poller_id"] for r in newest] == ["home"]
    assert table.returncode == 0, table.stderr
    for cell in ("apmex 2 (blocked 1, wrong 1)", "jmbullion 2 (blocked 1, error 1)", "sdbullion 1 (no price 1)", "partial"):
        assert cell in table.stdout, table.stdout
    assert "home" not in table.stdout


# -- staktrakr dealers -----------------------------------------------------------------------------


def test_dealers_shows_each_dealers_real_health(crawled: Crawled) -> None:
    done = staktrakr("dealers", "--json", env=crawled.env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    rows = crawled.query("SELECT vendor, status, reason, scraped_at FROM price_snapshots")
    dealers = {d["dealer"]: d for d in report["dealers"]}
    assert set(dealers) == {r["vendor"] for r in rows}
    for name, dealer in dealers.items():
        mine = [r for r in rows if r["vendor"] == name]
        captured = [r for r in mine if r["status"] in CAPTURED]
        assert dealer["attempts"] == len(mine) and dealer["captured"] == len(captured)
        assert dealer["success_rate"] == pytest.approx(len(captured) / len(mine))
        assert dealer["counts"] == {s: sum(r["status"] == s for r in mine) for s in dealer["counts"]}
        assert dealer["last_success"] == max((r["scraped_at"] for r in captured), default=None)
        reasons = Counter(r["reason"] for r in mine if r["status"] not in CAPTURED)
        assert dealer["top_failure_count"] == (max(reasons.values()) if reasons else 0)
        assert dealer["top_failure_reason"] in (reasons or {None: 0})
    # what the pages are known to be: the bot wall hit jmbullion in both pollers' runs
    assert [d["dealer"] for d in report["dealers"]] == ["sdbullion", "jmbullion", "apmex"]  # worst first
    assert (dealers["apmex"]["attempts"], dealers["apmex"]["captured"]) == (5, 3)
    jm = dealers["jmbullion"]
    assert (jm["attempts"], jm["success_rate"], jm["counts"]["blocked"], jm["counts"]["error"]) == (4, 0.25, 2, 1)
    assert jm["top_failure_count"] == 2 and "bot wall" in jm["top_failure_reason"]
    assert dealers["sdbullion"]["last_success"] is None and dealers["sdbullion"]["counts"]["no_price"] == 1


def test_dealers_of_one_poller_and_as_a_table(crawled: Crawled) -> None:
    home = {d["dealer"]: d for d in json.loads(staktrakr("dealers", "--poller", "home", "--json", env=crawled.env).stdout)["dealers"]}
    table = staktrakr("dealers", "--hours", "6", env=crawled.env)
    assert set(home) == {"apmex", "jmbullion"}
    assert (home["apmex"]["attempts"], home["apmex"]["success_rate"]) == (1, 1.0)
    assert (home["jmbullion"]["attempts"], home["jmbullion"]["counts"]["blocked"]) == (1, 1)
    assert table.returncode == 0, table.stderr
    jm_line = next(line for line in table.stdout.splitlines() if "jmbullion" in line)
    assert "25%" in jm_line and "HTTP" not in jm_line.split("│")[-2]  # the bot wall, not the 404, is the top reason
    assert "no success at all: sdbullion" in table.stdout


def test_dealer_report_counts_only_its_window(db: Database) -> None:
    now = datetime(2026, 3, 15, 20, 0, tzinfo=UTC)
    add(db, "ase", "apmex", "2026-03-15T19:00:00Z", 94.19)
    add(db, "age", "apmex", "2026-03-15T12:00:00Z", status="blocked")
    add(db, "ase", "apmex", "2026-03-14T19:30:00Z", 93.0)  # 24.5 h before: outside
    add(db, "ase", "sdbullion", "2026-03-14T21:00:00Z", status="error")
    report = build_dealers_report(db, now, hours=24)
    assert [(d.dealer, d.attempts, d.captured, d.last_success) for d in report.dealers] == [
        ("sdbullion", 1, 0, None),
        ("apmex", 2, 1, "2026-03-15T19:00:00.000Z"),
    ]
    assert report.since == "2026-03-14T20:00:00.000Z"
    assert [d.dealer for d in build_dealers_report(db, now, hours=2).dealers] == ["apmex"]


# -- metrics --------------------------------------------------------------------------------------


def _samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _key(name: str, **labels: str) -> tuple[str, frozenset]:
    return name, frozenset(labels.items())


def _read_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    return proc.stdout.readline()


@pytest.mark.timeout(120)
def test_metrics_endpoint_of_staktrakr_serve_shows_the_database_figures(crawled: Crawled) -> None:
    exe = str(Path(sys.executable).with_name("staktrakr"))
    proc = subprocess.Popen(
        [exe, "serve", "--dir", str(crawled.api_dir), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, **crawled.env},
    )  # fmt: skip
    try:
        line = _read_line(proc)
        assert " on http://127.0.0.1:" in line, line + (proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        base = line.split(" on ", 1)[1].split("/ ", 1)[0]
        with urllib.request.urlopen(f"{base}/metrics", timeout=30) as response:
            content_type = response.headers["Content-Type"]
            body = response.read().decode("utf-8")
        health = json.loads(staktrakr("health", "--dir", str(crawled.api_dir), "--json", env=crawled.env).stdout)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert content_type.startswith("text/plain; version=")  # Prometheus text exposition
    samples = _samples(body)
    assert samples[_key("staktrakr_database_up")] == 1

    runs = crawled.query("SELECT poller_id, job, status, COUNT(*) AS n FROM poller_runs GROUP BY 1, 2, 3")
    assert {k: v for k, v in samples.items() if k[0] == "staktrakr_runs"} == {
        _key("staktrakr_runs", poller=r["poller_id"], job=r["job"], status=r["status"]): r["n"] for r in runs
    }
    for run in crawled.query("SELECT * FROM poller_runs"):
        labels = {"poller": run["poller_id"], "job": run["job"]}
        assert samples[_key("staktrakr_last_run_duration_seconds", **labels)] == pytest.approx(run["duration_s"])
        assert samples[_key("staktrakr_last_run_finished_timestamp_seconds", **labels)] == pytest.approx(parse_time(run["finished_at"]).timestamp())
        assert samples[_key("staktrakr_last_run_targets", **labels)] == run["total"]
        assert samples[_key("staktrakr_last_run_failures", **labels)] == run["failures"]

    observed = crawled.query("SELECT vendor, status, COUNT(*) AS n FROM price_snapshots GROUP BY 1, 2")
    assert {k: v for k, v in samples.items() if k[0] == "staktrakr_observations_24h"} == {
        _key("staktrakr_observations_24h", dealer=r["vendor"], status=r["status"]): r["n"] for r in observed
    }
    assert samples[_key("staktrakr_observations_24h", dealer="jmbullion", status="blocked")] == 2  # the known bot wall, twice

    for poller in ("api", "home"):
        newest_ok = crawled.query("SELECT MAX(scraped_at) AS at FROM price_snapshots WHERE status = 'ok' AND poller_id = ?", (poller,))[0]["at"]
        assert samples[_key("staktrakr_last_success_timestamp_seconds", feed="retail", poller=poller)] == pytest.approx(parse_time(newest_ok).timestamp())

    # freshness of the export in STAKTRAKR_API_DIR, as `staktrakr health` judges it
    manifest = json.loads((crawled.api_dir / "api/manifest.json").read_text())
    assert samples[_key("staktrakr_published_timestamp_seconds", feed="market")] == pytest.approx(parse_time(manifest["generated_at"]).timestamp())
    for feed, verdict in health["feeds"].items():
        assert samples[_key("staktrakr_published_fresh", feed=feed)] == (verdict["status"] == "fresh")
        assert (_key("staktrakr_published_age_seconds", feed=feed) in samples) == (verdict["status"] != "missing")
    assert health["feeds"]["spot"]["status"] == "missing"  # no spot poll ran


def test_metrics_textfile_is_valid_exposition_written_atomically(crawled: Crawled, tmp_path: Path) -> None:
    target = tmp_path / "textfile" / "staktrakr.prom"
    first = staktrakr("metrics", "--textfile", str(target), env=crawled.env)
    assert first.returncode == 0, first.stderr
    target.write_text("stale content\n")
    second = staktrakr("metrics", "--textfile", str(target), env=crawled.env)
    printed = staktrakr("metrics", env=crawled.env)
    assert second.returncode == 0 and printed.returncode == 0, second.stderr + printed.stderr
    written = _samples(target.read_text(encoding="utf-8"))  # raises on anything but exposition format
    assert [p.name for p in target.parent.iterdir()] == ["staktrakr.prom"]  # no temp file left behind

    def steady(samples: dict) -> dict:  # ages move with the clock between two runs
        return {k: v for k, v in samples.items() if k[0] != "staktrakr_published_age_seconds"}

    assert steady(written) == steady(_samples(printed.stdout))
    assert written[_key("staktrakr_runs", poller="api", job="retail", status="partial")] == 1
    assert written[_key("staktrakr_observations_24h", dealer="sdbullion", status="no_price")] == 1


def test_metrics_of_a_missing_database_say_so(tmp_path: Path) -> None:
    done = staktrakr("metrics")  # conftest points STAKTRAKR_DB at a file that does not exist
    assert done.returncode == 0, done.stderr
    samples = _samples(done.stdout)
    assert samples[_key("staktrakr_database_up")] == 0
    assert samples[_key("staktrakr_published_fresh", feed="market")] == 0
    assert not (tmp_path / "staktrakr.db").exists()  # reading metrics created nothing


def _nest(rows: list[dict]) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = {}
    for row in rows:
        nested.setdefault(row["vendor"], {})[row["status"]] = row["n"]
    return nested

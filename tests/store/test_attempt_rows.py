"""One row per attempt, always: a target whose pipeline, plugin hook or callback raises still gets
its row (status `error`, the reason naming what raised), the run's totals are the rows really in
the database, and a run left open is closed by the next run of the job."""

import json
import re

from staktrakr import settings as project_settings
from staktrakr.store import Database

from .exploding import DEALER
from .fault_helpers import STATIC, crawl, reported, run_rows, runs

ENTRIES = [e for e in STATIC if e["dealer"] in (DEALER, "jmbullion")]


def _rows(db_path):
    with Database.open_local(db_path, migrate=False) as db:
        return {(r["coin_slug"], r["vendor"]): r for r in db.query("SELECT * FROM price_snapshots")}


def _every_attempt_stored(done, db_path):
    """Each target has its row; what the crawl reported as stored is what the database holds."""
    stored, lost = reported(done.stderr)
    assert lost == 0
    rows = _rows(db_path)
    assert set(rows) == {(e["coin"], e["dealer"]) for e in ENTRIES}
    (run,) = runs(db_path)
    assert run["finished_at"] and run["total"] == stored == run_rows(db_path)[run["run_id"]] == len(ENTRIES)
    return rows, run


def test_a_pipeline_that_raises(tmp_path, config):
    pipelines = {**project_settings.ITEM_PIPELINES, "tests.store.exploding.ExplodingPipeline": 600}
    done = crawl(tmp_path, {}, ENTRIES, "-s", f"ITEM_PIPELINES={json.dumps(pipelines)}")
    assert done.returncode == 0, done.stderr[-3000:]  # the other dealer's prices were captured
    rows, run = _every_attempt_stored(done, config.STAKTRAKR_DB)
    exploded = [r for (coin, vendor), r in rows.items() if vendor == DEALER]
    assert exploded and all(r["status"] == "error" and r["price"] is None for r in exploded)
    assert {r["reason"] for r in exploded} == {"ExplodingPipeline.process_item: raised RuntimeError: pipeline exploded"}
    assert run["status"] == "partial" and run["error_count"] >= len(exploded)


def test_a_plugin_hook_that_raises(tmp_path, config):
    # The spot plugin's staktrakr_price_bounds reads this setting as a number: it raises on every priced item.
    done = crawl(tmp_path, {}, ENTRIES, "-s", "STAKTRAKR_SPOT_MAX_AGE_HOURS=soon")
    rows, run = _every_attempt_stored(done, config.STAKTRAKR_DB)
    hooked = [r for r in rows.values() if r["reason"] and "plugin hook" in r["reason"]]
    assert hooked and all(r["status"] == "error" for r in hooked)
    # The spot plugin is a package: the hook's module is named, wherever in it the hook lives.
    assert re.match(
        r"ValidatePipeline\.process_item: plugin hook staktrakr_price_bounds \(plugins/spot/\w+\.py\) raised ValueError:", hooked[0]["reason"]
    ), hooked[0]["reason"]
    assert done.returncode == (1 if run["captured"] == 0 else 0)


def test_a_callback_that_raises(tmp_path, config):
    middlewares = {"tests.store.exploding.ExplodingSpiderMiddleware": 950}
    done = crawl(tmp_path, {}, ENTRIES, "-s", f"SPIDER_MIDDLEWARES={json.dumps(middlewares)}")
    assert done.returncode == 0, done.stderr[-3000:]
    rows, _ = _every_attempt_stored(done, config.STAKTRAKR_DB)
    exploded = [r for (coin, vendor), r in rows.items() if vendor == DEALER]
    assert exploded and all(
        r["reason"].startswith("ExplodingSpiderMiddleware.process_spider_output")
        and r["reason"].endswith(": raised RuntimeError: callback exploded")
        for r in exploded
    )
    assert all(r["status"] == "error" and r["url"].endswith(".html") for r in exploded)


def test_a_run_left_open_is_closed_by_the_next_run_of_the_job(tmp_path, config, db):
    # A run whose row could not be closed (its process was killed, or the disk was still full)
    # a minute ago: under the job lock it cannot still be going on.
    db.execute(
        "INSERT INTO poller_runs (run_id, poller_id, job, started_at, status) VALUES "
        "('test-recent', 'test', 'retail', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 minute'), 'running'), "
        "('test-other-job', 'test', 'spot', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 minute'), 'running')"
    )
    db.close()
    done = crawl(tmp_path, {}, ENTRIES[:2])
    assert done.returncode == 0, done.stderr[-3000:]
    by_id = {r["run_id"]: r for r in runs(config.STAKTRAKR_DB)}
    assert by_id["test-recent"]["status"] == "error" and by_id["test-recent"]["finish_reason"] == "orphaned"
    assert by_id["test-other-job"]["status"] == "running"  # another job's run is not this lock's to judge
    assert "closed 1 orphaned retail run(s) of poller test" in done.stderr

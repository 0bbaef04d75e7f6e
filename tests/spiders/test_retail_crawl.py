"""`scrapy crawl retail` against the sample dealer sites on 127.0.0.1, read back from the database."""

import json

import pytest

from staktrakr_samples.server import Rule, SampleSites, SiteConfig, load_truth, providers_for
from staktrakr.store import Database

from ..conftest import needs_chromium, scrapy, staktrakr, write_json, wrong_answers

TRUTH = load_truth()


def _rows(db_path):
    """The newest row of every target, and the runs."""
    with Database.open_local(db_path) as db:
        rows = db.query("SELECT * FROM price_snapshots ORDER BY scraped_at")
        runs = db.query("SELECT * FROM poller_runs")
    return {(r["coin_slug"], r["vendor"]): r for r in rows}, runs


def _all_rows(db_path):
    with Database.open_local(db_path) as db:
        return db.query("SELECT * FROM price_snapshots ORDER BY scraped_at"), db.query("SELECT * FROM dealer_render_modes")


@pytest.mark.browser
@needs_chromium
def test_full_crawl_matches_the_known_answers(tmp_path, config):
    site_config = SiteConfig(rules={"/gone/ase.html": Rule(status=404)})
    with SampleSites(site_config) as sites:
        providers = providers_for(sites, TRUTH)
        # a `urls` list: the first URL is dead, the second is the real page
        apmex_ase = next(p for p in providers["coins"]["ase"]["providers"] if p["id"] == "apmex")
        apmex_ase["urls"] = [sites.url("gone/ase.html"), apmex_ase.pop("url")]
        providers_file = write_json(tmp_path / "providers.json", providers)
        done = scrapy("crawl", "retail", env={"STAKTRAKR_PROVIDERS": str(providers_file)})
        hits = dict(site_config.hits)
        max_in_flight = dict(site_config.max_in_flight)
    assert done.returncode == 0, done.stderr[-3000:]
    rows, runs = _rows(config.STAKTRAKR_DB)
    assert len(rows) == len(TRUTH)
    wrong = wrong_answers(TRUTH, rows)
    assert not wrong, "\n".join(wrong)
    # the JS pages went through Chromium, the static ones did not
    js = rows[("ase", "bullionexchanges")]
    assert js["method"].startswith("browser+") and js["price"] == 94.49
    hero = rows[("kangaroo-silver", "herobullion")]
    assert hero["method"].startswith("browser+"), "a static dealer page re-fetched once with the browser"
    assert not rows[("ase", "apmex")]["method"].startswith("browser")
    # the fallback URL was tried after the dead one, and the second one's outcome was stored
    assert hits["/gone/ase.html"] == 1 and rows[("ase", "apmex")]["url"].endswith("/apmex/ase.html")
    assert rows[("ase", "apmex")]["reason"].startswith("URL 2 of 2")
    # politeness: never more than 2 requests in flight at one dealer
    assert max(max_in_flight.values()) <= 2
    # Dealers whose rendered pages read differently from their static HTML learned to need the
    # browser (remembered for the next run), the others that they can be read statically. Pages
    # a dealer answered statically before that were read in the browser before anything was stored.
    every_row, modes = _all_rows(config.STAKTRAKR_DB)
    mixed = {e["dealer"] for e in TRUTH if e.get("needs_browser")} - {"bullionexchanges"}  # forced by its profile
    assert {m["vendor"] for m in modes if m["mode"] == "browser"} == mixed
    assert {m["vendor"] for m in modes if m["mode"] == "static"} == {e["dealer"] for e in TRUTH} - mixed - {"bullionexchanges"}
    # one row per target, one run row, closed, with totals per status
    assert len(every_row) == len(TRUTH) and len(runs) == 1
    run = runs[0]
    assert run["finished_at"] and run["total"] == len(TRUTH) and run["job"] == "retail"
    assert run["blocked_count"] == sum(e["expected"]["status"] == "blocked" for e in TRUTH)
    assert run["ok_count"] == sum(e["expected"]["status"] == "ok" for e in TRUTH)
    # every row has its own id, scrape time and a 15-minute window
    assert len({r["id"] for r in every_row}) == len(every_row)
    assert all(r["window_start"].endswith(("00:00Z", "15:00Z", "30:00Z", "45:00Z")) for r in every_row)
    failures = Database.open_local(config.STAKTRAKR_DB).query("SELECT status, url FROM provider_failures")
    assert {f["status"] for f in failures} <= {"blocked", "no_price", "error"}
    # provider_failures keeps the attempts that say nothing about price or stock (not wrong products)
    assert len(failures) == run["blocked_count"] + run["no_price_count"] + run["error_count"]
    assert run["failures"] == len(failures) + run["wrong_product_count"]


def test_one_dealer_and_some_coins(tmp_path, config):
    with SampleSites() as sites:
        providers_file = write_json(tmp_path / "providers.json", providers_for(sites, TRUTH))
        spiders = scrapy("list", env={"STAKTRAKR_PROVIDERS": str(providers_file)}).stdout.split()
        done = scrapy("crawl", "retail-apmex", "-a", "coins=ase,age", env={"STAKTRAKR_PROVIDERS": str(providers_file)})
    assert {"retail", "retail-apmex", "retail-summitmetals"} <= set(spiders)
    assert done.returncode == 0, done.stderr[-2000:]
    rows, runs = _rows(config.STAKTRAKR_DB)
    assert set(rows) == {("ase", "apmex"), ("age", "apmex")}
    assert rows[("ase", "apmex")]["price"] == 94.19 and runs[0]["job"] == "retail-apmex"
    # one log line per target with dealer, coin, status, price and method
    assert any("apmex" in line and "ase" in line and "94.19" in line and "table" in line for line in done.stderr.splitlines())


def test_a_crawl_where_everything_fails_exits_non_zero(tmp_path, config):
    rules = {"/apmex/ase.html": Rule(status=403), "/apmex/age.html": Rule(status=500)}
    with SampleSites(SiteConfig(rules=rules)) as sites:
        entries = [e for e in TRUTH if e["path"] in ("apmex/ase.html", "apmex/age.html")]
        providers_file = write_json(tmp_path / "providers.json", providers_for(sites, entries))
        done = scrapy("crawl", "retail", "-s", "RETRY_TIMES=1", env={"STAKTRAKR_PROVIDERS": str(providers_file)})
    assert done.returncode == 1, done.stderr[-2000:]
    rows, runs = _rows(config.STAKTRAKR_DB)
    assert rows[("ase", "apmex")]["status"] == "blocked" and rows[("ase", "apmex")]["reason"] == "HTTP 403"
    assert rows[("age", "apmex")]["status"] == "error" and "500" in rows[("age", "apmex")]["reason"]
    assert runs[0]["status"] == "error" and runs[0]["error"] == "all targets failed"


def test_bad_providers_file_stops_the_crawl_with_a_clear_message(tmp_path):
    bad = write_json(tmp_path / "providers.json", {"coins": {"ase": {"name": "x", "metal": "tin", "weight_oz": 1, "providers": []}}})
    done = scrapy("crawl", "retail", env={"STAKTRAKR_PROVIDERS": str(bad)})
    assert done.returncode == 2
    assert "coin 'ase', field 'metal': unknown metal 'tin'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.browser
@needs_chromium
def test_extract_url_uses_the_same_download_path():
    with SampleSites() as sites:
        decided = staktrakr("extract", "--vendor", "bullionexchanges", "--coin", "age", "--url", sites.url("bullionexchanges/age.html"), "--json")
        explained = staktrakr("extract", "--vendor", "apmex", "--coin", "ase", "--url", sites.url("apmex/ase.html"))
    assert decided.returncode == 0, decided.stderr[-2000:]
    assert json.loads(decided.stdout) == {"price": 5329.5, "in_stock": True, "status": "ok", "method": "browser+table", "reason": json.loads(decided.stdout)["reason"]}
    assert "tier table: 94.19" in explained.stdout and "=> status ok" in explained.stdout


def test_a_run_stopped_early_is_still_closed_and_an_old_orphan_is_marked(tmp_path, config, db):
    db.execute(
        "INSERT INTO poller_runs (run_id, poller_id, job, started_at, status) VALUES "
        "('test-old', 'test', 'retail', '2020-01-01T00:00:00.000Z', 'running'), "
        "('home-old', 'home', 'retail', '2020-01-01T00:00:00.000Z', 'running')"
    )
    db.commit()
    db.close()
    with SampleSites() as sites:
        entries = [e for e in TRUTH if e["dealer"] == "apmex" and e["expected"]["status"] == "ok"]
        providers_file = write_json(tmp_path / "providers.json", providers_for(sites, entries))
        done = scrapy("crawl", "retail", "-s", "CLOSESPIDER_ITEMCOUNT=1", "-s", "STAKTRAKR_DEALER_CONCURRENCY=1",
                      env={"STAKTRAKR_PROVIDERS": str(providers_file)})
    assert done.returncode == 0, done.stderr[-2000:]
    rows, runs = _rows(config.STAKTRAKR_DB)
    by_id = {r["run_id"]: r for r in runs}
    assert by_id["test-old"]["status"] == "error" and by_id["test-old"]["finish_reason"] == "orphaned"
    assert by_id["home-old"]["status"] == "running"  # another poller's run is not ours to close
    current = next(r for r in runs if r["run_id"] not in ("test-old", "home-old"))
    assert current["finish_reason"] == "closespider_itemcount" and current["status"] == "partial"
    assert current["finished_at"] and current["total"] >= 1


def test_configuration_error_is_one_message(tmp_path):
    done = scrapy("crawl", "retail", env={"POLLER_ID": "Not Valid"})
    assert done.returncode == 2
    assert "POLLER_ID" in done.stderr and "Traceback" not in done.stderr


def test_retry_pass_recrawls_only_what_failed(tmp_path, config):
    entries = [e for e in TRUTH if e["dealer"] == "apmex" and e["expected"]["status"] in ("ok", "out_of_stock", "wrong_product")]
    rules = {"/apmex/ase.html": Rule(status=503), "/apmex/age.html": Rule(status=429)}
    site_config = SiteConfig(rules=rules)
    with SampleSites(site_config) as sites:
        env = {"STAKTRAKR_PROVIDERS": str(write_json(tmp_path / "providers.json", providers_for(sites, entries)))}
        first = scrapy("crawl", "retail", "-s", "RETRY_TIMES=0", env=env)
        assert first.returncode == 0, first.stderr[-2000:]
        rows, _ = _rows(config.STAKTRAKR_DB)
        failed = {k for k, r in rows.items() if r["status"] in ("blocked", "no_price", "error")}
        assert failed == {("ase", "apmex"), ("age", "apmex")}
        site_config.rules.clear()  # the dealer answers again
        site_config.hits.clear()
        retry = scrapy("crawl", "retail", "-a", "only=failed", env=env)
        assert retry.returncode == 0, retry.stderr[-2000:]
        retried_paths = {path.strip("/") for path in site_config.hits}
        again = scrapy("crawl", "retail", "-a", "only=failed", env=env)
    assert retried_paths == {e["path"] for e in entries if (e["coin"], e["dealer"]) in failed}
    with Database.open_local(config.STAKTRAKR_DB) as db:
        latest = db.query("SELECT status, price FROM price_snapshots WHERE coin_slug = 'ase' AND vendor = 'apmex' ORDER BY scraped_at DESC LIMIT 1")
    assert latest == [{"status": "ok", "price": 94.19}]
    assert again.returncode == 0, again.stderr[-2000:]
    assert "nothing to do: no failed targets to retry" in again.stderr


def test_an_overlapping_run_of_the_same_job_is_skipped(tmp_path, config):
    from staktrakr.locking import job_lock

    with SampleSites() as sites:
        env = {"STAKTRAKR_PROVIDERS": str(write_json(tmp_path / "providers.json", providers_for(sites, TRUTH[:2])))}
        with job_lock("test-retail", config.STAKTRAKR_DB.parent / "locks"):
            skipped = scrapy("crawl", "retail", env=env)
            other_job = scrapy("crawl", "retail-apmex", "-a", "coins=ase", env=env)
        after = scrapy("crawl", "retail", env=env)
    assert skipped.returncode == 0 and "skipped: job 'test-retail' is already running" in skipped.stderr
    assert "Spider opened" not in skipped.stderr
    assert other_job.returncode == 0 and "skipped" not in other_job.stderr  # different jobs may overlap
    assert after.returncode == 0 and "Spider opened" in after.stderr

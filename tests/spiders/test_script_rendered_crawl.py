"""`scrapy crawl retail` against script-rendered dealer pages it has never seen (held-out set 3,
written by someone who never saw the browser or extraction code), three runs on one database:
the first learns which dealers need the browser, the second reads them straight in the browser,
the third probes dealers whose learned mode has grown old."""

from collections import Counter

import pytest

from staktrakr_samples.server import SampleSites, SiteConfig, load_truth, providers_for
from staktrakr.store import Database

from ..conftest import FIXTURES, needs_chromium, scrapy, write_json, wrong_answers

HELDOUT3 = FIXTURES / "heldout3"
TRUTH = load_truth(HELDOUT3)


def _newest(db_path) -> dict[tuple[str, str], dict]:
    with Database.open_local(db_path) as db:
        rows = db.query("SELECT * FROM price_snapshots ORDER BY scraped_at")
    return {(r["coin_slug"], r["vendor"]): r for r in rows}


def _wrong(rows: dict[tuple[str, str], dict]) -> list[str]:
    return wrong_answers(TRUTH, rows)


@pytest.mark.browser
@pytest.mark.slow
@needs_chromium
def test_script_rendered_pages_read_like_a_person_and_the_browser_need_is_remembered(tmp_path, config):
    site_config = SiteConfig(root=HELDOUT3)
    with SampleSites(site_config) as sites:
        providers = write_json(tmp_path / "providers.json", providers_for(sites, TRUTH))
        env = {"STAKTRAKR_PROVIDERS": str(providers)}

        # Run 1, nothing known: every page that needs the browser gets it, and the dealers learn.
        # LOG_LEVEL=DEBUG: Scrapy's stats dump (the browser's wait figures) shows only at DEBUG (staktrakr/logs.py).
        first = scrapy("crawl", "retail", "-s", "LOG_LEVEL=DEBUG", env=env)
        assert first.returncode == 0, first.stderr[-3000:]
        rows = _newest(config.STAKTRAKR_DB)
        assert len(rows) == len(TRUTH)
        wrong = _wrong(rows)
        # The figure the closing note reports: 37 of 37 when this was written (a page whose
        # script flips its stock a moment after load is the one timing can still cost).
        assert len(wrong) <= 1, "\n".join(wrong)
        with Database.open_local(config.STAKTRAKR_DB) as db:
            modes = {m["vendor"]: m for m in db.query("SELECT * FROM dealer_render_modes")}
            run_stats = db.query("SELECT total FROM poller_runs")
        assert run_stats == [{"total": len(TRUTH)}], "one row per target, none stored twice"
        needs_browser = {e["dealer"] for e in TRUTH if e["needs_browser"]} - {"bullionexchanges"}  # profile: always
        assert {v for v, m in modes.items() if m["mode"] == "browser"} == needs_browser
        browser_reads = [r for r in rows.values() if r["method"] and r["method"].startswith("browser+")]
        assert all("browser read after" in r["reason"] for r in browser_reads)
        assert '"staktrakr/browser/wait_ms"' in first.stderr.replace("'", '"')

        # Run 2: the database remembers, so those dealers go straight to the browser — one
        # download per page, no static fetch first.
        site_config.hits.clear()
        second = scrapy("crawl", "retail", env=env)
        assert second.returncode == 0, second.stderr[-3000:]
        wrong = _wrong(_newest(config.STAKTRAKR_DB))
        assert len(wrong) <= 1, "\n".join(wrong)
        pages = {f"/{e['path']}": e for e in TRUTH}
        for path, entry in pages.items():
            if entry["dealer"] in needs_browser | {"bullionexchanges"}:
                assert site_config.hits.get(path) == 1, f"{path} fetched {site_config.hits.get(path)} times"

        # Run 3, the learned modes a day old: one static probe per dealer, compared with the
        # rendered page; a probe that reads differently keeps its dealer in the browser (a
        # wrong-product or sold-out page reads the same either way and decides nothing).
        with Database.open_local(config.STAKTRAKR_DB) as db:
            db.execute("UPDATE dealer_render_modes SET learned_at = '2020-01-01T00:00:00.000Z'")
            db.commit()
        site_config.hits.clear()
        third = scrapy("crawl", "retail", env=env)
        assert third.returncode == 0, third.stderr[-3000:]
        twice = Counter(pages[p]["dealer"] for p, n in site_config.hits.items() if p in pages and n == 2)
        assert set(twice) <= needs_browser and all(n == 1 for n in twice.values()), twice
        with Database.open_local(config.STAKTRAKR_DB) as db:
            after = {m["vendor"]: m for m in db.query("SELECT * FROM dealer_render_modes")}
        renewed = {v for v, m in after.items() if m["learned_at"] > "2020-01-02"}
        assert renewed and renewed <= set(twice), (renewed, twice)
        assert all(after[v]["mode"] == "browser" for v in renewed), after

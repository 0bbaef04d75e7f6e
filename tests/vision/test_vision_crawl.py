"""`scrapy crawl retail` with the vision cross-check on, against the sample dealer sites and the
stand-in Gemini server, read back from the database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from staktrakr_samples.gemini import Behaviour, GeminiConfig, GeminiStandIn, png_size
from staktrakr_samples.server import SampleSites, SiteConfig, load_truth, providers_for
from staktrakr.store import Database
from staktrakr.store.snapshots import Snapshot, insert_snapshot
from staktrakr.timeutil import floor_15, iso_ms, iso_s, utcnow

from ..conftest import FIXTURES, needs_chromium, scrapy, write_json

TRUTH = load_truth()
BY_PATH = {e["path"]: e for e in TRUTH}
VISION_FIXTURES = FIXTURES / "vision"
# Looks like a real key; must never show up in a log line, the database or a file name.
CANARY_KEY = "AIzaSyCanary-7f3a9c1e5b2d-vision-test"
CHECKED = ("ok", "out_of_stock", "no_price")  # outcomes vision looks at


def _rows(db_path: Path) -> tuple[dict[tuple[str, str], dict], list[dict]]:
    with Database.open_local(db_path) as db:
        rows = db.query("SELECT * FROM price_snapshots WHERE poller_id = 'test'")
        runs = db.query("SELECT * FROM poller_runs")
    return {(r["coin_slug"], r["vendor"]): r for r in rows}, runs


def _seed_other_poller(db_path: Path, prices: list[tuple[str, str, float]]) -> None:
    """Prices the other poller stored half an hour ago: the cross-dealer median's material."""
    when = utcnow() - timedelta(minutes=30)
    with Database.open_local(db_path) as db:
        for n, (coin, vendor, price) in enumerate(prices):
            insert_snapshot(db, Snapshot(
                id=f"home-seed-{n}", run_id="home-run", poller_id="home", scraped_at=iso_ms(when),
                window_start=iso_s(floor_15(when)), coin_slug=coin, vendor=vendor, price=price, in_stock=True,
                status="ok", method="table",
            ))  # fmt: skip


def _vision_env(providers: Path, gemini: GeminiStandIn) -> dict[str, str]:
    return {
        "STAKTRAKR_PROVIDERS": str(providers),
        "VISION_ENABLED": "1",
        "GEMINI_API_KEY": gemini.config.api_key,
        "GEMINI_BASE_URL": gemini.base_url,
    }


def _as_truth(row: dict) -> tuple:
    return row["status"], row["price"], None if row["in_stock"] is None else bool(row["in_stock"])


def _want(entry: dict) -> tuple:
    return entry["expected"]["status"], entry["expected"]["price"], entry["expected"]["in_stock"]


@pytest.mark.browser
@needs_chromium
def test_a_crawl_of_the_sample_sites_with_vision(tmp_path, config):
    injected = {
        # the page tells the model the price is $1.00 (outside the bounds) ...
        "/apmex/ase.html": (VISION_FIXTURES / "apmex-ase-injection.html").read_text(encoding="utf-8"),
        # ... or $84.00 (plausible, but far from every other dealer)
        "/jmbullion/ase.html": (VISION_FIXTURES / "jmbullion-ase-injection.html").read_text(encoding="utf-8"),
    }
    scenarios = {
        "bullionexchanges/maple-silver.html": Behaviour(price_factor=1.10),  # a misread: the table stays
        "bullionexchanges/buffalo.html": Behaviour(price=5100.00),  # nearer the other dealers: vision wins
        "bullionexchanges/age.html": Behaviour(weight="1/2 oz"),  # the page shows the half ounce
        "sdbullion/kangaroo-silver.html": Behaviour(price=91.00),  # truncated page text: vision only
        "monumentmetals/maple-silver.html": Behaviour(in_stock=False),  # stock conflict
    }
    _seed_other_poller(config.STAKTRAKR_DB, [
        ("buffalo", "apmex", 5100.00), ("buffalo", "herobullion", 5105.00), ("buffalo", "summitmetals", 5110.00),
        ("maple-silver", "jmbullion", 90.10), ("maple-silver", "sdbullion", 89.90),
        ("ase", "moneymetals", 93.50), ("ase", "bgasc", 93.80),
    ])  # fmt: skip
    site_config = SiteConfig(pages=injected)
    gemini_config = GeminiConfig(api_key=CANARY_KEY, pages=injected, per_page=scenarios)
    with SampleSites(site_config) as sites, GeminiStandIn(gemini_config) as gemini:
        providers = write_json(tmp_path / "providers.json", providers_for(sites, TRUTH))
        done = scrapy(
            "crawl", "retail", "-s", "VISION_MAX_EXTRA_VISITS=100", "-s", "LOG_LEVEL=DEBUG",
            env=_vision_env(providers, gemini),
        )  # fmt: skip
        hits = dict(site_config.hits)
        asked = gemini_config.received()
    assert done.returncode == 0, done.stderr[-3000:]
    rows, runs = _rows(config.STAKTRAKR_DB)
    assert len(rows) == len(TRUTH)

    def row(path: str) -> dict:
        entry = BY_PATH[path]
        return rows[(entry["coin"], entry["dealer"])]

    # Where page and screenshot agree: the page's price, confidence 99, both sources named.
    special = set(scenarios) | {p.lstrip("/") for p in injected}
    wrong = []
    for entry in TRUTH:
        got = row(entry["path"])
        if entry["path"] in special:
            continue
        if _as_truth(got) != _want(entry):
            wrong.append(f"{entry['path']}: {_as_truth(got)} != {_want(entry)} ({got['reason']})")
        elif got["price"] is not None:
            if (got["confidence"], got["source"], got["vision_agrees"]) != (99, "firecrawl+vision", 1):
                wrong.append(f"{entry['path']}: confidence {got['confidence']} source {got['source']} ({got['reason']})")
    assert not wrong, "\n".join(wrong)

    # A misread screenshot: the table's price, nearer the other dealers; both values kept.
    misread = row("bullionexchanges/maple-silver.html")
    assert (misread["price"], misread["source"], misread["vision_agrees"]) == (90.99, "firecrawl", 0)
    assert misread["scraped_price"] == 90.99 and misread["vision_price"] == pytest.approx(100.09)
    assert 50 <= misread["confidence"] <= 70 and "kept the page price" in misread["reason"]
    # The screenshot is nearer the other dealers' median than the text: the screenshot's price.
    nearer = row("bullionexchanges/buffalo.html")
    assert (nearer["price"], nearer["source"], nearer["method"], nearer["scraped_price"]) == (5100.0, "vision", "vision", 5279.99)
    assert nearer["confidence"] <= 70
    # Another weight on the screenshot: wrong product, no price.
    half = row("bullionexchanges/age.html")
    assert (half["status"], half["price"], half["vision_weight"]) == ("wrong_product", None, "1/2 oz")
    # No price in the page text, one on the screenshot: vision only.
    only = row("sdbullion/kangaroo-silver.html")
    assert (only["status"], only["price"], only["source"], only["method"]) == ("ok", 91.0, "vision", "vision")
    assert only["confidence"] <= 70 and only["scraped_price"] is None
    # The screenshot says sold out, the text in stock: recorded, status kept, confidence lowered.
    conflict = row("monumentmetals/maple-silver.html")
    assert (conflict["status"], conflict["price"], conflict["vision_in_stock"]) == ("ok", 89.49, 0)
    assert conflict["confidence"] == 50
    # Prompt injection: the fooled model's price never reaches the row.
    for path, table_price, injected_price in (("apmex/ase.html", 94.19, 1.00), ("jmbullion/ase.html", 93.99, 84.00)):
        page = row(path)
        assert (page["status"], page["price"], page["source"]) == ("ok", table_price, "firecrawl"), page["reason"]
        assert page["vision_price"] == injected_price and page["vision_agrees"] == 0
    assert "outside 15.00-400.00: ignored" in row("apmex/ase.html")["reason"]
    assert "kept the page price (median of" in row("jmbullion/ase.html")["reason"]

    # Browser dealers' screenshots come from the one visit that read the page.
    browser_pages = [e["path"] for e in TRUTH if e["dealer"] == "bullionexchanges"]
    assert {hits[f"/{p}"] for p in browser_pages} == {1}
    # Static pages: at most one extra visit each, and only for outcomes vision looks at.
    with Database.open_local(config.STAKTRAKR_DB) as db:
        learned_browser = {m["vendor"] for m in db.query("SELECT vendor FROM dealer_render_modes WHERE mode = 'browser'")}
    for entry in TRUTH:
        visits = hits[f"/{entry['path']}"]
        # Fetched twice already: a page whose price needs JavaScript, or any page of a dealer that
        # turned out to need the browser (its static answer is then read again in the browser).
        refetched = entry["needs_browser"] or entry["dealer"] in learned_browser
        assert visits <= 2, entry["path"]
        if entry["expected"]["status"] not in CHECKED and not refetched:
            assert visits == 1, entry["path"]
    # Gemini saw only pages worth a look, each once, with the key.
    asked_pages = [r.page for r in asked]
    assert len(asked_pages) == len(set(asked_pages))
    assert all(BY_PATH[p]["expected"]["status"] in CHECKED for p in asked_pages)
    assert all(r.key_ok and r.image_size == (1280, 900) for r in asked)

    # Figures: per run in poller_runs and in the summary.
    [run] = runs
    assert run["vision_calls"] == len(asked) and run["vision_tokens"] > 1000 * len(asked)
    assert run["vision_seconds"] > 0 and 0 < run["vision_cost_usd"] < 0.1
    assert f"vision: {len(asked)} calls, {run['vision_tokens']} tokens" in done.stderr
    from staktrakr.config import load_config
    from staktrakr.metrics import render

    exposition = render(load_config()).decode()
    assert f'staktrakr_last_run_vision_calls{{job="retail",poller="test"}} {float(len(asked))}' in exposition
    # Screenshots kept for the run beside the database.
    shots = list((config.STAKTRAKR_DB.parent / "screenshots" / run["run_id"]).glob("*.png"))
    assert len(shots) >= len(asked) and png_size(shots[0].read_bytes()) == (1280, 900)

    # The key never leaves the process: not in the logs (debug level), the database or file names.
    assert CANARY_KEY not in done.stderr and CANARY_KEY not in done.stdout
    assert CANARY_KEY.encode() not in config.STAKTRAKR_DB.read_bytes()
    assert not any(CANARY_KEY in str(p) for p in config.STAKTRAKR_DB.parent.rglob("*"))


@pytest.mark.browser
@needs_chromium
def test_vision_stays_within_its_call_and_visit_budgets(tmp_path, config):
    paths = [
        "bullionexchanges/ase.html", "bullionexchanges/maple-silver.html", "bullionexchanges/buffalo.html",
        "apmex/ase.html", "apmex/age.html", "jmbullion/ase.html", "sdbullion/ase.html", "monumentmetals/ase.html",
        "summitmetals/ase.html", "herobullion/ase.html",
    ]  # fmt: skip
    entries = [BY_PATH[p] for p in paths]
    site_config = SiteConfig()
    gemini_config = GeminiConfig()
    with SampleSites(site_config) as sites, GeminiStandIn(gemini_config) as gemini:
        providers = write_json(tmp_path / "providers.json", providers_for(sites, entries))
        done = scrapy(
            "crawl", "retail", "-s", "VISION_MAX_CALLS=3", "-s", "VISION_MAX_EXTRA_VISITS=2",
            env=_vision_env(providers, gemini),
        )  # fmt: skip
        hits = dict(site_config.hits)
    assert done.returncode == 0, done.stderr[-3000:]
    rows, [run] = _rows(config.STAKTRAKR_DB)
    assert len(gemini_config.requests) == 3 == run["vision_calls"]
    assert sum(1 for p in paths if hits[f"/{p}"] == 2) <= 2
    assert all(hits[f"/{p}"] == 1 for p in paths if p.startswith("bullionexchanges/"))
    assert "VISION_MAX_CALLS (3) reached" in done.stderr
    # whatever vision did not get to is the plain crawl's result
    assert {k: _as_truth(r) for k, r in rows.items()} == {(e["coin"], e["dealer"]): _want(e) for e in entries}
    assert sum(1 for r in rows.values() if r["source"] == "firecrawl+vision") == 3


@pytest.mark.browser
@needs_chromium
def test_a_failing_gemini_never_fails_the_crawl(tmp_path, config):
    paths = [e["path"] for e in TRUTH if e["dealer"] == "bullionexchanges"]
    gemini_config = GeminiConfig(
        default=Behaviour(fail_always=503),
        per_page={
            "bullionexchanges/ase.html": Behaviour(delay_s=3.0),  # slower than VISION_TIMEOUT
            "bullionexchanges/age.html": Behaviour(malformed=True),
        },
    )
    with SampleSites() as sites, GeminiStandIn(gemini_config) as gemini:
        providers = write_json(tmp_path / "providers.json", providers_for(sites, [BY_PATH[p] for p in paths]))
        done = scrapy(
            "crawl", "retail", "-s", "VISION_RETRIES=1", "-s", "VISION_RETRY_BACKOFF=0.05", "-s", "VISION_TIMEOUT=1",
            env=_vision_env(providers, gemini),
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows, [run] = _rows(config.STAKTRAKR_DB)
    assert {k: _as_truth(r) for k, r in rows.items()} == {(BY_PATH[p]["coin"], "bullionexchanges"): _want(BY_PATH[p]) for p in paths}
    assert all(r["vision_price"] is None and r["confidence"] is None and r["source"] is None for r in rows.values())
    per_page: dict[str, int] = {}
    for request in gemini_config.requests:
        per_page[request.page] = per_page.get(request.page, 0) + 1
    assert per_page.pop("bullionexchanges/ase.html") == 1  # a timeout is not retried
    assert per_page.pop("bullionexchanges/age.html") == 1  # nor an answer that is not JSON
    assert per_page and set(per_page.values()) == {2}  # 503: one retry, then the page result stays
    assert all(BY_PATH[p]["expected"]["status"] in CHECKED for p in per_page)
    assert run["vision_calls"] == len(gemini_config.requests)
    assert "bullionexchanges ase: vision failed, keeping the page result: no answer within 1 s" in done.stderr
    assert "vision failed, keeping the page result: answer is not JSON" in done.stderr
    assert "Gemini HTTP 503 UNAVAILABLE after 2 attempts" in done.stderr


def test_vision_off_leaves_the_crawl_unchanged(tmp_path, config):
    entries = [e for e in TRUTH if e["dealer"] == "apmex" and e["expected"]["status"] == "ok"]
    site_config = SiteConfig()
    with SampleSites(site_config) as sites, GeminiStandIn() as gemini:
        providers = write_json(tmp_path / "providers.json", providers_for(sites, entries))
        plain = scrapy("crawl", "retail", env={"STAKTRAKR_PROVIDERS": str(providers)})
        no_key = scrapy(
            "crawl", "retail",
            env={"STAKTRAKR_PROVIDERS": str(providers), "VISION_ENABLED": "1", "GEMINI_BASE_URL": gemini.base_url},
        )  # fmt: skip
        asked = gemini.config.received()
        hits = dict(site_config.hits)
    assert plain.returncode == 0 and no_key.returncode == 0, no_key.stderr[-2000:]
    assert plain.stderr.count("vision cross-check off") == 1
    assert "vision cross-check off: VISION_ENABLED is not set" in plain.stderr
    assert "vision cross-check off: VISION_ENABLED is set but GEMINI_API_KEY is not" in no_key.stderr
    assert not asked and set(hits.values()) == {2}  # each page once per crawl, no extra visit
    with Database.open_local(config.STAKTRAKR_DB) as db:
        stored = db.query("SELECT * FROM price_snapshots")
        runs = db.query("SELECT * FROM poller_runs")
    assert len(stored) == 2 * len(entries)
    assert all(r["source"] is None and r["vision_price"] is None and r["confidence"] is None for r in stored)
    assert all(r["vision_calls"] is None for r in runs)
    assert not (config.STAKTRAKR_DB.parent / "screenshots").exists()
    assert "vision:" not in plain.stderr

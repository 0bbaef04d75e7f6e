"""`scrapy crawl goldback` against the stand-in Goldback pages on 127.0.0.1, and the files the
crawl and the export publish."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from staktrakr.plugins.goldback.page import GoldbackRateInconsistent, GoldbackRateNotFound, read_rate_page
from staktrakr.models import Status
from staktrakr_samples.goldback_site import RATE_JSON, GoldbackSite, render_page
from staktrakr_samples.server import Rule
from staktrakr.store import Database
from staktrakr.plugins.goldback.store import GoldbackRate, insert_goldback_rate
from staktrakr.store.snapshots import Snapshot, insert_snapshot
from staktrakr.timeutil import utcnow

from ..conftest import needs_chromium, scrapy, staktrakr

DENOMINATIONS = ["ghalf", "g1", "g2", "g5", "g10", "g25", "g50"]


def publish(config: Any) -> None:
    """The Goldback files are the export's (hook staktrakr_export_files): publish what is stored."""
    done = staktrakr("export", "--out", str(config.STAKTRAKR_API_DIR), "--json")
    assert done.returncode == 0, done.stderr[-3000:]


def crawl(site: GoldbackSite, layout: str = "table", *args: str) -> Any:
    return scrapy("crawl", "goldback", *args, env={"GOLDBACK_URL": site.rate_url(layout)}, timeout=180)


def rates(db: Database) -> list[dict[str, Any]]:
    return db.query("SELECT * FROM goldback_rates ORDER BY scraped_at")


def runs(db: Database) -> list[dict[str, Any]]:
    return db.query("SELECT * FROM poller_runs WHERE job = 'goldback' ORDER BY started_at")


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# -- reading the page --------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["table", "denominations", "prose"])
def test_every_page_layout_gives_the_g1_rate_not_the_most_frequent_amount(layout):
    html = render_page(layout, 9.87)
    # the live scraper's rule (most frequent amount between 0.50 and 20.00) would say $5.00 here
    assert html.count("$5.00") >= 2
    assert read_rate_page(html).g1_usd == 9.87


def test_the_rate_is_derived_from_other_denominations_when_g1_is_not_listed():
    quote = read_rate_page(render_page("denominations", 10.06))
    assert quote.g1_usd == 10.06 and "g1" not in quote.denominations
    assert quote.method == "derived from G½, G2, G5, G10, G25, G50 (table)"


def test_denominations_that_disagree_are_not_averaged_into_a_rate():
    with pytest.raises(GoldbackRateInconsistent, match=r"disagree per G unit: .*G50 \$480\.00 -> \$9\.600"):
        read_rate_page(render_page("denominations", 10.06, values={"g50": 480.0}))


def test_a_g1_label_wins_over_a_typo_elsewhere_and_the_typo_is_reported():
    quote = read_rate_page(render_page("table", 10.06, values={"g50": 480.0}))
    assert quote.g1_usd == 10.06
    assert quote.notes == ["G50 $480.00 implies G1 $9.600, not $10.06"]


def test_the_real_pages_wording_is_read_and_its_example_amounts_are_not():
    # The official page's visible text once rendered, including its worked example.
    html = (
        "<html><body><h1>Exchange Rate</h1><p>One Goldback</p><p>$</p><p>10.06</p>"
        "<p>For example, if a dealer were to pay $5 for a ‘1’ Goldback, then a ‘50’ Goldback would cost $250.</p>"
        "</body></html>"
    )
    assert read_rate_page(html).g1_usd == 10.06


def test_an_empty_rate_widget_is_recognised_as_client_rendered():
    with pytest.raises(GoldbackRateNotFound) as raised:
        read_rate_page(render_page("js"))
    assert raised.value.client_rendered


# -- the crawl ---------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["table", "denominations", "prose"])
def test_the_crawl_stores_todays_rate_and_the_export_writes_both_files(db, config, layout):
    with GoldbackSite(10.06) as site:
        done = crawl(site, layout)
        url = site.rate_url(layout).rstrip("/")
    assert done.returncode == 0, done.stderr[-3000:]
    today = utcnow().date().isoformat()
    [row] = rates(db)
    assert (row["date"], row["g1_usd"], row["source"], row["url"]) == (today, 10.06, "goldback.com", url)
    assert "goldback G1 ok  $10.06 for " + today in done.stderr

    publish(config)
    spot = load(config.STAKTRAKR_API_DIR / "api/goldback-spot.json")
    assert spot == {
        "date": today,
        "scraped_at": row["scraped_at"],
        "g1_usd": 10.06,
        "denominations": {"ghalf": 5.03, "g1": 10.06, "g2": 20.12, "g5": 50.3, "g10": 100.6, "g25": 251.5, "g50": 503},
        "source": "goldback.com",
        "confidence": "high",
    }
    year = load(config.STAKTRAKR_API_DIR / f"goldback-{today[:4]}.json")
    assert year == [{"date": today, "g1_usd": 10.06, "scraped_at": row["scraped_at"]}]
    [run] = runs(db)
    assert (run["status"], run["total"], run["captured"]) == ("ok", 1, 1)


@pytest.mark.browser
@needs_chromium
def test_a_page_that_renders_the_rate_with_javascript_is_read_with_the_browser(db):
    with GoldbackSite(10.31) as site:
        done = crawl(site, "js")
        page_hits, rate_hits = site.hits("js"), site.config.hits.get(RATE_JSON, 0)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "no rate in the static HTML but signs of client rendering; fetching once with the browser" in done.stderr
    assert [r["g1_usd"] for r in rates(db)] == [10.31]
    assert "(browser+G1 labelled (text))" in done.stderr
    assert page_hits == 2 and rate_hits == 1  # plain HTTP once, then Chromium, which ran the page's fetch


def test_a_second_crawl_on_the_same_day_does_nothing_unless_forced(db, config):
    with GoldbackSite(10.06) as site:
        first = crawl(site)
        second = crawl(site)
        hits_after_second = site.hits("table")
        site.config.pages["/exchange-rates/table"] = render_page("table", 10.12)  # the 10am MST update
        forced = crawl(site, "table", "-a", "force=1")
    assert first.returncode == second.returncode == forced.returncode == 0, forced.stderr[-3000:]
    today = utcnow().date().isoformat()
    assert f"goldback: today's rate ({today}) is already stored: G1 $10.06" in second.stderr
    assert hits_after_second == 1
    assert [r["g1_usd"] for r in rates(db)] == [10.06, 10.12]
    # the day's entry is the newer rate, still one entry for the day
    publish(config)
    year = load(config.STAKTRAKR_API_DIR / f"goldback-{today[:4]}.json")
    assert [(e["date"], e["g1_usd"]) for e in year] == [(today, 10.12)]
    assert load(config.STAKTRAKR_API_DIR / "api/goldback-spot.json")["g1_usd"] == 10.12
    assert [r["total"] for r in runs(db)] == [1, 0, 1]


@pytest.mark.parametrize(
    ("site_kwargs", "layout", "args", "reason"),
    [
        ({"g1_usd": 75.0}, "table", (), "G1 $75.00 is outside the plausible band $2-$50 (STAKTRAKR_GOLDBACK_BAND)"),
        ({"g1_usd": 10.06}, "prose", ("-s", "STAKTRAKR_GOLDBACK_BAND=[5, 9]"), "G1 $10.06 is outside the plausible band $5-$9"),
        ({"g1_usd": 10.06, "values": {"g50": 480.0}}, "denominations", (), "no G1 on the page and the other denominations disagree per G unit"),
        ({"rules": {"/exchange-rates/table": Rule(status=500)}}, "table", ("-s", "RETRY_TIMES=0"), "HTTP 500"),
        (
            {"rules": {"/exchange-rates/table": Rule(status=200, body="<html><body><h1>Goldback</h1><p>Shop now</p></body></html>")}},
            "table", (), "no amount labelled for G1 or any other denomination on the page",
        ),
    ],
    ids=["out-of-band", "band-setting", "inconsistent", "http-500", "no-rate"],
)
def test_a_rate_that_cannot_be_trusted_is_not_stored(db, config, site_kwargs, layout, args, reason):
    with GoldbackSite(**site_kwargs) as site:
        done = crawl(site, layout, *args)
    assert done.returncode == 1, done.stderr[-3000:]
    assert rates(db) == []
    assert not (config.STAKTRAKR_API_DIR / "api/goldback-spot.json").exists()
    assert f"goldback G1 error  {reason}" in done.stderr
    [run] = runs(db)
    assert (run["status"], run["failures"], run["error"]) == ("error", 1, "all targets failed")


# -- export ------------------------------------------------------------------------------------


def _rate(day: str, g1: float, scraped_at: str, source: str = "goldback.com") -> GoldbackRate:
    return GoldbackRate(id=f"api-{scraped_at}", poller_id="api", date=day, g1_usd=g1, scraped_at=scraped_at, source=source)


def test_the_export_publishes_scraped_rates_only_never_retail_prices(db, tmp_path):
    for rate in (
        _rate("2025-12-31", 9.55, "2025-12-31T00:01:02.000Z"),
        _rate("2026-03-13", 10.26, "2026-03-13T00:01:01.526Z", source="import"),
        _rate("2026-03-14", 10.01, "2026-03-14T00:01:00.100Z"),
        _rate("2026-03-14", 10.06, "2026-03-14T00:31:01.993Z"),  # the home poller, later the same day
        _rate("2026-03-15", 10.06, "2026-03-15T00:01:01.596Z"),
        _rate("2026-03-16", 10.50, "2026-03-16T00:01:00.000Z"),  # after the export time
    ):
        insert_goldback_rate(db, rate)
    # A dealer-style row for the legacy goldback-g1 slug: the live export turned such a row into
    # goldback-spot.json with today's date, and the scraper then skipped the day (B-10).
    insert_snapshot(db, Snapshot(
        id="api-snap-1", run_id=None, poller_id="api", scraped_at="2026-03-15T20:05:00.000Z", window_start="2026-03-15T20:00:00Z",
        coin_slug="goldback-g1", vendor="goldback", url=None, price=12.34, in_stock=True, status=Status.ok,
        method="table", reason=None, confidence=None, http_status=200, elapsed_ms=100,
    ))  # fmt: skip
    out = tmp_path / "data"

    done = staktrakr("export", "--out", str(out), "--as-of", "2026-03-15T20:23:00Z", "--json")
    assert done.returncode == 0, done.stderr

    assert load(out / "api/goldback-spot.json") == {
        "date": "2026-03-15",
        "scraped_at": "2026-03-15T00:01:01.596Z",
        "g1_usd": 10.06,
        "denominations": {"ghalf": 5.03, "g1": 10.06, "g2": 20.12, "g5": 50.3, "g10": 100.6, "g25": 251.5, "g50": 503},
        "source": "goldback.com",
        "confidence": "high",
    }
    assert load(out / "goldback-2026.json") == [
        {"date": "2026-03-15", "g1_usd": 10.06, "scraped_at": "2026-03-15T00:01:01.596Z"},
        {"date": "2026-03-14", "g1_usd": 10.06, "scraped_at": "2026-03-14T00:31:01.993Z"},
        {"date": "2026-03-13", "g1_usd": 10.26, "scraped_at": "2026-03-13T00:01:01.526Z"},
    ]
    assert not (out / "goldback-2025.json").exists()  # only the export date's year

    # The next day before its scrape: yesterday's rate is carried, with medium confidence.
    carried = staktrakr("export", "--out", str(out), "--as-of", "2026-03-16T00:00:30Z", "--json")
    assert carried.returncode == 0, carried.stderr
    spot = load(out / "api/goldback-spot.json")
    assert (spot["date"], spot["g1_usd"], spot["confidence"]) == ("2026-03-15", 10.06, "medium")


def test_without_any_scraped_rate_the_export_writes_no_goldback_file(db, tmp_path):
    done = staktrakr("export", "--out", str(tmp_path / "data"), "--json")
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "data/api/goldback-spot.json").exists()

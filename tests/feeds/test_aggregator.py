"""Aggregator gap fill: dealers still failed after the retail pass, filled from a coin's
comparison page (`scrapy crawl aggregator`), against sample pages served on 127.0.0.1."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest
from scrapy.settings import Settings

from staktrakr.plugins.aggregator.comparison import ComparisonPageError, choose_fill, dealer_id, parse_comparison
from staktrakr.plugins.aggregator.settings import aggregator_enabled
from staktrakr.errors import ConfigError
from staktrakr.models import Status
from staktrakr_samples.server import Rule, SampleSites, SiteConfig, load_truth, providers_for
from staktrakr.store import Database
from staktrakr.store.ids import new_id
from staktrakr.store.runs import finish_run, start_run
from staktrakr.store.snapshots import Snapshot, failed_targets, insert_snapshot
from staktrakr.timeutil import floor_15, iso_ms, iso_s, utcnow

from ..conftest import free_port, scrapy, write_json

SAMPLES = Path(str(resources.files("staktrakr_samples").joinpath("aggregator")))
TRUTH = load_truth()
FBP = "https://www.findbullionprices.com/silver/american-silver-eagle/"


def _sample(coin: str) -> str:
    return (SAMPLES / f"{coin}.html").read_text(encoding="utf-8")


def _fills(coin: str) -> dict[str, tuple[str, float | None]]:
    """What the sample page says for each dealer we know: (in stock / out of stock / why not, price)."""
    table = parse_comparison(_sample(coin), FBP)
    found = {}
    for vendor in sorted({r.dealer_id for r in table.rows if r.dealer_id} | {"providentmetals", "apmex"}):
        fill, why = choose_fill(table.rows_for(vendor))
        found[vendor] = (("in stock" if fill.in_stock else "out of stock"), fill.price) if fill else (why, None)
    return found


def _aggregator_rows(db_path: Path) -> dict[tuple[str, str], dict]:
    with Database.open_local(db_path) as db:
        rows = db.query("SELECT * FROM price_snapshots WHERE method = 'aggregator'")
    return {(r["coin_slug"], r["vendor"]): r for r in rows}


def _runs(db_path: Path, job: str) -> list[dict]:
    with Database.open_local(db_path) as db:
        return db.query("SELECT * FROM poller_runs WHERE job = ?", (job,))


def _still_failed(db_path: Path) -> list[tuple[str, str]]:
    with Database.open_local(db_path) as db:
        return failed_targets(db, "test")


def _plugin_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "[staktrakr.plugins.aggregator]" in line]


def _seed_retail_run(db_path: Path, failed: list[tuple[str, str]]) -> None:
    """A finished retail run of poller `test` in which these (coin, dealer) targets were blocked."""
    started = utcnow() - timedelta(minutes=5)
    with Database.open_local(db_path) as db:
        start_run(db, "test-retail-1", "test", "retail", iso_ms(started))
        for slug, vendor in failed:
            scraped = iso_ms(started + timedelta(seconds=30))
            insert_snapshot(db, Snapshot(
                id=new_id("test"), run_id="test-retail-1", poller_id="test", scraped_at=scraped,
                window_start=iso_s(floor_15(started)), coin_slug=slug, vendor=vendor, url=f"https://{vendor}.example/{slug}",
                status=Status.blocked, method="http", reason="HTTP 403", http_status=403,
            ))  # fmt: skip
        finish_run(
            db, "test-retail-1", finished_at=iso_ms(started + timedelta(minutes=1)), status="error",
            finish_reason="finished", counts=Counter({Status.blocked: len(failed)}), duration_s=60.0,
        )  # fmt: skip


def _providers_file(tmp_path: Path, sites: SampleSites, coins: dict[str, str | None], dealers: set[str]) -> Path:
    """Providers for these coins at these dealers (sample pages), each coin with its fbp_url."""
    entries = [e for e in TRUTH if e["coin"] in coins and e["dealer"] in dealers]
    providers = providers_for(sites, entries)
    for slug, fbp_url in coins.items():
        if fbp_url:
            providers["coins"][slug]["fbp_url"] = fbp_url
    return write_json(tmp_path / "providers.json", providers)


# -- reading comparison pages --------------------------------------------------------------


def test_table_page_gives_each_dealers_cash_price():
    assert _fills("ase") == {
        "jmbullion": ("in stock", 93.49),  # not the card price 97.23, not the premium 15.37
        "sdbullion": ("in stock", 91.99),  # listed twice (featured 92.29): cheapest in-stock row
        "monumentmetals": ("out of stock", 92.59),
        "herobullion": ("in stock", 93.09),  # not the struck-through 94.10
        "bullionexchanges": ("in stock", 93.99),  # named by its logo only
        "summitmetals": ("in stock", 89.59),  # "Summit Metals ★★★★★ 4.9"
        "gainesvillecoins": ("in stock", 92.99),
        "apmex": ("the comparison page only gives an 'as low as' (bulk) cash price", None),
        "providentmetals": ("not listed on the comparison page", None),
        "bgasc": ("in stock", 89.49),  # recognised, and only ever used if someone configures it
        "moneymetals": ("in stock", 95.40),
    }
    table = parse_comparison(_sample("ase"), FBP)
    assert [r.dealer_name for r in table.rows if r.dealer_id is None] == ["Liberty Coin Co"]
    assert table.cash_column.startswith("Cash/ACH")
    # the "Similar products" table below (another coin, cheaper) is not read
    assert 88.19 not in {r.cash_price for r in table.rows}


def test_div_grid_with_card_column_before_cash_column():
    assert _fills("age") == {
        "herobullion": ("in stock", 5289.00),
        "jmbullion": ("in stock", 5294.50),  # "JMBullion.com"
        "moneymetals": ("in stock", 5300.00),
        "summitmetals": ("out of stock", None),  # "Sold Out", no price shown
        "providentmetals": ("the comparison page only gives an 'as low as' (bulk) cash price", None),
        "apmex": ("not listed on the comparison page", None),
    }
    table = parse_comparison(_sample("age"), FBP)
    assert table.columns[:4] == ["Dealer", "Premium over spot", "Credit Card", "Check/Wire"]


@pytest.mark.parametrize(
    ("cell", "vendor", "shown"),
    [
        ("JM Bullion", "jmbullion", "JM Bullion"),
        ("JMBullion", "jmbullion", "JMBullion"),
        ("jmbullion.com", "jmbullion", "jmbullion.com"),
        ("SD Bullion Free shipping over $199", "sdbullion", "SD Bullion"),
        ("Money Metals Exchange", "moneymetals", "Money Metals Exchange"),
        ("Monument Metals", "monumentmetals", "Monument Metals"),
        ("Bullion Exchanges", "bullionexchanges", "Bullion Exchanges"),
        ("Acme Coin & Stamp", None, "Acme Coin & Stamp"),
    ],
)
def test_dealer_names_map_to_dealer_ids(cell, vendor, shown):
    assert dealer_id(cell) == (vendor, shown)


def test_pages_without_a_comparison_table_say_why():
    wall = "<html><head><title>Just a moment...</title></head><body><div id='cf-turnstile'>Verify you are human</div></body></html>"
    with pytest.raises(ComparisonPageError, match=r"no comparison table: .*bot wall"):
        parse_comparison(wall, FBP)
    reviews = (
        "<html><head><title>Best Bullion Dealers 2026</title></head><body><table>"
        "<tr><th>Dealer</th><th>Rating</th><th>Shipping</th></tr><tr><td>JM Bullion</td><td>4.8</td><td>Free $199+</td></tr>"
        "</table></body></html>"
    )
    with pytest.raises(ComparisonPageError, match=r"cash/ACH/check/wire price column \(page title 'Best Bullion Dealers 2026'\)"):
        parse_comparison(reviews, FBP)
    with pytest.raises(ComparisonPageError, match="empty"):
        parse_comparison("", FBP)


def test_switch_command_line_beats_environment_beats_default():
    settings = Settings()
    assert aggregator_enabled(settings, environ={}) is False
    assert aggregator_enabled(settings, environ={"STAKTRAKR_AGGREGATOR_ENABLED": "1"}) is True
    settings.set("STAKTRAKR_AGGREGATOR_ENABLED", "0", priority="cmdline")
    assert aggregator_enabled(settings, environ={"STAKTRAKR_AGGREGATOR_ENABLED": "1"}) is False
    with pytest.raises(ConfigError, match="STAKTRAKR_AGGREGATOR_ENABLED: must be 1/0"):
        aggregator_enabled(Settings(), environ={"STAKTRAKR_AGGREGATOR_ENABLED": "maybe"})


# -- `scrapy crawl aggregator` -----------------------------------------------------------------


def test_fills_exactly_the_dealers_the_retail_pass_left_failed(tmp_path, config):
    ase_dealers = {"apmex", "jmbullion", "sdbullion", "monumentmetals", "herobullion", "summitmetals", "providentmetals", "gainesvillecoins"}
    rules = {
        "/jmbullion/ase.html": Rule(status=403),
        "/sdbullion/ase.html": Rule(status=403),
        "/monumentmetals/ase.html": Rule(status=403),
        "/providentmetals/ase.html": Rule(status=403),  # not on the comparison page
        "/apmex/ase.html": Rule(status=500),  # only an "as low as" row on the comparison page
        "/herobullion/age.html": Rule(status=403),
    }
    pages = {"/aggregator/ase.html": _sample("ase"), "/aggregator/age.html": _sample("age")}
    site_config = SiteConfig(rules=rules, pages=pages)
    with SampleSites(site_config) as sites:
        entries = [e for e in TRUTH if (e["coin"] == "ase" and e["dealer"] in ase_dealers) or (e["coin"], e["dealer"]) in {("age", "herobullion"), ("age", "apmex")}]
        providers = providers_for(sites, entries)
        providers["coins"]["ase"]["fbp_url"] = sites.url("aggregator/ase.html")
        providers["coins"]["age"]["fbp_url"] = sites.url("aggregator/age.html")
        env = {"STAKTRAKR_PROVIDERS": str(write_json(tmp_path / "providers.json", providers))}
        retail = scrapy("crawl", "retail", "-s", "RETRY_TIMES=0", env=env)
        assert retail.returncode == 0, retail.stderr[-3000:]
        assert _still_failed(config.STAKTRAKR_DB) == [
            ("age", "herobullion"), ("ase", "apmex"), ("ase", "jmbullion"), ("ase", "monumentmetals"),
            ("ase", "providentmetals"), ("ase", "sdbullion"),
        ]  # fmt: skip
        site_config.hits.clear()
        done = scrapy("crawl", "aggregator", "-s", "STAKTRAKR_AGGREGATOR_ENABLED=1", env=env)
        hits = dict(site_config.hits)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = _aggregator_rows(config.STAKTRAKR_DB)
    got = {key: (r["status"], r["price"], bool(r["in_stock"])) for key, r in rows.items()}
    assert got == {
        ("ase", "jmbullion"): ("ok", 93.49, True),
        ("ase", "sdbullion"): ("ok", 91.99, True),
        ("ase", "monumentmetals"): ("out_of_stock", 92.59, False),
        ("age", "herobullion"): ("ok", 5289.00, True),
    }
    jm = rows[("ase", "jmbullion")]
    assert jm["reason"] == "from 127.0.0.1 comparison table (dealer row 'JM Bullion')"
    assert jm["url"].endswith("/aggregator/ase.html") and jm["http_status"] == 200
    assert rows[("ase", "sdbullion")]["reason"].endswith("(dealer row 'SD Bullion'), cheapest in-stock cash price of 2 rows")
    # the dealers the page does not help with stay failed, with a line saying why
    assert _still_failed(config.STAKTRAKR_DB) == [("ase", "apmex"), ("ase", "providentmetals")]
    lines = _plugin_lines(done.stderr)
    assert any("apmex ase: the comparison page only gives an 'as low as' (bulk) cash price; stays failed" in line for line in lines)
    assert any("providentmetals ase: not listed on the comparison page; stays failed" in line for line in lines)
    # each comparison page read once; no dealer page fetched again
    assert hits == {"/aggregator/ase.html": 1, "/aggregator/age.html": 1}
    run = _runs(config.STAKTRAKR_DB, "aggregator")
    assert len(run) == 1 and run[0]["status"] == "ok" and run[0]["total"] == 4 and run[0]["out_of_stock_count"] == 1


def test_off_by_default_does_nothing(tmp_path, config):
    _seed_retail_run(config.STAKTRAKR_DB, [("ase", "jmbullion")])
    with SampleSites(SiteConfig(pages={"/aggregator/ase.html": _sample("ase")})) as sites:
        env = {"STAKTRAKR_PROVIDERS": str(_providers_file(tmp_path, sites, {"ase": sites.url("aggregator/ase.html")}, {"jmbullion"}))}
        off = scrapy("crawl", "aggregator", env=env)
        # the command line wins over the environment
        off_again = scrapy("crawl", "aggregator", "-s", "STAKTRAKR_AGGREGATOR_ENABLED=0", env={**env, "STAKTRAKR_AGGREGATOR_ENABLED": "1"})
        hits = dict(sites.config.hits)
    for done in (off, off_again):
        assert done.returncode == 0, done.stderr[-2000:]
        assert [line.split("INFO: ", 1)[1] for line in _plugin_lines(done.stderr)] == [
            "aggregator gap fill is off (set STAKTRAKR_AGGREGATOR_ENABLED=1 to turn it on): nothing to do"
        ]
    assert hits == {}
    assert _aggregator_rows(config.STAKTRAKR_DB) == {}
    assert _runs(config.STAKTRAKR_DB, "aggregator") == []  # no run row for a feature that is off
    assert _still_failed(config.STAKTRAKR_DB) == [("ase", "jmbullion")]


def test_turned_on_through_the_environment(tmp_path, config):
    _seed_retail_run(config.STAKTRAKR_DB, [("ase", "jmbullion"), ("age", "jmbullion"), ("maple-silver", "apmex")])
    pages = {"/aggregator/ase.html": _sample("ase"), "/aggregator/age.html": _sample("age")}
    with SampleSites(SiteConfig(pages=pages)) as sites:
        coins = {"ase": sites.url("aggregator/ase.html"), "age": sites.url("aggregator/age.html"), "maple-silver": None}
        env = {
            "STAKTRAKR_PROVIDERS": str(_providers_file(tmp_path, sites, coins, {"jmbullion", "apmex"})),
            "STAKTRAKR_AGGREGATOR_ENABLED": "1",
        }
        done = scrapy("crawl", "aggregator", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = _aggregator_rows(config.STAKTRAKR_DB)
    assert {key: r["price"] for key, r in rows.items()} == {("ase", "jmbullion"): 93.49, ("age", "jmbullion"): 5294.50}
    assert rows[("age", "jmbullion")]["reason"] == "from 127.0.0.1 comparison table (dealer row 'JMBullion.com')"
    assert any("maple-silver: no fbp_url configured; apmex stay failed" in line for line in _plugin_lines(done.stderr))
    assert _still_failed(config.STAKTRAKR_DB) == [("maple-silver", "apmex")]


def test_unreadable_pages_fill_nothing_and_say_why(tmp_path, config):
    _seed_retail_run(config.STAKTRAKR_DB, [("ase", "jmbullion"), ("age", "herobullion"), ("maple-silver", "apmex")])
    reviews = (
        "<html><head><title>Best Bullion Dealers 2026</title></head><body><h1>Our dealer reviews</h1><table>"
        "<tr><th>Dealer</th><th>Rating</th><th>Shipping</th></tr><tr><td>JM Bullion</td><td>4.8</td><td>Free over $199.00</td></tr>"
        "</table></body></html>"
    )
    site_config = SiteConfig(pages={"/aggregator/ase.html": reviews}, rules={"/aggregator/age.html": Rule(status=403)})
    with SampleSites(site_config) as sites:
        coins = {
            "ase": sites.url("aggregator/ase.html"),
            "age": sites.url("aggregator/age.html"),
            "maple-silver": f"http://127.0.0.1:{free_port()}/maple.html",  # nothing listens there
        }
        env = {"STAKTRAKR_PROVIDERS": str(_providers_file(tmp_path, sites, coins, {"jmbullion", "herobullion", "apmex"}))}
        done = scrapy("crawl", "aggregator", "-s", "STAKTRAKR_AGGREGATOR_ENABLED=1", "-s", "RETRY_TIMES=0", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _aggregator_rows(config.STAKTRAKR_DB) == {}
    warnings = [line for line in _plugin_lines(done.stderr) if "WARNING" in line]
    assert len(warnings) == 3, "\n".join(warnings)
    assert any(
        "ase: cannot read the comparison page" in line and "no comparison table: no header row with a 'Dealer' column" in line
        and "jmbullion stay failed" in line for line in warnings
    )  # fmt: skip
    assert any("age: cannot read the comparison page" in line and "HTTP 403; herobullion stay failed" in line for line in warnings)
    assert any("maple-silver: cannot fetch the comparison page" in line and "apmex stay failed" in line for line in warnings)
    assert "Traceback" not in done.stderr
    # only fills are counted: a run that filled nothing is an empty run, not a failed one
    run = _runs(config.STAKTRAKR_DB, "aggregator")[0]
    assert run["status"] == "ok" and run["total"] == 0
    assert _still_failed(config.STAKTRAKR_DB) == [("age", "herobullion"), ("ase", "jmbullion"), ("maple-silver", "apmex")]


def test_aggregator_prices_are_validated_like_any_retail_price(tmp_path, config):
    # a gold coin's fbp_url pointing at the silver comparison page: 93.49 is no Gold Eagle price
    _seed_retail_run(config.STAKTRAKR_DB, [("age", "jmbullion")])
    with SampleSites(SiteConfig(pages={"/aggregator/ase.html": _sample("ase")})) as sites:
        env = {"STAKTRAKR_PROVIDERS": str(_providers_file(tmp_path, sites, {"age": sites.url("aggregator/ase.html")}, {"jmbullion"}))}
        done = scrapy("crawl", "aggregator", "-s", "STAKTRAKR_AGGREGATOR_ENABLED=1", env=env)
    row = _aggregator_rows(config.STAKTRAKR_DB)[("age", "jmbullion")]
    assert (row["status"], row["price"]) == ("error", 93.49)
    assert row["reason"].startswith("out_of_bounds: 93.49 outside")
    # every fill of the run was rejected: the run failed
    assert done.returncode == 1, done.stderr[-2000:]
    assert _runs(config.STAKTRAKR_DB, "aggregator")[0]["error"] == "all targets failed"
    assert _still_failed(config.STAKTRAKR_DB) == [("age", "jmbullion")]

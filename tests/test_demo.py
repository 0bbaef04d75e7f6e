"""The README's main command, end to end (without the browser pages, to stay quick)."""

import json
import re

from rich.console import Console

from staktrakr_samples.demo import premium_rows_table, result_tables
from staktrakr_samples.server import load_truth

from .conftest import staktrakr


def test_demo_crawls_the_sample_sites_and_publishes(tmp_path):
    done = staktrakr("demo", "--no-browser", "--workdir", str(tmp_path / "demo"), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    agreement = re.search(r"known answers: (\d+)/(\d+)", done.stdout)
    assert agreement and agreement.group(1) == agreement.group(2) == "60"
    assert "scrapy crawl spot: ok" in done.stdout and "scrapy crawl goldback: ok" in done.stdout
    assert re.search(r"read in the browser: \d+ pages.*; dealers learned to need the browser: ", done.stdout)
    api = tmp_path / "demo/api"
    latest = json.loads((api / "api/latest.json").read_text())
    assert latest["coins"]["ase"]["lowest_premium_pct"] is not None
    assert json.loads((api / "api/goldback-spot.json").read_text())["g1_usd"] > 0
    assert list((api / "hourly").rglob("*.json"))


def test_the_demo_tables_fit_a_100_column_terminal_with_every_price_and_name_whole():
    truth = load_truth()
    cells = {(e["coin"], e["dealer"]): e["expected"] for e in truth}
    coins, dealers = sorted({e["coin"] for e in truth}), sorted({e["dealer"] for e in truth})
    latest = {c: {"median_price": 5318.25, "lowest_price": 5301.5, "vendor_count": 9, "melt_value": 5120.0, "lowest_premium_pct": 3.5} for c in coins}
    console = Console(width=100, record=True, color_system=None)
    for table in [*result_tables(cells, coins, dealers), premium_rows_table(latest, coins)]:
        console.print(table)
    text = console.export_text()
    assert "…" not in text and max(map(len, text.splitlines())) <= 100
    for name in [*coins, *dealers]:
        assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text), name  # whole, never `generic-silv…`
    for expected in cells.values():
        if expected["price"] is not None:
            assert f"${expected['price']:,.2f}" in text
    assert "$5,318.25" in text and "+3.5 %" in text

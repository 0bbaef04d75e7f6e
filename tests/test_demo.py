"""The README's main command, end to end (without the browser pages, to stay quick)."""

import json
import re

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

"""From a real crawl of the sample sites to the published files."""

import json

from staktrakr_samples.server import SampleSites, load_truth, providers_for

from ..conftest import scrapy, staktrakr, write_json


def test_crawl_then_export(tmp_path, config):
    truth = [e for e in load_truth() if not e.get("needs_browser")]
    with SampleSites() as sites:
        providers_file = write_json(tmp_path / "providers.json", providers_for(sites, truth))
        env = {"STAKTRAKR_PROVIDERS": str(providers_file)}
        crawled = scrapy("crawl", "retail", env=env)
    assert crawled.returncode == 0, crawled.stderr[-2000:]
    exported = staktrakr("export", "--out", str(tmp_path / "data"), "--json", env=env)
    assert exported.returncode == 0, exported.stderr
    report = json.loads(exported.stdout)
    assert report["rows"] == sum(e["expected"]["status"] in ("ok", "out_of_stock") for e in truth)

    ase = json.loads((tmp_path / "data/api/ase/latest.json").read_text())
    expected = {e["dealer"]: e["expected"] for e in truth if e["coin"] == "ase"}
    for dealer, want in expected.items():
        if want["status"] == "ok":
            assert ase["vendors"][dealer]["price"] == want["price"]
            assert ase["vendors"][dealer]["source"] == "firecrawl"
            assert ase["availability_by_site"][dealer] is True
        elif want["status"] == "out_of_stock":
            assert dealer not in ase["vendors"] and ase["availability_by_site"][dealer] is False
    prices = sorted(w["price"] for w in expected.values() if w["status"] == "ok")
    assert ase["median_price"] == prices[len(prices) // 2] and ase["lowest_price"] == prices[0]
    assert len(ase["windows_24h"]) >= 1
    manifest = json.loads((tmp_path / "data/api/manifest.json").read_text())
    assert set(manifest["coins"]) == {e["coin"] for e in truth}
    providers = json.loads((tmp_path / "data/api/providers.json").read_text())
    assert providers["ase"]["apmex"].startswith("http://127.0.0.1:")

"""Hostile pages in a real crawl: every target still ends with one row whose reason says what
happened, the other dealers are not held up, and the run is recorded."""

from staktrakr_samples.server import SITES, SampleSites, SiteConfig, load_truth, providers_for
from staktrakr.store import Database

from ..conftest import scrapy, write_json

TRUTH = load_truth()
GOOD = next(e for e in TRUTH if e["path"] == "apmex/ase.html")
PAGE = (SITES / GOOD["path"]).read_text(encoding="utf-8")


def _hostile_pages() -> dict[str, str]:
    deep = "[" * 100_000 + "]" * 100_000
    return {
        # 12 MB: over DOWNLOAD_MAXSIZE, cancelled by Scrapy
        "/jmbullion/ase.html": "<html><body>" + "<p>filler</p>" * 900_000 + "</body></html>",
        # 5 MB: the product first, then megabytes of reviews; the chain reads the first 2 MB
        "/sdbullion/ase.html": PAGE.replace("</body>", "<div>" + "<p>Great coin, paid $12.00 for shipping</p>" * 120_000 + "</div></body>"),
        # JSON-LD nested 100,000 deep, a 5,000-digit number and control characters
        "/monumentmetals/ase.html": PAGE.replace(
            "</head>",
            f'<script type="application/ld+json">{deep}</script><script type="application/ld+json">'
            f'{{"@type": "Offer", "price": {"9" * 5000}}}</script></head>',
        ).replace("<h1", "\x00\x1b\x0b<h1"),
        # an unclosed attribute half a megabyte long
        "/herobullion/ase.html": '<html><body><h1>2026 1 oz American Silver Eagle</h1><div class="price ' + "x" * 600_000,
    }


def test_hostile_pages_each_end_with_one_row_and_a_reason(tmp_path, config):
    hostile = _hostile_pages()
    entries = [e for e in TRUTH if e["coin"] == "ase" and f"/{e['path']}" in hostile] + [GOOD]
    with SampleSites(SiteConfig(pages=hostile)) as sites:
        providers = write_json(tmp_path / "providers.json", providers_for(sites, entries))
        done = scrapy("crawl", "retail", env={"STAKTRAKR_PROVIDERS": str(providers)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    with Database.open_local(config.STAKTRAKR_DB) as db:
        rows = {r["vendor"]: r for r in db.query("SELECT * FROM price_snapshots")}
        [run] = db.query("SELECT * FROM poller_runs")
    assert set(rows) == {"apmex", "jmbullion", "sdbullion", "monumentmetals", "herobullion"}
    assert run["finished_at"] and run["total"] == 5
    assert (rows["apmex"]["status"], rows["apmex"]["price"]) == ("ok", GOOD["expected"]["price"])
    too_big = rows["jmbullion"]
    assert too_big["status"] == "error" and "max size" in too_big["reason"], too_big["reason"]
    # the 5 MB page is read from its start: the product and its table come first
    assert (rows["sdbullion"]["status"], rows["sdbullion"]["price"]) == ("ok", GOOD["expected"]["price"])
    # deep JSON, a giant number and control characters: the visible table still wins
    assert (rows["monumentmetals"]["status"], rows["monumentmetals"]["price"]) == ("ok", GOOD["expected"]["price"])
    cut = rows["herobullion"]
    assert cut["status"] in ("no_price", "error") and cut["reason"]

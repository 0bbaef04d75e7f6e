"""A crawl's console at the default level: the per-target lines and the run summary, without
Scrapy's start-up dump (shown at DEBUG) and without deprecation warnings."""

from __future__ import annotations

from staktrakr_samples.server import SampleSites, load_truth, providers_for

from ..conftest import scrapy, write_json

DUMP = ("Overridden settings", "Enabled extensions", "Enabled downloader middlewares", "Enabled item pipelines",
        "Dumping Scrapy stats", "Versions:", "Enabled addons", "Starting download handler")  # fmt: skip


def test_the_console_shows_targets_and_summary_and_the_dump_only_at_debug(tmp_path):
    entries = [e for e in load_truth() if e["path"] in ("apmex/ase.html", "apmex/age.html")]
    with SampleSites() as sites:
        env = {"STAKTRAKR_PROVIDERS": str(write_json(tmp_path / "providers.json", providers_for(sites, entries)))}
        quiet = scrapy("crawl", "retail", env=env)
        debug = scrapy("crawl", "retail", "-L", "DEBUG", env=env)
    assert quiet.returncode == 0 and debug.returncode == 0, quiet.stderr[-2000:] + debug.stderr[-2000:]
    lines = quiet.stderr.splitlines()
    targets = [line for line in lines if "[staktrakr.targets] INFO:" in line]
    assert len(targets) == 2 and any("apmex" in t and "ase" in t and "94.19" in t for t in targets)
    assert any("[staktrakr.runs] INFO: run " in line and "2 targets, 2 captured" in line for line in lines)
    assert [d for d in DUMP if d in quiet.stderr] == []
    assert "Deprecat" not in quiet.stderr and "Warning:" not in quiet.stderr
    assert len(lines) < 15, quiet.stderr  # a screenful, not Scrapy's 120 lines
    # At DEBUG the dump is all there, labelled DEBUG.
    assert all(d in debug.stderr for d in DUMP)
    assert "[scrapy.crawler] DEBUG: Overridden settings" in debug.stderr

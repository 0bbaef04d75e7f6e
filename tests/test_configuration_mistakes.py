"""Configuration mistakes stop a command with one line and exit 2 (README "Configuration
mistakes"): the real `staktrakr` and `scrapy crawl` in a subprocess, their stderr read back."""

from __future__ import annotations

import pytest

from staktrakr_samples.server import SampleSites, load_truth, providers_for
from staktrakr.store import Database
from staktrakr.store.provider_tables import save_providers

from .conftest import scrapy, staktrakr, write_json

NINE = "apmex, bullionexchanges, gainesvillecoins, herobullion, jmbullion, monumentmetals, providentmetals, sdbullion, summitmetals"
RULE = "a poller id is 1-32 characters of a-z, 0-9, '-' or '_', starting with a letter or digit"


def error_lines(stderr: str) -> list[str]:
    """The ERROR records of a `scrapy crawl` log (not Scrapy's stats dump that counts them)."""
    return [line.split("] ERROR: ", 1)[1] for line in stderr.splitlines() if "] ERROR: " in line]


def runs(db_path) -> list[dict]:
    with Database.open_local(db_path) as db:
        return db.query("SELECT status, error FROM poller_runs")


# -- POLLER_ID --------------------------------------------------------------------------------


def test_an_empty_poller_id_stops_a_command_in_one_line():
    done = staktrakr("export", env={"POLLER_ID": ""})
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"error: invalid configuration: POLLER_ID: is set but empty; {RULE} (unset it to use 'local')"]


def test_an_invalid_poller_id_stops_a_crawl_in_one_line():
    done = scrapy("crawl", "retail", env={"POLLER_ID": "Home Machine"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert error_lines(done.stderr) == [f"invalid configuration: POLLER_ID: 'Home Machine' is not valid; {RULE}"]


# -- dealers the plugins do not know ----------------------------------------------------------


def test_a_providers_file_with_an_unknown_dealer_stops_crawl_and_export(tmp_path, config):
    typo = write_json(tmp_path / "providers.json", {"ase": {"apmexx": "https://www.apmex.com/ase"}})
    line = f"{typo}: coin 'ase', dealer 'apmexx': unknown dealer id (known: {NINE})"
    crawl = scrapy("crawl", "retail", env={"STAKTRAKR_PROVIDERS": str(typo)})
    assert crawl.returncode == 2 and error_lines(crawl.stderr) == [line]
    assert runs(config.STAKTRAKR_DB) == [{"status": "error", "error": line}]
    export = staktrakr("export", env={"STAKTRAKR_PROVIDERS": str(typo)})
    assert export.returncode == 2 and export.stderr.splitlines() == [f"error: {line}"]


def test_a_database_copy_naming_a_dealer_without_plugin_is_not_crawled(config, db):
    # e.g. the other poller has a third-party dealer plugin this one lacks
    save_providers(db, {"coins": {"ase": {"name": "American Silver Eagle 1 oz", "metal": "silver", "weight_oz": 1,
                                          "providers": [{"id": "acmebullion", "enabled": True, "url": "https://acme.example/ase"}]}}})  # fmt: skip
    db.close()
    done = scrapy("crawl", "retail")
    assert done.returncode == 2
    assert error_lines(done.stderr) == [f"database {config.STAKTRAKR_DB}: coin 'ase', dealer 'acmebullion': unknown dealer id (known: {NINE})"]


# -- spider arguments -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spider", "argument", "line"),
    [
        ("retail", "coins=asee", "-a coins: unknown coin(s) asee (known in bundled providers: age, ape, ase, "),
        ("retail", "dealers=apmexx", f"-a dealers: unknown dealer(s) apmexx (known in bundled providers: {NINE})"),
        ("retail-apmex", "dealers=jmbullion", "-a dealers: retail-apmex only crawls apmex; use 'scrapy crawl retail -a dealers=...'"),
        ("retail", "only=failures", "-a only='failures': the only supported value is 'failed'"),
    ],
)
def test_a_spider_argument_naming_nothing_is_a_configuration_error(config, spider, argument, line):
    done = scrapy("crawl", spider, "-a", argument)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    [logged] = error_lines(done.stderr)
    assert logged.startswith(line) if line.endswith(" ") else logged == line
    assert runs(config.STAKTRAKR_DB)[0]["status"] == "error"


def test_dealers_argument_crawls_just_those_dealers(tmp_path, config):
    truth = [e for e in load_truth() if e["coin"] in ("ase", "age") and not e.get("needs_browser")]
    with SampleSites() as sites:
        providers = write_json(tmp_path / "providers.json", providers_for(sites, truth))
        done = scrapy("crawl", "retail", "-a", "dealers=apmex, sdbullion", "-a", "coins=ase", env={"STAKTRAKR_PROVIDERS": str(providers)})
    assert done.returncode == 0, done.stderr[-2000:]
    with Database.open_local(config.STAKTRAKR_DB) as db:
        crawled = {(r["coin_slug"], r["vendor"]) for r in db.query("SELECT coin_slug, vendor FROM price_snapshots")}
    assert crawled == {("ase", "apmex"), ("ase", "sdbullion")}

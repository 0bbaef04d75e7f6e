"""Two pollers and a publisher on one real Turso sync server (tursodb --sync-server)."""

import json
from concurrent.futures import ThreadPoolExecutor

from staktrakr.config import load_config
from staktrakr_samples.server import SampleSites, load_truth, providers_for
from staktrakr.store import Database, open_database
from staktrakr.store.provider_tables import save_providers

from ..conftest import scrapy, staktrakr, write_json

STATIC = [e for e in load_truth() if not e.get("needs_browser")]


def poller_env(tmp_path, name, server, providers=None):
    env = {"POLLER_ID": name, "STAKTRAKR_DB": str(tmp_path / f"{name}.db"), "TURSO_DATABASE_URL": server.url,
           "STAKTRAKR_API_DIR": str(tmp_path / f"{name}-api")}
    if providers:
        env["STAKTRAKR_PROVIDERS"] = str(providers)
    return env


def rows_of(path):
    with Database.open_local(path, migrate=False) as db:
        return db.query("SELECT id, poller_id, coin_slug, vendor, price, status, scraped_at FROM price_snapshots")


def test_two_pollers_at_once_and_a_publisher(tmp_path, turso_server):
    with SampleSites() as sites:
        providers = write_json(tmp_path / "providers.json", providers_for(sites, STATIC))
        envs = [poller_env(tmp_path, name, turso_server, providers) for name in ("api", "home")]
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda env: scrapy("crawl", "retail", env=env), envs))
    for done in results:
        assert done.returncode == 0, done.stderr[-2000:]
        assert "pushed to the remote database" in done.stderr
    local = {name: rows_of(tmp_path / f"{name}.db") for name in ("api", "home")}
    assert all(len(rows) == len(STATIC) for rows in local.values())

    publisher = poller_env(tmp_path, "publisher", turso_server, providers)
    exported = staktrakr("export", "--json", env=publisher)
    assert exported.returncode == 0, exported.stderr
    merged = rows_of(tmp_path / "publisher.db")
    assert len(merged) == 2 * len(STATIC)  # every row of both pollers, none overwritten
    assert {r["id"] for r in merged} == {r["id"] for rows in local.values() for r in rows}
    assert {r["poller_id"] for r in merged} == {"api", "home"}
    # the export takes each dealer's newest row, whichever poller wrote it
    latest = json.loads((tmp_path / "publisher-api/api/ase/latest.json").read_text())
    newest = {}
    for r in merged:
        if r["coin_slug"] == "ase" and r["status"] == "ok":
            if r["vendor"] not in newest or r["scraped_at"] > newest[r["vendor"]]["scraped_at"]:
                newest[r["vendor"]] = r
    assert {v: e["scraped_at"] for v, e in latest["vendors"].items()} == {v: r["scraped_at"] for v, r in newest.items()}


def test_an_outage_during_a_crawl_loses_nothing(tmp_path, turso_server):
    with SampleSites() as sites:
        providers = write_json(tmp_path / "providers.json", providers_for(sites, STATIC[:12]))
        env = poller_env(tmp_path, "home", turso_server, providers)
        first = scrapy("crawl", "retail", env=env)
        assert first.returncode == 0
        turso_server.stop()  # Turso goes away
        during = scrapy("crawl", "retail", env=env)
    assert during.returncode == 0, during.stderr[-2000:]  # targets succeeded: the run is fine
    assert "stay queued for the next run" in during.stderr
    status = json.loads(staktrakr("db", "status", "--json", env=env).stdout)
    assert status["sync"]["backlog"] > 0
    turso_server.start()  # back, same file and port
    synced = staktrakr("db", "sync", env=env)
    assert synced.returncode == 0, synced.stderr
    assert json.loads(staktrakr("db", "status", "--json", env=env).stdout)["sync"]["backlog"] == 0
    publisher = poller_env(tmp_path, "publisher", turso_server)
    assert staktrakr("db", "sync", "--pull-only", env=publisher).returncode == 0
    assert len(rows_of(tmp_path / "publisher.db")) == 2 * 12 == len(rows_of(tmp_path / "home.db"))


def test_first_start_while_the_remote_is_down(tmp_path, turso_server):
    turso_server.stop()
    with SampleSites() as sites:
        providers = write_json(tmp_path / "providers.json", providers_for(sites, STATIC[:5]))
        env = poller_env(tmp_path, "api", turso_server, providers)
        done = scrapy("crawl", "retail", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "starting" in done.stderr and "locally" in done.stderr
    turso_server.start()
    assert staktrakr("db", "sync", "--push-only", env=env).returncode == 0
    publisher = poller_env(tmp_path, "publisher", turso_server)
    assert staktrakr("db", "sync", "--pull-only", env=publisher).returncode == 0
    assert len(rows_of(tmp_path / "publisher.db")) == 5


def test_provider_edits_on_one_replica_reach_a_poller_on_its_next_run(tmp_path, turso_server, monkeypatch):
    with SampleSites() as sites:
        editor_env = poller_env(tmp_path, "editor", turso_server)
        for key, value in editor_env.items():
            monkeypatch.setenv(key, value)
        editor = open_database(load_config())
        rich = providers_for(sites, [e for e in STATIC if e["path"] in ("apmex/ase.html", "sdbullion/ase.html")])
        save_providers(editor, rich)
        editor.push()
        editor.close()
        poller = poller_env(tmp_path, "home", turso_server)  # no STAKTRAKR_PROVIDERS: the database copy
        done = scrapy("crawl", "retail", env=poller)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = rows_of(tmp_path / "home.db")
    assert {(r["coin_slug"], r["vendor"]) for r in rows} == {("ase", "apmex"), ("ase", "sdbullion")}

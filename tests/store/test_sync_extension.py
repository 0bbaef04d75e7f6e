"""Turso sync and the run recorder are two extensions: either one switched off leaves the other
working (a real sync server, a real crawl of the stand-in sites)."""

import json

from staktrakr import settings as project_settings
from staktrakr.store import Database
from staktrakr_samples.server import SampleSites, providers_for

from ..conftest import scrapy, staktrakr, write_json
from .test_sync import STATIC, poller_env, rows_of


def _without(extension):
    return json.dumps({**project_settings.EXTENSIONS, extension: None})


def _remote_rows(tmp_path, server):
    publisher = poller_env(tmp_path, "publisher", server)
    pulled = staktrakr("db", "sync", "--pull-only", env=publisher)
    assert pulled.returncode == 0, pulled.stderr
    return rows_of(tmp_path / "publisher.db")


def test_sync_without_the_run_recorder(tmp_path, turso_server):
    with SampleSites() as sites:
        providers = write_json(tmp_path / "providers.json", providers_for(sites, STATIC[:4]))
        env = poller_env(tmp_path, "api", turso_server, providers)
        done = scrapy("crawl", "retail", "-s", f"EXTENSIONS={_without('staktrakr.runs.RunRecorder')}", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pushed to the remote database" in done.stderr
    with Database.open_local(tmp_path / "api.db", migrate=False) as db:
        assert db.query("SELECT * FROM poller_runs") == []  # no run row: the recorder was off
    assert len(rows_of(tmp_path / "api.db")) == 4
    assert len(_remote_rows(tmp_path, turso_server)) == 4  # every row went out


def test_the_run_recorder_without_sync(tmp_path, turso_server):
    with SampleSites() as sites:
        providers = write_json(tmp_path / "providers.json", providers_for(sites, STATIC[:4]))
        env = poller_env(tmp_path, "api", turso_server, providers)
        done = scrapy("crawl", "retail", "-s", f"EXTENSIONS={_without('staktrakr.sync.TursoSync')}", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pushed to the remote database" not in done.stderr
    with Database.open_local(tmp_path / "api.db", migrate=False) as db:
        (run,) = db.query("SELECT * FROM poller_runs")
        assert run["status"] == "ok" and run["total"] == 4
    assert _remote_rows(tmp_path, turso_server) == []  # still queued locally: nothing was pushed

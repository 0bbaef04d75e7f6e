"""Two overlapping runs of the same job: the second one skips with one line, the first finishes.

The cron overlap as it happens live: the :00 crawl is still running when the :15 retry pass (same
lock) or the next hour's crawl starts. The page of the first run answers only when the test lets
it, so the runs overlap for certain, without timing. Skipping when an in-process lock is held is
tests/spiders/test_retail_crawl.py::test_an_overlapping_run_of_the_same_job_is_skipped."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from staktrakr_samples.server import SITES
from staktrakr.store import Database

from ..conftest import ROOT, scrapy, write_json


class GatedPage:
    """Serves one sample page, but holds every answer until `release` is set."""

    def __init__(self, page: Path):
        self.body = page.read_bytes()
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.hits = 0
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
                return

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                gate.hits += 1
                gate.arrived.set()
                gate.release.wait(timeout=240)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(gate.body)))
                self.end_headers()
                self.wfile.write(gate.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/apmex/ase.html"

    def __enter__(self) -> GatedPage:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gated() -> Iterator[GatedPage]:
    with GatedPage(SITES / "apmex/ase.html") as page:
        yield page


@pytest.mark.timeout(300)
def test_a_run_that_overlaps_a_running_one_of_the_same_job_skips(tmp_path: Path, config, gated: GatedPage) -> None:
    providers = {"coins": {"ase": {"name": "American Silver Eagle", "metal": "silver", "weight_oz": 1, "providers": [{"id": "apmex", "url": gated.url}]}}}
    env = {"STAKTRAKR_PROVIDERS": str(write_json(tmp_path / "providers.json", providers)), "SCRAPY_SETTINGS_MODULE": "staktrakr.settings"}
    first = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "crawl", "retail", "-s", "DOWNLOAD_TIMEOUT=280"],
        env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert gated.arrived.wait(timeout=240), "the first run never asked for its page"
        # The first run is inside its crawl, holding the lock of job `retail` of poller `test`.
        again = scrapy("crawl", "retail", env=env)
        retry = scrapy("crawl", "retail", "-a", "only=failed", env=env)  # the :15 retry pass shares it
    finally:
        gated.release.set()
        out, err = first.communicate(timeout=240)
    assert first.returncode == 0, err[-3000:]
    for skipped in (again, retry):
        assert skipped.returncode == 0, skipped.stderr[-2000:]
        assert f"skipped: job 'test-retail' is already running (pid {first.pid} on " in skipped.stderr
        assert "Spider opened" not in skipped.stderr
    assert gated.hits == 1  # the skipped runs fetched nothing
    with Database.open_local(config.STAKTRAKR_DB) as db:
        runs = db.query("SELECT status, total FROM poller_runs")
        rows = db.query("SELECT coin_slug, vendor, status, price FROM price_snapshots")
    assert runs == [{"status": "ok", "total": 1}]  # the skipped runs left no run behind
    assert rows == [{"coin_slug": "ase", "vendor": "apmex", "status": "ok", "price": 94.19}]
    assert not list((config.STAKTRAKR_DB.parent / "locks").glob("*.lock"))  # released at the end

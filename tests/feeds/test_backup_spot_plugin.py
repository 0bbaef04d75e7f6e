"""The proof that a feature can be one package: examples/backup_spot, installed through the entry
point its pyproject.toml declares, adds a table, a spider, an API file, a health check and a
backfill importer without a line of staktrakr naming it; run end to end against stand-ins on
127.0.0.1 (MetalPriceAPI failing, the backup source answering)."""

from __future__ import annotations

import json
import shutil
import threading
import tomllib
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from staktrakr.plugin_manager import reset_plugin_manager
from staktrakr.store import Database
from staktrakr.timeutil import iso_s, utcnow
from staktrakr_samples.metalprice import Answer, MetalPriceConfig, MetalPriceServer

from ..conftest import ROOT, scrapy, staktrakr

EXAMPLE = ROOT / "examples" / "backup_spot"
KEY = "backup-test-key"
BACKUP_PRICES = {"XAU": 5011.4, "XAG": 80.12, "XPT": 2019.5, "XPD": 1550.25}


def install(site: Path) -> str:
    """What `pip install examples/backup_spot` puts into site-packages: the package and a
    dist-info whose entry_points.txt is generated from the example's pyproject.toml."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    shutil.copytree(EXAMPLE / "staktrakr_backup_spot", site / "staktrakr_backup_spot")
    dist = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n", encoding="utf-8")
    points = "".join(f"{name} = {target}\n" for name, target in project["entry-points"]["staktrakr"].items())
    (dist / "entry_points.txt").write_text(f"[staktrakr]\n{points}", encoding="utf-8")
    return project["name"]


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site-packages"
    install(site)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))  # the crawls and commands run in subprocesses
    reset_plugin_manager()
    yield site
    reset_plugin_manager()


class BackupSource:
    """Stand-in of gold-api.com: `GET /price/XAU` -> {"symbol", "price", "updatedAt", ...}."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        source = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                source.hits[self.path] += 1
                symbol = self.path.removeprefix("/price/")
                if symbol not in BACKUP_PRICES:
                    self.send_error(404)
                    return
                body = json.dumps({"name": symbol, "price": BACKUP_PRICES[symbol], "symbol": symbol,
                                   "updatedAt": iso_s(utcnow()), "updatedAtReadable": "a few seconds ago"}).encode()  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> BackupSource:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def spot_then_backup(primary: MetalPriceServer, backup: BackupSource) -> tuple[Any, Any]:
    env = {"METALPRICE_API_URL": primary.base_url, "METAL_PRICE_API_KEY": KEY, "BACKUP_SPOT_URL": backup.url}
    return scrapy("crawl", "spot", env=env, timeout=120), scrapy("crawl", "backup_spot", env=env, timeout=120)


def test_the_example_is_found_through_its_entry_point_only(installed):
    listed = scrapy("list")
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert "backup_spot" in listed.stdout.split()
    # staktrakr itself never names the example
    named = [p for p in (ROOT / "staktrakr").rglob("*.py") if "backup_spot" in p.read_text(encoding="utf-8")]
    assert named == []


def test_when_metalpriceapi_fails_the_backup_fills_in_end_to_end(installed, config, tmp_path):
    # The free plan's quota is spent: MetalPriceAPI answers every call with its error 104.
    quota = Answer(body={"success": False, "error": {"statusCode": 104, "message": "Monthly request limit reached"}})
    with MetalPriceServer(MetalPriceConfig(api_key=KEY, latest=quota)) as primary, BackupSource() as backup:
        spot, done = spot_then_backup(primary, backup)
    assert spot.returncode == 1 and "Monthly request limit reached" in spot.stderr
    assert done.returncode == 0, done.stderr[-3000:]
    assert dict(backup.hits) == {f"/price/{s}": 1 for s in BACKUP_PRICES}
    with Database.open_local(config.STAKTRAKR_DB) as db:
        stored = db.query("SELECT metal, spot, timestamp FROM backup_spot_prices")
        rows = {r["metal"]: r["spot"] for r in stored}
        run = db.query("SELECT * FROM poller_runs WHERE job = 'backup_spot'")
        migrated = db.query("SELECT component, version FROM plugin_migrations WHERE component = 'backup_spot'")
    assert rows == {"gold": 5011.4, "silver": 80.12, "platinum": 2019.5, "palladium": 1550.25}
    assert [(r["status"], r["total"], r["captured"]) for r in run] == [("ok", 4, 4)]
    assert [(m["component"], m["version"]) for m in migrated] == [("backup_spot", 1)]

    # its API file, written by the export
    out = tmp_path / "data"
    exported = staktrakr("export", "--out", str(out), "--json")
    assert exported.returncode == 0, exported.stderr[-3000:]
    latest = json.loads((out / "backup-spot/latest.json").read_text(encoding="utf-8"))
    gold = next(r for r in stored if r["metal"] == "gold")
    assert latest["updated_at"] == max(r["timestamp"] for r in stored)
    assert latest["metals"]["gold"] == {"spot": 5011.4, "timestamp": gold["timestamp"], "source": "gold-api.com"}

    # its health check, as the feed `backup_spot`
    health = staktrakr("health", "--dir", str(out), "--json")
    assert json.loads(health.stdout)["feeds"]["backup_spot"]["status"] == "fresh", health.stdout

    # its backfill importer, into a new database
    fresh_db = tmp_path / "fresh.db"
    imported = staktrakr("backfill", "--from-api", str(out), "--json", env={"STAKTRAKR_DB": str(fresh_db)})
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert json.loads(imported.stdout)["families"]["backup_spot"]["inserted"] == 4
    with Database.open_local(fresh_db) as db:
        assert db.query("SELECT COUNT(*) AS n FROM backup_spot_prices")[0]["n"] == 4


def test_with_a_fresh_metalpriceapi_price_the_backup_is_not_asked(installed, config):
    with MetalPriceServer(MetalPriceConfig(api_key=KEY)) as primary, BackupSource() as backup:
        spot, done = spot_then_backup(primary, backup)
    assert spot.returncode == 0 and done.returncode == 0, done.stderr[-3000:]
    assert backup.hits == Counter()
    assert "every metal has a fresh spot price; the backup source is not asked" in done.stderr

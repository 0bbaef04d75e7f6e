"""Shared fixtures: isolated environment, real database files, sample sites on 127.0.0.1, and a
helper that runs the real `scrapy` / `staktrakr` commands in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from staktrakr.config import Config, load_config, sections
from staktrakr.errors import StaktrakrError
from staktrakr.plugin_manager import get_plugin_manager, reset_plugin_manager
from staktrakr_samples.server import SampleSites, SiteConfig
from staktrakr.store import Database

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
CHROMIUM = Path("/usr/bin/chromium")



def _variable_names() -> tuple[str, ...]:
    """The variables of every configuration section: the core's and each built-in plugin's."""
    try:
        get_plugin_manager(Config())  # registers the plugins' sections (hook staktrakr_config_fields)
    except StaktrakrError:
        pass  # a plugin that does not load fails the tests that use it, not the collection of all
    return tuple(dict.fromkeys(name for model in sections().values() for name in model.model_fields))


ENV_VARIABLES = _variable_names()
_ENV_VARS = ENV_VARIABLES + ("SCRAPY_SETTINGS_MODULE",)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every test starts with no staktrakr variables set and its own database path."""
    for name in _ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STAKTRAKR_DB", str(tmp_path / "staktrakr.db"))
    monkeypatch.setenv("STAKTRAKR_API_DIR", str(tmp_path / "api"))
    monkeypatch.setenv("POLLER_ID", "test")
    reset_plugin_manager()
    yield
    reset_plugin_manager()


@pytest.fixture
def config() -> Config:
    return load_config()


@pytest.fixture
def db(config: Config) -> Iterator[Database]:
    database = Database.open_local(config.STAKTRAKR_DB)
    yield database
    database.close()


@pytest.fixture
def sites() -> Iterator[SampleSites]:
    with SampleSites(SiteConfig()) as running:
        yield running


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def wrong_answers(truth: list[dict[str, Any]], rows: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    """Each page whose stored row (status, price, stock) is not its known answer, explained."""
    wrong = []
    for entry in truth:
        row = rows[(entry["coin"], entry["dealer"])]
        got = (row["status"], row["price"], None if row["in_stock"] is None else bool(row["in_stock"]))
        want = (entry["expected"]["status"], entry["expected"]["price"], entry["expected"]["in_stock"])
        if got != want:
            wrong.append(f"{entry['path']} ({entry.get('case', '')}): got {got}, want {want} — {row['method']}: {row['reason']}")
    return wrong


def run_command(args: list[str], env: dict[str, str] | None = None, timeout: float = 240, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a console command of this project with the test's environment."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault("SCRAPY_SETTINGS_MODULE", "staktrakr.settings")
    return subprocess.run(args, env=full_env, capture_output=True, text=True, timeout=timeout, cwd=cwd or ROOT)


def staktrakr(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("staktrakr", path=str(Path(sys.executable).parent)) or "staktrakr"
    return run_command([exe, *args], env=env, timeout=timeout)


def scrapy(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return run_command([sys.executable, "-m", "scrapy", *args], env=env, timeout=timeout)


needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")


def _tursodb_binary() -> str | None:
    found = os.environ.get("TURSODB_BIN") or ""
    if found and Path(found).exists():
        return found
    candidates = sorted(ROOT.glob(".tools/node_modules/@tursodatabase/*/tursodb"))
    return str(candidates[0]) if candidates else shutil.which("tursodb")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TursoServer:
    """A real local Turso sync server (`tursodb FILE --sync-server 127.0.0.1:PORT`), stoppable
    and restartable on the same file and port to simulate an outage."""

    def __init__(self, binary: str, path: Path):
        self.binary = binary
        self.path = path
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TursoServer:
        import socket
        import time

        self.process = subprocess.Popen(
            [self.binary, str(self.path), "--sync-server", f"127.0.0.1:{self.port}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"tursodb did not listen on port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def turso_server(tmp_path: Path) -> Iterator[TursoServer]:
    binary = _tursodb_binary()
    if not binary:
        pytest.skip("tursodb (npm package turso@0.6.0) is not installed; scripts/test.sh installs it")
    server = TursoServer(binary, tmp_path / "turso-server.db").start()
    yield server
    server.stop()

"""Logs: JSON lines with LOG_FORMAT=json for `scrapy crawl` and the `staktrakr` CLI, and secrets
redacted from every line whatever the format."""

from __future__ import annotations

import io
import json
import logging
import re
import socket
from pathlib import Path

import pytest

from staktrakr.config import load_config, load_section, sections
from staktrakr.logs import JsonFormatter, RedactSecrets, config_secrets, environment_secrets, redact_parameters
from staktrakr.plugin_manager import build_plugin_manager
from staktrakr_samples.server import SampleSites, load_truth, providers_for
from staktrakr.store import Database

from ..conftest import scrapy, staktrakr, write_json

TRUTH = load_truth()
METAL_KEY = "canary-metal-9f3c2e71d4"
PROXY_PASSWORD = "canary-proxy-5b8a0d6e2c"
QUERY_TOKEN = "canary-query-77e1c4a9b0"
GIT_TOKEN = "canary-git-3d9f0b1a7e"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once it is closed: the proxy tier fails


def _json_lines(stderr: str) -> list[dict]:
    lines = stderr.splitlines()
    assert lines, "no log output"
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record), record
    return records


@pytest.mark.timeout(240)
def test_a_crawl_logs_json_lines_without_any_secret(tmp_path: Path, config) -> None:
    entries = [e for e in TRUTH if e["path"] in ("apmex/ase.html", "apmex/ape.html", "jmbullion/ase.html")]
    with SampleSites() as sites:
        providers = providers_for(sites, entries)
        # The secrets reach logged text: request URLs are logged at DEBUG ("Crawled (200) <GET …>").
        apmex_ase = next(p for p in providers["coins"]["ase"]["providers"] if p["id"] == "apmex")
        apmex_ase["url"] += f"?api_key={QUERY_TOKEN}&ref={METAL_KEY}"
        jm_ase = next(p for p in providers["coins"]["ase"]["providers"] if p["id"] == "jmbullion")
        jm_ase["url"] += f"?session={PROXY_PASSWORD}"
        env = {
            "LOG_FORMAT": "json",
            "STAKTRAKR_PROVIDERS": str(write_json(tmp_path / "providers.json", providers)),
            "METAL_PRICE_API_KEY": METAL_KEY,
            # The bot-walled page goes on to this proxy tier, which refuses the connection.
            "PROXY_TIERS": f"http://canary-user:{PROXY_PASSWORD}@127.0.0.1:{_closed_port()}",
            "API_GIT_REMOTE": f"https://x-access-token:{GIT_TOKEN}@github.example/owner/api.git",
        }
        done = scrapy("crawl", "retail", "-s", "LOG_LEVEL=DEBUG", "-s", "STAKTRAKR_DEALER_DELAY=0", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    records = _json_lines(done.stderr)
    for secret in (METAL_KEY, PROXY_PASSWORD, QUERY_TOKEN, GIT_TOKEN):
        assert secret not in done.stderr and secret not in done.stdout
    # the lines were there, redacted; from Scrapy's first line to its last
    assert records[0]["message"].startswith("Scrapy ") and any(r["message"].startswith("Spider closed") for r in records)
    crawled = [r for r in records if r["message"].startswith("Crawled (200)")]
    assert any("api_key=***" in r["message"] and "ref=***" in r["message"] for r in crawled)
    assert any("session=***" in r["message"] for r in crawled)
    # one line per target and the run summary are JSON too, with their dealer and coin
    targets = [r["message"] for r in records if r["logger"] == "staktrakr.targets"]
    assert len(targets) == 3 and any("apmex" in m and "ase" in m and "94.19" in m for m in targets)
    assert any(r["logger"] == "staktrakr.runs" and r["message"].startswith("run ") for r in records)
    assert {r["level"] for r in records} >= {"DEBUG", "INFO"}
    with Database.open_local(config.STAKTRAKR_DB) as db:
        stored = db.query("SELECT status FROM price_snapshots ORDER BY vendor, coin_slug")
    assert sorted(r["status"] for r in stored) == ["error", "ok", "ok"]  # the bot wall, then a dead proxy


def test_plain_text_logs_are_redacted_too(tmp_path: Path) -> None:
    with SampleSites() as sites:
        providers = providers_for(sites, [e for e in TRUTH if e["path"] == "apmex/ase.html"])
        providers["coins"]["ase"]["providers"][0]["url"] += f"?token={QUERY_TOKEN}&k={METAL_KEY}"
        env = {"STAKTRAKR_PROVIDERS": str(write_json(tmp_path / "providers.json", providers)), "METAL_PRICE_API_KEY": METAL_KEY}
        done = scrapy("crawl", "retail", "-s", "LOG_LEVEL=DEBUG", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "token=***&k=***" in done.stderr
    assert QUERY_TOKEN not in done.stderr and METAL_KEY not in done.stderr
    assert not done.stderr.lstrip().startswith("{")  # plain text unless LOG_FORMAT=json


def test_the_cli_logs_json_lines_and_redacts(tmp_path: Path) -> None:
    # The database path contains the key: every log line naming the file must hide it.
    db_path = tmp_path / METAL_KEY / "staktrakr.db"
    env = {"LOG_FORMAT": "json", "METAL_PRICE_API_KEY": METAL_KEY, "STAKTRAKR_DB": str(db_path)}
    done = staktrakr("-v", "db", "migrate", env=env)
    assert done.returncode == 0, done.stderr
    records = _json_lines(done.stderr)
    migrations = [r for r in records if r["logger"] == "staktrakr.store.db"]
    # the core's "applied migration 1 (...)" and a plugin's "applied alerts migration 1 (...)"
    assert migrations and all(re.search(r"applied (?:\w+ )?migration \d+ \(", r["message"]) for r in migrations)
    assert all(f"{tmp_path}/***/staktrakr.db" in r["message"] for r in migrations)
    assert METAL_KEY not in done.stderr
    quiet = staktrakr("db", "migrate", env=env)  # without -v: nothing to log, still no plain line
    assert quiet.returncode == 0 and quiet.stderr == ""


# -- the parts ------------------------------------------------------------------------------------


def _logger(secrets: tuple[str, ...], formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    redactor = RedactSecrets(secrets)
    handler.addFilter(redactor)
    handler.setFormatter(formatter if not isinstance(formatter, JsonFormatter) else JsonFormatter(redact=redactor.redact))
    logger = logging.getLogger(f"tests.ops.redact.{id(out)}")
    logger.propagate = False
    logger.handlers = [handler]
    logger.setLevel(logging.DEBUG)
    return logger, out


@pytest.mark.parametrize("formatter", [logging.Formatter("%(levelname)s %(message)s"), JsonFormatter()], ids=["text", "json"])
def test_redaction_covers_messages_arguments_tracebacks_and_extras(formatter: logging.Formatter) -> None:
    env = {
        "TURSO_AUTH_TOKEN": "canary-turso-token",
        "GEMINI_API_KEY": "canary-gemini-key",
        "PROXY_TIERS": '["http://tier-user:canary-tier-pass@proxy.example:8080"]',
        "API_GIT_REMOTE": f"https://x-access-token:{GIT_TOKEN}@github.example/owner/api.git",
        "TURSO_DATABASE_URL": "https://db-user:canary-db-pass@turso.example",
    }
    # Secrets live in the core's section and in the plugins' (GEMINI_API_KEY: vision, API_GIT_REMOTE:
    # the git publisher); building the plugin manager registers the plugins' sections.
    build_plugin_manager(load_config(environ={}))
    secrets = config_secrets(*(load_section(model, environ=env) for model in sections().values()))
    assert set(secrets) == set(environment_secrets(env))
    logger, out = _logger(secrets, formatter)
    logger.info("pushing to %s with %s", env["API_GIT_REMOTE"], "canary-turso-token")
    logger.warning("gemini said no to canary-gemini-key", extra={"url": "https://proxy.example/?apikey=canary-extra"})
    try:
        raise RuntimeError("proxy http://tier-user:canary-tier-pass@proxy.example:8080 refused")
    except RuntimeError:
        logger.exception("failed")
    logger.error("db %s", "canary-db-pass", stack_info=True)
    text = out.getvalue()
    for secret in ("canary-turso-token", "canary-gemini-key", "canary-tier-pass", GIT_TOKEN, "canary-db-pass", "canary-extra"):
        assert secret not in text
    assert "https://***@github.example/owner/api.git" in text and "RuntimeError: proxy http://***@proxy.example:8080" in text
    if isinstance(formatter, JsonFormatter):
        records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        assert [r["level"] for r in records] == ["INFO", "WARNING", "ERROR", "ERROR"]
        assert records[1]["url"] == "https://proxy.example/?apikey=***" and "Traceback" in records[2]["exception"]


def test_secret_looking_parameters_are_redacted_and_others_kept() -> None:
    line = "GET https://api.example/v1/latest?api_key=abc123&base=USD&access_token=t0k&currencies=XAU,XAG -a coins=ase only=failed"
    assert redact_parameters(line) == (
        "GET https://api.example/v1/latest?api_key=***&base=USD&access_token=***&currencies=XAU,XAG -a coins=ase only=failed"
    )
    assert redact_parameters("client_secret=s3cr3t password=hunter2 sig=ff00") == "client_secret=*** password=*** sig=***"

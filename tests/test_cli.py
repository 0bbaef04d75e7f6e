"""The `staktrakr` command through its real entry point."""

import json

import pytest

from staktrakr.store.migrations import LATEST_VERSION

from .conftest import FIXTURES, staktrakr

SAMPLE = FIXTURES.parents[1] / "samples/sites/jmbullion/ase.html"


@pytest.mark.parametrize("args", [[], ["plugins"], ["providers"], ["providers", "list"], ["db"], ["db", "migrate"], ["db", "status"], ["extract"], ["demo"], ["export"], ["publish"], ["serve"], ["health"], ["backfill"], ["new-dealer"], ["db", "sync"]])
def test_help_everywhere(args):
    done = staktrakr(*args, "--help")
    assert done.returncode == 0 and "Usage:" in done.stdout


def test_db_migrate_then_status(config):
    first = staktrakr("db", "migrate")
    assert first.returncode == 0 and f"schema 0 -> {LATEST_VERSION}" in first.stdout
    again = staktrakr("db", "migrate")
    assert "up to date" in again.stdout
    status = json.loads(staktrakr("db", "status", "--json").stdout)
    assert status["schema_version"] == LATEST_VERSION and status["rows"]["price_snapshots"] == 0 and status["last_runs"] == []


def test_extract_file_json_and_explanation():
    decided = staktrakr("extract", "--vendor", "jmbullion", "--coin", "ase", "--file", str(SAMPLE), "--json")
    assert decided.returncode == 0, decided.stderr
    result = json.loads(decided.stdout)
    assert set(result) == {"price", "in_stock", "status", "method", "reason"}
    assert result["status"] == "ok" and isinstance(result["price"], float)
    explained = staktrakr("extract", "--vendor", "jmbullion", "--coin", "ase", "--file", str(SAMPLE))
    assert "product title:" in explained.stdout and "=> status ok" in explained.stdout


@pytest.mark.parametrize(
    ("args", "env", "message", "code"),
    [
        (["extract", "--vendor", "apmex", "--coin", "ase", "--file", "/nonexistent.html"], {}, "cannot read /nonexistent.html", 1),
        (["extract", "--vendor", "apmex", "--coin", "unobtainium", "--file", str(SAMPLE)], {}, "unknown coin 'unobtainium'", 2),
        (["extract", "--vendor", "apmex", "--coin", "ase"], {}, "give exactly one of --file or --url", 2),
        (["db", "status"], {"POLLER_ID": "Bad Id"}, "POLLER_ID", 2),
        (["nosuchcommand"], {}, "No such command", 2),
    ],
)
def test_user_errors_are_one_message_and_no_traceback(args, env, message, code):
    done = staktrakr(*args, env=env)
    assert done.returncode == code
    assert message in done.stderr
    assert "Traceback" not in done.stderr

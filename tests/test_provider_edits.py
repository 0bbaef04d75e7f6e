"""Providers kept in the database and edited from the command line; providers from a URL."""

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from staktrakr.config import load_config
from staktrakr.providers import resolve_providers
from staktrakr.store import open_database

from .conftest import FIXTURES, staktrakr, write_json


def current(env=None):
    return json.loads(staktrakr("providers", "export", env=env).stdout)


def test_edits_are_validated_stored_and_used():
    seeded = staktrakr("providers", "set-url", "ase", "apmex", "https://www.apmex.com/a", "https://www.apmex.com/b")
    assert seeded.returncode == 0, seeded.stderr
    rich = current()
    apmex = next(p for p in rich["coins"]["ase"]["providers"] if p["id"] == "apmex")
    assert apmex["urls"] == ["https://www.apmex.com/a", "https://www.apmex.com/b"]
    assert len(rich["coins"]) == 23  # seeded from the bundled set, then edited
    assert staktrakr("providers", "disable", "ase", "jmbullion").returncode == 0
    assert staktrakr("providers", "add-coin", "goldback-utah-g5").returncode == 0
    assert staktrakr("providers", "set-url", "goldback-utah-g5", "apmex", "https://www.apmex.com/g5").returncode == 0
    with open_database(load_config()) as db:
        providers = resolve_providers(load_config(), db)
    keys = {t.key for t in providers.targets()}
    assert "ase/jmbullion" not in keys and "goldback-utah-g5/apmex" in keys
    assert providers.coins["goldback-utah-g5"].weight_oz == 5
    flat = json.loads(staktrakr("providers", "export", "--flat").stdout)
    assert flat["ase"]["apmex"] == "https://www.apmex.com/a" and "jmbullion" not in flat["ase"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set-url", "ase", "apmex", "ftp://x.example/a"], "URL scheme must be http or https"),
        (["set-url", "nosuchcoin", "apmex", "https://x.example/a"], "not in the providers"),
        (["enable", "ase", "nosuchdealer"], "no such listing"),
        (["add-coin", "copper-round", "--name", "Copper", "--metal", "silver"], "weight_oz"),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(args, message):
    before = current()
    done = staktrakr("providers", *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert current() == before


def test_import_file():
    done = staktrakr("providers", "import", str(FIXTURES / "providers/rich.json"))
    assert done.returncode == 0, done.stderr
    rich = current()
    assert "silver-libertad" in rich["coins"] and "age" in rich["coins"]


@pytest.fixture
def http_folder(tmp_path):
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_providers_from_a_url_fall_back_to_the_last_good_copy(http_folder, monkeypatch, caplog):
    folder, base = http_folder
    write_json(folder / "providers.json", {"ase": {"apmex": "https://www.apmex.com/x"}})
    monkeypatch.setenv("STAKTRAKR_PROVIDERS", f"{base}/providers.json")
    assert resolve_providers(load_config()).flat() == {"ase": {"apmex": "https://www.apmex.com/x"}}
    (folder / "providers.json").write_text("{ broken")
    with caplog.at_level("WARNING"):
        again = resolve_providers(load_config())
    assert again.flat() == {"ase": {"apmex": "https://www.apmex.com/x"}} and "last good copy" in again.source
    assert any("using the last good copy" in r.getMessage() for r in caplog.records)
    (folder / "providers.json").unlink()
    assert resolve_providers(load_config()).source.endswith("(last good copy)")


def test_comparison_page_and_notes_survive_the_database():
    rich = {"coins": {"ase": {"fbp_url": "https://compare.example/ase", "notes": "tube of 20",
                              "providers": [{"id": "apmex", "url": "https://www.apmex.com/a"}]}}}
    from staktrakr.providers import parse_providers
    from staktrakr.store.provider_tables import load_providers_rich, save_providers

    with open_database(load_config()) as db:
        save_providers(db, parse_providers(rich, "test").rich())
        back = parse_providers(load_providers_rich(db), "db")
    assert back.coins["ase"].fbp_url == "https://compare.example/ase" and back.coins["ase"].notes == "tube of 20"

import json

import pytest

from staktrakr.catalogue import catalogue_coin
from staktrakr.config import load_config
from staktrakr.extract import Page, extract
from staktrakr.models import Target
from staktrakr.plugin_manager import build_plugin_manager, dealer_profiles, list_plugins
from staktrakr.plugins import bundle

from .conftest import FIXTURES, scrapy, staktrakr

THIRD_PARTY = FIXTURES / "thirdparty"


@pytest.fixture
def acme_installed(monkeypatch):
    """Make the fixture package and its dist-info visible to importlib.metadata, like pip would."""
    monkeypatch.syspath_prepend(str(THIRD_PARTY))
    monkeypatch.setenv("PYTHONPATH", str(THIRD_PARTY))
    return THIRD_PARTY


def test_builtins_are_registered_like_plugins():
    pm = build_plugin_manager(load_config())
    names = {info.name for info in list_plugins(pm)}
    assert {module.__name__ for module in bundle()} <= names
    assert {info.origin for info in list_plugins(pm) if info.name.startswith("staktrakr.plugins.")} == {"built-in"}
    profiles = dealer_profiles(pm)
    assert profiles["jmbullion"].preorder_purchasable and profiles["bullionexchanges"].browser


def test_third_party_plugin_is_picked_up_through_entry_points(acme_installed):
    pm = build_plugin_manager(load_config())
    info = {i.name: i for i in list_plugins(pm)}["acmebullion"]
    assert info.origin == "entry point (staktrakr-acme)" and info.version == "1.2.0"
    assert set(info.hooks) == {"staktrakr_dealer_profiles", "staktrakr_extract_price"}
    profile = dealer_profiles(pm)["acmebullion"]
    page = Page((FIXTURES / "pages/acme-ase.html").read_text())
    result = extract(page, Target(coin=catalogue_coin("ase"), vendor="acmebullion", urls=("x",)), profile, pm=pm)
    assert (result.price, result.status.value, result.method) == (91.37, "ok", "acme_data_attribute")


def test_cli_and_scrapy_see_the_plugin(acme_installed):
    listed = staktrakr("plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    plugins = {p["name"]: p for p in json.loads(listed.stdout)}
    assert plugins["acmebullion"]["origin"] == "entry point (staktrakr-acme)"
    spiders = scrapy("list")
    assert "retail-acmebullion" in spiders.stdout.split()
    decided = staktrakr("extract", "--vendor", "acmebullion", "--coin", "ase", "--file", str(FIXTURES / "pages/acme-ase.html"), "--json")
    assert json.loads(decided.stdout)["price"] == 91.37


def test_restricting_and_tracing(acme_installed, monkeypatch, caplog):
    monkeypatch.setenv("STAKTRAKR_PLUGINS", "apmex,acmebullion")
    monkeypatch.setenv("STAKTRAKR_TRACE_PLUGINS", "1")
    pm = build_plugin_manager(load_config())
    assert {i.name for i in list_plugins(pm)} == {"staktrakr.plugins.dealers.apmex", "acmebullion"}
    with caplog.at_level("INFO"):
        dealer_profiles(pm)
    assert any("staktrakr_dealer_profiles" in r.getMessage() for r in caplog.records)

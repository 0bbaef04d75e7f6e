from pathlib import Path

import pytest

from staktrakr.config import config_from_settings, load_config
from staktrakr.errors import ConfigError
from scrapy.settings import Settings


def test_defaults_and_types(monkeypatch):
    monkeypatch.delenv("STAKTRAKR_DB")
    config = load_config()
    assert config.STAKTRAKR_DB == Path("var/staktrakr.db")
    assert config.API_GIT_BRANCH == "api"
    assert config.VISION_ENABLED is False
    assert config.sync_enabled is False


def test_bad_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("POLLER_ID", "Home Machine!")
    monkeypatch.setenv("VISION_ENABLED", "maybe")
    with pytest.raises(ConfigError) as err:
        load_config()
    message = str(err.value)
    assert "POLLER_ID" in message and "VISION_ENABLED" in message


def test_proxy_credentials_are_never_echoed(monkeypatch):
    monkeypatch.setenv("PROXY_TIERS", "ftp://user:s3cretpw@proxy.example:21")
    with pytest.raises(ConfigError) as err:
        load_config()
    assert "PROXY_TIERS" in str(err.value)
    assert "s3cretpw" not in str(err.value)


def test_lists_and_secrets(monkeypatch):
    monkeypatch.setenv("PROXY_TIERS", "http://u:pw@127.0.0.1:8888, socks5://127.0.0.1:1080")
    monkeypatch.setenv("GEMINI_API_KEY", "canary-key-123")
    monkeypatch.setenv("STAKTRAKR_PLUGINS", "apmex,spot")
    config = load_config()
    assert [t.get_secret_value() for t in config.PROXY_TIERS] == ["http://u:pw@127.0.0.1:8888", "socks5://127.0.0.1:1080"]
    assert config.STAKTRAKR_PLUGINS == ("apmex", "spot")
    assert "canary-key-123" not in repr(config) and "pw@" not in repr(config)


def test_scrapy_settings_override_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("POLLER_ID", "home")
    config = config_from_settings(Settings({"POLLER_ID": "api", "STAKTRAKR_DB": str(tmp_path / "x.db")}))
    assert config.POLLER_ID == "api"
    assert config.STAKTRAKR_DB == tmp_path / "x.db"

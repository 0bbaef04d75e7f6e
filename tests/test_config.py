from pathlib import Path

import pytest

from staktrakr.config import config_from_settings, load_config, load_section
from staktrakr.errors import ConfigError
from scrapy.settings import Settings
from staktrakr.plugins.git_publisher import GitPublisherSettings
from staktrakr.plugins.vision.settings import VisionSettings


def test_defaults_and_types(monkeypatch):
    monkeypatch.delenv("STAKTRAKR_DB")
    config = load_config()
    assert config.STAKTRAKR_DB == Path("var/staktrakr.db")
    assert config.STAKTRAKR_TRACE_PLUGINS is False
    assert config.sync_enabled is False
    assert load_section(VisionSettings).VISION_ENABLED is False  # the vision plugin's own section


def test_bad_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("POLLER_ID", "Home Machine!")
    monkeypatch.setenv("STAKTRAKR_TRACE_PLUGINS", "maybe")
    with pytest.raises(ConfigError) as err:
        load_config()
    message = str(err.value)
    assert "POLLER_ID" in message and "STAKTRAKR_TRACE_PLUGINS" in message
    monkeypatch.setenv("VISION_ENABLED", "maybe")  # a plugin's section: the same one line
    with pytest.raises(ConfigError, match="VISION_ENABLED"):
        load_section(VisionSettings)


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
    assert "pw@" not in repr(config)
    vision = load_section(VisionSettings)
    assert vision.GEMINI_API_KEY.get_secret_value() == "canary-key-123" and "canary-key-123" not in repr(vision)


def test_scrapy_settings_override_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("POLLER_ID", "home")
    config = config_from_settings(Settings({"POLLER_ID": "api", "STAKTRAKR_DB": str(tmp_path / "x.db")}))
    assert config.POLLER_ID == "api"
    assert config.STAKTRAKR_DB == tmp_path / "x.db"


def test_an_unset_poller_id_is_local_as_documented(monkeypatch):
    monkeypatch.delenv("POLLER_ID")
    assert load_config().POLLER_ID == "local"


def test_an_empty_poller_id_is_an_error_not_local(monkeypatch):
    # Two pollers whose env files both left `POLLER_ID=` empty would silently share `local`.
    monkeypatch.setenv("POLLER_ID", "")
    with pytest.raises(ConfigError) as err:
        load_config()
    assert str(err.value) == (
        "invalid configuration: POLLER_ID: is set but empty; a poller id is 1-32 characters of a-z, 0-9, '-' or '_', "
        "starting with a letter or digit (unset it to use 'local')"
    )
    assert err.value.exit_code == 2
    with pytest.raises(ConfigError, match="POLLER_ID: is set but empty"):
        config_from_settings(Settings({"POLLER_ID": ""}))  # scrapy crawl ... -s POLLER_ID=


@pytest.mark.parametrize("value", ["Home", "home machine", "-api", "_api", "api!", "a" * 33, "hôme", " api", "import"])
def test_an_invalid_poller_id_is_one_line_saying_the_rule(monkeypatch, value):
    monkeypatch.setenv("POLLER_ID", value)
    with pytest.raises(ConfigError) as err:
        load_config()
    message = str(err.value)
    assert message.startswith("invalid configuration: POLLER_ID: ") and "\n" not in message
    assert "1-32 characters of a-z, 0-9, '-' or '_'" in message or "reserved" in message


@pytest.mark.parametrize("value", ["api", "home", "home-2", "poller_3", "7", "a" * 32])
def test_valid_poller_ids(monkeypatch, value):
    monkeypatch.setenv("POLLER_ID", value)
    assert load_config().POLLER_ID == value


def test_other_empty_variables_still_mean_unset(monkeypatch):
    # env files keep `NAME=` placeholders (deploy/env.*.example): those stay defaults
    for name in ("STAKTRAKR_PLUGINS", "API_GIT_BRANCH", "TURSO_DATABASE_URL", "PROXY_TIERS"):
        monkeypatch.setenv(name, "")
    config = load_config()
    assert config.STAKTRAKR_PLUGINS is None and config.PROXY_TIERS == ()
    assert load_section(GitPublisherSettings).API_GIT_BRANCH == "api"  # a plugin's section too

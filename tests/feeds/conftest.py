"""The feeds' tables are their plugins' own (hook `staktrakr_migrations`): building the plugin
manager registers those migrations, so a database opened in a test of this folder has them."""

from __future__ import annotations

import pytest

from staktrakr.config import load_config
from staktrakr.plugin_manager import get_plugin_manager


@pytest.fixture(autouse=True)
def plugin_tables(clean_env: None) -> None:
    get_plugin_manager(load_config())

"""The Scrapy add-on that lets plugins into a crawl: their components (pipelines, middlewares,
extensions) and the defaults of the settings they read (hooks `staktrakr_crawl_components`,
`staktrakr_default_settings`)."""

from __future__ import annotations

from typing import Any

from .config import config_from_settings
from .errors import PluginError
from .plugin_manager import get_plugin_manager


COMPONENT_SETTINGS = frozenset({"ITEM_PIPELINES", "EXTENSIONS", "DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES"})


class PluginComponents:
    """Listed in ADDONS; Scrapy calls it while the crawler's settings are still open."""

    def update_settings(self, settings: Any) -> None:
        pm = get_plugin_manager(config_from_settings(settings))
        for defaults in pm.hook.staktrakr_default_settings():
            for name, value in (defaults or {}).items():
                # "default" priority: settings.py, the environment and -s all win over a plugin.
                settings.set(name, value, priority="default")
        for components in pm.hook.staktrakr_crawl_components():
            for setting, entries in (components or {}).items():
                if setting not in COMPONENT_SETTINGS:
                    raise PluginError(f"staktrakr_crawl_components: {setting!r} is not one of {sorted(COMPONENT_SETTINGS)}")
                for path, order in entries.items():
                    # "addon" priority: a project or -s entry for the same component (e.g. None
                    # to switch it off) still wins.
                    settings[setting].set(path, order, priority="addon")

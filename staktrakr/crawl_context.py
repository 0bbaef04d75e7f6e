"""Resources shared by the components of one crawl: config, plugins, database, dealer profiles.

Scrapy components are built separately from the crawler; this gives them one database
connection and one plugin manager per crawler instead of module globals.
"""

from __future__ import annotations

import logging
import weakref
from functools import cached_property
from typing import Any

from .config import Config, config_from_settings
from .models import DealerProfile
from .plugin_manager import PluginManager, get_plugin_manager, dealer_profiles, default_profile
from .store import Database, open_database

logger = logging.getLogger(__name__)

_CONTEXTS: weakref.WeakKeyDictionary[Any, CrawlContext] = weakref.WeakKeyDictionary()


class CrawlContext:
    def __init__(self, settings: Any):
        self.settings = settings
        self.config: Config = config_from_settings(settings)

    @classmethod
    def of(cls, crawler: Any) -> CrawlContext:
        context = _CONTEXTS.get(crawler)
        if context is None:
            context = _CONTEXTS[crawler] = cls(crawler.settings)
        return context

    @cached_property
    def pm(self) -> PluginManager:
        return get_plugin_manager(self.config)

    @cached_property
    def db(self) -> Database:
        return open_database(self.config)

    @cached_property
    def profiles(self) -> dict[str, DealerProfile]:
        return dealer_profiles(self.pm)

    def profile(self, vendor: str) -> DealerProfile:
        return self.profiles.get(vendor) or default_profile(vendor)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.close()
            del self.__dict__["db"]

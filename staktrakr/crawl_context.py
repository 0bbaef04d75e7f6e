"""Resources shared by the components of one crawl: config, plugins, database, dealer profiles,
providers; and `one_per_crawler`, how any component finds the crawl's single instance of a helper.

Scrapy components are built separately from the crawler; this gives them one database
connection, one plugin manager and one resolution of the providers per crawler instead of
module globals. The context owns the database's lifetime: it closes it when the engine has
stopped, after every component is done (the run recorder's last row, Turso sync's push).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

from scrapy import signals

from .config import Config, config_from_settings
from .models import DealerProfile
from .plugin_manager import PluginManager, get_plugin_manager, dealer_profiles, default_profile
from .providers import ProviderSet, resolve_providers
from .store import Database, open_database

logger = logging.getLogger(__name__)

T = TypeVar("T")

_PER_CRAWLER: weakref.WeakKeyDictionary[Any, dict[type, Any]] = weakref.WeakKeyDictionary()


def one_per_crawler(crawler: Any, cls: Callable[[Any], T]) -> T:
    """The crawl's one instance of `cls`, built as `cls(crawler)` the first time any component
    asks; it goes with the crawler (weak keys: a finished crawl keeps nothing alive)."""
    instances = _PER_CRAWLER.setdefault(crawler, {})
    if cls not in instances:
        instances[cls] = cls(crawler)  # type: ignore[index]
    return instances[cls]  # type: ignore[index]


class CrawlContext:
    def __init__(self, crawler: Any):
        self.settings = crawler.settings
        self.config: Config = config_from_settings(self.settings)
        self._before_close: list[Callable[[Database], None]] = []
        if getattr(crawler, "signals", None) is not None:
            crawler.signals.connect(self.close, signal=signals.engine_stopped)

    @classmethod
    def of(cls, crawler: Any) -> CrawlContext:
        return one_per_crawler(crawler, cls)

    @cached_property
    def pm(self) -> PluginManager:
        return get_plugin_manager(self.config)

    @cached_property
    def db(self) -> Database:
        return open_database(self.config)

    @cached_property
    def profiles(self) -> dict[str, DealerProfile]:
        return dealer_profiles(self.pm)

    @cached_property
    def providers(self) -> ProviderSet:
        """The crawl's providers, resolved once (an https source is fetched once per crawl).
        Raises ProvidersError / ConfigError like resolve_providers; a failure is not cached."""
        return resolve_providers(self.config, self.db)

    def profile(self, vendor: str) -> DealerProfile:
        return self.profiles.get(vendor) or default_profile(vendor)

    def before_close(self, callback: Callable[[Database], None]) -> None:
        """Run `callback(db)` right before the database closes (only when it was opened)."""
        self._before_close.append(callback)

    def close(self) -> None:
        if "db" not in self.__dict__:
            return
        db = self.__dict__.pop("db")
        try:
            for callback in self._before_close:
                try:
                    callback(db)
                except Exception as exc:  # noqa: BLE001 - one line; the database still closes
                    logger.error("%s before the database closed: %s: %s", getattr(callback, "__qualname__", callback), type(exc).__name__, exc)
        finally:
            db.close()

"""Spider loader: the spiders of `spiders/`, one `retail-<dealer>` per dealer, and plugin spiders."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.spiderloader import SpiderLoader

from .config import config_from_settings
from .errors import ConfigError, StaktrakrError, StoreError
from .plugin_manager import get_plugin_manager, dealer_profiles
from .providers import resolve_providers
from .store import open_database

logger = logging.getLogger(__name__)


class StaktrakrSpiderLoader(SpiderLoader):
    def __init__(self, settings: Any):
        super().__init__(settings)
        from staktrakr.spiders.retail import dealer_spider

        try:
            config = config_from_settings(settings)
            pm = get_plugin_manager(config)
            profiles = dealer_profiles(pm)
            vendors = list(profiles)
            try:
                with open_database(config) as db:
                    vendors += [v for v in resolve_providers(config, db).dealers() if v not in profiles]
            except StoreError as exc:
                # `scrapy crawl` reports a storage fault itself, in one line; a bare copy here
                # (logging is not set up yet) would be a second one.
                logger.debug("providers not loaded, listing dealers from plugins only: %s", exc)
            except StaktrakrError as exc:
                logger.warning("providers not loaded, listing dealers from plugins only: %s", exc)
            for vendor in vendors:
                spider = dealer_spider(vendor, profiles.get(vendor))
                self._spiders.setdefault(spider.name, spider)
            for extra in pm.hook.staktrakr_spiders():
                for spider in extra or ():
                    self._spiders.setdefault(spider.name, spider)
        except ConfigError as exc:
            # Scrapy builds the loader before logging is set up, so this would be a second, bare
            # copy of the line `scrapy crawl` prints itself (and exits 2 for).
            logger.debug("dealer spiders not listed: %s", exc)
        except StaktrakrError as exc:
            logger.error("%s", exc)

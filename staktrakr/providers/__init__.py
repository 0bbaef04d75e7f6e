"""Providers: which dealer pages to crawl for which coin.

Two file shapes are accepted:

* flat (what the live API publishes): ``{slug: {vendor: url | null}}``; coin metadata comes
  from the bundled catalogue;
* rich: ``{"coins": {slug: {name, metal, weight_oz, [enabled], providers: [...]}}}`` where
  each provider is ``{id, [name], [enabled], url | urls}``; ``providers`` may also be a mapping
  ``{vendor: {url | urls, ...}}``.

Every problem is reported with the file, coin, dealer and field, all at once.

    provider_set.py  ProviderSet: coins and their dealer listings, flat and rich forms
    parse.py         parse_providers: validate a document, every problem at once
    sources.py       resolve_providers: STAKTRAKR_PROVIDERS, the database copy, the bundled set
    edits.py         the edits of `staktrakr providers ...`
"""

from .edits import edit_add_coin, edit_enabled, edit_set_urls
from .parse import parse_providers, unknown_dealer_problem
from .provider_set import ProviderSet
from .sources import (
    BUNDLED,
    known_dealer_ids,
    load_bundled_providers,
    load_providers_file,
    providers_cache_path,
    resolve_providers,
)

__all__ = [
    "BUNDLED",
    "ProviderSet",
    "edit_add_coin",
    "edit_enabled",
    "edit_set_urls",
    "known_dealer_ids",
    "load_bundled_providers",
    "load_providers_file",
    "parse_providers",
    "providers_cache_path",
    "resolve_providers",
    "unknown_dealer_problem",
]

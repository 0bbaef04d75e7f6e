"""Edits of the providers (`staktrakr providers set-url`, `enable`, `disable`, `add-coin`): applied
to the rich form, then validated like a file before they are stored in the database."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from ..errors import ProvidersError
from .parse import parse_providers, unknown_dealer_problem
from .provider_set import ProviderSet
from .sources import known_dealer_ids


def _coin_entry(rich: dict[str, Any], coin: str) -> dict[str, Any]:
    try:
        return rich["coins"][coin]
    except KeyError:
        raise ProvidersError("providers", [f"coin {coin!r}: not in the providers (add it with add-coin)"]) from None


def _check_edited_dealer(coin: str, dealer: str, known_dealers: Collection[str] | None) -> None:
    """`providers set-url` / `enable` put a dealer in the crawl: it must be one a plugin describes."""
    known = known_dealer_ids() if known_dealers is None else known_dealers
    if dealer not in known:
        raise ProvidersError("providers", [unknown_dealer_problem(coin, dealer, known)])


def edit_set_urls(
    rich: dict[str, Any], coin: str, dealer: str, urls: list[str], known_dealers: Collection[str] | None = None
) -> ProviderSet:
    """Point a dealer listing at one URL or an ordered fallback list (created when missing)."""
    entry = _coin_entry(rich, coin)
    _check_edited_dealer(coin, dealer, known_dealers)
    providers = entry.setdefault("providers", [])
    listing = next((p for p in providers if p["id"] == dealer), None)
    if listing is None:
        listing = {"id": dealer, "enabled": True}
        providers.append(listing)
    listing.pop("url", None)
    listing.pop("urls", None)
    if len(urls) == 1:
        listing["url"] = urls[0]
    else:
        listing["urls"] = list(urls)
    return parse_providers(rich, "edited providers")


def edit_enabled(
    rich: dict[str, Any], coin: str, dealer: str, enabled: bool, known_dealers: Collection[str] | None = None
) -> ProviderSet:
    entry = _coin_entry(rich, coin)
    listing = next((p for p in entry.get("providers", []) if p["id"] == dealer), None)
    if listing is None:
        raise ProvidersError("providers", [f"coin {coin!r}, dealer {dealer!r}: no such listing"])
    if enabled:  # disabling stays possible: it is how a listing of a removed plugin is retired
        _check_edited_dealer(coin, dealer, known_dealers)
    listing["enabled"] = enabled
    return parse_providers(rich, "edited providers")


def edit_add_coin(rich: dict[str, Any], slug: str, name: str | None, metal: str | None, weight_oz: float | None) -> ProviderSet:
    if slug in rich["coins"]:
        raise ProvidersError("providers", [f"coin {slug!r}: already in the providers"])
    entry: dict[str, Any] = {"providers": []}
    for key, value in (("name", name), ("metal", metal), ("weight_oz", weight_oz)):
        if value is not None:
            entry[key] = value
    rich["coins"][slug] = entry
    return parse_providers(rich, "edited providers")

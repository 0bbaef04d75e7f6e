"""The providers in force: coins and their dealer listings, and the forms they are written in."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..models import Coin, Listing, Target


class ProviderSet(BaseModel):
    """Coins and their dealer listings, in configuration order."""

    model_config = ConfigDict(frozen=True)

    source: str
    coins: dict[str, Coin]
    listings: dict[str, dict[str, Listing]]

    def dealers(self) -> list[str]:
        """Every dealer id that appears, in first-seen order."""
        seen: dict[str, None] = {}
        for by_dealer in self.listings.values():
            for dealer in by_dealer:
                seen.setdefault(dealer, None)
        return list(seen)

    def targets(self, coins: Iterable[str] | None = None, dealers: Iterable[str] | None = None) -> list[Target]:
        """Enabled (coin, dealer) pairs with at least one URL, optionally narrowed."""
        coin_filter = set(coins) if coins is not None else None
        dealer_filter = set(dealers) if dealers is not None else None
        targets = []
        for slug, by_dealer in self.listings.items():
            coin = self.coins[slug]
            if not coin.enabled or (coin_filter is not None and slug not in coin_filter):
                continue
            for dealer, listing in by_dealer.items():
                if listing.active and (dealer_filter is None or dealer in dealer_filter):
                    targets.append(Target(coin=coin, vendor=dealer, urls=listing.urls))
        return targets

    def flat(self) -> dict[str, dict[str, str]]:
        """The public flat form: canonical (first) URL of every enabled listing; empty coins kept."""
        return {
            slug: {v: listing.urls[0] for v, listing in by_dealer.items() if listing.active}
            for slug, by_dealer in self.listings.items()
        }

    def rich(self) -> dict[str, Any]:
        """The rich form, which round-trips through `parse_providers`."""
        coins: dict[str, Any] = {}
        for slug, coin in self.coins.items():
            entry: dict[str, Any] = {"name": coin.name, "metal": coin.metal.value, "weight_oz": coin.weight_oz}
            if not coin.enabled:
                entry["enabled"] = False
            if coin.fbp_url:
                entry["fbp_url"] = coin.fbp_url
            if coin.notes:
                entry["notes"] = coin.notes
            providers = []
            for dealer, listing in self.listings.get(slug, {}).items():
                provider: dict[str, Any] = {"id": dealer, "enabled": listing.enabled}
                if listing.vendor_name:
                    provider["name"] = listing.vendor_name
                if len(listing.urls) == 1:
                    provider["url"] = listing.urls[0]
                elif listing.urls:
                    provider["urls"] = list(listing.urls)
                providers.append(provider)
            entry["providers"] = providers
            coins[slug] = entry
        return {"coins": coins}

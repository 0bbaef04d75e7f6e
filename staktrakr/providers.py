"""Providers: which dealer pages to crawl for which coin.

Two file shapes are accepted:

* flat (what the live API publishes): ``{slug: {vendor: url | null}}``; coin metadata comes
  from the bundled catalogue;
* rich: ``{"coins": {slug: {name, metal, weight_oz, [enabled], providers: [...]}}}`` where
  each provider is ``{id, [name], [enabled], url | urls}``; ``providers`` may also be a mapping
  ``{vendor: {url | urls, ...}}``.

Every problem is reported with the file, coin, dealer and field, all at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from .catalogue import catalogue_coin
from .errors import ProvidersError
from .models import Coin, Listing, Metal, Target

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_VENDOR = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
BUNDLED = "bundled providers"


class ProviderSet(BaseModel):
    """Coins and their dealer listings, in configuration order."""

    model_config = ConfigDict(frozen=True)

    source: str
    coins: dict[str, Coin]
    listings: dict[str, dict[str, Listing]]

    def vendors(self) -> list[str]:
        """Every dealer id that appears, in first-seen order."""
        seen: dict[str, None] = {}
        for by_vendor in self.listings.values():
            for vendor in by_vendor:
                seen.setdefault(vendor, None)
        return list(seen)

    def targets(self, coins: Iterable[str] | None = None, vendors: Iterable[str] | None = None) -> list[Target]:
        """Enabled (coin, dealer) pairs with at least one URL, optionally narrowed."""
        coin_filter = set(coins) if coins is not None else None
        vendor_filter = set(vendors) if vendors is not None else None
        targets = []
        for slug, by_vendor in self.listings.items():
            coin = self.coins[slug]
            if not coin.enabled or (coin_filter is not None and slug not in coin_filter):
                continue
            for vendor, listing in by_vendor.items():
                if listing.active and (vendor_filter is None or vendor in vendor_filter):
                    targets.append(Target(coin=coin, vendor=vendor, urls=listing.urls))
        return targets

    def flat(self) -> dict[str, dict[str, str]]:
        """The public flat form: canonical (first) URL of every enabled listing; empty coins kept."""
        return {
            slug: {v: listing.urls[0] for v, listing in by_vendor.items() if listing.active}
            for slug, by_vendor in self.listings.items()
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
            for vendor, listing in self.listings.get(slug, {}).items():
                provider: dict[str, Any] = {"id": vendor, "enabled": listing.enabled}
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


def _check_url(value: Any, where: str, problems: list[str]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: must be a non-empty URL string (got {value!r})")
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https"):
        problems.append(f"{where}: URL scheme must be http or https (got {parts.scheme or 'none'!r} in {value!r})")
        return None
    if not parts.netloc:
        problems.append(f"{where}: URL has no host ({value!r})")
        return None
    return value.strip()


def _where(slug: str, vendor: str | None = None, field: str | None = None) -> str:
    text = f"coin {slug!r}"
    if vendor is not None:
        text += f", dealer {vendor!r}"
    if field is not None:
        text += f", field {field!r}"
    return text


def _parse_coin_meta(slug: str, raw: Mapping[str, Any], problems: list[str]) -> Coin | None:
    known = catalogue_coin(slug)
    name = raw.get("name", known.name if known else None)
    metal = raw.get("metal", known.metal.value if known else None)
    weight = raw.get("weight_oz", known.weight_oz if known else None)
    enabled = raw.get("enabled", True)
    ok = True
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{_where(slug, field='name')}: required (a non-empty string)")
        ok = False
    if metal not in {m.value for m in Metal}:
        allowed = ", ".join(m.value for m in Metal)
        problems.append(f"{_where(slug, field='metal')}: unknown metal {metal!r} (one of {allowed})")
        ok = False
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight <= 0:
        problems.append(f"{_where(slug, field='weight_oz')}: must be a positive number (got {weight!r})")
        ok = False
    if not isinstance(enabled, bool):
        problems.append(f"{_where(slug, field='enabled')}: must be true or false (got {enabled!r})")
        ok = False
    if not ok:
        return None
    return Coin(
        slug=slug,
        name=name.strip(),
        metal=Metal(metal),
        weight_oz=float(weight),
        enabled=enabled,
        fbp_url=raw.get("fbp_url") or None,
        notes=raw.get("notes") or None,
    )


def _parse_listing(slug: str, vendor: str, raw: Mapping[str, Any], problems: list[str]) -> Listing | None:
    before = len(problems)
    if "url" in raw and "urls" in raw and raw["url"] is not None and raw["urls"] is not None:
        problems.append(f"{_where(slug, vendor, 'urls')}: give either 'url' or 'urls', not both")
    urls: list[str] = []
    if raw.get("urls") is not None:
        value = raw["urls"]
        if not isinstance(value, list) or not value:
            problems.append(f"{_where(slug, vendor, 'urls')}: must be a non-empty list of URLs")
        else:
            for i, item in enumerate(value):
                url = _check_url(item, _where(slug, vendor, f"urls[{i}]"), problems)
                if url:
                    urls.append(url)
    elif raw.get("url") is not None:
        url = _check_url(raw["url"], _where(slug, vendor, "url"), problems)
        if url:
            urls.append(url)
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"{_where(slug, vendor, 'enabled')}: must be true or false (got {enabled!r})")
    if len(urls) != len(set(urls)):
        problems.append(f"{_where(slug, vendor, 'urls')}: the same URL is listed twice")
    if len(problems) > before:
        return None
    return Listing(
        coin_slug=slug,
        vendor=vendor,
        urls=tuple(urls),
        enabled=enabled,
        vendor_name=raw.get("name") or None,
        selector=raw.get("selector") or None,
        hints=raw.get("hints") or None,
    )


def _provider_entries(slug: str, raw: Any, problems: list[str]) -> list[tuple[str, Mapping[str, Any]]]:
    """Normalise the `providers` list/mapping into (vendor id, entry) pairs."""
    entries: list[tuple[str, Mapping[str, Any]]] = []
    if isinstance(raw, Mapping):
        for vendor, entry in raw.items():
            if isinstance(entry, str) or entry is None:
                entry = {"url": entry}
            entries.append((vendor, entry))
    elif isinstance(raw, list):
        for i, entry in enumerate(raw):
            if not isinstance(entry, Mapping):
                problems.append(f"{_where(slug, field=f'providers[{i}]')}: must be an object with 'id' and 'url'")
                continue
            vendor = entry.get("id")
            if not isinstance(vendor, str):
                problems.append(f"{_where(slug, field=f'providers[{i}].id')}: required (the dealer id)")
                continue
            entries.append((vendor, entry))
    else:
        problems.append(f"{_where(slug, field='providers')}: must be a list of dealer entries")
    return entries


def known_dealer_ids(config: Any = None) -> list[str]:
    """The dealer ids the plugins describe (built-in dealers and installed dealer plugins,
    as far as STAKTRAKR_PLUGINS loads them): the only ones a providers file may name.

    With `config`, the plugins that configuration loads; without, the process-wide manager."""
    from .plugin_manager import dealer_profiles, get_plugin_manager

    pm = get_plugin_manager(config) if config is not None else get_plugin_manager()
    return sorted(dealer_profiles(pm))


def unknown_dealer_problem(slug: str, vendor: str, known: Collection[str]) -> str:
    """One line naming the coin, the dealer id and the ids that would have been accepted."""
    return f"{_where(slug, vendor)}: unknown dealer id (known: {', '.join(sorted(known)) or 'none'})"


def parse_providers(data: Any, source: str, known_dealers: Collection[str] | None = None) -> ProviderSet:
    """Validate either shape; raise ProvidersError listing every problem.

    With `known_dealers`, a dealer id outside it is a problem too: a typo (`apmexx`) or a dealer
    whose plugin is not installed would otherwise be crawled with the generic profile, or never
    answer, without anyone noticing. Callers without plugins at hand (tests, benchmarks of the
    export) leave it out.
    """
    problems: list[str] = []
    coins: dict[str, Coin] = {}
    listings: dict[str, dict[str, Listing]] = {}
    if not isinstance(data, Mapping):
        raise ProvidersError(source, ["top level must be a JSON object"])
    rich = isinstance(data.get("coins"), Mapping)
    raw_coins: Mapping[str, Any] = data["coins"] if rich else data

    for slug, raw in raw_coins.items():
        if not isinstance(slug, str) or not _SLUG.match(slug):
            problems.append(f"coin {slug!r}: slug must be lower-case words joined by '-'")
            continue
        if rich:
            if not isinstance(raw, Mapping):
                problems.append(f"{_where(slug)}: must be an object with name, metal, weight_oz, providers")
                continue
            coin = _parse_coin_meta(slug, raw, problems)
            entries = _provider_entries(slug, raw.get("providers", []), problems)
        else:
            if not isinstance(raw, Mapping):
                problems.append(f"{_where(slug)}: must be an object of dealer -> URL")
                continue
            coin = catalogue_coin(slug)
            if coin is None:
                problems.append(
                    f"{_where(slug)}: not in the bundled catalogue; use the rich form to give name, metal and weight_oz"
                )
            entries = [(v, {"url": url}) for v, url in raw.items()]
        by_vendor: dict[str, Listing] = {}
        seen: set[str] = set()
        for vendor, entry in entries:
            if not isinstance(vendor, str) or not _VENDOR.match(vendor):
                problems.append(f"{_where(slug, str(vendor), 'id')}: dealer id must be lower-case letters/digits")
                continue
            if vendor in seen:
                problems.append(f"{_where(slug, vendor, 'id')}: duplicate dealer for this coin")
                continue
            if known_dealers is not None and vendor not in known_dealers:
                problems.append(unknown_dealer_problem(slug, vendor, known_dealers))
                continue
            seen.add(vendor)
            listing = _parse_listing(slug, vendor, entry, problems)
            if listing is not None:
                by_vendor[vendor] = listing
        if coin is not None:
            coins[slug] = coin
            listings[slug] = by_vendor
    if problems:
        raise ProvidersError(source, problems)
    return ProviderSet(source=source, coins=coins, listings=listings)


def load_providers_file(path: str | Path, known_dealers: Collection[str] | None = None) -> ProviderSet:
    """A providers file, validated; dealer ids are checked against `known_dealers`, by default
    the dealers of the installed plugins (`known_dealer_ids()`)."""
    path = Path(path)
    if known_dealers is None:
        known_dealers = known_dealer_ids()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProvidersError(str(path), [f"cannot read file: {exc.strerror or exc}"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProvidersError(str(path), [f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"]) from None
    return parse_providers(data, str(path), known_dealers)


def load_bundled_providers() -> ProviderSet:
    text = resources.files("staktrakr").joinpath("data/providers.json").read_text(encoding="utf-8")
    return parse_providers(json.loads(text), BUNDLED)


def _fetch_providers(url: str, cache: Path, known_dealers: Collection[str], timeout_s: float = 20.0) -> ProviderSet:
    """Providers from an http(s) URL (e.g. providers.json on the published branch). A good copy
    is kept beside the database; when the URL fails or serves something invalid, the last good
    copy is used with a warning, so an outage of the host never stops a crawl."""
    import logging
    import urllib.request

    from .redact import redact_url

    logger = logging.getLogger(__name__)
    shown = redact_url(url).split("?", 1)[0]
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:  # noqa: S310 - http(s) checked by the caller
            text = answer.read(8 * 1024 * 1024).decode("utf-8")
        providers = parse_providers(json.loads(text), shown, known_dealers)
    except (OSError, ValueError, ProvidersError) as exc:
        reason = exc.problems[0] if isinstance(exc, ProvidersError) else str(exc)
        if cache.exists():
            logger.warning("providers from %s unusable (%s); using the last good copy of %s", shown, reason, cache)
            stored = json.loads(cache.read_text(encoding="utf-8"))
            return parse_providers(stored, f"{shown} (last good copy)")
        raise ProvidersError(shown, [f"cannot load providers and there is no earlier copy: {reason}"]) from None
    from .files import write_atomic

    write_atomic(cache, json.dumps(providers.rich(), indent=1).encode("utf-8"))
    return providers


def providers_cache_path(config: Any) -> Path:
    db_path = Path(config.STAKTRAKR_DB)
    return db_path.with_name(db_path.name + ".providers.json")


def resolve_providers(config: Any, db: Any = None) -> ProviderSet:
    """The provider set in force: STAKTRAKR_PROVIDERS (file or http(s) URL) if set, else the
    database copy, else the bundled real set."""
    source = config.STAKTRAKR_PROVIDERS
    if source:
        # A file or URL is checked against the dealers this configuration's plugins know. The
        # database copy is not (it was checked when edited; the crawl checks its own targets),
        # so an export never stops over a dealer only the other poller has a plugin for.
        known = known_dealer_ids(config)
        if source.startswith(("http://", "https://")):
            return _fetch_providers(source, providers_cache_path(config), known)
        return load_providers_file(source, known)
    if db is not None:
        from .store.provider_tables import load_providers_rich

        rich = load_providers_rich(db)
        if rich is not None:
            return parse_providers(rich, f"database {db.path}")
    return load_bundled_providers()


# -- edits (validated like a file, then stored in the database) ------------------------------------


def _coin_entry(rich: dict[str, Any], coin: str) -> dict[str, Any]:
    try:
        return rich["coins"][coin]
    except KeyError:
        raise ProvidersError("providers", [f"coin {coin!r}: not in the providers (add it with add-coin)"]) from None


def _check_edited_dealer(coin: str, vendor: str, known_dealers: Collection[str] | None) -> None:
    """`providers set-url` / `enable` put a dealer in the crawl: it must be one a plugin describes."""
    known = known_dealer_ids() if known_dealers is None else known_dealers
    if vendor not in known:
        raise ProvidersError("providers", [unknown_dealer_problem(coin, vendor, known)])


def edit_set_urls(
    rich: dict[str, Any], coin: str, vendor: str, urls: list[str], known_dealers: Collection[str] | None = None
) -> ProviderSet:
    """Point a dealer listing at one URL or an ordered fallback list (created when missing)."""
    entry = _coin_entry(rich, coin)
    _check_edited_dealer(coin, vendor, known_dealers)
    providers = entry.setdefault("providers", [])
    listing = next((p for p in providers if p["id"] == vendor), None)
    if listing is None:
        listing = {"id": vendor, "enabled": True}
        providers.append(listing)
    listing.pop("url", None)
    listing.pop("urls", None)
    if len(urls) == 1:
        listing["url"] = urls[0]
    else:
        listing["urls"] = list(urls)
    return parse_providers(rich, "edited providers")


def edit_enabled(
    rich: dict[str, Any], coin: str, vendor: str, enabled: bool, known_dealers: Collection[str] | None = None
) -> ProviderSet:
    entry = _coin_entry(rich, coin)
    listing = next((p for p in entry.get("providers", []) if p["id"] == vendor), None)
    if listing is None:
        raise ProvidersError("providers", [f"coin {coin!r}, dealer {vendor!r}: no such listing"])
    if enabled:  # disabling stays possible: it is how a listing of a removed plugin is retired
        _check_edited_dealer(coin, vendor, known_dealers)
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

"""Validating a providers document (flat or rich form); every problem is reported at once,
naming the coin, the dealer and the field."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..api.models.retail import VENDOR_META_KEY
from ..catalogue import catalogue_coin
from ..errors import ProvidersError
from ..models import Coin, Listing, Metal
from .provider_set import ProviderSet

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DEALER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


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


def _where(slug: str, dealer: str | None = None, field: str | None = None) -> str:
    text = f"coin {slug!r}"
    if dealer is not None:
        text += f", dealer {dealer!r}"
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


def _parse_listing(slug: str, dealer: str, raw: Mapping[str, Any], problems: list[str]) -> Listing | None:
    before = len(problems)
    if "url" in raw and "urls" in raw and raw["url"] is not None and raw["urls"] is not None:
        problems.append(f"{_where(slug, dealer, 'urls')}: give either 'url' or 'urls', not both")
    urls: list[str] = []
    if raw.get("urls") is not None:
        value = raw["urls"]
        if not isinstance(value, list) or not value:
            problems.append(f"{_where(slug, dealer, 'urls')}: must be a non-empty list of URLs")
        else:
            for i, item in enumerate(value):
                url = _check_url(item, _where(slug, dealer, f"urls[{i}]"), problems)
                if url:
                    urls.append(url)
    elif raw.get("url") is not None:
        url = _check_url(raw["url"], _where(slug, dealer, "url"), problems)
        if url:
            urls.append(url)
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"{_where(slug, dealer, 'enabled')}: must be true or false (got {enabled!r})")
    if len(urls) != len(set(urls)):
        problems.append(f"{_where(slug, dealer, 'urls')}: the same URL is listed twice")
    if len(problems) > before:
        return None
    return Listing(
        coin_slug=slug,
        vendor=dealer,
        urls=tuple(urls),
        enabled=enabled,
        vendor_name=raw.get("name") or None,
        selector=raw.get("selector") or None,
        hints=raw.get("hints") or None,
    )


def _provider_entries(slug: str, raw: Any, problems: list[str]) -> list[tuple[str, Mapping[str, Any]]]:
    """Normalise the `providers` list/mapping into (dealer id, entry) pairs."""
    entries: list[tuple[str, Mapping[str, Any]]] = []
    if isinstance(raw, Mapping):
        for dealer, entry in raw.items():
            if isinstance(entry, str) or entry is None:
                entry = {"url": entry}
            entries.append((dealer, entry))
    elif isinstance(raw, list):
        for i, entry in enumerate(raw):
            if not isinstance(entry, Mapping):
                problems.append(f"{_where(slug, field=f'providers[{i}]')}: must be an object with 'id' and 'url'")
                continue
            dealer = entry.get("id")
            if not isinstance(dealer, str):
                problems.append(f"{_where(slug, field=f'providers[{i}].id')}: required (the dealer id)")
                continue
            entries.append((dealer, entry))
    else:
        problems.append(f"{_where(slug, field='providers')}: must be a list of dealer entries")
    return entries


def unknown_dealer_problem(slug: str, dealer: str, known: Collection[str]) -> str:
    """One line naming the coin, the dealer id and the ids that would have been accepted."""
    return f"{_where(slug, dealer)}: unknown dealer id (known: {', '.join(sorted(known)) or 'none'})"


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
        if not rich and slug == VENDOR_META_KEY:
            continue  # the published file's dealer names and colours, not a coin
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
        by_dealer: dict[str, Listing] = {}
        seen: set[str] = set()
        for dealer, entry in entries:
            if not isinstance(dealer, str) or not _DEALER_ID.match(dealer):
                problems.append(f"{_where(slug, str(dealer), 'id')}: dealer id must be lower-case letters/digits")
                continue
            if dealer in seen:
                problems.append(f"{_where(slug, dealer, 'id')}: duplicate dealer for this coin")
                continue
            if known_dealers is not None and dealer not in known_dealers:
                problems.append(unknown_dealer_problem(slug, dealer, known_dealers))
                continue
            seen.add(dealer)
            listing = _parse_listing(slug, dealer, entry, problems)
            if listing is not None:
                by_dealer[dealer] = listing
        if coin is not None:
            coins[slug] = coin
            listings[slug] = by_dealer
    if problems:
        raise ProvidersError(source, problems)
    return ProviderSet(source=source, coins=coins, listings=listings)

"""What a retail run crawls: the spider's arguments checked against the providers, and the
order of the requests (every dealer starts at once)."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from typing import Any

from staktrakr.errors import ConfigError, ProvidersError
from staktrakr.models import Target
from staktrakr.providers import unknown_dealer_problem


def names(value: str | None) -> list[str] | None:
    """`-a coins=ase, age` -> ["ase", "age"]; absent or empty -> None (no narrowing)."""
    found = [part.strip() for part in value.split(",") if part.strip()] if value else []
    return found or None


def select_targets(
    context: Any, *, coins: list[str] | None, dealers: list[str] | None, dealer: str | None, spider_name: str
) -> list[Target]:
    """The enabled targets these arguments select (`dealer`: the one dealer of a `retail-<dealer>`
    spider). A name the providers do not know raises ConfigError; a dealer no plugin describes
    raises ProvidersError."""
    providers = context.providers  # resolved once per crawl, shared with validation
    if coins:
        unknown = [c for c in coins if c not in providers.coins]
        if unknown:
            raise ConfigError(
                f"-a coins: unknown coin(s) {', '.join(unknown)} (known in {providers.source}: {', '.join(sorted(providers.coins))})"
            )
    if dealers:
        known = sorted(set(providers.dealers()))
        unknown = [d for d in dealers if d not in known]
        if unknown:
            raise ConfigError(f"-a dealers: unknown dealer(s) {', '.join(unknown)} (known in {providers.source}: {', '.join(known)})")
        if dealer and dealer not in dealers:
            raise ConfigError(f"-a dealers: {spider_name} only crawls {dealer}; use 'scrapy crawl retail -a dealers=...'")
    targets = providers.targets(coins=coins, dealers=[dealer] if dealer else dealers)
    # Whatever the source (file, database copy, bundled set), never crawl a dealer no plugin
    # describes: its pages would be read with the generic profile and nobody would notice.
    strangers = [t for t in targets if t.vendor not in context.profiles]
    if strangers:
        problems = [unknown_dealer_problem(t.coin.slug, t.vendor, context.profiles) for t in strangers]
        raise ProvidersError(providers.source, problems)
    return targets


def interleave(targets: list[Target]) -> list[Target]:
    """Round-robin over dealers so that every dealer starts at once."""
    by_vendor: dict[str, list[Target]] = defaultdict(list)
    for target in targets:
        by_vendor[target.vendor].append(target)
    for group in by_vendor.values():
        random.shuffle(group)
    ordered = []
    for batch in itertools.zip_longest(*by_vendor.values()):
        ordered.extend(t for t in batch if t is not None)
    return ordered

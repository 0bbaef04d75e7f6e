"""Bundled coin catalogue: metadata for slugs the flat providers form does not describe."""

from __future__ import annotations

import re

from .models import Coin, Metal

_BULLION: dict[str, tuple[str, Metal, float]] = {
    "ase": ("American Silver Eagle 1 oz", Metal.silver, 1),
    "age": ("American Gold Eagle 1 oz", Metal.gold, 1),
    "ape": ("American Platinum Eagle 1 oz", Metal.platinum, 1),
    "buffalo": ("American Gold Buffalo 1 oz", Metal.gold, 1),
    "maple-gold": ("Canadian Gold Maple Leaf 1 oz", Metal.gold, 1),
    "maple-silver": ("Canadian Silver Maple Leaf 1 oz", Metal.silver, 1),
    "krugerrand-gold": ("South African Gold Krugerrand 1 oz", Metal.gold, 1),
    "krugerrand-silver": ("South African Silver Krugerrand 1 oz", Metal.silver, 1),
    "britannia-silver": ("British Silver Britannia 1 oz", Metal.silver, 1),
    "kangaroo-silver": ("Australian Silver Kangaroo 1 oz", Metal.silver, 1),
    "koala-silver": ("Australian Silver Koala 1 oz", Metal.silver, 1),
    "kookaburra-silver": ("Australian Silver Kookaburra 1 oz", Metal.silver, 1),
    "generic-silver-round": ("Generic Silver Round 1 oz (.999)", Metal.silver, 1),
    "generic-silver-bar-10oz": ("Generic Silver Bar 10 oz (.999)", Metal.silver, 10),
}

GOLDBACK_STATES: dict[str, str] = {
    "arizona": "Arizona",
    "dc": "Washington DC",
    "florida": "Florida",
    "nevada": "Nevada",
    "new-hampshire": "New Hampshire",
    "oklahoma": "Oklahoma",
    "south-dakota": "South Dakota",
    "utah": "Utah",
    "wyoming": "Wyoming",
}

# Denomination -> (G units, label, gold content as a fraction of a troy ounce).
GOLDBACK_DENOMINATIONS: dict[str, tuple[float, str, str]] = {
    "ghalf": (0.5, "G½", "1/2000"),
    "g1": (1, "G1", "1/1000"),
    "g2": (2, "G2", "1/500"),
    "g5": (5, "G5", "1/200"),
    "g10": (10, "G10", "1/100"),
    "g25": (25, "G25", "1/40"),
    "g50": (50, "G50", "1/20"),
}

_GOLDBACK_SLUG = re.compile(r"^goldback-(?:(?P<state>[a-z-]+)-)?(?P<denom>ghalf|g1|g2|g5|g10|g25|g50)$")


def goldback_denomination(slug: str) -> str | None:
    """`goldback-utah-g2` -> `g2`; None for anything that is not a Goldback slug."""
    match = _GOLDBACK_SLUG.match(slug)
    if not match or (match["state"] and match["state"] not in GOLDBACK_STATES):
        return None
    return match["denom"]


def catalogue_coin(slug: str) -> Coin | None:
    """Metadata for a known slug, or None if the catalogue does not know it."""
    if slug in _BULLION:
        name, metal, weight = _BULLION[slug]
        return Coin(slug=slug, name=name, metal=metal, weight_oz=weight)
    match = _GOLDBACK_SLUG.match(slug)
    if not match:
        return None
    state, denom = match["state"], match["denom"]
    units, label, fraction = GOLDBACK_DENOMINATIONS[denom]
    if state is None:  # legacy goldback-g1 … slugs priced from the official rate page
        name = f"{label} Goldback ({fraction} oz gold)"
    elif state in GOLDBACK_STATES:
        name = f"{label} {GOLDBACK_STATES[state]} Goldback ({fraction} oz gold)"
    else:
        return None
    return Coin(slug=slug, name=name, metal=Metal.goldback, weight_oz=units)


def all_catalogue_slugs() -> list[str]:
    slugs = list(_BULLION)
    for state in GOLDBACK_STATES:
        slugs += [f"goldback-{state}-{denom}" for denom in GOLDBACK_DENOMINATIONS]
    return slugs

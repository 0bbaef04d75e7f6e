"""Is the page about the target product? Weight, Goldback denomination, metal and multi-packs.

A dealer URL for a 1 oz coin sometimes redirects to the 1/2 oz product, and a G1 Goldback URL
to the G2 note; their prices then pass loose bounds (LIVE-SYSTEM §9). We read the product
title only: carousels and descriptions mention other weights all the time.
"""

from __future__ import annotations

import re
from fractions import Fraction

from ..models import Coin, Metal

_GRAMS_PER_TROY_OZ = 31.1034768
# A mixed number ("1 1/2 oz") has a whole part of one or two digits: "2026 1/4 oz" is a year
# and a quarter ounce, not 2026.25 oz.
_NUMBER = r"(?<![A-Za-z\d.])(\d+(?:\.\d+)?\s*/\s*\d+|\d{1,2}\s+\d+/\d+|\d+(?:\.\d+)?|½|¼|⅒|one|two|five|ten|half|quarter|tenth|twentieth)"
_WEIGHT = re.compile(
    _NUMBER + r"\s*-?\s*(?:troy\s*)?(oz\.?|ozt|ounces?|ounce|grams?|g\b|gr\b|kilos?|kg|kilograms?)(?![a-z])",
    re.IGNORECASE,
)
_WORDS = {"one": 1, "two": 2, "five": 5, "ten": 10, "½": 0.5, "half": 0.5, "¼": 0.25, "quarter": 0.25,
          "⅒": 0.1, "tenth": 0.1, "twentieth": 0.05}  # fmt: skip
_GOLDBACK_DENOM = re.compile(r"\b(?:G\s?(½|1/2|\d{1,2})|(\d{1,2}|half|one|five|ten)\s+goldbacks?\b)(?![\d/])", re.IGNORECASE)
_MULTI = re.compile(
    r"\b(roll of|tube of|box of|lot of|set of|pack of|monster box|mint tube|sheet of|\d+\s*-?\s*coin (roll|tube|set|lot|pack)|"
    r"\(\s*\d+\s*(coins|pcs|pieces)\s*\)|\d+\s*x\s*1\s*oz)",
    re.IGNORECASE,
)
_METALS = {
    Metal.gold: re.compile(r"\bgold\b", re.IGNORECASE),
    Metal.silver: re.compile(r"\bsilver\b", re.IGNORECASE),
    Metal.platinum: re.compile(r"\bplatinum\b", re.IGNORECASE),
    Metal.palladium: re.compile(r"\bpalladium\b", re.IGNORECASE),
}
_GOLDBACK = re.compile(r"gold\s*backs?", re.IGNORECASE)


def _number(text: str) -> float | None:
    text = text.strip().lower()
    if text in _WORDS:
        return float(_WORDS[text])
    try:
        if " " in text and "/" in text:  # "1 1/2"
            whole, frac = text.split(None, 1)
            return float(int(whole) + Fraction(frac.replace(" ", "")))
        if "/" in text:
            return float(Fraction(text.replace(" ", "")))
        return float(text)
    except (ValueError, ZeroDivisionError):
        return None


def title_weights_oz(title: str) -> list[float]:
    """Troy-ounce weights named in a title ("1/2 oz" -> 0.5, "1 Kilo" -> 32.15)."""
    weights = []
    for match in _WEIGHT.finditer(title):
        value = _number(match.group(1))
        if value is None or value <= 0:
            continue
        unit = match.group(2).lower()
        if unit.startswith(("g", "gr")) and not unit.startswith("goldback"):
            value /= _GRAMS_PER_TROY_OZ
        elif unit.startswith("k"):
            value *= 1000 / _GRAMS_PER_TROY_OZ
        weights.append(value)
    return weights


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= max(0.02 * b, 1e-6)


def goldback_units(title: str) -> list[float]:
    """Goldback denominations named in a title ("G2" -> 2, "G½" -> 0.5, "5 Goldback" -> 5)."""
    units = []
    for match in _GOLDBACK_DENOM.finditer(title):
        value = _number(match.group(1) or match.group(2))
        if value is not None:
            units.append(value)
    return units


def wrong_product_reason(title: str, coin: Coin) -> str | None:
    """A reason when the title shows another product than `coin`, else None."""
    if not title:
        return None
    if _MULTI.search(title):
        return f"title names a multi-unit lot: {title[:80]!r}"
    if coin.metal is Metal.goldback:
        units = goldback_units(title)
        if units and not any(_same(u, coin.weight_oz) for u in units):
            return f"title shows Goldback G{units[0]:g}, target is G{coin.weight_oz:g}: {title[:80]!r}"
        fractions = [w for w in title_weights_oz(title) if w < 0.1]
        if not units and fractions and not any(_same(w, coin.fine_oz) for w in fractions):
            return f"title shows {fractions[0]:.4g} oz of gold, target holds {coin.fine_oz:g} oz: {title[:80]!r}"
        return None
    weights = title_weights_oz(title)
    if weights and not any(_same(w, coin.weight_oz) for w in weights):
        return f"title shows {weights[0]:g} oz, target is {coin.weight_oz:g} oz: {title[:80]!r}"
    named = {metal for metal, pattern in _METALS.items() if pattern.search(_GOLDBACK.sub(" ", title))}
    if named and coin.metal not in named:
        shown = ", ".join(sorted(m.value for m in named))
        return f"title names {shown}, target is {coin.metal.value}: {title[:80]!r}"
    return None

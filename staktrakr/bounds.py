"""Static plausibility bounds: the floor of defence when no recent spot price is known.

Per troy ounce of the coin's weight (Goldbacks: per G unit). Deliberately wide: they reject
garbage (a "$5 off" badge, a shipping threshold) and cross-metal confusion at today's prices,
while spot-relative validation and the product-title check catch subtler wrong products.
"""

from __future__ import annotations

from .models import Coin, Metal

STATIC_PER_OZ: dict[Metal, tuple[float, float]] = {
    Metal.silver: (15.0, 400.0),
    Metal.gold: (1000.0, 25000.0),
    Metal.platinum: (400.0, 10000.0),
    Metal.palladium: (300.0, 10000.0),
    Metal.goldback: (3.0, 60.0),
}


def static_bounds(coin: Coin, overrides: dict[str, tuple[float, float]] | None = None) -> tuple[float, float]:
    low, high = (overrides or {}).get(coin.metal.value, STATIC_PER_OZ[coin.metal])
    return low * coin.weight_oz, high * coin.weight_oz

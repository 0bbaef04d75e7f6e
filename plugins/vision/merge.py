"""The decision: what one row says once the page text and the screenshot have both been read.

Rules (DESIGN.md §10; the live system's flaws are B-19 in LIVE-SYSTEM.md):

* Agreement is ours: |text − vision| / max ≤ VISION_AGREE_TOLERANCE (3 %). The model is never
  asked whether it agrees, and is not told the text's price.
* A vision price outside the plausible bounds of the validation pipeline is ignored (recorded,
  never used): a fooled or misreading model cannot bring a $1.00 price in.
* Both prices, agreeing → the text's price, confidence 99, source "firecrawl+vision".
* Both prices, disagreeing → the one nearer the median of the other dealers' latest prices
  (ties and "no other dealer" keep the text's table price, which has its own checks behind it);
  confidence ≤ 70, scaled down by the gap; both values recorded; source "firecrawl" or "vision".
* Vision only (the text had no price) → the vision price, status `ok` (or `out_of_stock` when
  the screenshot says so: it is the only evidence there is), method and source "vision",
  confidence ≤ 70 scaled by the distance to the other dealers' median.
* The screenshot shows another weight or Goldback denomination than the target → wrong_product,
  no price (the same title checks as staktrakr/extract/product.py).
* Stock: the page text decides. The screenshot saying "out of stock" while the text says in stock
  is recorded (vision_in_stock false) and caps the confidence at 50; the status is not flipped on
  the screenshot alone, unlike the live system's `vision_oos` rule, because a pop-up or a
  sold-out related product in the viewport reads as "out of stock" just as easily.
* The model answered nothing usable (no price, out of bounds) → the text's decision stands and
  the export's scrape-only confidence applies (confidence left empty).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from staktrakr.extract.product import goldback_units, title_weights_oz
from staktrakr.models import Coin, Metal, Status
from .schema import VisionReading

SOURCE_TEXT = "firecrawl"  # the live contract's name for "read from the page text"
SOURCE_BOTH = "firecrawl+vision"
SOURCE_VISION = "vision"
METHOD_VISION = "vision"
AGREED_CONFIDENCE = 99


@dataclass(frozen=True)
class MergeParams:
    agree_tolerance: float = 0.03
    disagree_confidence: int = 70  # cap when the two readings differ
    vision_only_confidence: int = 70  # cap when only the screenshot has a price
    stock_conflict_confidence: int = 50  # cap when the screenshot says out of stock
    max_gap: float = 0.5  # a gap this large (50 %) or more leaves confidence 0

    @classmethod
    def from_settings(cls, settings: Any) -> MergeParams:
        return cls(
            agree_tolerance=settings.getfloat("VISION_AGREE_TOLERANCE"),
            disagree_confidence=settings.getint("VISION_DISAGREE_CONFIDENCE"),
            vision_only_confidence=settings.getint("VISION_ONLY_CONFIDENCE"),
            stock_conflict_confidence=settings.getint("VISION_STOCK_CONFLICT_CONFIDENCE"),
        )

    def scaled(self, cap: int, gap: float) -> int:
        return round(cap * (1 - min(gap, self.max_gap) / self.max_gap))


class Scraped(BaseModel):
    """What the page text gave (after validation)."""

    price: float | None
    in_stock: bool | None
    status: Status
    method: str | None = None


class Decision(BaseModel):
    """The row's fields after the cross-check, and one line saying what vision did."""

    price: float | None
    in_stock: bool | None
    status: Status
    method: str | None
    source: str | None
    confidence: int | None
    scraped_price: float | None
    vision_price: float | None
    vision_in_stock: bool | None
    vision_weight: str | None
    vision_agrees: bool | None
    note: str


def gap(a: float, b: float) -> float:
    """|a − b| / max(a, b): the relative difference the agreement test uses."""
    return abs(a - b) / max(a, b)


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= max(0.02 * b, 1e-6)  # the title check's tolerance (extract/product.py)


def weight_mismatch(weight: str | None, coin: Coin) -> str | None:
    """A reason when the weight text the screenshot shows is another weight/denomination than `coin`."""
    if not weight:
        return None
    if coin.metal is Metal.goldback:
        units = goldback_units(weight)
        if units:
            if not any(_same(u, coin.weight_oz) for u in units):
                return f"screenshot shows Goldback G{units[0]:g} ({weight!r}), target is G{coin.weight_oz:g}"
            return None
        ounces = title_weights_oz(weight)
        if ounces and not any(_same(w, coin.fine_oz) for w in ounces):
            return f"screenshot shows {ounces[0]:.4g} oz ({weight!r}), target holds {coin.fine_oz:g} oz of gold"
        return None
    ounces = title_weights_oz(weight)
    if ounces and not any(_same(w, coin.weight_oz) for w in ounces):
        return f"screenshot shows {ounces[0]:.4g} oz ({weight!r}), target is {coin.weight_oz:g} oz"
    return None


def _money(value: float) -> str:
    return f"{value:,.2f}"


def decide(
    scraped: Scraped,
    reading: VisionReading,
    coin: Coin,
    bounds: tuple[float, float],
    others: Sequence[float],
    params: MergeParams = MergeParams(),
) -> Decision:
    """Combine the page text's outcome with the screenshot's reading (see the module rules).

    `bounds` are the validation pipeline's plausible (low, high) for one unit of `coin`;
    `others` the other dealers' latest prices of this coin (for the median)."""
    low, high = bounds
    fields: dict[str, Any] = {
        "price": scraped.price,
        "in_stock": scraped.in_stock,
        "status": scraped.status,
        "method": scraped.method,
        "source": None,
        "confidence": None,
        "scraped_price": scraped.price,
        "vision_price": reading.price,
        "vision_in_stock": reading.in_stock,
        "vision_weight": reading.weight,
        "vision_agrees": None,
    }
    where = f" at {reading.label!r}" if reading.label else ""
    median = statistics.median(others) if others else None
    if reading.price is not None and scraped.price is not None:
        fields["vision_agrees"] = gap(scraped.price, reading.price) <= params.agree_tolerance

    mismatch = weight_mismatch(reading.weight, coin)
    if mismatch:
        fields.update(price=None, in_stock=None, status=Status.wrong_product, method=METHOD_VISION, confidence=None)
        return Decision(**fields, note=mismatch)

    usable = reading.price is not None and low <= reading.price <= high
    notes: list[str] = []
    if reading.price is None:
        notes.append("no price visible in the screenshot")
    elif not usable:
        notes.append(f"screenshot reads {_money(reading.price)}{where}, outside {low:.2f}-{high:.2f}: ignored")

    if scraped.price is not None and usable:
        vision = float(reading.price)  # type: ignore[arg-type]
        difference = gap(scraped.price, vision)
        if fields["vision_agrees"]:
            fields.update(source=SOURCE_BOTH, confidence=AGREED_CONFIDENCE)
            notes.append(f"screenshot agrees: {_money(vision)}{where}")
        else:
            keep_text = median is None or abs(scraped.price - median) <= abs(vision - median)
            confidence = params.scaled(params.disagree_confidence, difference)
            if median is None:
                why = "no other dealer to compare"
            else:
                why = f"median of {len(others)} other dealer(s) {_money(median)}"
            if keep_text:
                fields.update(source=SOURCE_TEXT, confidence=confidence)
                notes.append(f"screenshot reads {_money(vision)}{where}, {difference:.1%} off: kept the page price ({why})")
            else:
                fields.update(price=vision, method=METHOD_VISION, source=SOURCE_VISION, confidence=confidence)
                notes.append(
                    f"page text {_money(scraped.price)}, screenshot {_money(vision)}{where}, {difference:.1%} apart: "
                    f"took the screenshot's ({why})"
                )
    elif scraped.price is not None:
        fields["source"] = SOURCE_TEXT
    elif scraped.status is Status.no_price and usable:
        vision = float(reading.price)  # type: ignore[arg-type]
        in_stock = reading.in_stock is not False
        cap = params.vision_only_confidence
        confidence = params.scaled(cap, gap(vision, median)) if median else cap
        if reading.in_stock is None:
            confidence = min(confidence, params.stock_conflict_confidence)
        fields.update(
            price=vision, in_stock=in_stock, status=Status.ok if in_stock else Status.out_of_stock,
            method=METHOD_VISION, source=SOURCE_VISION, confidence=confidence,
        )  # fmt: skip
        context = f", median of {len(others)} other dealer(s) {_money(median)}" if median else ""
        notes.append(f"no price in the page text; screenshot reads {_money(vision)}{where}{context}")

    if scraped.status is Status.ok and reading.in_stock is False:
        capped = params.stock_conflict_confidence
        fields["confidence"] = min(fields["confidence"], capped) if fields["confidence"] is not None else capped
        notes.append("screenshot shows out of stock, page text in stock: status kept, confidence lowered")
    elif scraped.status is Status.out_of_stock and reading.in_stock is True:
        notes.append("screenshot shows in stock, page text out of stock: status kept")
    return Decision(**fields, note="; ".join(notes) or "nothing to add")

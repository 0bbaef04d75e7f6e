"""Stock status from the buy box, not from the whole page.

A stock word counts only in a short block of the product area (a badge, a button, a label):
long prose ("this coin sold out quickly in 2021 …", a FAQ about backorders) and other products'
carousels say nothing about this product.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..models import DealerProfile
from .page import Page
from .structured import StructuredData

_SHORT_BLOCK = 80
_OUT = re.compile(
    r"\b(out[\s-]of[\s-]stock|sold[\s-]out|currently unavailable|temporarily unavailable|unavailable|"
    r"notify me when|^notify me$|email (me )?when (it'?s )?(in stock|available|back)|back[\s-]?order(ed)?|"
    r"no longer available|not available|discontinued|coming soon|waitlist|join (the )?wait ?list)",
    re.IGNORECASE,
)
_PREORDER = re.compile(r"\bpre[\s-]?order(s|ed)?\b|\bpre[\s-]?sale\b", re.IGNORECASE)
_IN = re.compile(r"\b(in[\s-]stock|add to (cart|bag)|buy now|available now|ready to ship|ships (today|in|within))\b", re.IGNORECASE)
_BUY_BUTTON = re.compile(r"add to (cart|bag)|buy now|purchase|pre[\s-]?order|checkout", re.IGNORECASE)
_NEGATED = re.compile(r"\b(not|never|no)\s+(out[\s-]of[\s-]stock|sold[\s-]out)", re.IGNORECASE)


@dataclass(frozen=True)
class StockDecision:
    in_stock: bool
    reason: str
    preorder: bool = False


def _disabled_buy_button(page: Page) -> str | None:
    root = page.product_root
    if root is None:
        return None
    for el in root.iter("button", "input", "a"):
        label = (el.text_content() if el.tag != "input" else el.get("value") or "").strip()
        if not _BUY_BUTTON.search(label):
            continue
        classes = (el.get("class") or "").lower()
        if el.get("disabled") is not None or el.get("aria-disabled") == "true" or re.search(r"\bdisabled\b", classes):
            return f"disabled {label[:30]!r} button"
    return None


def detect_stock(page: Page, profile: DealerProfile, structured: StructuredData) -> StockDecision:
    out_hits, pre_hits, in_hits = [], [], []
    for line in page.lines:
        text = line.text
        if len(text) > _SHORT_BLOCK or _NEGATED.search(text):
            continue
        if _OUT.search(text):
            out_hits.append(text)
        elif _PREORDER.search(text):
            pre_hits.append(text)
        elif _IN.search(text):
            in_hits.append(text)
    disabled = _disabled_buy_button(page)

    if out_hits:
        return StockDecision(False, f"page says {out_hits[0][:50]!r}")
    if pre_hits:
        if profile.preorder_purchasable:
            return StockDecision(True, f"pre-order is purchasable at {profile.name} ({pre_hits[0][:40]!r})", True)
        return StockDecision(False, f"pre-order only ({pre_hits[0][:40]!r})", True)
    if disabled:
        return StockDecision(False, disabled)
    availability = structured.availability
    if availability in ("outofstock", "soldout", "discontinued", "backorder") and not in_hits:
        return StockDecision(False, f"structured data availability {availability}")
    if availability == "preorder" and not in_hits:
        if profile.preorder_purchasable:
            return StockDecision(True, "structured data: pre-order (purchasable)", True)
        return StockDecision(False, "structured data availability preorder", True)
    if in_hits:
        return StockDecision(True, f"page says {in_hits[0][:40]!r}")
    if availability:
        return StockDecision(True, f"structured data availability {availability}")
    return StockDecision(True, "no out-of-stock signal")

"""Stock status from the buy box, not from the whole page.

A stock word counts only in a short block of the product area (a badge, a button, a label):
long prose ("this coin sold out quickly in 2021 …", a FAQ about backorders) and other products'
carousels say nothing about this product.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..models import DealerProfile
from .limits import check_time
from .money import clean_text, short_clean_text
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
_DISABLED_CLASS = re.compile(r"\bdisabled\b")
_NEGATED = re.compile(r"\b(not|never|no)\s+(out[\s-]of[\s-]stock|sold[\s-]out)", re.IGNORECASE)


@dataclass(frozen=True)
class StockDecision:
    in_stock: bool
    reason: str
    preorder: bool = False
    # Out of stock only because the buy button is disabled: a script may still enable it.
    buy_button_disabled: bool = False


def _disabled_buy_button(page: Page) -> str | None:
    root = page.product_root
    if root is None:
        return None
    for n, el in enumerate(root.iter("button", "input", "a")):
        if n % 256 == 0:
            check_time("stock")
        label = (el.text_content() if el.tag != "input" else el.get("value") or "").strip()
        if not _BUY_BUTTON.search(label):
            continue
        classes = (el.get("class") or "").lower()
        if el.get("disabled") is not None or el.get("aria-disabled") == "true" or _DISABLED_CLASS.search(classes):
            return f"disabled {label[:30]!r} button"
    return None


_QUESTION = re.compile(r"\?\s*$|^(what|how|why|when|can|do|does|is|are|will|should)\b", re.IGNORECASE)
_STATE_CLASS = re.compile(r"sold[-_]?out|out[-_]?of[-_]?stock|unavailable|pre[-_]?order|backorder", re.IGNORECASE)


def _state_template(el: Any) -> bool:
    """A badge whose class names its own state ("price__badge-sold-out") is a theme template that
    CSS shows only when an ancestor carries the state ("price--sold-out"); unconfirmed, it is noise."""
    if not _STATE_CLASS.search(el.get("class") or ""):
        return False
    ancestor = el.getparent()
    for _ in range(6):
        if ancestor is None:
            break
        if _STATE_CLASS.search(ancestor.get("class") or ""):
            return False
        ancestor = ancestor.getparent()
    return True


def _stock_blocks(page: Page) -> list[tuple[str, Any]]:
    """Short text blocks (badges, buttons, labels) of the product area, deepest first."""
    root = page.product_root
    if root is None:
        return []
    blocks = []
    # Holding every element keeps lxml from building new Python objects for them on each visit.
    elements = list(root.iter())
    texts: dict[Any, str | None] = {}

    def text_of(el: Any) -> str | None:
        if el not in texts:
            texts[el] = short_clean_text(el.text_content(), _SHORT_BLOCK)
        return texts[el]

    for n, el in enumerate(elements):
        if n % 256 == 0:
            check_time("stock")
        if not isinstance(el.tag, str) or el.tag in ("option", "select"):
            continue
        text = text_of(el)
        if not text or _QUESTION.search(text):
            continue
        if any(isinstance(c.tag, str) and text_of(c) == text for c in el):
            continue  # a wrapper of a child with the same text: the child is checked
        blocks.append((text, el))
    return blocks


def _deeper_hit(el: Any, pattern: re.Pattern[str]) -> bool:
    """The phrase sits in a descendant element, which is judged on its own."""
    return any(
        isinstance(child.tag, str) and pattern.search(clean_text(child.text_content()))
        for child in el.iterdescendants()
    )


def detect_stock(page: Page, profile: DealerProfile, structured: StructuredData) -> StockDecision:
    out_hits, pre_hits, in_hits = [], [], []
    for text, el in _stock_blocks(page):
        if _NEGATED.search(text):
            continue
        if _OUT.search(text):
            if not _state_template(el) and not _deeper_hit(el, _OUT):
                out_hits.append(text)
        elif _PREORDER.search(text):
            if not _state_template(el) and not _deeper_hit(el, _PREORDER):
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
        return StockDecision(False, disabled, buy_button_disabled=True)
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

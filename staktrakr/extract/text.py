"""Labelled-text fallbacks when there is no tier table: "Check/Wire: $93.33", Shopify price
blocks, "Price: $X", the first plausible amount after the title, and "As low as" last."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .limits import check_time
from .money import Amount, find_amounts
from .lines import Line
from .payment import CHEAP

_SHOPIFY = re.compile(r"\b(sale|regular)\s+price\b", re.IGNORECASE)
_PRICE_LABEL = re.compile(r"^(our|your|unit|today'?s|current|retail|item)?\s*price\s*(per (coin|unit|item|bar|note))?\s*:?", re.IGNORECASE)
_AS_LOW_AS = re.compile(r"as\s+low\s+as|starting\s+at|from\s*\$", re.IGNORECASE)


@dataclass(frozen=True)
class TextPrice:
    price: float
    method: str
    detail: str
    line_index: int


def _in(bounds: tuple[float, float], value: float) -> bool:
    return bounds[0] <= value <= bounds[1]


def _amount_after_label(lines: list[Line], i: int, label_end: int) -> Amount | None:
    """The amount on the label's line after the label, or alone on the next line."""
    rest = find_amounts(lines[i].text[label_end:])
    if rest:
        return rest[0]
    if i + 1 < len(lines):
        nxt = lines[i + 1].amounts
        if len(nxt) == 1 and len(lines[i + 1].text) <= 24:
            return nxt[0]
    return None


def labelled_payment_price(lines: list[Line], bounds: tuple[float, float], start: int) -> TextPrice | None:
    """`Check/Wire Price: $93.33` or a label line followed by its amount."""
    for i in range(start, len(lines)):
        if i % 256 == 0:
            check_time("labelled prices")
        text = lines[i].text
        if len(text) > 70:
            continue
        labels = lines[i].labels
        if len(labels) != 1 or labels[0].rank != CHEAP:
            continue
        position = text.lower().find(labels[0].text.lower()) + len(labels[0].text)
        amount = _amount_after_label(lines, i, position)
        if amount and _in(bounds, amount.value):
            return TextPrice(amount.value, "labelled_payment", f"price labelled {labels[0].text!r}", i)
    return None


def shopify_price(lines: list[Line], bounds: tuple[float, float], start: int) -> TextPrice | None:
    """Shopify themes print "Regular price $X" and, on sale, "Sale price $Y": the sale price is paid.
    Labels may stand together ("Regular price Sale price $86.49"): each takes the amount between
    it and the next label."""
    found: dict[str, tuple[float, int]] = {}
    for i in range(start, len(lines)):
        if i % 256 == 0:
            check_time("labelled prices")
        text = lines[i].text
        if len(text) > 90:
            continue
        labels = list(_SHOPIFY.finditer(text))
        for n, match in enumerate(labels):
            end = labels[n + 1].start() if n + 1 < len(labels) else len(text)
            amounts = find_amounts(text[match.end() : end])
            if not amounts and n + 1 == len(labels):
                amount = _amount_after_label(lines, i, match.end())
                amounts = [amount] if amount else []
            if amounts and _in(bounds, amounts[0].value):
                found.setdefault(match.group(1).lower(), (amounts[0].value, i))
    if "sale" in found:
        return TextPrice(found["sale"][0], "shopify_price", "Shopify 'Sale price'", found["sale"][1])
    if "regular" in found:
        return TextPrice(found["regular"][0], "shopify_price", "Shopify 'Regular price'", found["regular"][1])
    return None


def labelled_price(lines: list[Line], bounds: tuple[float, float], start: int) -> TextPrice | None:
    for i in range(start, len(lines)):
        if i % 256 == 0:
            check_time("labelled prices")
        text = lines[i].text
        if len(text) > 60:
            continue
        match = _PRICE_LABEL.match(text)
        if not match or not match.group(0).strip():
            continue
        if lines[i].labels and lines[i].labels[0].rank != CHEAP:
            continue  # "Card price: …"
        amount = _amount_after_label(lines, i, match.end())
        if amount and amount.looks_like_price and _in(bounds, amount.value):
            return TextPrice(amount.value, "labelled_price", f"price labelled {match.group(0).strip()!r}", i)
    return None


def first_plausible_price(lines: list[Line], bounds: tuple[float, float], start: int) -> TextPrice | None:
    """First in-bounds amount after the title whose neighbouring words do not disqualify it."""
    for i in range(start, len(lines)):
        if i % 256 == 0:
            check_time("labelled prices")
        text = lines[i].text
        if _AS_LOW_AS.search(text) or len(text) > 160:
            continue
        labels = lines[i].labels
        if labels and all(label.rank > CHEAP for label in labels):
            continue  # a card/crypto-only price
        for amount in lines[i].amounts:
            if amount.looks_like_price and _in(bounds, amount.value):
                return TextPrice(amount.value, "first_price", f"first plausible amount: {text[:50]!r}", i)
    return None


def as_low_as_price(lines: list[Line], bounds: tuple[float, float], start: int) -> TextPrice | None:
    """The bulk "As low as" price: only when nothing else is on the page."""
    values = []
    for i in range(start, len(lines)):
        if i % 256 == 0:
            check_time("labelled prices")
        match = _AS_LOW_AS.search(lines[i].text)
        if not match:
            continue
        for amount in find_amounts(lines[i].text[match.end() - 1 :]):
            if _in(bounds, amount.value):
                values.append((amount.value, i))
                break
    if not values:
        return None
    value, i = min(values)
    return TextPrice(value, "as_low_as", "only an 'As low as' (bulk) price is shown", i)

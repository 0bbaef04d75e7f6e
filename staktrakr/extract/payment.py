"""Payment-method labels ("(e)Check/Wire", "Card/PayPal") and quantity-tier labels ("1 - 19", "500+")."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

CHEAP, CRYPTO, OTHER, CARD = 0, 1, 5, 9

_PAY_WORD = re.compile(
    r"\(e\)\s*-?\s*check|e-?check|paper check|bank wire|wire transfer|bank transfer|ach|check|cheque|wire|cash|"
    r"crypto(?:currenc(?:y|ies))?|bitcoin|btc|credit\s*/\s*debit(?:\s*cards?)?|credit cards?|debit cards?|cards?|"
    r"credit|debit|paypal|visa|mastercard|amex|venmo|affirm",
    re.IGNORECASE,
)
_MAX_LABEL_TEXT = 2000  # labels are read in the first 2,000 characters of a line (headers and rows are short)
_JOINER = re.compile(r"^\s*(/|&|\+|or|and)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class PayLabel:
    text: str
    rank: int  # CHEAP (check/wire/ACH), CRYPTO, OTHER, CARD

    @property
    def is_card(self) -> bool:
        return self.rank == CARD


_CHEAP_WORD = re.compile(r"check|cheque|wire|ach\b|\bach|cash|bank")
_CRYPTO_WORD = re.compile(r"crypto|bitcoin|btc")
_CARD_WORD = re.compile(r"card|credit|debit|paypal|visa|mastercard|amex|venmo|affirm")


def _rank(text: str) -> int:
    lowered = text.lower()
    if _CHEAP_WORD.search(lowered):
        return CHEAP
    if _CRYPTO_WORD.search(lowered):
        return CRYPTO
    if _CARD_WORD.search(lowered):
        return CARD
    return OTHER


def pay_labels(text: str) -> list[PayLabel]:
    """Payment labels in reading order; words joined by '/', '&', 'or' form one label."""
    labels: list[PayLabel] = []
    last_end = None
    current = ""
    for match in _PAY_WORD.finditer(text, 0, _MAX_LABEL_TEXT):
        gap = text[last_end : match.start()] if last_end is not None else None
        if gap is not None and _JOINER.match(gap):
            current += gap + match.group(0)
        else:
            if current:
                labels.append(PayLabel(current.strip(), _rank(current)))
            current = match.group(0)
        last_end = match.end()
    if current:
        labels.append(PayLabel(current.strip(), _rank(current)))
    return labels


_TIER = re.compile(
    r"^(?:qty\.?:?\s*|quantity:?\s*|buy\s+)?(?P<low>\d{1,5}(?:,\d{3})?)\s*"
    r"(?:(?P<plus>\+)|(?:-|–|—|to|thru|through)\s*(?P<high>\d{1,6}(?:,\d{3})?)\s*\+?|(?P<more>or more|and up|&\s*up))?"
    r"\s*(?:units?|coins?|pcs\.?|pieces|bars?|rounds?|notes?|items?|ea\.?|qty|\+)?(?![\w/.%])\s*:?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_ANY_QTY = re.compile(r"^(any\s+(qty|quantity)|per\s+(coin|unit|item|piece)|each|single|1\s+unit)\b\s*:?\s*(?P<rest>.*)$", re.IGNORECASE)


_CURRENCY_FIRST = re.compile(r"(\$|us\$|usd\b)", re.IGNORECASE)
_WEIGHT_WORD = re.compile(r"\b(oz|ounce|gram|kilo)\b", re.IGNORECASE)
_PRICE_START = re.compile(r"\$|\bUSD\b|US\$|(?<!\d)\d{1,20}\.\d{2}\s*USD")  # bounded: no quadratic scan of digit runs


def _starts_with_price(rest: str) -> bool:
    """After a tier label: an amount, or payment labels each followed by an amount
    ("ACH Transfer: USD 862.40 | Credit/Debit: USD 896.90")."""
    if _CURRENCY_FIRST.match(rest):
        return True
    first = _PRICE_START.search(rest)
    if first is None:
        return False
    lead = rest[: first.start()]
    return len(lead) <= 40 and bool(pay_labels(lead)) and not _WEIGHT_WORD.search(lead)


@dataclass(frozen=True)
class Tier:
    low: int
    high: int | None
    rest: str  # text after the tier label (amounts, if the row is on one line)


def parse_tier(text: str, *, cell: bool = False) -> Tier | None:
    """A quantity tier at the start of `text`; a bare number counts only in a table cell or before an amount."""
    match = _ANY_QTY.match(text)
    if match:
        return Tier(1, None, match.group("rest"))
    match = _TIER.match(text)
    if not match:
        return None
    rest = match.group("rest").strip().lstrip("—–-:|·").strip()
    ranged = match.group("plus") or match.group("high") or match.group("more")
    if rest and not _starts_with_price(rest):
        return None
    if not ranged and not rest and not cell:
        return None
    low = int(match.group("low").replace(",", ""))
    high = int(match.group("high").replace(",", "")) if match.group("high") else None
    if low > 100_000 or (high is not None and high < low) or 1900 <= low <= 2100 and not ranged:
        return None  # a year, not a quantity
    return Tier(low, high, rest)


_TIER_LABEL = re.compile(r"\d{1,5}(?:,\d{3})?\s*(?:\+|(?:-|–|—|to)\s*\d{1,6}(?:,\d{3})?\+?)")
_QTY_WORDS = re.compile(r"(?i)qty|quantity|units?|coins?|pcs")
_WORD_OR_DOLLAR = re.compile(r"[\w$]")


_MAX_TIERS_ON_A_LINE = 40  # more tier labels on one line are not a table header


def split_tiers(text: str) -> list[Tier]:
    """Several tier labels on one line: "1-24  25-99  100+"."""
    parts = [m.group(0) for m in itertools.islice(_TIER_LABEL.finditer(text), _MAX_TIERS_ON_A_LINE + 1)]
    if not 2 <= len(parts) <= _MAX_TIERS_ON_A_LINE:
        return []
    rest = _TIER_LABEL.sub("", text)
    if _WORD_OR_DOLLAR.search(_QTY_WORDS.sub("", rest)):
        return []
    return [t for t in (parse_tier(p) for p in parts) if t is not None]

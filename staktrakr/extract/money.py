"""Finding dollar amounts in page text, with the words around them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .limits import MAX_NUMBER_DIGITS

# Non-breaking, thin and zero-width spaces show up between "$" and the digits.
_SPACES = re.compile(r"[\u00a0\u2007\u2009\u202f\u200b\u2060\s]+")
# Linear time on any text: every repetition is bounded (at most MAX_NUMBER_DIGITS digits, six
# thousands groups) and a number never starts inside a run of digits, so a 5,000-digit number is
# ignored instead of read from its last digits, and a long digit run costs no backtracking.
_INT = r"\d{1,3}(?:,\d{3}){1,6}|\d{1,%d}" % MAX_NUMBER_DIGITS
# "$" right after capitals is another dollar ("CA$", "C$", "AU$", "NZ$", "HK$", "MX$"): not a
# US price. Amounts in euros, pounds or "CAD 87.88" never match at all.
_DOLLAR_AMOUNT = (
    r"(?P<neg>-\s*)?(?:(?<![A-Z])US\s*|(?<![A-Z]))\$\s*(?P<int>" + _INT + r")(?:\.(?P<cents>\d{1,2}))?(?!\d)(?![.,]\d)(?!\s*[kKmM]\b)"
)
_AMOUNT = re.compile(
    _DOLLAR_AMOUNT + r"|(?<!\d)(?P<int2>" + _INT + r")\.(?P<cents2>\d{2})\s*(?:USD|US\$)\b"
    r"|\bUSD\s*(?P<int3>" + _INT + r")\.(?P<cents3>\d{2})(?!\d)",
)
# Without "USD" or "US$" in a text only the first form can match, and it starts at a "$", "-" or
# "U" only, where the others try every digit: a page of digits is read 20x faster.
_AMOUNT_DOLLAR = re.compile(_DOLLAR_AMOUNT)

# Words right before an amount that mean "this is not the unit price".
_NOT_PRICE_BEFORE = re.compile(
    r"(save|saving|savings|off|over|above|under|below|orders?\s+of|spend|minimum|min\.?|max\.?|up\s+to|"
    r"face\s+value|denomination|was|reg\.?|regular|msrp|list\s+price|compare\s+at|retail|"
    r"as\s+low\s+as|starting\s+at|from|bid|ask|spot|change|buyback|sell\s+to\s+us|we\s+pay|earn|reward|"
    r"credit|coupon|discount|fee|shipping|insurance|tax)\s*:?\s*$",
    re.IGNORECASE,
)
_NOT_PRICE_AFTER = re.compile(
    r"^\s*(off\b|face\b|in\s+face|denomination|savings|shipping|or\s+more|\+\s*orders?|minimum|per\s+roll|"
    r"per\s+tube|per\s+box|/\s*roll|/\s*tube|back\b|reward|cash\s*back|over\s+spot|above\s+spot|per\s+oz\s+over)",
    re.IGNORECASE,
)


def clean_text(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def short_clean_text(text: str, limit: int) -> str | None:
    """clean_text(text) when it is at most `limit` characters long, else None, in time bounded by
    `limit` words whatever the size of `text` (a badge's text is short; a 2 MB text is not cleaned
    for each element that holds it)."""
    head = 8 * limit + 256
    if len(text) > head and len(clean_text(text[:head])) > limit:
        return None  # the cleaned start of a text is the start of the cleaned text: too long already
    pieces = _SPACES.split(text, maxsplit=limit + 2)
    if len(pieces) > limit + 2:
        return None  # limit + 2 whitespace runs: the limit + 1 words between them are too long already
    cleaned = " ".join(piece for piece in pieces if piece)
    return cleaned if len(cleaned) <= limit else None


@dataclass(frozen=True)
class Amount:
    value: float
    start: int
    end: int
    before: str  # up to 40 characters of text before the amount
    after: str  # up to 40 characters after

    @property
    def looks_like_price(self) -> bool:
        """False when the nearby words say it is a saving, threshold, face value, bid, …"""
        return not (_NOT_PRICE_BEFORE.search(self.before) or _NOT_PRICE_AFTER.search(self.after))


MAX_AMOUNTS = 100  # amounts read per text: a block of more is a listing, not a price


def find_amounts(text: str) -> list[Amount]:
    """Every dollar amount in `text` (already cleaned), in order (the first MAX_AMOUNTS)."""
    amounts: list[Amount] = []
    if "$" not in text and "USD" not in text:
        return amounts  # every form of amount has one of them
    pattern = _AMOUNT if "USD" in text or "US$" in text else _AMOUNT_DOLLAR
    for match in pattern.finditer(text):
        if len(amounts) >= MAX_AMOUNTS:
            break
        found = match.groupdict()
        if found["neg"]:
            continue
        whole = found["int"] or found.get("int2") or found.get("int3")
        cents = found["cents"] or found.get("cents2") or found.get("cents3") or "0"
        if len(cents) == 1:
            cents += "0"
        value = float(f"{whole.replace(',', '')}.{cents}")
        amounts.append(
            Amount(
                value=value,
                start=match.start(),
                end=match.end(),
                before=text[max(0, match.start() - 40) : match.start()],
                after=text[match.end() : match.end() + 40],
            )
        )
    return amounts


def single_amount(text: str) -> float | None:
    """The amount when `text` is essentially one price (a table cell, a price tag)."""
    text = clean_text(text)
    amounts = find_amounts(text)
    if len(amounts) != 1:
        return None
    return amounts[0].value


def round2(value: float) -> float:
    """Half-up rounding to cents like JS Math.round(x*100)/100 (Python's round() is half-even)."""
    import math

    return math.floor(value * 100 + 0.5) / 100

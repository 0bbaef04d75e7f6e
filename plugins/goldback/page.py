"""Reading the official rate page: the G1 USD rate labelled on it (a table or a sentence), or
derived from the other denominations when they agree; the errors say why there is none."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from pydantic import BaseModel

from staktrakr.catalogue import GOLDBACK_DENOMINATIONS
from staktrakr.errors import StaktrakrError
from staktrakr.extract.money import clean_text, round2
from staktrakr.extract.page import Page

# Denomination values derived from one another must agree this closely (the page rounds to cents).
AGREEMENT = 0.01

UNITS: dict[str, float] = {denom: units for denom, (units, _label, _gold) in GOLDBACK_DENOMINATIONS.items()}
_DENOM_OF_UNITS = {units: denom for denom, units in UNITS.items()}
_WORDS = {"½": 0.5, "1/2": 0.5, "half": 0.5, "one": 1, "two": 2, "five": 5, "ten": 10, "fifty": 50}

# "G1", "G 5", "G½", "G1/2" — or "1 Goldback", "One Goldback", "50 Goldbacks", "½ Goldback".
_LABEL = (
    r"(?:(?<![\w$.])G\s?(?P<g>½|1/2|\d{1,2})(?![\d/½.,])"
    r"|(?<![\w$.,/])(?P<n>½|1/2|\d{1,2}|half|one|two|five|ten|twenty[- ]five|fifty)\s*[-\s]?\s*goldbacks?\b)"
)
_LABEL_RE = re.compile(_LABEL, re.IGNORECASE)
# A label directly followed by its amount: "1 Goldback = $10.06", "One Goldback $ 10.06", "G5: $50.30".
_PROSE_RE = re.compile(
    _LABEL + r"\s*(?:=|:|is|-|–|—|→)?\s*(?:USD\s*)?\$\s*(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)(?![\d,]*\d)",
    re.IGNORECASE,
)
_AMOUNT_RE = re.compile(r"\$\s*(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)(?![\d,]*\d)")
# Signs that the rate is filled in by JavaScript after the page loads.
_EMPTY_RATE_ELEMENT = re.compile(r'<(\w+)[^>]*\b(?:id|class)="[^"]*(?:rate|price|exchange)[^"]*"[^>]*>\s*</\1>', re.IGNORECASE)
_DOLLAR_WITHOUT_AMOUNT = re.compile(r"\$\s*$", re.MULTILINE)


# -- errors ---------------------------------------------------------------------------------


class GoldbackRateError(StaktrakrError):
    """The page did not yield a G1 rate that can be trusted; the message says why."""

    def __init__(self, message: str, *, client_rendered: bool = False):
        super().__init__(message)
        self.client_rendered = client_rendered


class GoldbackRateNotFound(GoldbackRateError):
    """No amount labelled for any denomination."""


class GoldbackRateInconsistent(GoldbackRateError):
    """The page gives rates that contradict each other."""


class GoldbackRateOutOfBand(GoldbackRateError):
    """The rate is outside STAKTRAKR_GOLDBACK_BAND."""


@dataclass(frozen=True)
class Found:
    units: float  # G units of the denomination (0.5 … 50)
    value: float  # USD
    where: str  # "table" or "text"

    @property
    def label(self) -> str:
        return GOLDBACK_DENOMINATIONS[_DENOM_OF_UNITS[self.units]][1]


class GoldbackQuote(BaseModel):
    """What the page says: the G1 rate, how it was found, and the denominations it lists."""

    g1_usd: float
    method: str
    denominations: dict[str, float]  # as listed on the page, by denomination key (g1, g5, …)
    notes: list[str] = []


def _units(match: re.Match[str]) -> float | None:
    raw = (match["g"] or match["n"] or "").lower().replace(" ", "-")
    units = _WORDS.get(raw, 25 if raw == "twenty-five" else None)
    if units is None and raw.isdigit():
        units = int(raw)
    return float(units) if units is not None and float(units) in _DENOM_OF_UNITS else None


def _amount(text: str) -> float:
    return float(text.replace(",", ""))


def _cell_units(text: str) -> float | None:
    """The denomination a short table cell names ("G½", "1 Goldback (G1)"), if exactly one."""
    if len(text) > 40 or _AMOUNT_RE.search(text):
        return None
    found = {_units(m) for m in _LABEL_RE.finditer(text)} - {None}
    return found.pop() if len(found) == 1 else None


def _from_tables(page: Page) -> list[Found]:
    found: list[Found] = []
    if page.tree is None:
        return found
    for table in page.tree.iter("table"):
        rows = [[clean_text(c.text_content()) for c in tr.iter("td", "th")] for tr in table.iter("tr")]
        for i, cells in enumerate(rows):
            labels = [_cell_units(c) for c in cells]
            named = [j for j, u in enumerate(labels) if u is not None]
            if len(named) == 1:
                # a row per denomination: the first amount after its label
                j = named[0]
                for cell in cells[j + 1 :]:
                    amount = _AMOUNT_RE.search(cell)
                    if amount:
                        found.append(Found(labels[j], _amount(amount[1]), "table"))
                        break
            elif len(named) > 1 and i + 1 < len(rows):
                # a header row of denominations: the amounts are in the next row, same columns
                below = rows[i + 1]
                for j in named:
                    amount = _AMOUNT_RE.search(below[j]) if j < len(below) else None
                    if amount:
                        found.append(Found(labels[j], _amount(amount[1]), "table"))
    return found


def _from_text(page: Page) -> list[Found]:
    text = " ".join(page.visible_text.splitlines())
    found = []
    for match in _PROSE_RE.finditer(text):
        units = _units(match)
        if units is not None:
            found.append(Found(units, _amount(match["amount"]), "text"))
    return found


def client_rendered(page: Page) -> bool:
    return bool(_EMPTY_RATE_ELEMENT.search(page.html) or _DOLLAR_WITHOUT_AMOUNT.search(page.visible_text)) or page.built_by_javascript()


def _agrees(value: float, g1: float) -> bool:
    return abs(value - g1) <= AGREEMENT * g1


def read_rate_page(html: str | bytes) -> GoldbackQuote:
    """The G1 USD rate on the official page, or GoldbackRateError saying why there is none."""
    page = Page(html)
    found = list(dict.fromkeys(_from_tables(page) + _from_text(page)))
    if not found:
        raise GoldbackRateNotFound(
            "no amount labelled for G1 or any other denomination on the page", client_rendered=client_rendered(page)
        )
    listed = {_DENOM_OF_UNITS[f.units]: f.value for f in sorted(found, key=lambda f: (f.units, f.where != "table"))}
    g1_values = sorted({f.value for f in found if f.units == 1})
    others = [f for f in found if f.units != 1]
    if len(g1_values) > 1:
        raise GoldbackRateInconsistent("the page gives different G1 rates: " + ", ".join(f"${v:,.2f}" for v in g1_values))
    if g1_values:
        g1 = g1_values[0]
        where = sorted({f.where for f in found if f.units == 1})
        notes = [
            f"{f.label} ${f.value:,.2f} implies G1 ${f.value / f.units:,.3f}, not ${g1:,.2f}"
            for f in others
            if not _agrees(f.value / f.units, g1)
        ]
        agreeing = list(dict.fromkeys(f.label for f in sorted(others, key=lambda f: f.units) if _agrees(f.value / f.units, g1)))
        method = f"G1 labelled ({'/'.join(where)})" + (f", agrees with {', '.join(agreeing)}" if agreeing else "")
        return GoldbackQuote(g1_usd=g1, method=method, denominations=listed, notes=notes)
    per_unit = {f: f.value / f.units for f in others}
    middle = statistics.median(per_unit.values())
    odd = [f for f, v in per_unit.items() if not _agrees(v, middle)]
    if odd:
        detail = ", ".join(f"{f.label} ${f.value:,.2f} -> ${v:,.3f}" for f, v in sorted(per_unit.items(), key=lambda kv: kv[0].units))
        raise GoldbackRateInconsistent(f"no G1 on the page and the other denominations disagree per G unit: {detail}")
    # The largest denomination carries the most digits of the per-unit rate.
    largest = max(others, key=lambda f: f.units)
    labels = ", ".join(f.label for f in sorted(set(others), key=lambda f: f.units))
    return GoldbackQuote(
        g1_usd=round2(largest.value / largest.units),
        method=f"derived from {labels} ({'/'.join(sorted({f.where for f in others}))})",
        denominations=listed,
    )


def check_band(g1_usd: float, band: tuple[float, float]) -> float:
    low, high = band
    if not low <= g1_usd <= high:
        raise GoldbackRateOutOfBand(f"G1 ${g1_usd:,.2f} is outside the plausible band ${low:g}-${high:g} (STAKTRAKR_GOLDBACK_BAND)")
    return g1_usd


"""Reading a price-comparison page: the first comparison table, its dealers (our dealer ids),
their cash prices and stock, and the one row that is the dealer's price of one coin."""

from __future__ import annotations

import copy
import re
from urllib.parse import urlsplit

from lxml import etree
from pydantic import BaseModel

from staktrakr.errors import StaktrakrError
from staktrakr.extract.blocked import blocked_reason
from staktrakr.extract.money import clean_text, find_amounts
from staktrakr.extract.page import Page
from staktrakr.extract.payment import CHEAP, pay_labels

# How comparison sites name dealers -> our dealer ids. Matching ignores case, spaces and
# punctuation, and also accepts the name as the leading words of a longer cell text
# ("Summit Metals ★★★★★ 4.9"). Dealers nobody configures are listed so that they are
# recognised (and ignored) rather than mistaken for a configured one.
DEALER_NAMES: dict[str, str] = {
    "JM Bullion": "jmbullion",
    "JMBullion": "jmbullion",
    "jmbullion.com": "jmbullion",
    "APMEX": "apmex",
    "apmex.com": "apmex",
    "SD Bullion": "sdbullion",
    "SDBullion": "sdbullion",
    "sdbullion.com": "sdbullion",
    "Monument Metals": "monumentmetals",
    "monumentmetals.com": "monumentmetals",
    "Hero Bullion": "herobullion",
    "herobullion.com": "herobullion",
    "Bullion Exchanges": "bullionexchanges",
    "bullionexchanges.com": "bullionexchanges",
    "Summit Metals": "summitmetals",
    "summitmetals.com": "summitmetals",
    "Provident Metals": "providentmetals",
    "providentmetals.com": "providentmetals",
    "Gainesville Coins": "gainesvillecoins",
    "gainesvillecoins.com": "gainesvillecoins",
    "BGASC": "bgasc",
    "bgasc.com": "bgasc",
    "Money Metals Exchange": "moneymetals",
    "Money Metals": "moneymetals",
    "moneymetals.com": "moneymetals",
    "BullionStar US": "bullionstar",
    "BullionStar": "bullionstar",
    "Silver.com": "silvercom",
    "Bullion Standard": "bullionstandard",
}


def _key(name: str) -> str:
    return "".join(re.findall(r"[a-z0-9]+", name.lower()))


_ALIASES: dict[str, str] = {_key(name): vendor for name, vendor in DEALER_NAMES.items()}
_MAX_NAME_WORDS = max(len(name.split()) for name in DEALER_NAMES) + 1

_DEALER_HEAD = re.compile(r"\b(dealers?|sellers?|vendors?|stores?|retailers?|merchants?|shops?)\b", re.IGNORECASE)
_PREMIUM_HEAD = re.compile(r"premium|over\s+spot|above\s+spot", re.IGNORECASE)
_CARD_WORDS = re.compile(r"card|credit|debit|paypal|visa|mastercard|amex", re.IGNORECASE)
_BULK = re.compile(r"\b(as\s+low\s+as|starting\s+at)\b", re.IGNORECASE)
_OUT_OF_STOCK = re.compile(
    r"\b(out[\s-]of[\s-]stock|sold[\s-]out|unavailable|back[\s-]?order(ed)?|notify me when)\b",
    re.IGNORECASE,
)
_OUT_OF_STOCK_CLASS = re.compile(r"out[-_]?of[-_]?stock|sold[-_]?out|\boos\b|is[-_]oos|unavailable", re.IGNORECASE)
_INVISIBLE = ("script", "style", "noscript", "template", "head", "del", "s", "strike")
_HIDDEN_CLASSES = {"hidden", "d-none", "is-hidden", "hide", "invisible", "u-hidden"}
_MAX_HEADER_CELL = 40


class ComparisonPageError(StaktrakrError):
    """The aggregator page holds no comparison table we can read; the message says what was missing."""


class ComparisonRow(BaseModel):
    """One dealer row of a comparison table."""

    position: int  # 1-based, in page order
    dealer_name: str  # as the page shows it (link text, logo alt text or leading words)
    dealer_id: str | None  # through DEALER_NAMES; None for a dealer we do not know
    cash_price: float | None  # first amount of the cash/ACH cell
    bulk_only: bool = False  # the cash cell says "as low as": a bulk-tier price
    in_stock: bool = True


class ComparisonTable(BaseModel):
    url: str
    columns: list[str]
    cash_column: str
    rows: list[ComparisonRow]

    def rows_for(self, vendor: str) -> list[ComparisonRow]:
        return [row for row in self.rows if row.dealer_id == vendor]


class Fill(BaseModel):
    """What the table says about one failed dealer."""

    row: ComparisonRow
    price: float | None
    in_stock: bool
    note: str | None = None  # how the row was chosen, when there was a choice



# -- reading a comparison page -----------------------------------------------------------------


def dealer_id(name: str) -> tuple[str | None, str]:
    """(dealer id, the words that named it) for a dealer cell's text; (None, text) when unknown."""
    words = clean_text(name).split()
    for count in range(min(_MAX_NAME_WORDS, len(words)), 0, -1):
        found = _ALIASES.get(_key(" ".join(words[:count])))
        if found:
            while count > 1 and not _key(words[count - 1]):
                count -= 1  # "Summit Metals ★★★★★": the stars are not part of the name
            return found, " ".join(words[:count])
    return None, clean_text(name)


def _text(el: etree._Element) -> str:
    return clean_text(el.text_content())


def _cells(row: etree._Element) -> list[etree._Element]:
    """The cells of a table row (colspan expanded) or of a grid row (its child elements)."""
    if row.tag == "tr":
        cells: list[etree._Element] = []
        for cell in row:
            if cell.tag in ("td", "th"):
                try:
                    span = int(cell.get("colspan") or 1)
                except ValueError:
                    span = 1
                cells.extend([cell] * max(1, min(span, 20)))
        return cells
    return [child for child in row if isinstance(child.tag, str)]


def _column_kind(text: str) -> str | None:
    """dealer / cash / card / premium / other for a header cell; None when it is no header cell."""
    if len(text) > _MAX_HEADER_CELL or find_amounts(text):
        return None
    if _DEALER_HEAD.search(text):
        return "dealer"
    if _PREMIUM_HEAD.search(text):
        return "premium"
    cheap = any(label.rank == CHEAP for label in pay_labels(text))
    card = bool(_CARD_WORDS.search(text))
    if cheap and not card:
        return "cash"  # "Cash/ACH", "Check/Wire", "ACH (4% off)"
    if card and not cheap:
        return "card"
    return "premium" if "%" in text else "other"


def _find_header(root: etree._Element) -> tuple[etree._Element, list[str], int, int] | None:
    """The first row whose cells name a dealer column and a cash column: (row, labels, dealer, cash)."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        cells = _cells(el)
        if len(cells) < 2:
            continue
        labels = [_text(cell) for cell in cells]
        kinds = [_column_kind(label) for label in labels]
        if None in [kinds[i] for i, label in enumerate(labels) if label]:
            continue  # a cell with a price or a long text: a data row or a container
        if "dealer" in kinds and "cash" in kinds:
            # Several cash columns ("ACH" and "Check/Wire"): the first one.
            return el, labels, kinds.index("dealer"), kinds.index("cash")
    return None


def _rows_after(header: etree._Element) -> list[etree._Element]:
    if header.tag == "tr":
        table = next(header.iterancestors("table"), None)
        scope = table if table is not None else header.getparent()
        rows, after = [], False
        for tr in scope.iter("tr"):
            if tr is header:
                after = True
            elif after and next(tr.iterancestors("table"), None) is table:
                rows.append(tr)
        return rows
    rows = [sibling for sibling in header.itersiblings() if isinstance(sibling.tag, str)]
    if not any(len(_cells(row)) >= 2 for row in rows):
        # head and body in separate containers (a <div> "thead" and "tbody")
        parent = header.getparent()
        siblings = parent.itersiblings() if parent is not None else ()
        rows = [child for sibling in siblings if isinstance(sibling.tag, str) for child in sibling if isinstance(child.tag, str)]
    return rows


def _dealer_of(cell: etree._Element) -> tuple[str | None, str]:
    """Link text first, then a logo's alt/title text, then the cell's leading words."""
    candidates = [_text(a) for a in cell.iter("a")]
    candidates += [clean_text(img.get("alt") or img.get("title") or "") for img in cell.iter("img")]
    candidates.append(_text(cell))
    candidates = [c for c in candidates if c]
    for candidate in candidates:
        found, shown = dealer_id(candidate)
        if found:
            return found, shown
    return None, candidates[0][:60] if candidates else ""


def _out_of_stock(row: etree._Element) -> bool:
    """A stock word in the row's visible text, or a state class on the row itself (a badge's own
    class proves nothing: themes ship hidden "sold out" badges in every row)."""
    return bool(_OUT_OF_STOCK.search(_text(row)) or _OUT_OF_STOCK_CLASS.search(row.get("class") or ""))


def _visible_root(page: Page) -> etree._Element:
    root = copy.deepcopy(page.tree)
    for el in list(root.iter(*_INVISIBLE)):
        if el.getparent() is not None:
            el.drop_tree()  # struck-through old prices go too; the text after them stays
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.getparent() is None:
            continue
        style = (el.get("style") or "").replace(" ", "").lower()
        classes = set((el.get("class") or "").lower().split())
        if el.get("hidden") is not None or "display:none" in style or "visibility:hidden" in style or classes & _HIDDEN_CLASSES:
            el.drop_tree()
    return root


def parse_comparison(html: str | bytes, url: str = "") -> ComparisonTable:
    """The dealer rows of the page's first comparison table; ComparisonPageError when there is none."""
    page = Page(html, url=url)
    if page.tree is None:
        raise ComparisonPageError("the page is empty")
    found = _find_header(_visible_root(page))
    if found is None:
        wall = blocked_reason(page)
        what = f"it looks like a bot wall ({wall})" if wall else f"page title {page.title!r}"
        raise ComparisonPageError(
            "no comparison table: no header row with a 'Dealer' column and a cash/ACH/check/wire price column "
            f"({what})"
        )
    header, labels, dealer_col, cash_col = found
    rows = []
    for element in _rows_after(header):
        cells = _cells(element)
        if len(cells) <= max(dealer_col, cash_col) or cells[dealer_col] is cells[cash_col]:
            continue  # a full-width promo or note row
        vendor, shown = _dealer_of(cells[dealer_col])
        if not shown:
            continue
        cash_text = _text(cells[cash_col])
        amounts = find_amounts(cash_text)
        rows.append(
            ComparisonRow(
                position=len(rows) + 1,
                dealer_name=shown,
                dealer_id=vendor,
                cash_price=amounts[0].value if amounts else None,
                bulk_only=bool(_BULK.search(cash_text)),
                in_stock=not _out_of_stock(element),
            )
        )
    if not rows:
        raise ComparisonPageError(f"the comparison table (columns {labels}) has no dealer rows")
    return ComparisonTable(url=url, columns=labels, cash_column=labels[cash_col], rows=rows)


def choose_fill(rows: list[ComparisonRow]) -> tuple[Fill | None, str]:
    """The row that speaks for a dealer (see the module docstring), or None and why not."""
    if not rows:
        return None, "not listed on the comparison page"
    priced = [r for r in rows if r.in_stock and r.cash_price is not None and not r.bulk_only]
    if priced:
        best = min(priced, key=lambda r: r.cash_price or 0.0)
        note = f"cheapest in-stock cash price of {len(rows)} rows" if len(rows) > 1 else None
        return Fill(row=best, price=best.cash_price, in_stock=True, note=note), ""
    out = [r for r in rows if not r.in_stock]
    if out:
        row = out[0]
        return Fill(row=row, price=None if row.bulk_only else row.cash_price, in_stock=False, note="out of stock"), ""
    if any(r.bulk_only for r in rows):
        return None, "the comparison page only gives an 'as low as' (bulk) cash price"
    return None, "no cash/ACH price in the dealer's row"


def host_name(url: str) -> str:
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")

"""Quantity-tier pricing tables: the 1-unit row in the cheapest payment column.

Works on the product area's lines, so an HTML <table>, a grid of <div>s and a prose list read
the same way: a header of payment labels, then rows "tier, amount, amount, …". Transposed
tables (tiers across, payment methods down) are read too.
"""

from __future__ import annotations

from dataclasses import dataclass

from .limits import check_time
from .money import Amount, find_amounts
from .lines import Line
from .page import Page
from .payment import CARD, PayLabel, Tier, pay_labels, parse_tier, split_tiers

_MAX_ROW_LINES = 8
_MAX_HEADER_LOOKBACK = 14
_MAX_TIERS = 40  # a transposed header with more tier cells than this is not a header


@dataclass(frozen=True)
class TablePrice:
    price: float
    method: str
    detail: str
    line_index: int


@dataclass
class _Row:
    tier: Tier
    amounts: list[Amount]
    first: int  # index of the tier line
    last: int  # index of the last line of the row
    labels: list[PayLabel] | None = None  # payment labels written in the row itself, one per amount


def _inline_labels(rest: str, amounts: list[Amount]) -> list[PayLabel] | None:
    """"ACH: $862.40 | Card: $896.90": the label before each amount, when every amount has one."""
    labels = []
    previous_end = 0
    for amount in amounts:
        found = pay_labels(rest[previous_end : amount.start])
        if not found:
            return None
        labels.append(found[-1])
        previous_end = amount.end
    return labels


def _is_cell(line: Line) -> bool:
    return getattr(line.element, "tag", None) in ("td", "th")


def _amount_only(line: Line) -> Amount | None:
    """The line is one amount (maybe with 'ea'/'per coin' around it)."""
    amounts = line.amounts
    if len(amounts) != 1:
        return None
    leftover = (line.text[: amounts[0].start] + line.text[amounts[0].end :]).strip(" :/-").lower()
    if len(leftover) > 14:
        return None
    return amounts[0]


def _read_rows(lines: list[Line]) -> list[_Row]:
    rows = []
    i = 0
    while i < len(lines):
        if i % 256 == 0:
            check_time("tier table")
        line = lines[i]
        tier = line.cell_tier
        if tier is None:
            i += 1
            continue
        amounts = find_amounts(tier.rest) if tier.rest else []
        labels = _inline_labels(tier.rest, amounts) if amounts else None
        last = i
        if not amounts:
            j = i + 1
            while j < len(lines) and j <= i + _MAX_ROW_LINES:
                if lines[j].cell_tier is not None:
                    break
                amount = _amount_only(lines[j])
                if amount is None:
                    break
                amounts.append(amount)
                last = j
                j += 1
        if amounts:
            rows.append(_Row(tier, amounts, i, last, labels))
            i = last + 1
        else:
            i += 1
    return rows


def _header(lines: list[Line], first_row: int) -> list[PayLabel]:
    """Payment labels in the lines just above a table's first row."""
    labels: list[PayLabel] = []
    for k in range(first_row - 1, max(-1, first_row - 1 - _MAX_HEADER_LOOKBACK), -1):
        line = lines[k]
        if line.amounts or parse_tier(line.text) is not None:
            break
        found = line.labels
        if found:
            labels = found + labels
        elif labels and len(line.text) > 40:
            break
    return labels


def _pick_column(labels: list[PayLabel], count: int) -> tuple[int, str]:
    if not labels:
        return 0, "no column headers: first price column"
    if len(labels) != count:
        # Header and row disagree (merged cells, a label we did not recognise): trust the
        # leftmost cell only if the header's leftmost label is a cheap one.
        if labels[0].rank != CARD:
            return 0, f"{len(labels)} headers for {count} prices: first column ({labels[0].text})"
        return count - 1 if count > 1 else 0, "headers unclear, first column is card: last column"
    best = min(range(count), key=lambda idx: (labels[idx].rank, idx))
    note = f"column {labels[best].text!r}"
    if labels[best].rank == CARD:
        note += " (only card prices shown)"
    return best, note


def _group_tables(rows: list[_Row]) -> list[list[_Row]]:
    tables: list[list[_Row]] = []
    for row in rows:
        if tables and row.first - tables[-1][-1].last <= 2:
            tables[-1].append(row)
        else:
            tables.append([row])
    return tables


def _transposed(lines: list[Line], bounds: tuple[float, float]) -> TablePrice | None:
    """Tiers across the top, one row per payment method."""
    # next_stop[j]: the first line from j on with payment labels or amounts (the others are
    # passed over below): a page of thousands of tier-like lines is read in linear time.
    next_stop = [len(lines)] * (len(lines) + 1)
    for x in range(len(lines) - 1, -1, -1):
        if x % 256 == 0:
            check_time("tier table")
        next_stop[x] = x if lines[x].labels or lines[x].amounts else next_stop[x + 1]
    i = -1
    while i + 1 < len(lines):
        i += 1
        if i % 64 == 0:
            check_time("tier table")
        line = lines[i]
        tiers = split_tiers(line.text)
        span = 1
        if not tiers:
            # tiers on consecutive lines (one <th> each)
            k = i
            while k < len(lines) and not lines[k].amounts and lines[k].cell_tier:
                k += 1
            if k - i < 2:
                continue
            if k - i > _MAX_TIERS:  # not a header but a long run of tier-like cells: read it once, not once per cell
                i = k - 1
                continue
            tiers = [lines[x].cell_tier for x in range(i, k)]
            span = k - i
        best: tuple[int, int, float, str] | None = None
        j = i + span
        while j < len(lines) and j < i + span + 40:
            j = next_stop[j]
            if j >= len(lines) or j >= i + span + 40:
                break
            labels = lines[j].labels
            if not labels:
                if lines[j].amounts and not best:
                    break
                j += 1
                continue
            amounts = list(lines[j].amounts)
            k = j + 1
            while not amounts[: len(tiers)] or len(amounts) < len(tiers):
                if k >= len(lines) or k > j + len(tiers):
                    break
                amount = _amount_only(lines[k])
                if amount is None:
                    break
                amounts.append(amount)
                k += 1
            if amounts:
                lowest = min(range(len(tiers)), key=lambda x: tiers[x].low)  # type: ignore[union-attr]
                idx = min(lowest, len(amounts) - 1)
                value = amounts[idx].value
                if bounds[0] <= value <= bounds[1]:
                    key = (labels[0].rank, j, value, labels[0].text)
                    if best is None or key[0] < best[0]:
                        best = key
            j = max(k, j + 1)
        if best is not None:
            rank, j, value, label = best
            return TablePrice(value, "table", f"transposed tier table: row {label!r}, tier {tiers[0].low}", j)  # type: ignore[union-attr]
    return None


def table_price(page: Page, bounds: tuple[float, float], title_index: int) -> TablePrice | None:
    """The 1-unit price of the first tier table (after the product title when there is one)."""
    lines = page.lines
    tables = _group_tables(_read_rows(lines))
    ordered = [t for t in tables if t[0].first > title_index] + [t for t in tables if t[0].first <= title_index]
    for table in ordered:
        row = min(table, key=lambda r: r.tier.low)
        if row.tier.low > 5:
            continue  # a bulk-only table (e.g. "100+ coins") says nothing about one coin
        labels = row.labels or _header(lines, table[0].first)
        index, note = _pick_column(labels, len(row.amounts))
        value = row.amounts[index].value
        if not bounds[0] <= value <= bounds[1]:
            continue
        tier_text = f"{row.tier.low}" + (f"-{row.tier.high}" if row.tier.high else "+")
        return TablePrice(value, "table", f"tier {tier_text}, {note}", row.first)
    return _transposed(lines, bounds)

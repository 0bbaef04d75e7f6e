"""The extraction chain: one page in, one decision out, with every step explained.

Order: empty page -> bot wall -> dealer plugin override -> product check (weight, metal,
multi-packs) -> tier table -> labelled payment price -> Shopify block -> "Price:" label ->
structured data -> first plausible amount -> "As low as" -> stock status.
"""

from __future__ import annotations

import re
from typing import Any

from ..bounds import static_bounds
from ..models import DealerProfile, ExtractionResult, Status, Target
from . import limits
from .blocked import blocked_reason
from .limits import OutOfTime, check_time, deadline
from .page import Page
from .product import wrong_product_reason
from .stock import detect_stock
from .structured import StructuredData, StructuredPrice, read_structured
from .tables import table_price
from .text import (
    as_low_as_price,
    first_plausible_price,
    labelled_payment_price,
    labelled_price,
    shopify_price,
)

_AGREE = 0.005  # structured data "agrees" with the table within half a percent
_CARD_PREMIUM = 0.08  # a structured price up to 8 % above the visible one is likely the card price
# An empty price element or a "loading prices" note: the price arrives by JavaScript.
# Every repetition is bounded: an unclosed class="… attribute must not make it quadratic.
# Searched in Page.html_lower (lower-case pattern, no IGNORECASE: 10x faster on big pages).
_EMPTY_PRICE = re.compile(
    r'class="[^"]{0,200}?(?:price|pricing|tier)[^"]{0,200}"[^>]{0,500}>\s{0,200}(?:<span[^>]{0,200}>\s{0,200}</span>\s{0,200}){0,10}</'
    r"|loading[^<]{0,20}(?:price|pricing)"
)


def _client_rendered(page: Page) -> bool:
    """Signs that the price is built by JavaScript in the browser."""
    return bool(_EMPTY_PRICE.search(page.html_lower)) or page.built_by_javascript()


def _title_index(page: Page) -> int:
    for i, line in enumerate(page.lines):
        if getattr(line.element, "tag", None) == "h1":
            return i
    return 0


def _in(bounds: tuple[float, float], value: float) -> bool:
    return bounds[0] <= value <= bounds[1]


def _structured_choice(data: StructuredData, bounds: tuple[float, float]) -> StructuredPrice | None:
    for kinds in (("tier1_cheap", "cheap"), ("tier1",), ("offer", "microdata", "meta")):
        found = [p for p in data.of_kind(*kinds) if _in(bounds, p.value)]
        if found:
            return min(found, key=lambda p: p.value) if kinds[0] != "offer" else found[0]
    return None


def _cross_check(value: float, data: StructuredData, bounds: tuple[float, float]) -> str:
    others = [p for p in data.prices if p.kind not in ("high",) and _in(bounds, p.value)]
    if not others:
        return "no structured price to cross-check"
    for p in others:
        if abs(p.value - value) / value <= _AGREE:
            return f"structured data agrees ({p.origin} = {p.value:g})"
    shown = ", ".join(f"{p.origin} = {p.value:g}" for p in others[:3])
    return f"structured data differs ({shown}): card or bulk price; visible table wins"


def extract(
    page: Page,
    target: Target,
    profile: DealerProfile,
    *,
    pm: Any = None,
    bounds: tuple[float, float] | None = None,
    rendered: bool = False,
    time_budget: float | None = None,
) -> ExtractionResult:
    """Decide price, stock and status for one page. `rendered`: the page came from the browser.

    Never raises: an unexpected failure is an `error` result ("extraction failed: …"), and a page
    that takes longer than `time_budget` CPU seconds (default limits.STAKTRAKR_EXTRACT_TIME_BUDGET,
    parsing the page included; 0 or less: no limit) is `no_price` with the step it gave up at."""
    budget = limits.STAKTRAKR_EXTRACT_TIME_BUDGET if time_budget is None else time_budget
    steps: list[str] = []
    stage = ["start"]
    try:
        with deadline(budget - getattr(page, "parse_seconds", 0.0) if budget > 0 else None):
            return _chain(page, target, profile, pm, bounds, rendered, steps, stage)
    except OutOfTime as exc:
        where = stage[0] + (f" ({exc.where})" if exc.where != stage[0] else "")
        reason = f"extraction took longer than {budget:.1f} s; gave up at {stage[0]}"
        steps.append(f"time budget of {budget:.1f} s of CPU spent; gave up at {where}")
        return ExtractionResult(status=Status.no_price, reason=reason, steps=steps)
    except Exception as exc:  # noqa: BLE001 - a broken page must not break the crawl
        message = " ".join(str(exc).split())[:120]
        reason = f"extraction failed: {type(exc).__name__}" + (f": {message}" if message else "")
        steps.append(f"{reason} (at {stage[0]})")
        return ExtractionResult(status=Status.error, reason=reason, steps=steps)


def _chain(
    page: Page,
    target: Target,
    profile: DealerProfile,
    pm: Any,
    bounds: tuple[float, float] | None,
    rendered: bool,
    steps: list[str],
    stage: list[str],
) -> ExtractionResult:
    def step(name: str) -> None:
        stage[0] = name
        check_time(name)

    coin = target.coin
    bounds = bounds or static_bounds(coin)
    steps.append(f"target {target.key}: {coin.name}, plausible {bounds[0]:g}-{bounds[1]:g} USD")
    steps.extend(getattr(page, "notes", ()))

    def result(status: Status, **fields: Any) -> ExtractionResult:
        return ExtractionResult(status=status, steps=steps, **fields)

    step("bot wall check")
    wall = blocked_reason(page)
    if wall:
        steps.append(f"blocked: {wall}")
        return result(Status.blocked, reason=wall, method="bot_wall_check")
    if page.tree is None or len(page.visible_text) < 40:
        steps.append("page is empty")
        return result(Status.no_price, reason="empty page" + (f" (HTTP {page.http_status})" if page.http_status != 200 else ""))

    if pm is not None:
        step("dealer plugin")
        override = pm.hook.staktrakr_extract_price(page=page, target=target, profile=profile)
        if override is not None:
            override.steps = steps + [f"dealer plugin {profile.id} decided"] + override.steps
            return override

    step("structured data")
    structured = read_structured(page)
    steps.extend(getattr(page, "json_notes", ()))
    step("product check")
    title = (page.product_title or (structured.name or ""))[: limits.MAX_TITLE_CHARS]
    steps.append(f"product title: {title[:90]!r}")
    wrong = wrong_product_reason(title, coin)
    if wrong:
        steps.append(f"wrong product: {wrong}")
        return result(Status.wrong_product, reason=wrong, method="title_check")

    step("product area")
    lines, start = page.lines, _title_index(page)
    price: float | None = None
    method: str | None = None
    detail = ""
    step("tier table")
    table = table_price(page, bounds, start)
    if table:
        price, method, detail = table.price, table.method, table.detail
        steps.append(f"tier table: {price:g} ({detail})")
        steps.append(_cross_check(price, structured, bounds))
    else:
        steps.append("no tier table with a 1-unit row")
        step("labelled prices")
        for finder in (labelled_payment_price, shopify_price, labelled_price):
            found = finder(lines, bounds, start) or finder(lines, bounds, 0)
            if found:
                price, method, detail = found.price, found.method, found.detail
                steps.append(f"{method}: {price:g} ({detail})")
                break
        if price is None:
            step("structured or first price")
            chosen = _structured_choice(structured, bounds)
            visible = first_plausible_price(lines, bounds, start)
            if chosen is not None:
                price, method, detail = chosen.value, "structured_data", chosen.origin
                if visible and visible.price < chosen.value and (chosen.value - visible.price) / chosen.value <= _CARD_PREMIUM:
                    steps.append(f"{chosen.origin} = {chosen.value:g} is above the visible {visible.price:g}: card price")
                    price, method, detail = visible.price, "first_price", visible.detail
                steps.append(f"{method}: {price:g} ({detail})")
            elif visible:
                price, method, detail = visible.price, visible.method, visible.detail
                steps.append(f"{method}: {price:g} ({detail})")
            if method == "structured_data" and not rendered:
                step("client rendering check")
                if _client_rendered(page):
                    # Structured data alone often carries the card price; the page renders the real
                    # one with JavaScript, so ask for the browser instead of trusting it.
                    steps.append("only structured data, and the page renders its prices with JavaScript")
                    return result(
                        Status.no_price,
                        reason=f"no visible price (structured data says {price:g}); the page builds it with JavaScript",
                        client_rendered=True,
                    )
        if price is None:
            step("as low as")
            bulk = as_low_as_price(lines, bounds, 0)
            if bulk:
                price, method, detail = bulk.price, bulk.method, bulk.detail
                steps.append(f"last resort {method}: {price:g}")

    step("stock")
    stock = detect_stock(page, profile, structured)
    steps.append(f"stock: {'in stock' if stock.in_stock else 'out of stock'} ({stock.reason})")

    if price is None:
        step("client rendering check")
        rendered = _client_rendered(page)
        if not stock.in_stock:
            return result(
                Status.out_of_stock, in_stock=False, reason=stock.reason, method="stock_only", buy_button_disabled=stock.buy_button_disabled
            )
        reason = "no plausible price on the page"
        if getattr(page, "cut", False):
            reason = f"no plausible price in the part of the page read ({page.cut_reason})"
        elif page.truncated:
            reason = "page is truncated (no closing </html>) and shows no price"
        elif rendered:
            reason = "no price in the HTML; the page builds it with JavaScript"
        steps.append(reason)
        return result(Status.no_price, reason=reason, client_rendered=rendered)

    if not stock.in_stock:
        return result(
            Status.out_of_stock, price=price, in_stock=False, method=method, reason=stock.reason, buy_button_disabled=stock.buy_button_disabled
        )
    reason = detail if not stock.preorder else f"{detail}; {stock.reason}"
    return result(Status.ok, price=price, in_stock=True, method=method, reason=reason)

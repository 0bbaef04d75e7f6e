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
from .blocked import blocked_reason
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
_EMPTY_PRICE = re.compile(
    r'class="[^"]*(price|pricing|tier)[^"]*"[^>]*>\s*(<span[^>]*>\s*</span>\s*)*</|loading[^<]{0,20}(price|pricing)',
    re.IGNORECASE,
)


def _client_rendered(page: Page) -> bool:
    """Signs that the price is built by JavaScript in the browser."""
    return bool(_EMPTY_PRICE.search(page.html)) or page.built_by_javascript()


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
) -> ExtractionResult:
    """Decide price, stock and status for one page. `rendered`: the page came from the browser."""
    coin = target.coin
    bounds = bounds or static_bounds(coin)
    steps: list[str] = [f"target {target.key}: {coin.name}, plausible {bounds[0]:g}-{bounds[1]:g} USD"]

    def result(status: Status, **fields: Any) -> ExtractionResult:
        return ExtractionResult(status=status, steps=steps, **fields)

    wall = blocked_reason(page)
    if wall:
        steps.append(f"blocked: {wall}")
        return result(Status.blocked, reason=wall, method="bot_wall_check")
    if page.tree is None or len(page.visible_text) < 40:
        steps.append("page is empty")
        return result(Status.no_price, reason="empty page" + (f" (HTTP {page.http_status})" if page.http_status != 200 else ""))

    if pm is not None:
        override = pm.hook.staktrakr_extract_price(page=page, target=target, profile=profile)
        if override is not None:
            override.steps = steps + [f"dealer plugin {profile.id} decided"] + override.steps
            return override

    structured = read_structured(page)
    title = page.product_title or (structured.name or "")
    steps.append(f"product title: {title[:90]!r}")
    wrong = wrong_product_reason(title, coin)
    if wrong:
        steps.append(f"wrong product: {wrong}")
        return result(Status.wrong_product, reason=wrong, method="title_check")

    lines, start = page.lines, _title_index(page)
    price: float | None = None
    method: str | None = None
    detail = ""
    table = table_price(page, bounds, start)
    if table:
        price, method, detail = table.price, table.method, table.detail
        steps.append(f"tier table: {price:g} ({detail})")
        steps.append(_cross_check(price, structured, bounds))
    else:
        steps.append("no tier table with a 1-unit row")
        for finder in (labelled_payment_price, shopify_price, labelled_price):
            found = finder(lines, bounds, start) or finder(lines, bounds, 0)
            if found:
                price, method, detail = found.price, found.method, found.detail
                steps.append(f"{method}: {price:g} ({detail})")
                break
        if price is None:
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
            if method == "structured_data" and not rendered and _client_rendered(page):
                # Structured data alone often carries the card price; the page renders the real
                # one with JavaScript, so ask for the browser instead of trusting it.
                steps.append("only structured data, and the page renders its prices with JavaScript")
                return result(
                    Status.no_price,
                    reason=f"no visible price (structured data says {price:g}); the page builds it with JavaScript",
                    client_rendered=True,
                )
        if price is None:
            bulk = as_low_as_price(lines, bounds, 0)
            if bulk:
                price, method, detail = bulk.price, bulk.method, bulk.detail
                steps.append(f"last resort {method}: {price:g}")

    stock = detect_stock(page, profile, structured)
    steps.append(f"stock: {'in stock' if stock.in_stock else 'out of stock'} ({stock.reason})")

    if price is None:
        rendered = _client_rendered(page)
        if not stock.in_stock:
            return result(Status.out_of_stock, in_stock=False, reason=stock.reason, method="stock_only")
        reason = "no plausible price on the page"
        if page.truncated:
            reason = "page is truncated (no closing </html>) and shows no price"
        elif rendered:
            reason = "no price in the HTML; the page builds it with JavaScript"
        steps.append(reason)
        return result(Status.no_price, reason=reason, client_rendered=rendered)

    if not stock.in_stock:
        return result(Status.out_of_stock, price=price, in_stock=False, method=method, reason=stock.reason)
    reason = detail if not stock.preorder else f"{detail}; {stock.reason}"
    return result(Status.ok, price=price, in_stock=True, method=method, reason=reason)

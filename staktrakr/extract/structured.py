"""Structured data: JSON-LD, microdata, price meta tags and framework data blobs.

It helps but lies: offers often carry the card price, and AggregateOffer's `lowPrice` is a bulk
tier. The chain uses it as a cross-check of the table and only alone when nothing else is found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .limits import MAX_NUMBER_DIGITS, MAX_TITLE_CHARS, check_time, finite_number
from .money import clean_text, single_amount
from .page import Page

_CHEAP_KEY = re.compile(r"(ach|check|cheque|wire|cash|bank)", re.IGNORECASE)
_CARD_KEY = re.compile(r"(card|credit|paypal)", re.IGNORECASE)
_BULK_KEY = re.compile(r"(low|min|aslowas|bulk|from)", re.IGNORECASE)
_TIER_LIST_KEY = re.compile(r"(tier|volume|quantity|bracket|break)", re.IGNORECASE)
_QTY_KEY = re.compile(r"^(min(imum)?_?(qty|quantity)?|qty|quantity|from|start|min)$", re.IGNORECASE)
_PLAIN_NUMBER = re.compile(rf"\$?\d{{1,{MAX_NUMBER_DIGITS}}}(\.\d{{1,{MAX_NUMBER_DIGITS}}})?")
_MAX_PRICE_TEXT = 200  # a price written as text is short; longer strings are not read as one
_MAX_LIST_ITEMS = 500  # JSON-LD lists (@graph, offers, variants) read per list


@dataclass
class StructuredPrice:
    value: float
    kind: str  # "offer", "low", "high", "meta", "microdata", "cheap", "card", "tier1_cheap", "tier1"
    origin: str  # where it was found, for the explanation


@dataclass
class StructuredData:
    prices: list[StructuredPrice] = field(default_factory=list)
    availability: str | None = None  # lower-case schema.org token: instock, outofstock, preorder, …
    name: str | None = None

    def of_kind(self, *kinds: str) -> list[StructuredPrice]:
        return [p for p in self.prices if p.kind in kinds]


def _to_float(value: Any) -> float | None:
    """A number, or a string that is one amount; None for huge, infinite or NaN numbers."""
    if isinstance(value, str):
        if len(value) > _MAX_PRICE_TEXT:
            return None
        text = value.strip().replace(",", "")
        if _PLAIN_NUMBER.fullmatch(text):
            return float(text.lstrip("$"))
        return single_amount(value)
    return finite_number(value)


def _availability_token(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.rstrip("/").rsplit("/", 1)[-1].lower().replace(" ", "").replace("_", "")


def _walk_ld(node: Any, data: StructuredData, depth: int = 0) -> None:
    if depth > 12:
        return
    if isinstance(node, list):
        for item in node[:_MAX_LIST_ITEMS]:
            _walk_ld(item, data, depth + 1)
        return
    if not isinstance(node, dict):
        return
    types = node.get("@type")
    types = types if isinstance(types, list) else [types]
    types = [str(t).lower() for t in types if t]
    if "product" in types and not data.name and isinstance(node.get("name"), str):
        data.name = clean_text(node["name"][: 4 * MAX_TITLE_CHARS])[:MAX_TITLE_CHARS]
    if any(t in ("offer", "aggregateoffer") for t in types):
        for key, kind in (("price", "offer"), ("lowPrice", "low"), ("highPrice", "high")):
            value = _to_float(node.get(key))
            if value is not None:
                data.prices.append(StructuredPrice(value, kind, f"JSON-LD {node.get('@type')}.{key}"))
        spec = node.get("priceSpecification")
        for item in spec if isinstance(spec, list) else [spec]:
            if isinstance(item, dict):
                value = _to_float(item.get("price"))
                if value is not None:
                    data.prices.append(StructuredPrice(value, "offer", "JSON-LD priceSpecification.price"))
        token = _availability_token(node.get("availability"))
        if token and not data.availability:
            data.availability = token
    for key in ("@graph", "offers", "mainEntity", "itemListElement", "hasVariant"):
        if key in node:
            _walk_ld(node[key], data, depth + 1)


def _walk_blob(node: Any, data: StructuredData, path: str, depth: int = 0) -> None:
    """Framework data (Next.js props …): price-like keys anywhere, tier lists when recognisable."""
    if depth > 14:
        return
    if isinstance(node, list):
        if _TIER_LIST_KEY.search(path.rsplit(".", 1)[-1]) and node and all(isinstance(i, dict) for i in node):
            _tier_list(node, data, path)
        for i, item in enumerate(node[:50]):
            _walk_blob(item, data, f"{path}[{i}]", depth + 1)
        return
    if not isinstance(node, dict):
        return
    for key, value in list(node.items())[:200]:
        child = f"{path}.{key}"
        if isinstance(value, (dict, list)):
            _walk_blob(value, data, child, depth + 1)
            continue
        lowered = key.lower()
        if "price" not in lowered and lowered not in ("ach", "check", "wire", "card", "amount"):
            if lowered in ("availability", "stockstatus", "stock_status", "instock", "in_stock"):
                _blob_availability(key, value, data)
            continue
        number = _to_float(value)
        if number is None or number <= 0:
            continue
        if _BULK_KEY.search(lowered):
            kind = "low"
        elif _CARD_KEY.search(lowered):
            kind = "card"
        elif _CHEAP_KEY.search(lowered):
            kind = "cheap"
        else:
            kind = "offer"
        data.prices.append(StructuredPrice(number, kind, f"data blob {child.lstrip('.')}"))


def _blob_availability(key: str, value: Any, data: StructuredData) -> None:
    if data.availability:
        return
    if isinstance(value, bool):
        data.availability = "instock" if value else "outofstock"
    else:
        data.availability = _availability_token(value)


def _tier_list(items: list[dict[str, Any]], data: StructuredData, path: str) -> None:
    """`[{minQty: 1, achPrice: 93.3, cardPrice: 96.1}, {minQty: 20, …}]` -> the 1-unit cheap price."""
    def qty(item: dict[str, Any]) -> float:
        for key, value in item.items():
            if _QTY_KEY.match(key) and _to_float(value) is not None:
                return _to_float(value) or 0
        return float("inf")

    first = min(items, key=qty)
    if qty(first) == float("inf"):
        return
    cheap = [(k, _to_float(v)) for k, v in first.items() if _CHEAP_KEY.search(k) and _to_float(v)]
    plain = [(k, _to_float(v)) for k, v in first.items() if k.lower() == "price" and _to_float(v)]
    for key, value in cheap[:1] or plain[:1]:
        kind = "tier1_cheap" if cheap else "tier1"
        data.prices.append(StructuredPrice(float(value), kind, f"data blob {path.lstrip('.')} (qty {qty(first):g}).{key}"))


def read_structured(page: Page) -> StructuredData:
    data = StructuredData()
    for kind, blob in page.json_scripts():
        check_time("structured data")
        if kind == "ld":
            _walk_ld(blob, data)
        else:
            _walk_blob(blob, data, "")
    if page.tree is not None:
        for n, el in enumerate(page.tree.iter()):
            if n % 512 == 0:
                check_time("structured data")
            if not isinstance(el.tag, str):
                continue
            prop = el.get("itemprop")
            if prop == "price":
                value = _to_float(el.get("content") or el.text_content())
                if value is not None:
                    data.prices.append(StructuredPrice(value, "microdata", "microdata itemprop=price"))
            elif prop == "availability" and not data.availability:
                data.availability = _availability_token(el.get("href") or el.get("content") or el.text_content())
    meta = page.meta("product:price:amount", "og:price:amount")
    value = _to_float(meta) if meta else None
    if value is not None:
        data.prices.append(StructuredPrice(value, "meta", "meta product:price:amount"))
    if not data.availability:
        data.availability = _availability_token(page.meta("product:availability", "og:availability"))
    return data

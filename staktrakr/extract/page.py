"""A downloaded product page: parsed once, cleaned down to the product area, cut into lines.

The product area is the page without what every dealer page carries around the product:
scripts, menus, header/footer, spot tickers, breadcrumbs, reviews, FAQs and the carousels of
other products (which hold other prices, some cheaper, and other stock badges).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import lxml.html
from lxml import etree

from .money import Amount, clean_text, find_amounts

BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "br", "button", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "label", "legend", "li", "main", "nav", "ol", "option", "p", "pre", "section", "select",
    "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "html",
}  # fmt: skip
_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "header", "nav", "footer", "aside", "head")
_OLD_PRICE_TAGS = ("del", "s", "strike")
# Class/id words of page furniture that is not the product itself.
_NOISE_WORDS = {
    "related", "recommended", "recommendation", "recommendations", "upsell", "upsells", "crosssell", "cross",
    "carousel", "slider", "swiper", "slick", "ticker", "breadcrumb", "breadcrumbs", "review", "reviews",
    "testimonial", "testimonials", "faq", "faqs", "newsletter", "cookie", "cookies", "megamenu", "menu",
    "navbar", "navigation", "nav", "sidebar", "footer", "similar", "addons", "addon", "accessories", "recently",
    "also", "spot", "spotprices", "spotprice", "masthead", "topbar", "announcement", "modal", "popup",
}  # fmt: skip
_OLD_PRICE_WORDS = {"old", "was", "compare", "strikethrough", "strike", "msrp", "retail", "crossed"}
_TAIL_HEADINGS = re.compile(
    r"^(similar products|customers also|add[- ]?on items|you may also like|related products|recently viewed|"
    r"frequently bought|popular products|shop similar|people also|more from|other products|you might also|"
    r"featured products|trending)",
    re.IGNORECASE,
)
_FRAMEWORK_ROOT = re.compile(r'<div[^>]+id="(root|app|__next|__nuxt|svelte)"[^>]*>\s*</div>', re.IGNORECASE)
_TEMPLATE_PLACEHOLDER = re.compile(r"\{\{\s*\w+|data-(price|rate)-placeholder|skeleton", re.IGNORECASE)
_WORD_SPLIT = re.compile(r"[-_\s]+|(?<=[a-z])(?=[A-Z])")
_DEALER_SUFFIX = re.compile(r"\s*[|–—-]\s*[^|–—-]{2,40}$")


def _class_words(el: etree._Element) -> set[str]:
    raw = f"{el.get('class', '')} {el.get('id', '')}"
    return {w.lower() for w in _WORD_SPLIT.split(raw) if w}


@dataclass
class Line:
    """One block of visible text in document order."""

    text: str
    element: Any = field(repr=False, default=None)

    @cached_property
    def amounts(self) -> list[Amount]:
        return find_amounts(self.text)


class Page:
    def __init__(self, html: str | bytes, url: str = "", http_status: int = 200, *, tail_markers: tuple[str, ...] = ()):
        if isinstance(html, bytes):
            html = html.decode("utf-8", errors="replace")
        self.html = html or ""
        self.url = url
        self.http_status = http_status
        self.tail_markers = tail_markers
        self.tree = self._parse(self.html)

    @staticmethod
    def _parse(html: str) -> etree._Element | None:
        if not html.strip():
            return None
        try:
            return lxml.html.document_fromstring(html)
        except (etree.ParserError, ValueError):
            return None

    # -- whole page ---------------------------------------------------------------------------

    @cached_property
    def title(self) -> str:
        if self.tree is None:
            return ""
        found = self.tree.find(".//title")
        return clean_text(found.text_content()) if found is not None else ""

    @cached_property
    def visible_text(self) -> str:
        """All visible text (scripts and styles dropped), one line per block."""
        if self.tree is None:
            return ""
        root = copy.deepcopy(self.tree)
        for el in list(root.iter("script", "style", "noscript", "template", "head")):
            _drop(el)
        return "\n".join(line.text for line in linearize(root))

    def built_by_javascript(self) -> bool:
        """Signs that the page fills its content in the browser: an empty framework root, an
        "enable JavaScript" notice, template placeholders, or many scripts around little text."""
        if _FRAMEWORK_ROOT.search(self.html) or _TEMPLATE_PLACEHOLDER.search(self.html):
            return True
        if "enable javascript" in self.visible_text.lower():
            return True
        return self.html.lower().count("<script") >= 3 and len(self.product_text) < 400

    @cached_property
    def truncated(self) -> bool:
        return bool(self.html.strip()) and "</html>" not in self.html[-2000:].lower()

    def meta(self, *names: str) -> str | None:
        if self.tree is None:
            return None
        for el in self.tree.iter("meta"):
            key = (el.get("property") or el.get("name") or el.get("itemprop") or "").lower()
            if key in names and el.get("content"):
                return el.get("content")
        return None

    def json_scripts(self) -> list[tuple[str, Any]]:
        """(kind, parsed JSON) of JSON-LD and framework data blobs (Next.js __NEXT_DATA__ and similar)."""
        if self.tree is None:
            return []
        found = []
        for el in self.tree.iter("script"):
            kind = (el.get("type") or "").lower()
            if kind not in ("application/ld+json", "application/json"):
                continue
            text = (el.text or "").strip()
            if not text:
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                continue
            found.append(("ld" if kind == "application/ld+json" else (el.get("id") or "json"), data))
        return found

    # -- product area -------------------------------------------------------------------------

    @cached_property
    def product_root(self) -> etree._Element | None:
        """A cleaned copy of the body: the product and its buy box, without furniture."""
        if self.tree is None:
            return None
        body = self.tree.find(".//body")
        root = copy.deepcopy(body if body is not None else self.tree)
        for el in list(root.iter(*_DROP_TAGS)):
            _drop(el)
        for el in list(root.iter()):
            if not isinstance(el.tag, str) or el.getparent() is None:
                continue
            words = _class_words(el)
            if el.tag == "h1" or el.find(".//h1") is not None:
                continue  # never drop the product title or what holds it
            if words & _NOISE_WORDS or el.get("role") in ("navigation", "banner", "contentinfo", "dialog"):
                _drop(el)
            elif el.get("aria-hidden") == "true" or _hidden_style(el):
                _drop(el)
        self._cut_tail(root)
        return root

    def _cut_tail(self, root: etree._Element) -> None:
        """Drop everything from the first "similar products"-style heading after the title on."""
        seen_title = root.find(".//h1") is None
        for el in list(root.iter()):
            if not isinstance(el.tag, str) or el.getparent() is None:
                continue
            if el.tag == "h1":
                seen_title = True
                continue
            if el.tag not in ("h2", "h3", "h4", "h5", "div", "p", "span", "strong", "b") or len(el) > 2:
                continue
            text = clean_text(el.text_content())
            if not text or len(text) > 60:
                continue
            if _TAIL_HEADINGS.match(text) or any(text.lower().startswith(m.lower()) for m in self.tail_markers):
                if seen_title:
                    _cut_from(el)
                    return

    @cached_property
    def product_title(self) -> str:
        candidates = []
        if self.product_root is not None:
            candidates = [clean_text(h.text_content()) for h in self.product_root.iter("h1")]
        candidates = [c for c in candidates if 3 <= len(c) <= 200]
        if candidates:
            return candidates[0]
        og = self.meta("og:title")
        if og:
            return clean_text(og)
        return _DEALER_SUFFIX.sub("", self.title)

    @cached_property
    def lines(self) -> list[Line]:
        """Visible lines of the product area, old (struck-through) prices removed."""
        if self.product_root is None:
            return []
        root = copy.deepcopy(self.product_root)
        for el in list(root.iter(*_OLD_PRICE_TAGS)):
            _drop(el)
        for el in list(root.iter()):
            if isinstance(el.tag, str) and el.getparent() is not None and _class_words(el) & _OLD_PRICE_WORDS:
                _drop(el)
        return linearize(root)

    @cached_property
    def product_text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def _drop(el: etree._Element) -> None:
    """Remove an element but keep the text that followed it."""
    if el.getparent() is not None:
        el.drop_tree()


def _cut_from(el: etree._Element) -> None:
    """Remove `el` and everything after it in document order."""
    node = el
    while node is not None and node.getparent() is not None:
        parent = node.getparent()
        for sibling in list(node.itersiblings()):
            parent.remove(sibling)
        node.tail = None
        if node is el:
            parent.remove(node)
        node = parent


_HIDDEN_CLASSES = {"hidden", "d-none", "is-hidden", "hide", "invisible", "u-hidden"}


def _hidden_style(el: etree._Element) -> bool:
    """Hidden by attribute, inline style or a utility class (screen-reader text stays: it is real text)."""
    style = (el.get("style") or "").replace(" ", "").lower()
    classes = set((el.get("class") or "").lower().split())
    return "display:none" in style or "visibility:hidden" in style or el.get("hidden") is not None or bool(classes & _HIDDEN_CLASSES)


def linearize(root: etree._Element) -> list[Line]:
    """Cut visible text into lines at block boundaries; inline pieces are joined without spaces
    added, so `<span>$</span><span>5,230</span><span>.31</span>` reads `$5,230.31`."""
    lines: list[Line] = []
    buffer: list[str] = []
    owner: list[Any] = [root]

    def flush() -> None:
        text = clean_text("".join(buffer))
        # "5,230 .31" from cents in their own element with whitespace around it
        text = re.sub(r"(\d) \.(\d{2})\b", r"\1.\2", text)
        if text:
            lines.append(Line(text=text, element=owner[0]))
        buffer.clear()

    def walk(el: etree._Element) -> None:
        if not isinstance(el.tag, str):  # comments, processing instructions
            if el.tail:
                buffer.append(el.tail)
            return
        block = el.tag in BLOCK_TAGS
        if block:
            flush()
            owner[0] = el
        if el.tag == "input" and el.get("type") in ("submit", "button") and el.get("value"):
            buffer.append(el.get("value"))
        if el.text:
            buffer.append(el.text)
        for child in el:
            walk(child)
        if block:
            flush()
            owner[0] = el.getparent()
        if el.tail:
            buffer.append(el.tail)

    walk(root)
    flush()
    return lines

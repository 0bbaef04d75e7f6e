"""A downloaded product page: parsed once, cleaned down to the product area, cut into lines.

The product area is the page without what every dealer page carries around the product:
scripts, menus, header/footer, spot tickers, breadcrumbs, reviews, FAQs and the carousels of
other products (which hold other prices, some cheaper, and other stock badges).
"""

from __future__ import annotations

import copy
import itertools
import re
from functools import cached_property
from typing import Any

import lxml.html
from lxml import etree

from . import limits
from .html_tree import (
    PARSER_DEPTH,
    class_words,
    cut_from,
    cut_html,
    decode_bytes,
    drop_all,
    hidden_style,
    html_parser,
    json_script_sources,
    nesting_cut,
)
from .limits import check_time, cpu_clock, json_too_deep, load_json, megabytes, strip_control_characters
from .lines import Line, linearize
from .money import clean_text, short_clean_text

__all__ = ["Line", "Page", "linearize"]  # Line and linearize: re-exported, they were defined here

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
# Bounded repetitions throughout: these run over the whole HTML, broken pages included.
# Searched in Page.html_lower: lower-case patterns, no IGNORECASE (10x faster on big pages).
_FRAMEWORK_ROOT = re.compile(r'<div[^>]{1,500}?id="(?:root|app|__next|__nuxt|svelte)"[^>]{0,500}>\s{0,1000}</div>')
_TEMPLATE_PLACEHOLDER = re.compile(r"\{\{\s*\w+|data-(?:price|rate)-placeholder|skeleton")
_DEALER_SUFFIX = re.compile(r"\s*[|–—-]\s*[^|–—-]{2,40}$")


class Page:
    """`max_parse_bytes`, `max_elements`: read at most this much of the page (defaults
    limits.STAKTRAKR_MAX_PARSE_BYTES and STAKTRAKR_MAX_ELEMENTS, 0: no limit); the start is kept, it
    holds the product. `notes` say what was cut or cleaned on the way, `cut` that something was."""

    def __init__(
        self,
        html: str | bytes,
        url: str = "",
        http_status: int = 200,
        *,
        tail_markers: tuple[str, ...] = (),
        max_parse_bytes: int | None = None,
        max_elements: int | None = None,
    ):
        started = cpu_clock()
        self._scripts: list[tuple[str, str | None, str]] | None = None  # JSON scripts kept from a cut tree
        self.notes: list[str] = []  # what happened to the page before it was read, for the steps
        if isinstance(html, bytes):
            html = decode_bytes(html)
        html = html or ""
        self.size = len(html)  # characters of the whole page
        self.max_parse_bytes = limits.STAKTRAKR_MAX_PARSE_BYTES if max_parse_bytes is None else max_parse_bytes
        self._end = html[-2000:]  # the real end of the page, for `truncated`
        self.cut = self.size > self.max_parse_bytes > 0
        self.cut_reason: str | None = None  # why only part of the page is read
        if self.cut:
            html = cut_html(html, self.max_parse_bytes)
            self.cut_reason = f"page is {megabytes(self.size)}; read the first {megabytes(len(html))}"
            self.notes.append(self.cut_reason)
        html, removed = strip_control_characters(html)
        if removed:
            self.notes.append(f"removed {removed:,} control character{'s' if removed > 1 else ''} (NUL, escape, …) before parsing")
        self.html = html
        self.url = url
        self.http_status = http_status
        self.tail_markers = tail_markers
        self.tree = self._parse(self.html)
        if self.tree is not None and nesting_cut(self.tree):
            self.notes.append(f"elements nested over {PARSER_DEPTH} deep: the parser read the page only up to there")
        self.max_elements = limits.STAKTRAKR_MAX_ELEMENTS if max_elements is None else max_elements
        if self.tree is not None and self.max_elements > 0:
            beyond = next(itertools.islice(self.tree.iter(), self.max_elements, None), None)
            if beyond is not None:
                # JSON data blobs (Next.js __NEXT_DATA__ …) often sit at the end of the body: keep them.
                self._scripts = json_script_sources(self.tree)
                cut_from(beyond)
                self.cut = True
                self.cut_reason = self.cut_reason or f"page has over {self.max_elements:,} elements; read the first {self.max_elements:,}"
                self.notes.append(f"page has over {self.max_elements:,} elements; read the first {self.max_elements:,}")
        self.parse_seconds = cpu_clock() - started  # CPU seconds (the time budget counts them)
        self._json: list[tuple[str, Any]] | None = None
        self.json_notes: list[str] = []

    @staticmethod
    def _parse(html: str) -> etree._Element | None:
        if not html.strip():
            return None
        try:
            return lxml.html.document_fromstring(html, parser=html_parser())
        except (etree.LxmlError, ValueError):
            return None

    # -- whole page ---------------------------------------------------------------------------

    @cached_property
    def title(self) -> str:
        if self.tree is None:
            return ""
        found = self.tree.find(".//title")
        return clean_text(found.text_content()[:4000])[:1000] if found is not None else ""

    @cached_property
    def visible_text(self) -> str:
        """All visible text (scripts and styles dropped), one line per block."""
        if self.tree is None:
            return ""
        root = copy.deepcopy(self.tree)
        drop_all(list(root.iter("script", "style", "noscript", "template", "head")))
        return "\n".join(line.text for line in linearize(root))

    @cached_property
    def html_lower(self) -> str:
        """The HTML in lower case: case-insensitive searches of the whole page run 10x faster as
        plain searches of this (patterns written in lower case)."""
        return self.html.lower()

    @cached_property
    def visible_text_lower(self) -> str:
        return self.visible_text.lower()

    def built_by_javascript(self) -> bool:
        """Signs that the page fills its content in the browser: an empty framework root, an
        "enable JavaScript" notice, template placeholders, or many scripts around little text."""
        if _FRAMEWORK_ROOT.search(self.html_lower) or _TEMPLATE_PLACEHOLDER.search(self.html_lower):
            return True
        if "enable javascript" in self.visible_text_lower:
            return True
        return self.html_lower.count("<script") >= 3 and len(self.product_text) < 400

    @cached_property
    def truncated(self) -> bool:
        """The page itself ends before </html> (a page cut by max_parse_bytes is judged by its real end)."""
        return bool(self.html.strip()) and "</html>" not in self._end.lower()

    def meta(self, *names: str) -> str | None:
        if self.tree is None:
            return None
        for el in self.tree.iter("meta"):
            key = (el.get("property") or el.get("name") or el.get("itemprop") or "").lower()
            if key in names and el.get("content"):
                return el.get("content")
        return None

    def json_scripts(self) -> list[tuple[str, Any]]:
        """(kind, parsed JSON) of JSON-LD and framework data blobs (Next.js __NEXT_DATA__ and similar).
        Bounded: the first MAX_JSON_SCRIPTS scripts, none over MAX_JSON_SCRIPT_CHARS or nested deeper
        than MAX_JSON_DEPTH, numbers of more than MAX_NUMBER_DIGITS digits read as null; `json_notes`
        says what was skipped."""
        if self._json is not None:
            return self._json
        found: list[tuple[str, Any]] = []
        skipped = {"deep": 0, "big": 0, "many": 0}
        if self.tree is not None:
            seen = 0
            scripts = self._scripts if self._scripts is not None else json_script_sources(self.tree)
            for kind, ident, text in scripts:
                text = text.strip()
                if not text:
                    continue
                check_time("JSON scripts")
                seen += 1
                if seen > limits.MAX_JSON_SCRIPTS:
                    skipped["many"] += 1
                    continue
                if len(text) > limits.MAX_JSON_SCRIPT_CHARS:
                    skipped["big"] += 1
                    continue
                if json_too_deep(text):
                    skipped["deep"] += 1
                    continue
                try:
                    data = load_json(text)
                except (ValueError, RecursionError):  # invalid JSON (JSONDecodeError is a ValueError)
                    continue
                found.append(("ld" if kind == "application/ld+json" else (ident or "json"), data))
        if skipped["deep"]:
            self.json_notes.append(f"skipped {skipped['deep']} JSON script(s) nested deeper than {limits.MAX_JSON_DEPTH}")
        if skipped["big"]:
            self.json_notes.append(f"skipped {skipped['big']} JSON script(s) over {megabytes(limits.MAX_JSON_SCRIPT_CHARS)}")
        if skipped["many"]:
            self.json_notes.append(f"read the first {limits.MAX_JSON_SCRIPTS} JSON scripts, skipped {skipped['many']} more")
        self._json = found
        return found

    # -- product area -------------------------------------------------------------------------

    @cached_property
    def product_root(self) -> etree._Element | None:
        """A cleaned copy of the body: the product and its buy box, without furniture."""
        if self.tree is None:
            return None
        body = self.tree.find(".//body")
        root = copy.deepcopy(body if body is not None else self.tree)
        drop_all(list(root.iter(*_DROP_TAGS)))
        check_time("product area")
        # Elements that are or hold an h1: never dropped (the product title and what holds it).
        holds_title = set()
        for h1 in root.iter("h1"):
            holds_title.add(h1)
            holds_title.update(h1.iterancestors())
        doomed = []
        for n, el in enumerate(root.iter()):
            if n % 512 == 0:
                check_time("product area")
            if not isinstance(el.tag, str) or el is root or el in holds_title:
                continue
            if class_words(el) & _NOISE_WORDS or el.get("role") in ("navigation", "banner", "contentinfo", "dialog"):
                doomed.append(el)
            elif el.get("aria-hidden") == "true" or hidden_style(el):
                doomed.append(el)
        drop_all(doomed)
        self._cut_tail(root)
        return root

    def _cut_tail(self, root: etree._Element) -> None:
        """Drop everything from the first "similar products"-style heading after the title on."""
        seen_title = root.find(".//h1") is None
        for n, el in enumerate(list(root.iter())):
            if n % 512 == 0:
                check_time("product area")
            if not isinstance(el.tag, str) or el.getparent() is None:
                continue
            if el.tag == "h1":
                seen_title = True
                continue
            if el.tag not in ("h2", "h3", "h4", "h5", "div", "p", "span", "strong", "b") or len(el) > 2:
                continue
            text = short_clean_text(el.text_content(), 60)
            if not text:
                continue
            if _TAIL_HEADINGS.match(text) or any(text.lower().startswith(m.lower()) for m in self.tail_markers):
                if seen_title:
                    cut_from(el)
                    return

    @cached_property
    def product_title(self) -> str:
        candidates: list[str] = []
        if self.product_root is not None:
            candidates = [short_clean_text(h.text_content(), 200) or "" for h in self.product_root.iter("h1")]
        candidates = [c for c in candidates if 3 <= len(c) <= 200]
        if candidates:
            return candidates[0]
        og = self.meta("og:title")
        if og:
            return clean_text(og[: 4 * limits.MAX_TITLE_CHARS])[: limits.MAX_TITLE_CHARS]
        return _DEALER_SUFFIX.sub("", self.title)[: limits.MAX_TITLE_CHARS]

    @cached_property
    def lines(self) -> list[Line]:
        """Visible lines of the product area, old (struck-through) prices removed."""
        if self.product_root is None:
            return []
        root = copy.deepcopy(self.product_root)
        drop_all(list(root.iter(*_OLD_PRICE_TAGS)))
        check_time("product lines")
        doomed = []
        for n, el in enumerate(root.iter()):
            if n % 512 == 0:
                check_time("product lines")
            if isinstance(el.tag, str) and el is not root and class_words(el) & _OLD_PRICE_WORDS:
                doomed.append(el)
        drop_all(doomed)
        return linearize(root)

    @cached_property
    def product_text(self) -> str:
        return "\n".join(line.text for line in self.lines)

"""A downloaded product page: parsed once, cleaned down to the product area, cut into lines.

The product area is the page without what every dealer page carries around the product:
scripts, menus, header/footer, spot tickers, breadcrumbs, reviews, FAQs and the carousels of
other products (which hold other prices, some cheaper, and other stock badges).
"""

from __future__ import annotations

import codecs
import copy
import itertools
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import lxml.html
from lxml import etree

from . import limits
from .limits import check_time, cpu_clock, json_too_deep, load_json, megabytes, strip_control_characters
from .money import Amount, clean_text, find_amounts, short_clean_text
from .payment import PayLabel, Tier, pay_labels, parse_tier

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
# Bounded repetitions throughout: these run over the whole HTML, broken pages included.
# Searched in Page.html_lower: lower-case patterns, no IGNORECASE (10x faster on big pages).
_FRAMEWORK_ROOT = re.compile(r'<div[^>]{1,500}?id="(?:root|app|__next|__nuxt|svelte)"[^>]{0,500}>\s{0,1000}</div>')
_TEMPLATE_PLACEHOLDER = re.compile(r"\{\{\s*\w+|data-(?:price|rate)-placeholder|skeleton")
_WORD_SPLIT = re.compile(r"[-_\s]+|(?<=[a-z])(?=[A-Z])")
_DEALER_SUFFIX = re.compile(r"\s*[|–—-]\s*[^|–—-]{2,40}$")


def _class_words(el: etree._Element) -> set[str]:
    classes, ident = el.get("class"), el.get("id")
    if not classes and not ident:
        return set()
    raw = f"{classes or ''} {ident or ''}"
    return {w.lower() for w in _WORD_SPLIT.split(raw) if w}


class _cached:
    """functools.cached_property without its lock (Python 3.11 takes one per first read: a
    third of the time of reading 20,000 lines); a Line belongs to one page and one thread."""

    def __init__(self, func: Any) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.func(obj)
        return value


@dataclass
class Line:
    """One block of visible text in document order."""

    text: str
    element: Any = field(repr=False, default=None)

    @_cached
    def amounts(self) -> list[Amount]:
        return find_amounts(self.text)

    @_cached
    def labels(self) -> list[PayLabel]:
        """Payment labels of the line (do not change the list: it is shared)."""
        return pay_labels(self.text)

    @_cached
    def cell_tier(self) -> Tier | None:
        """The quantity tier the line starts with; a bare number counts in a table cell."""
        return parse_tier(self.text, cell=getattr(self.element, "tag", None) in ("td", "th"))


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
            html = _decode(html)
        html = html or ""
        self.size = len(html)  # characters of the whole page
        self.max_parse_bytes = limits.STAKTRAKR_MAX_PARSE_BYTES if max_parse_bytes is None else max_parse_bytes
        self._end = html[-2000:]  # the real end of the page, for `truncated`
        self.cut = self.size > self.max_parse_bytes > 0
        self.cut_reason: str | None = None  # why only part of the page is read
        if self.cut:
            html = _cut(html, self.max_parse_bytes)
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
        if self.tree is not None and _nesting_cut(self.tree):
            self.notes.append(f"elements nested over {_PARSER_DEPTH} deep: the parser read the page only up to there")
        self.max_elements = limits.STAKTRAKR_MAX_ELEMENTS if max_elements is None else max_elements
        if self.tree is not None and self.max_elements > 0:
            beyond = next(itertools.islice(self.tree.iter(), self.max_elements, None), None)
            if beyond is not None:
                # JSON data blobs (Next.js __NEXT_DATA__ …) often sit at the end of the body: keep them.
                self._scripts = _json_script_sources(self.tree)
                _cut_from(beyond)
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
            return lxml.html.document_fromstring(html, parser=_html_parser())
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
        _drop_all(list(root.iter("script", "style", "noscript", "template", "head")))
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
            scripts = self._scripts if self._scripts is not None else _json_script_sources(self.tree)
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
        _drop_all(list(root.iter(*_DROP_TAGS)))
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
            if _class_words(el) & _NOISE_WORDS or el.get("role") in ("navigation", "banner", "contentinfo", "dialog"):
                doomed.append(el)
            elif el.get("aria-hidden") == "true" or _hidden_style(el):
                doomed.append(el)
        _drop_all(doomed)
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
                    _cut_from(el)
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
        _drop_all(list(root.iter(*_OLD_PRICE_TAGS)))
        check_time("product lines")
        doomed = []
        for n, el in enumerate(root.iter()):
            if n % 512 == 0:
                check_time("product lines")
            if isinstance(el.tag, str) and el is not root and _class_words(el) & _OLD_PRICE_WORDS:
                doomed.append(el)
        _drop_all(doomed)
        return linearize(root)

    @cached_property
    def product_text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def _json_script_sources(tree: etree._Element) -> list[tuple[str, str | None, str]]:
    """(type, id, text) of the JSON-LD and JSON data scripts, in document order."""
    found = []
    for el in tree.iter("script"):
        kind = (el.get("type") or "").lower()
        if kind in ("application/ld+json", "application/json") and el.text:
            found.append((kind, el.get("id"), el.text))
    return found


def _decode(data: bytes) -> str:
    """Bytes as text: UTF-8 unless a byte-order mark says UTF-16/32; bad bytes become U+FFFD."""
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    return data.decode("utf-8", errors="replace")


def _cut(html: str, limit: int) -> str:
    """The first `limit` characters, ending after a tag when one closes in the last 10 KB."""
    end = html.rfind(">", max(0, limit - 10_000), limit)
    return html[: end + 1 if end > 0 else limit]


_PARSER_DEPTH = 256  # libxml2 stops reading a page at this nesting depth ("Excessive depth in document")


def _nesting_cut(tree: etree._Element) -> bool:
    """The parser gave up at its depth limit: the document's last element sits about 256 deep."""
    node, depth = tree, 0
    while len(node) and depth < _PARSER_DEPTH:
        node, depth = node[-1], depth + 1
    return depth >= _PARSER_DEPTH - 4


def _drop(el: etree._Element) -> None:
    """Remove an element but keep the text that followed it."""
    if el.getparent() is not None:
        el.drop_tree()


def _drop_all(elements: list[Any]) -> None:
    """`_drop` for many elements at once, one pass per parent: dropping siblings one by one appends
    each tail to the same growing text (quadratic on a page of 50,000 dropped siblings)."""
    by_parent: dict[Any, set[Any]] = {}
    for el in elements:
        parent = el.getparent()
        if parent is not None:
            by_parent.setdefault(parent, set()).add(el)
    for n, (parent, doomed) in enumerate(by_parent.items()):
        if n % 64 == 0:
            check_time("dropping page furniture")
        pending: list[str] = []
        kept = None  # the last kept child: a dropped child's tail joins its tail (or the parent's text)
        for child in list(parent):
            if child in doomed:
                if child.tail:
                    pending.append(child.tail)
                parent.remove(child)
                continue
            if pending:
                _join_text(parent, kept, pending)
                pending = []
            kept = child
        if pending:
            _join_text(parent, kept, pending)


def _join_text(parent: Any, kept: Any, pieces: list[str]) -> None:
    # The parsed text is clean already (Page strips control characters); stripping again costs
    # little and keeps lxml's "All strings must be XML compatible" out whatever the tree holds.
    joined, _ = strip_control_characters("".join(pieces))
    if kept is None:
        parent.text = (parent.text or "") + joined
    else:
        kept.tail = (kept.tail or "") + joined


def _cut_from(el: etree._Element) -> None:
    """Remove `el` and everything after it in document order."""
    node = el
    while node is not None and node.getparent() is not None:
        parent = node.getparent()
        del parent[parent.index(node) + 1 :]  # the following siblings, in one call
        node.tail = None
        if node is el:
            parent.remove(node)
        node = parent


def _html_parser() -> lxml.html.HTMLParser:
    """lxml.html's parser with every element an HtmlElement, chosen in C: lxml.html's own lookup
    runs Python code for each element object made (a third of the time of a walk over a page).
    One parser per page: parsers are not shared between threads."""
    parser = lxml.html.HTMLParser()
    parser.set_element_class_lookup(_LOOKUP)
    return parser


_LOOKUP = etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity
)


_HIDDEN_CLASSES = {"hidden", "d-none", "is-hidden", "hide", "invisible", "u-hidden"}


def _hidden_style(el: etree._Element) -> bool:
    """Hidden by attribute, inline style or a utility class (screen-reader text stays: it is real text)."""
    style = (el.get("style") or "").replace(" ", "").lower()
    classes = set((el.get("class") or "").lower().split())
    return "display:none" in style or "visibility:hidden" in style or el.get("hidden") is not None or bool(classes & _HIDDEN_CLASSES)


def linearize(root: etree._Element) -> list[Line]:
    """Cut visible text into lines at block boundaries; inline pieces are joined without spaces
    added, so `<span>$</span><span>5,230</span><span>.31</span>` reads `$5,230.31`.
    (Iterative: a deeply nested page must not hit Python's recursion limit.)"""
    lines: list[Line] = []
    buffer: list[str] = []
    owner: Any = root

    def flush() -> None:
        if not buffer:
            return
        text = clean_text("".join(buffer))
        if " ." in text:
            # "5,230 .31" from cents in their own element with whitespace around it
            text = _SPLIT_CENTS.sub(r"\1.\2", text)
        if text:
            lines.append(Line(text=text, element=owner))
        buffer.clear()

    stack: list[tuple[Any, bool]] = [(root, True)]  # (element, entering)
    count = 0
    while stack:
        el, entering = stack.pop()
        if not isinstance(el.tag, str):  # comments, processing instructions
            if el.tail:
                buffer.append(el.tail)
            continue
        block = el.tag in BLOCK_TAGS
        if entering:
            count += 1
            if count % 512 == 0:
                check_time("reading the page text")
            if block:
                flush()
                owner = el
            if el.tag == "input" and el.get("type") in ("submit", "button") and el.get("value"):
                buffer.append(el.get("value"))
            if el.text:
                buffer.append(el.text)
            stack.append((el, False))
            stack.extend((child, True) for child in reversed(el))
            continue
        if block:
            flush()
            owner = el.getparent()
        if el.tail:
            buffer.append(el.tail)
    flush()
    return lines


_SPLIT_CENTS = re.compile(r"(\d) \.(\d{2})\b")

"""Operations on a parsed page: decoding, parsing, cutting and dropping elements.

lxml trees of real dealer pages can be huge (50,000 siblings, 256 levels deep): every walk here is
iterative and checks the time budget (`check_time`).
"""

from __future__ import annotations

import codecs
import re
from typing import Any

import lxml.html
from lxml import etree

from .limits import check_time, strip_control_characters

_WORD_SPLIT = re.compile(r"[-_\s]+|(?<=[a-z])(?=[A-Z])")


def class_words(el: etree._Element) -> set[str]:
    """The lower-case words of an element's class and id (`productCarousel` -> product, carousel)."""
    classes, ident = el.get("class"), el.get("id")
    if not classes and not ident:
        return set()
    raw = f"{classes or ''} {ident or ''}"
    return {w.lower() for w in _WORD_SPLIT.split(raw) if w}


def json_script_sources(tree: etree._Element) -> list[tuple[str, str | None, str]]:
    """(type, id, text) of the JSON-LD and JSON data scripts, in document order."""
    found = []
    for el in tree.iter("script"):
        kind = (el.get("type") or "").lower()
        if kind in ("application/ld+json", "application/json") and el.text:
            found.append((kind, el.get("id"), el.text))
    return found


def decode_bytes(data: bytes) -> str:
    """Bytes as text: UTF-8 unless a byte-order mark says UTF-16/32; bad bytes become U+FFFD."""
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    return data.decode("utf-8", errors="replace")


def cut_html(html: str, limit: int) -> str:
    """The first `limit` characters, ending after a tag when one closes in the last 10 KB."""
    end = html.rfind(">", max(0, limit - 10_000), limit)
    return html[: end + 1 if end > 0 else limit]


PARSER_DEPTH = 256  # libxml2 stops reading a page at this nesting depth ("Excessive depth in document")


def nesting_cut(tree: etree._Element) -> bool:
    """The parser gave up at its depth limit: the document's last element sits about 256 deep."""
    node, depth = tree, 0
    while len(node) and depth < PARSER_DEPTH:
        node, depth = node[-1], depth + 1
    return depth >= PARSER_DEPTH - 4


def drop_all(elements: list[Any]) -> None:
    """Remove elements but keep the text that followed each, one pass per parent: dropping
    siblings one by one appends each tail to the same growing text (quadratic on a page of 50,000
    dropped siblings)."""
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


def cut_from(el: etree._Element) -> None:
    """Remove `el` and everything after it in document order."""
    node = el
    while node is not None and node.getparent() is not None:
        parent = node.getparent()
        del parent[parent.index(node) + 1 :]  # the following siblings, in one call
        node.tail = None
        if node is el:
            parent.remove(node)
        node = parent


def html_parser() -> lxml.html.HTMLParser:
    """lxml.html's parser with every element an HtmlElement, chosen in C: lxml.html's own lookup
    runs Python code for each element object made (a third of the time of a walk over a page).
    One parser per page: parsers are not shared between threads."""
    parser = lxml.html.HTMLParser()
    parser.set_element_class_lookup(_LOOKUP)
    return parser


_LOOKUP = etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity
)


HIDDEN_CLASSES = {"hidden", "d-none", "is-hidden", "hide", "invisible", "u-hidden"}


def hidden_style(el: etree._Element) -> bool:
    """Hidden by attribute, inline style or a utility class (screen-reader text stays: it is real text)."""
    style = (el.get("style") or "").replace(" ", "").lower()
    classes = set((el.get("class") or "").lower().split())
    return "display:none" in style or "visibility:hidden" in style or el.get("hidden") is not None or bool(classes & HIDDEN_CLASSES)

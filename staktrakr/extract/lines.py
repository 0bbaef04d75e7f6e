"""A page's visible text cut into lines at block boundaries, in document order."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .limits import check_time
from .money import Amount, clean_text, find_amounts
from .payment import PayLabel, Tier, pay_labels, parse_tier

BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "br", "button", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "label", "legend", "li", "main", "nav", "ol", "option", "p", "pre", "section", "select",
    "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "html",
}  # fmt: skip

_SPLIT_CENTS = re.compile(r"(\d) \.(\d{2})\b")


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

"""Bounds on what one page may cost: how much of it is parsed, how deep and how many JSON blobs
are read, how long numbers may be, and how long the whole chain may run.

Hostile or broken pages (a 5 MB page, a JSON-LD array nested 100,000 deep, a 5,000-digit price,
control characters, an unclosed attribute) must neither raise nor hang the crawl: the chain
reads a bounded part of them and says so in its steps and reason.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# The one statement of these defaults: staktrakr/settings.py imports them as the Scrapy settings
# of the same names, and the crawl passes those (a `-s` override wins); other callers get these.
STAKTRAKR_MAX_PARSE_BYTES = 2_000_000  # the chain reads the first 2 MB of a page (characters of decoded text)
STAKTRAKR_MAX_ELEMENTS = 20_000  # elements read per page, in document order (dealer pages have 2,000-6,000)
STAKTRAKR_EXTRACT_TIME_BUDGET = 2.0  # CPU seconds per page, parsing included; 0 or less: no limit

MAX_JSON_DEPTH = 64  # JSON-LD / framework blobs nested deeper are skipped
MAX_JSON_SCRIPTS = 50  # JSON scripts read per page
MAX_JSON_SCRIPT_CHARS = 1_000_000  # larger JSON scripts are skipped
MAX_NUMBER_DIGITS = 20  # longer numbers (in JSON and in text) are not prices: ignored
MAX_TITLE_CHARS = 300  # product titles are cut to this length before they are read

# Characters lxml refuses ("All strings must be XML compatible"): C0 controls but tab, newline and
# carriage return, lone surrogates and the two non-characters U+FFFE/U+FFFF; and DEL, which lxml
# keeps but which splits "$94" as surely as a NUL.
_SPACE_LIKE = re.compile("[\x0b\x0c]")
_XML_INCOMPATIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


# Character references the parser would turn into such characters ("&#27;", "&#x1b;", "&#65535;").
_BAD_CHAR_REF = re.compile(
    r"&#(?:0*(?:[1-8]|1[124-9]|2\d|3[01]|127|6553[45])(?!\d)|x0*(?:[1-8bcef]|1[0-9a-f]|7f|fff[ef])(?![0-9a-f]));?",
    re.IGNORECASE,
)


def strip_control_characters(text: str) -> tuple[str, int]:
    """`text` without the characters lxml cannot hold (vertical tab and form feed become spaces,
    the others go: "$9\\x003.33" reads "$93.33") nor character references to them, and how many
    there were."""
    refs = 0
    if "&#" in text:
        text, refs = _BAD_CHAR_REF.subn("", text)
    if not _XML_INCOMPATIBLE.search(text):
        return text, refs
    text, spaced = _SPACE_LIKE.subn(" ", text)
    text, removed = _XML_INCOMPATIBLE.subn("", text)
    return text, refs + spaced + removed


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} KB"


# -- time budget ---------------------------------------------------------------------------------
# Measured in CPU time of the thread doing the extraction (time.thread_time): what the page
# costs, not how busy the machine is, so a normal page on a loaded poller is never given up.


class OutOfTime(Exception):
    """The page's time budget ran out; `where` is the part of the chain that was running."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


_DEADLINE: ContextVar[float | None] = ContextVar("staktrakr_extract_deadline", default=None)


def cpu_clock() -> float:
    return time.thread_time()


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Within the block, `check_time` raises OutOfTime once this thread has used `seconds` more
    CPU time (None, inf: never)."""
    at = None if seconds is None or math.isinf(seconds) else cpu_clock() + seconds
    token = _DEADLINE.set(at)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def check_time(where: str) -> None:
    """Cooperative deadline check for long loops and between chain steps (no signals, no threads)."""
    at = _DEADLINE.get()
    if at is not None and cpu_clock() > at:
        raise OutOfTime(where)


# -- JSON ------------------------------------------------------------------------------------------

# A JSON string, or an unterminated one up to the end: it always matches where it starts, so
# a hostile `"\"\"\"…` without an end costs one pass, not one pass per quote.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """The JSON text nests arrays/objects deeper than `limit` (strings skipped; linear time)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(itertools.accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0) > limit


def _digits(text: str) -> int:
    mantissa = text.lstrip("-+").split("e", 1)[0].split("E", 1)[0]
    return len(mantissa) - ("." in mantissa)


def _json_int(text: str) -> int | None:
    return int(text) if _digits(text) <= MAX_NUMBER_DIGITS else None


def _json_float(text: str) -> float | None:
    if _digits(text) > MAX_NUMBER_DIGITS:
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _json_constant(_: str) -> None:
    return None  # NaN, Infinity, -Infinity


def load_json(text: str) -> Any:
    """json.loads that turns numbers of more than MAX_NUMBER_DIGITS digits, NaN and infinities into
    None (no 4,300-digit ValueError, no overflow later). Raises ValueError on invalid JSON; check
    json_too_deep first (json.loads recurses)."""
    return json.loads(text, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant)


def finite_number(value: Any) -> float | None:
    """A JSON or text number as a float when it is a plausible amount of money (finite, at most
    MAX_NUMBER_DIGITS digits before the point); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return float(value) if abs(value) < 10**MAX_NUMBER_DIGITS else None
    if isinstance(value, float):
        return value if math.isfinite(value) and abs(value) < 10**MAX_NUMBER_DIGITS else None
    return None

"""Extraction: from a downloaded page to (price, stock, status, method, reason).

`page` parses a page once and keeps its product area (`html_tree`: decoding, parsing, cutting
and dropping elements; `lines`: the visible text cut into lines); `chain` runs the steps of the
other modules in order and decides. `limits` holds the bounds on what one page may cost
(STAKTRAKR_MAX_PARSE_BYTES, STAKTRAKR_MAX_ELEMENTS, STAKTRAKR_EXTRACT_TIME_BUDGET …);
settings.py takes their defaults from there."""

from . import limits
from .chain import extract
from .page import Page

__all__ = ["Page", "extract", "limits"]

"""Extraction: from a downloaded page to (price, stock, status, method, reason).

`limits` holds the bounds on what one page may cost (STAKTRAKR_MAX_PARSE_BYTES,
STAKTRAKR_MAX_ELEMENTS, STAKTRAKR_EXTRACT_TIME_BUDGET …)."""

from . import limits
from .chain import extract
from .page import Page

__all__ = ["Page", "extract", "limits"]

"""Extraction: from a downloaded page to (price, stock, status, method, reason)."""

from .chain import extract
from .page import Page

__all__ = ["Page", "extract"]

"""Pydantic models of the published API files: what the export writes (`retail`, `feeds`) and
the checked views the backfill imports from (`imported`)."""

from .base import ApiModel, dump
from .feeds import GoldbackDay, GoldbackSpot, GoldbackYear, SpotEntry, SpotFile
from .retail import (
    CoinMeta,
    CoinSummary,
    DailyVendor,
    History,
    HistoryDay,
    LatestIndex,
    Manifest,
    Providers,
    VENDOR_META_KEY,
    VendorMeta,
    SlugLatest,
    SpotRef,
    VendorQuote,
    Window,
)

__all__ = [
    "ApiModel", "dump", "GoldbackDay", "GoldbackSpot", "GoldbackYear", "SpotEntry", "SpotFile", "CoinMeta",
    "CoinSummary", "DailyVendor", "History", "HistoryDay", "LatestIndex", "Manifest", "Providers", "SlugLatest",
    "SpotRef", "VENDOR_META_KEY", "VendorMeta", "VendorQuote", "Window",
]  # fmt: skip

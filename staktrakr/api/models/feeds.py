"""The spot and Goldback files of the API (written by the export from the plugins' tables)."""

from __future__ import annotations

from pydantic import RootModel

from .base import ApiModel, Number


class SpotEntry(ApiModel):
    """One reading in an hourly, 15-minute or yearly seed spot file."""

    spot: Number
    metal: str  # capitalised, as the live files have it: "Gold"
    source: str
    provider: str
    timestamp: str  # UTC without a zone, "2026-03-15 20:15:00"


class SpotFile(RootModel[list[SpotEntry]]):
    """`hourly/YYYY/MM/DD/HH.json`, `15min/YYYY/MM/DD/HHMM.json`, `spot-history-YYYY.json`."""


class GoldbackSpot(ApiModel):
    """`api/goldback-spot.json`: the G1 rate of the day and what each note is worth."""

    date: str
    scraped_at: str
    g1_usd: Number
    denominations: dict[str, Number]
    source: str
    confidence: str


class GoldbackDay(ApiModel):
    date: str
    g1_usd: Number
    scraped_at: str


class GoldbackYear(RootModel[list[GoldbackDay]]):
    """`goldback-YYYY.json`: one rate per day of the year, newest first."""

"""The Goldback files of the published API, built from the database by the export (hook
`staktrakr_export_files`); only the export writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from staktrakr.api import layout
from staktrakr.extract.money import round2
from staktrakr.timeutil import iso_ms

from .page import UNITS
from .store import daily_goldback_rates

SOURCE = "goldback.com"


def goldback_files(db: Any, as_of: datetime) -> dict[str, Any]:
    """`api/goldback-spot.json` (newest stored rate) and `goldback-YYYY.json` (one entry per day of
    the export's year, newest first), from scraped rates only — never from retail prices."""
    rates = daily_goldback_rates(db, until=iso_ms(as_of))
    if not rates:
        return {}
    latest = rates[0]
    g1 = float(latest["g1_usd"])
    # Fresh from the official page today: high. A carried rate (today's scrape has not happened
    # or failed) or one imported from the old API: medium.
    fresh = latest["date"] == as_of.date().isoformat() and latest["source"] == SOURCE
    files: dict[str, Any] = {
        layout.GOLDBACK_SPOT: {
            "date": latest["date"],
            "scraped_at": latest["scraped_at"],
            "g1_usd": g1,
            "denominations": {denom: round2(g1 * units) for denom, units in UNITS.items()},
            "source": SOURCE,
            "confidence": "high" if fresh else "medium",
        }
    }
    year = f"{as_of.year:04d}"
    history = [{"date": r["date"], "g1_usd": r["g1_usd"], "scraped_at": r["scraped_at"]} for r in rates if r["date"][:4] == year]
    if history:
        files[layout.goldback_year(as_of.year)] = history
    return files

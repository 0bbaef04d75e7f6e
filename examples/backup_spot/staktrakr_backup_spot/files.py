"""The plugin's published file, written by `staktrakr export` (hook `staktrakr_export_files`):
`backup-spot/latest.json`, the newest backup reading of each metal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from staktrakr.timeutil import iso_ms

from .settings import METALS
from .store import latest_reading

LATEST_FILE = "backup-spot/latest.json"


class MetalReading(BaseModel):
    spot: float
    timestamp: str
    source: str


class LatestFile(BaseModel):
    """The file's shape: also what the backfill importer reads back."""

    updated_at: str  # the newest reading's timestamp: what the health check judges
    metals: dict[str, MetalReading]


def export_files(db: Any, as_of: datetime) -> dict[str, Any]:
    readings = {m: row for m in METALS if (row := latest_reading(db, m, "0000", iso_ms(as_of))) is not None}
    if not readings:
        return {}
    latest = LatestFile(
        updated_at=max(r["timestamp"] for r in readings.values()),
        metals={m: MetalReading(spot=r["spot"], timestamp=r["timestamp"], source=r["source"]) for m, r in readings.items()},
    )
    return {LATEST_FILE: latest.model_dump(mode="json")}

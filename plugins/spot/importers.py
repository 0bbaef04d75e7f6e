"""The spot feed's backfill importer: the readings of the hourly and 15-minute spot files.

From a folder every file of `15min/` and `hourly/` is read (15-minute files first: theirs are
the real poll times, the hourly copies are stamped with the floor). Over HTTP folders cannot be
listed: only the hourly files of the hours the imported retail windows cover are fetched (a
missing one is skipped silently); the 15-minute files would repeat the same readings. Spot
readings of other hours are not reachable over HTTP: import from a checkout of the `api` branch.
"""

from __future__ import annotations

from staktrakr.api import layout
from staktrakr.api.models.imported import SPOT_READINGS
from staktrakr.backfill import BackfillImporter, ImportRun, import_id
from staktrakr.store.snapshots import IMPORT_POLLER_ID
from staktrakr.timeutil import floor_15, iso_ms, iso_s

from .store import SpotReading, insert_spot_readings, observed_spot_floors


class SpotFilesImporter(BackfillImporter):
    family = "spot"

    def run(self, run: ImportRun) -> None:
        seen: set[str] = set()  # one poll appears in a 15-minute file and in its hourly file
        folder = run.folder
        if folder is not None:
            for rel in folder.files_under(layout.QUARTER_DIR) + folder.files_under(layout.HOURLY_DIR):
                self._file(run, rel, seen, quiet_missing=False)
        else:
            for hour in sorted(run.window_hours):
                self._file(run, layout.hourly_spot(hour), seen, quiet_missing=True)

    def _file(self, run: ImportRun, rel: str, seen: set[str], quiet_missing: bool) -> None:
        entries = run.load_valid(rel, SPOT_READINGS, quiet_missing)
        if entries is None:
            return
        counts = run.counts(self.family)
        counts.files += 1
        readings: dict[str, SpotReading] = {}
        for entry in entries:
            floor = iso_s(floor_15(entry.timestamp))
            # The same metal, floor and price is the same reading, wherever it was published.
            row_id = import_id("spot", entry.metal, floor, repr(entry.spot))
            if row_id in seen or row_id in readings:
                continue
            readings[row_id] = SpotReading(
                id=row_id, poller_id=IMPORT_POLLER_ID, metal=entry.metal, spot=entry.spot, source=IMPORT_POLLER_ID,
                timestamp=iso_ms(entry.timestamp), timestamp_floor=floor, scraped_at=iso_ms(entry.timestamp),
            )  # fmt: skip
        seen.update(readings)
        if not readings:
            return
        with run.db.held():
            floors = [r.timestamp_floor for r in readings.values()]
            live = observed_spot_floors(run.db, min(floors), max(floors), IMPORT_POLLER_ID)
            fresh = [r for r in readings.values() if (r.metal, r.timestamp_floor) not in live]
            counts.rows += len(readings)
            counts.covered += len(readings) - len(fresh)
            counts.inserted += insert_spot_readings(run.db, fresh) if fresh else 0


def backfill_importers() -> list[BackfillImporter]:
    return [SpotFilesImporter()]

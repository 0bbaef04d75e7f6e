"""The plugin's backfill importer (hook `staktrakr_backfill_importers`): `staktrakr backfill`
reads `backup-spot/latest.json` of a published data root back into `backup_spot_prices`."""

from __future__ import annotations

from pydantic import TypeAdapter

from staktrakr.backfill import BackfillImporter, ImportRun, import_id
from staktrakr.store.snapshots import IMPORT_POLLER_ID

from .files import LATEST_FILE, LatestFile
from .store import BackupReading, insert_readings

_LATEST = TypeAdapter(LatestFile)


class BackupSpotImporter(BackfillImporter):
    family = "backup_spot"

    def run(self, run: ImportRun) -> None:
        latest = run.load_valid(LATEST_FILE, _LATEST, quiet_missing=True)
        if latest is None:
            return
        counts = run.counts(self.family)
        counts.files += 1
        readings = [
            BackupReading(
                id=import_id("backup_spot", metal, r.timestamp), poller_id=IMPORT_POLLER_ID, metal=metal, spot=r.spot,
                source=r.source, timestamp=r.timestamp, scraped_at=r.timestamp,
            )  # fmt: skip
            for metal, r in latest.metals.items()
        ]
        counts.rows += len(readings)
        with run.db.held():
            counts.inserted += insert_readings(run.db, readings)


def backfill_importers() -> list[BackfillImporter]:
    return [BackupSpotImporter()]

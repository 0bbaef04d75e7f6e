"""The Goldback feed's backfill importer: the daily rates of `goldback-YYYY.json`.

From a folder every yearly file at its top is read; over HTTP, the files of the years the
imported retail windows and days fall in (a missing one is skipped silently).
"""

from __future__ import annotations

from staktrakr.api import layout
from staktrakr.api.models.imported import GOLDBACK_RATES
from staktrakr.backfill import BackfillImporter, ImportRun, import_id
from staktrakr.store.snapshots import IMPORT_POLLER_ID
from staktrakr.timeutil import iso_ms

from .store import GoldbackRate, insert_goldback_rate


class GoldbackFilesImporter(BackfillImporter):
    family = "goldback"

    def run(self, run: ImportRun) -> None:
        folder = run.folder
        if folder is not None:
            names = [n for n in folder.files_named("goldback-*.json") if layout.GOLDBACK_YEAR_NAME.fullmatch(n)]
            for rel in names:
                self._file(run, rel, quiet_missing=False)
        else:
            for year in sorted(run.years):
                self._file(run, layout.goldback_year(year), quiet_missing=True)

    def _file(self, run: ImportRun, rel: str, quiet_missing: bool) -> None:
        entries = run.load_valid(rel, GOLDBACK_RATES, quiet_missing)
        if entries is None:
            return
        counts = run.counts(self.family)
        counts.files += 1
        rates = {}
        for entry in entries:
            scraped_at = iso_ms(entry.scraped_at)
            row_id = import_id("goldback", entry.date.isoformat(), scraped_at)
            rates[row_id] = GoldbackRate(
                id=row_id, poller_id=IMPORT_POLLER_ID, date=entry.date.isoformat(), g1_usd=entry.g1_usd,
                scraped_at=scraped_at, source=IMPORT_POLLER_ID, url=None,
            )  # fmt: skip
        counts.rows += len(rates)
        with run.db.held():
            counts.inserted += sum(insert_goldback_rate(run.db, rate) for rate in rates.values())


def backfill_importers() -> list[BackfillImporter]:
    return [GoldbackFilesImporter()]

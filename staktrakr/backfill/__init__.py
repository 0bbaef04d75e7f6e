"""`staktrakr backfill`: the history a published API holds, imported into the database.

`run` (the run and its rules), `retail` (the core's windows and daily averages), `importer`
(what a plugin's importer is: `BackfillImporter`, `ImportRun`), `report`, `command`.
"""

from .command import backfill_command
from .importer import BackfillImporter, ImportRun, import_id
from .report import BackfillReport, FamilyCounts, SkippedFile
from .retail import DAILY_METHOD, WINDOW_METHOD
from .run import backfill, collect_importers

__all__ = [
    "BackfillImporter", "BackfillReport", "DAILY_METHOD", "FamilyCounts", "ImportRun", "SkippedFile", "WINDOW_METHOD",
    "backfill", "backfill_command", "collect_importers", "import_id",
]  # fmt: skip

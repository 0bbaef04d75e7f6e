"""Backfill: import the history the live system published (its static JSON API) into the database.

`staktrakr backfill --from-api DIR_OR_URL` reads a *data root* — the folder (or the http(s) URL of
the folder) that holds `api/`, `hourly/`, `15min/` and `goldback-YYYY.json` — and stores what
each importer reads: the core's retail windows and daily averages (`retail.py`), then the
plugins' families (`staktrakr_backfill_importers`: spot readings, Goldback rates).

Rules that keep the database honest:

* Every row id is `import-` plus a hash of the row's natural key, so a second run (or a run on a
  newer copy of the files) inserts nothing it already inserted. Poller ids (`api-20260315T…-hex`)
  have a different shape, so the two can never collide.
* Nothing is imported over what the pollers stored themselves: a (coin, dealer, window) or a
  (metal, 15-minute floor) that already has a poller row is counted as *covered* and left out, and
  a day that already has any window row gets no daily average.
* A file is validated as a whole: a NUL-filled, truncated, non-JSON or wrongly shaped file, or one
  with a value that is not a plausible number, is skipped with its reason and the rest goes on.

Over HTTP folders cannot be listed, so a URL source imports the manifest's slugs, and the
plugins' files of the hours and years the imported windows and days cover (see each importer).
The yearly `spot-history-YYYY.json` seed files and `history-7d.json` (a subset of the 30-day file)
are not imported.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..api.reader import DEFAULT_TIMEOUT_S, open_data_root
from ..errors import PluginError
from ..plugin_manager import get_plugin_manager
from ..store.db import Database
from ..timeutil import iso_ms, utcnow
from .importer import BackfillImporter, ImportRun
from .report import BackfillReport
from .retail import import_retail

logger = logging.getLogger(__name__)

HTTP_TIMEOUT_S = DEFAULT_TIMEOUT_S


def collect_importers(pm: Any | None) -> list[BackfillImporter]:
    """The plugins' importers, in the order the hook returns them."""
    if pm is None:
        return []
    importers = [importer for found in pm.hook.staktrakr_backfill_importers() for importer in (found or [])]
    for importer in importers:
        if not isinstance(importer, BackfillImporter):
            raise PluginError(f"staktrakr_backfill_importers returned a {type(importer).__name__}, not a BackfillImporter")
    return importers


def backfill(
    db: Database,
    source: str,
    now: datetime | None = None,
    *,
    timeout_s: float = HTTP_TIMEOUT_S,
    importers: Iterable[BackfillImporter] | None = None,
) -> BackfillReport:
    """Import everything `source` (a data-root folder or its http(s) URL) holds; see the module doc.
    `importers`: the plugins' (default: those of the process's plugin manager)."""
    if importers is None:
        importers = collect_importers(get_plugin_manager())
    now = now or utcnow()
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    started = time.monotonic()
    try:
        root = open_data_root(source, timeout_s)
    except ValueError as exc:
        report = BackfillReport(source=_redact(source), started_at=iso_ms(now))
        report.skip(".", str(exc))
    else:
        report = BackfillReport(source=root.label, started_at=iso_ms(now))
        run = ImportRun(db, root, report, now)
        import_retail(run)
        for importer in importers:
            run.counts(importer.family)
            importer.run(run)
        if not report.files_read and not report.skipped:
            report.skip(".", "not a data root: no file of the API in it (api/{slug}/…, nor any plugin's)")
    report.duration_s = round(time.monotonic() - started, 3)
    logger.info(
        "backfill from %s: %d file(s) read, %d row(s) inserted, %d file(s) skipped in %.1f s",
        report.source, report.files_read, report.inserted, len(report.skipped), report.duration_s,
    )  # fmt: skip
    return report


def _redact(source: str) -> str:
    parts = urlsplit(source)
    if parts.scheme and parts.netloc:
        return urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))
    return source

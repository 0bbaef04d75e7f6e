"""What a backfill importer is, and the run it works in.

The core imports the retail files (`retail.py`); plugins bring importers for their own files
through `staktrakr_backfill_importers` (the spot plugin its hourly and 15-minute files, the
Goldback plugin its yearly rate files). Importers run after the retail import, in the order the
hook returns them, each given the same `ImportRun`.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..api.reader import DataRoot, FileProblem, FolderRoot
from ..store.db import Database
from ..store.snapshots import IMPORT_POLLER_ID
from .report import BackfillReport, FamilyCounts


class BackfillImporter(ABC):
    """Reads one family of a plugin's files from a data root into the plugin's tables."""

    family: str  # its row in the report ("spot", "goldback")

    @abstractmethod
    def run(self, run: ImportRun) -> None:
        """Import what `run.root` holds of this family. A folder (`run.folder`) can be listed;
        over HTTP only known names can be read: `run.window_hours` and `run.years` say which
        hours and years the retail import covered. Count into `run.counts(self.family)`."""


@dataclass
class ImportRun:
    """One backfill over one data root: where to read, where to store, what to report."""

    db: Database
    root: DataRoot
    report: BackfillReport
    now: datetime
    window_hours: set[datetime] = field(default_factory=set)  # hours the imported windows cover
    years: set[int] = field(default_factory=set)  # years the imported windows and days fall in

    @property
    def folder(self) -> FolderRoot | None:
        """The root when it is a folder (its files can be listed), else None."""
        return self.root if isinstance(self.root, FolderRoot) else None

    def counts(self, family: str) -> FamilyCounts:
        return self.report.family(family)

    def missing_reason(self) -> str:
        return "missing" if self.folder is not None else "not found (HTTP 404)"

    def read(self, rel: str) -> tuple[Any, bool]:
        """(the file's JSON, False), (None, True) when it does not exist, or (None, False) after
        recording why it cannot be used."""
        try:
            return self.root.read_json(rel), False
        except FileProblem as exc:
            if exc.not_found:
                return None, True
            self.report.skip(rel, exc.reason)
            return None, False

    def load(self, rel: str, quiet_missing: bool) -> Any:
        """The file's JSON, or None after recording why not (a missing file only if not quiet)."""
        data, missing = self.read(rel)
        if missing and not quiet_missing:
            self.report.skip(rel, self.missing_reason())
        return data

    def validate(self, rel: str, adapter: TypeAdapter[Any], data: Any) -> Any:
        """`data` checked by `adapter` (plausible against `now`), or None after recording why not."""
        try:
            return adapter.validate_python(data, context={"now": self.now})
        except ValidationError as exc:
            self.report.skip(rel, f"unexpected content: {shape_problem(exc)}")
            return None

    def load_valid(self, rel: str, adapter: TypeAdapter[Any], quiet_missing: bool) -> Any:
        data = self.load(rel, quiet_missing)
        return self.validate(rel, adapter, data) if data is not None else None


def shape_problem(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False)[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "file"
        problems.append(f"{where}: {error['msg']}")
    more = exc.error_count() - len(problems)
    return "; ".join(problems) + (f" (+{more} more)" if more > 0 else "")


def import_id(*key: str) -> str:
    """`import-3f9a…`: the same natural key always gives the same id (idempotent re-runs)."""
    return f"{IMPORT_POLLER_ID}-{hashlib.sha256('|'.join(key).encode()).hexdigest()[:20]}"

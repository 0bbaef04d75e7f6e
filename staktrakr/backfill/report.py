"""What a backfill run did: counts per family of files, and every file skipped with its reason."""

from __future__ import annotations

import logging

from pydantic import BaseModel, Field, computed_field

logger = logging.getLogger(__name__)


class FamilyCounts(BaseModel):
    """What one family of files gave."""

    files: int = 0  # files read and valid
    rows: int = 0  # distinct rows those files hold, after the import rules
    inserted: int = 0  # rows stored by this run
    # Rows left out because the pollers already stored that window or spot floor. (Days that
    # already have window rows are not counted in `rows` of the daily family at all.)
    covered: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def already_imported(self) -> int:
        return self.rows - self.inserted - self.covered


class SkippedFile(BaseModel):
    file: str  # path relative to the data root
    reason: str


class BackfillReport(BaseModel):
    """Counts per file family (the core's `windows` and `daily`, then each importer's), and
    every file that was skipped with the reason."""

    source: str  # folder, or URL without query string
    started_at: str
    duration_s: float = 0.0
    families: dict[str, FamilyCounts] = Field(default_factory=dict)
    skipped: list[SkippedFile] = Field(default_factory=list)
    # Slug folders the manifest does not list (stale exports of removed coins): not imported.
    ignored_slugs: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def files_read(self) -> int:
        return sum(c.files for c in self.families.values())

    @computed_field  # type: ignore[prop-decorator]
    @property
    def inserted(self) -> int:
        return sum(c.inserted for c in self.families.values())

    @computed_field  # type: ignore[prop-decorator]
    @property
    def exit_code(self) -> int:
        """0 when at least one data file could be read, even if others were skipped."""
        return 0 if self.files_read else 1

    def family(self, name: str) -> FamilyCounts:
        """The counts of family `name` (created empty on first use, in the order of first use)."""
        return self.families.setdefault(name, FamilyCounts())

    def skip(self, file: str, reason: str) -> None:
        logger.info("backfill: skipped %s: %s", file, reason)  # the report lists them
        self.skipped.append(SkippedFile(file=file, reason=reason))

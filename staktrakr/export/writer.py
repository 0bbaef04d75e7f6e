"""Writing the API folder: JS-compatible JSON, atomic replace, untouched when unchanged.

Every file of a known family is checked against its model before it is written (a file its
published schema would reject is a bug, never published). The export clears the temp files an
interrupted write left; the publisher commits only the API's files (`is_api_file`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api.families import published_value
from ..api.layout import API_DIR, NOT_SLUG_DIRS, is_api_file, slug_dir  # is_api_file re-exported for the publisher
from ..files import ensure_mode, is_temp_name, make_dirs, write_atomic  # re-exported: the export's callers import them from here

logger = logging.getLogger(__name__)

def staging_dir(root: Path) -> Path:
    """Where the export writes its temp files: a hidden sibling of the data root, so a process
    killed mid-write leaves nothing inside the folder that is served and published."""
    root = Path(root).absolute()
    return root.parent / f".{root.name or 'data'}.staging"


# Older than this, a temp file is debris: `write_atomic` holds one for milliseconds. Younger
# ones may belong to a write still going on (a spot or Goldback crawl writes into the same root).
DEBRIS_AGE_S = 60.0


def js_value(value: Any) -> Any:
    """Numbers as JavaScript prints them: 5245.0 -> 5245 (the live files never pad zeros)."""
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, dict):
        return {k: js_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [js_value(v) for v in value]
    return value


def dumps(value: Any) -> bytes:
    """Pretty JSON with 2-space indent and a trailing newline, like the live files."""
    return (json.dumps(js_value(value), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass
class WriteLog:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class ApiWriter:
    """Writes files under the data root and remembers what it did."""

    def __init__(self, root: Path):
        self.root = root
        self.log = WriteLog()
        self.staging = _usable_staging(root)

    def remove_debris(self, older_than_s: float = DEBRIS_AGE_S) -> list[str]:
        """Delete temp files an interrupted write left in the data root or the staging folder
        (a killed export, spot or Goldback crawl); returns their paths relative to the root."""
        now = time.time()
        removed: list[str] = []
        places = [(self.root, True)] + ([(self.staging, False)] if self.staging else [])
        for place, only_temp_names in places:
            for folder, dirs, files in os.walk(place):
                dirs[:] = [d for d in dirs if d != ".git"]
                for name in files:
                    if only_temp_names and not is_temp_name(name):
                        continue
                    path = Path(folder) / name
                    try:
                        if now - path.lstat().st_mtime < older_than_s:
                            continue
                        path.unlink()
                    except FileNotFoundError:
                        continue  # its writer renamed it into place meanwhile
                    removed.append(os.path.relpath(path, self.root))
        if removed:
            logger.warning("removed %d temp file(s) left by an interrupted write: %s", len(removed), ", ".join(removed[:5]))
        return removed

    def write_json(self, relative: str, value: Any) -> None:
        """Write `value` (a model of the file's family, or JSON data, which is checked against
        that model) as `relative`, unless the file already says the same."""
        value = published_value(relative, value)
        path = self.root / relative
        # Comparing parsed JSON is much cheaper than pretty-printing (Python's indenting
        # encoder is slow) and decides most files of a re-export.
        if self.read_json(relative) == js_value(value):
            ensure_mode(path)  # published by an older version with 0600: readable again
            self.log.unchanged.append(relative)
            return
        if write_atomic(path, dumps(value), self.staging):
            self.log.written.append(relative)
        else:
            self.log.unchanged.append(relative)

    def read_json(self, relative: str) -> Any:
        try:
            return json.loads((self.root / relative).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def remove_stale_slug_dirs(self, keep: set[str]) -> None:
        """Folders of slugs no longer configured go (the live API kept 58 orphans, B-17)."""
        api = self.root / API_DIR
        if not api.is_dir():
            return
        for child in sorted(api.iterdir()):
            if child.is_dir() and child.name not in keep | NOT_SLUG_DIRS and (child / "latest.json").exists():
                shutil.rmtree(child)
                self.log.removed.append(f"{slug_dir(child.name)}/")


def _usable_staging(root: Path) -> Path | None:
    """The staging folder when it can be created on the data root's filesystem (rename must
    stay atomic); else None, and temp files go beside their target (cleared by remove_debris,
    never published)."""
    staging = staging_dir(root)
    try:
        make_dirs(Path(root))  # served: 0755 like every folder the export creates
        staging.mkdir(exist_ok=True)
        if staging.stat().st_dev == Path(root).stat().st_dev:
            return staging
    except OSError:  # parent not writable (e.g. the root is a mount point owned by someone else)
        return None
    return None

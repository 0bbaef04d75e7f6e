"""Writing the API folder: JS-compatible JSON, atomic replace, untouched when unchanged."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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


def write_atomic(path: Path, data: bytes) -> bool:
    """Replace `path` with `data` via a temp file + rename; False (file untouched) when equal."""
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


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

    def write_json(self, relative: str, value: Any) -> None:
        path = self.root / relative
        # Comparing parsed JSON is much cheaper than pretty-printing (Python's indenting
        # encoder is slow) and decides most files of a re-export.
        if self.read_json(relative) == js_value(value):
            self.log.unchanged.append(relative)
            return
        if write_atomic(path, dumps(value)):
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
        api = self.root / "api"
        if not api.is_dir():
            return
        for child in sorted(api.iterdir()):
            if child.is_dir() and child.name not in keep and (child / "latest.json").exists():
                shutil.rmtree(child)
                self.log.removed.append(f"api/{child.name}/")

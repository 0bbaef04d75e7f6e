"""Writing a file so that a reader never sees half of it: temp file, fsync, rename.

Used by the export (every API file), the providers cache and the feed plugins. The temp file
is a dotfile ending in `.tmp` (`.latest.json.k2j4_x.tmp`), so debris of a killed write is easy
to recognise and is never published.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def is_temp_name(name: str) -> bool:
    """A temp file of `write_atomic` (`.latest.json.k2j4_x.tmp`)."""
    return name.startswith(".") and name.endswith(".tmp")


def write_atomic(path: Path, data: bytes, tmp_dir: Path | None = None) -> bool:
    """Replace `path` with `data` via a temp file + rename; False (file untouched) when equal.

    The temp file goes to `tmp_dir` (same filesystem as `path`, or the rename fails) or, by
    default, beside `path` as a dotfile ending in `.tmp`.
    """
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=tmp_dir or path.parent)
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

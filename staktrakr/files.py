"""Writing a file so that a reader never sees half of it: temp file, fsync, rename.

Used by the export (every API file), the providers cache and the feed plugins. The temp file
is a dotfile ending in `.tmp` (`.latest.json.k2j4_x.tmp`), so debris of a killed write is easy
to recognise and is never published.

Modes are explicit: `mkstemp` creates its file 0600 and the rename keeps that mode, so without a
chmod a web server running as another user could not read the published files. Files get
`FILE_MODE` (0644) and the folders this module creates `DIR_MODE` (0755), whatever the umask.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

FILE_MODE = 0o644
DIR_MODE = 0o755


def is_temp_name(name: str) -> bool:
    """A temp file of `write_atomic` (`.latest.json.k2j4_x.tmp`)."""
    return name.startswith(".") and name.endswith(".tmp")


def make_dirs(folder: Path, mode: int = DIR_MODE) -> None:
    """Create `folder` and its missing parents with `mode` (the umask does not apply); folders
    that already exist are left as they are (the data root may be a mount owned by someone else)."""
    missing: list[Path] = []
    current = Path(folder)
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for created in reversed(missing):
        try:
            created.mkdir(mode=mode)
        except FileExistsError:
            continue  # another writer made it meanwhile: theirs
        os.chmod(created, mode)


def ensure_mode(path: Path, mode: int = FILE_MODE) -> None:
    """Give an unchanged file `mode` (a file an older version wrote 0600 is never rewritten
    while its content stays the same); a file someone else owns is left as it is."""
    try:
        if os.stat(path).st_mode & 0o7777 != mode:
            os.chmod(path, mode)
    except OSError:
        pass


def write_atomic(path: Path, data: bytes, tmp_dir: Path | None = None, mode: int = FILE_MODE) -> bool:
    """Replace `path` with `data` via a temp file + rename; False (file untouched) when equal.

    The temp file goes to `tmp_dir` (same filesystem as `path`, or the rename fails) or, by
    default, beside `path` as a dotfile ending in `.tmp`. The mode is set on the temp file
    before the rename, so the file is never visible with another mode.
    """
    try:
        if path.read_bytes() == data:
            ensure_mode(path, mode)
            return False
    except OSError:
        pass
    make_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=tmp_dir or path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True

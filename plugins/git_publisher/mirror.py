"""Make a folder hold exactly the files of another (the export into `data/` of the clone)."""

from __future__ import annotations

import filecmp
import os
import shutil
from collections.abc import Callable
from pathlib import Path


def mirror_tree(src: Path, dest: Path, include: Callable[[str], bool] | None = None) -> list[str]:
    """Make `dest` hold exactly the files of `src` that `include` accepts (all by default): copy
    new and changed ones, delete the rest. Returns the files of `src` left out.

    Deleting is what removes the folders of slugs that are no longer exported (B-17), and any
    file an earlier publish should not have committed. Copies keep the source mtime, so an
    unchanged file is recognised by size and mtime next time without reading it.
    """
    wanted: set[Path] = set()
    left_out: list[str] = []
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if d != ".git"]
        rel_root = Path(root).relative_to(src)
        for name in files:
            rel = rel_root / name
            if include is None or include(rel.as_posix()):
                wanted.add(rel)
            else:
                left_out.append(rel.as_posix())
    if dest.is_symlink() or dest.is_file():
        dest.unlink()
    if dest.exists():
        for root, dirs, files in os.walk(dest, topdown=False):
            here = Path(root)
            rel_root = here.relative_to(dest)
            for name in files:
                if rel_root / name not in wanted:
                    (here / name).unlink()
            for name in dirs:
                path = here / name
                if path.is_symlink():
                    path.unlink()
                elif not any(path.iterdir()):
                    path.rmdir()
    for rel in sorted(wanted):
        source, target = src / rel, dest / rel
        if target.is_symlink():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        elif target.is_file() and filecmp.cmp(source, target, shallow=True):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return sorted(left_out)

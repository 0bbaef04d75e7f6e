"""Storage faults injected for real, as root: a small tmpfs filled up during a crawl, a read-only
bind mount, and missing permissions (root without the capabilities that let it ignore file
permissions). Each command prints one line naming the path, what failed and what to do, exits
3, and no row the crawl reported as stored is missing.

Skipped when not root or when mounting is not permitted (a developer's machine, an unprivileged
container); CI runs as root on a machine that may mount, so there they run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from functools import cache
from pathlib import Path

import pytest

from ..conftest import ROOT, run_command
from ..store.fault_helpers import DB_COMMANDS, STATIC, cli, crawl, history_db, one_line, reported, run_rows, runs

# Root keeps its uid but loses the capabilities that bypass file permissions: permission checks
# then apply to it like to any user. (The project's Python lives under /root, which `nobody`
# cannot enter, so "run as nobody" is not possible here.)
NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--inh-caps=-dac_override,-dac_read_search,-fowner"]


@cache
def _can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    probe = Path(f"/tmp/staktrakr-mount-probe-{uuid.uuid4().hex[:8]}")
    probe.mkdir()
    try:
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True).returncode:
            return False
        subprocess.run(["umount", str(probe)], check=True)
        return True
    finally:
        probe.rmdir()


pytestmark = pytest.mark.skipif(not _can_mount(), reason="needs root allowed to mount (tmpfs, read-only bind)")


@pytest.fixture
def mount():
    """mount(args..., target=DIR); everything mounted is unmounted after the test."""
    mounted: list[Path] = []

    def _mount(*args: str, target: Path) -> Path:
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", *args, str(target)], check=True, capture_output=True)
        mounted.append(target)
        return target

    yield _mount
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


def _fill(folder: Path, leave_bytes: int) -> Path:
    stats = os.statvfs(folder)
    filler = folder / "filler"
    filler.write_bytes(b"\0" * max(0, stats.f_bavail * stats.f_frsize - leave_bytes))
    return filler


def _without_dac(tool: str):
    """Run a staktrakr / scrapy command as root without DAC capabilities."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        exe = [shutil.which("staktrakr", path=str(Path(sys.executable).parent)) or "staktrakr"] if tool == "staktrakr" else [sys.executable, "-m", "scrapy"]
        return run_command([*NO_DAC, *exe, *args], env=env, cwd=ROOT)

    return run


def _each_command(tmp_path: Path, env: dict[str, str], path: Path, exit_code: int, *words: str, cli_run=None, crawl_run=None) -> None:
    for args in DB_COMMANDS:
        done = cli(*args, env=env, run=cli_run)
        assert done.returncode == exit_code, (args, done.stderr[-2000:])
        one_line(done.stderr, path, *words)
    done = crawl(tmp_path, env, STATIC[:4], run=crawl_run)
    assert done.returncode == exit_code, done.stderr[-3000:]
    one_line(done.stderr, path, *words)


def test_disk_full_during_a_crawl(tmp_path, mount):
    disk = mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", target=tmp_path / "disk")
    db_path = history_db(disk / "staktrakr.db", rows=300)
    filler = _fill(disk, leave_bytes=40 * 1024)  # room for a few rows, not for all of them
    env = {"STAKTRAKR_DB": str(db_path), "STAKTRAKR_API_DIR": str(tmp_path / "api")}

    done = crawl(tmp_path, env)
    assert done.returncode == 3, done.stderr[-3000:]
    line = one_line(done.stderr, db_path, f"cannot write database {db_path}: no space left on {disk}", f"free space on {disk}")
    stored, lost = reported(done.stderr)
    assert lost > 0 and stored + lost >= len(STATIC)  # a page read twice (static, then browser) is two attempts
    assert "NOT STORED" in done.stderr and "ERROR" in line

    filler.unlink()  # space again: read back what the crawl said it stored
    (run,) = runs(db_path)
    assert run_rows(db_path).get(run["run_id"], 0) == stored  # 0 rows missing that the crawl reported as stored
    assert run["finished_at"] and run["status"] == "error" and run["total"] == stored
    assert run["error"].startswith(f"{lost} row(s) not stored: StorageFull: cannot write database {db_path}")
    assert run_rows(db_path)["old-run"] == 300  # the history is intact

    again = crawl(tmp_path, env)
    assert again.returncode == 0, again.stderr[-3000:]
    stored_again, lost_again = reported(again.stderr)
    assert stored_again >= len(STATIC) and lost_again == 0
    assert [r["status"] for r in runs(db_path)] == ["error", "partial"]


def test_disk_already_full(tmp_path, mount):
    disk = mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", target=tmp_path / "disk")
    db_path = history_db(disk / "staktrakr.db", rows=100)
    _fill(disk, leave_bytes=0)
    done = crawl(tmp_path, {"STAKTRAKR_DB": str(db_path)}, STATIC[:4])
    assert done.returncode == 3
    one_line(done.stderr, db_path, "no space left on", "then run again")
    assert "Spider opened" not in done.stderr


def test_read_only_file_system(tmp_path, mount):
    source = tmp_path / "source"
    db_path = history_db(source / "staktrakr.db", rows=200)
    ro = mount("--bind", str(source), target=tmp_path / "ro")
    subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], check=True)
    path = ro / "staktrakr.db"
    _each_command(tmp_path, {"STAKTRAKR_DB": str(path)}, path, 3, f"its file system ({ro}) is read-only", "remount it read-write")

    # the database is fine, the export folder and a backup are on the read-only mount
    env = {"STAKTRAKR_DB": str(db_path)}
    exported = cli("export", "--out", str(ro / "api"), env=env)
    assert exported.returncode == 3, exported.stderr
    one_line(exported.stderr, ro / "api", "is read-only", "choose another folder")
    backup = cli("db", "backup", str(ro / "backup.db"), env=env)
    assert backup.returncode == 3, backup.stderr
    one_line(backup.stderr, ro / "backup.db", "cannot write backup", "read-only")


def test_missing_permissions(tmp_path):
    folder = tmp_path / "theirs"
    db_path = history_db(folder / "staktrakr.db", rows=200)
    for path in (folder, *folder.iterdir()):
        os.chown(path, 65534, 65534)  # nobody's files
    os.chmod(db_path, 0o600)
    os.chmod(folder, 0o700)
    as_root_without_dac = {"cli_run": _without_dac("staktrakr"), "crawl_run": _without_dac("scrapy")}
    _each_command(
        tmp_path, {"STAKTRAKR_DB": str(db_path)}, db_path, 3, "permission denied for user root (uid 0)", "give that user read and write access",
        **as_root_without_dac,
    )  # fmt: skip

    # a database in a folder it may not create, and an export folder it may not write
    mine = history_db(tmp_path / "mine" / "staktrakr.db", rows=10)
    out = tmp_path / "out"
    out.mkdir()
    os.chown(out, 65534, 65534)
    run = as_root_without_dac["cli_run"]
    exported = cli("export", "--out", str(out), env={"STAKTRAKR_DB": str(mine)}, run=run)
    assert exported.returncode == 3, exported.stderr
    one_line(exported.stderr, out, f"cannot write {out / 'api'}: Permission denied for user root (uid 0)", f"give that user write access to {out}")
    nested = folder / "sub" / "staktrakr.db"
    done = cli("runs", env={"STAKTRAKR_DB": str(nested)}, run=run)
    assert done.returncode == 3, done.stderr
    one_line(done.stderr, nested, f"database {nested}: cannot write {folder / 'sub'}: Permission denied")

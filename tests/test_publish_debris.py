"""Exports and publishes never ship debris: temp files of a killed write stay outside the data
root or are cleared, and `publish` commits only the API's own files (`is_api_file`). The last
test kills real `staktrakr export` / `staktrakr publish` processes at random moments and reads
what reached a real bare repository."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from staktrakr.plugins.git_publisher import GitPublisherSettings, PublishError, publish
from staktrakr.config import load_config, load_section
from staktrakr.export import export_api
from staktrakr.api.layout import is_api_file
from staktrakr.export.writer import DEBRIS_AGE_S, staging_dir
from staktrakr.files import is_temp_name
from staktrakr.models import Status
from staktrakr.plugin_manager import build_plugin_manager
from staktrakr.providers import load_bundled_providers
from staktrakr.store import Database
from staktrakr.plugins.goldback.store import GoldbackRate, insert_goldback_rate
from staktrakr.store.snapshots import Snapshot, insert_snapshots
from staktrakr.plugins.spot.store import SpotReading, insert_spot_readings
from staktrakr.timeutil import floor_15, iso_ms, iso_s, parse_time

from .conftest import ROOT

START = parse_time("2026-03-15T00:00:00Z")  # first --as-of of the kill loop
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
}  # fmt: skip


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env={**os.environ, **GIT_ENV}).stdout


def fill_database(path: Path) -> None:
    """Prices of every target of the bundled set every 6 h from 34 days before START to 6 days
    after, spot every 15 minutes from a day before to 4 days after, a Goldback rate per day: each
    later --as-of changes coins' files and adds spot files."""
    targets = load_bundled_providers().targets()
    first = START - timedelta(days=34)
    snapshots, readings = [], []
    for step in range(40 * 4):
        when = first + timedelta(hours=6 * step)
        for i, target in enumerate(targets):
            at = when + timedelta(minutes=i % 60)
            snapshots.append(Snapshot(
                id=f"api-k{step:04d}{i:04d}", run_id=None, poller_id="api", scraped_at=iso_ms(at), window_start=iso_s(floor_15(at)),
                coin_slug=target.coin.slug, vendor=target.vendor, price=40.0 + i + step % 7, in_stock=True, status=Status.ok,
                method="table", reason="test row",
            ))  # fmt: skip
    for quarter in range(4 * 24 * 5):
        at = START - timedelta(hours=24) + timedelta(minutes=15 * quarter)
        for metal, price in (("gold", 5019.58), ("silver", 80.6), ("platinum", 2018.69), ("palladium", 1555.99)):
            readings.append(SpotReading(
                id=f"api-{metal}-{quarter}", poller_id="api", metal=metal, spot=price + quarter % 5, source="metalprice-api",
                timestamp=iso_ms(at + timedelta(seconds=4)), timestamp_floor=iso_s(at), scraped_at=iso_ms(at + timedelta(seconds=4)),
            ))  # fmt: skip
    with Database.open_local(path) as db:
        insert_snapshots(db, snapshots)
        insert_spot_readings(db, readings)
        for day in range(3):
            date = (START.date() - timedelta(days=day)).isoformat()
            insert_goldback_rate(db, GoldbackRate(id=f"api-gb-{day}", poller_id="api", date=date, g1_usd=10.06 + day,
                                                  scraped_at=f"{date}T00:01:01.596Z", source="goldback.com"))  # fmt: skip


def files_in(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


# -- what the API is --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "relpath",
    ["api/manifest.json", "api/latest.json", "api/providers.json", "api/goldback-spot.json", "api/ase/latest.json",
     "api/goldback-utah-g1/history-7d.json", "api/maple-silver/history-30d.json", "goldback-2026.json", "api/goldback-2026.json",
     "spot-history-2026.json", "api/spot-history-2026.json", "hourly/2026/03/15/20.json", "15min/2026/03/15/2015.json"],
)  # fmt: skip
def test_the_api_file_families(relpath: str) -> None:
    assert is_api_file(relpath)


@pytest.mark.parametrize(
    "relpath",
    ["api/.latest.json.k2j4_x.tmp", ".manifest.json.abc.tmp", "hourly/2026/03/15/.20.json.q1.tmp", "api/ase/latest.json~",
     "api/ase/.latest.json.swp", "notes.txt", "staktrakr.db", "api/ase/latest.json.tmp", "retail/ase/2026-02-19.json",
     "api/ASE/latest.json", "api/ase/other.json", "hourly/2026/3/15/20.json", "15min/2026/03/15/2015.json.gz", "../api/latest.json",
     "api/manifest.json/x", "data/api/latest.json"],
)  # fmt: skip
def test_anything_else_is_not(relpath: str) -> None:
    assert not is_api_file(relpath)


def test_every_file_an_export_writes_is_an_api_file_and_its_temp_files_stay_outside(tmp_path: Path) -> None:
    fill_database(tmp_path / "db.sqlite")
    out = tmp_path / "data"
    with Database.open_local(tmp_path / "db.sqlite") as db:
        pm = build_plugin_manager(load_config(environ={}))  # spot and Goldback files included
        export_api(db, load_bundled_providers(), out, as_of=START, pm=pm)
    written = files_in(out)
    assert {"api/manifest.json", "api/goldback-spot.json", "goldback-2026.json", "hourly/2026/03/14/23.json", "15min/2026/03/14/2345.json"} <= set(written)
    assert [f for f in written if not is_api_file(f)] == []
    # the temp files were written in a hidden sibling of the root, on the same filesystem
    assert staging_dir(out) == tmp_path / ".data.staging" and files_in(staging_dir(out)) == []


def test_an_export_clears_old_temp_files_but_not_young_ones_or_other_files(tmp_path: Path) -> None:
    out = tmp_path / "data"
    (out / "api" / "ase").mkdir(parents=True)
    (out / "hourly" / "2026" / "03" / "15").mkdir(parents=True)
    old = [out / "api" / "ase" / ".latest.json.a1b2.tmp", out / "hourly" / "2026" / "03" / "15" / ".20.json.c3d4.tmp"]
    staging_dir(out).mkdir()
    old.append(staging_dir(out) / ".manifest.json.e5f6.tmp")
    for path in old:
        path.write_text('{"half": ')
        age(path, DEBRIS_AGE_S + 5)
    young = out / "api" / ".latest.json.g7h8.tmp"  # a spot or Goldback write may be going on right now
    young.write_text("{")
    (out / "notes.txt").write_text("someone's notes: not ours to delete, never published")
    (out / "backup.tmp").write_text("not a temp file of ours")  # no leading dot
    with Database.open_local(tmp_path / "db.sqlite") as db:
        export_api(db, load_bundled_providers(), out, as_of=START)
    assert not any(path.exists() for path in old)
    assert young.exists() and (out / "notes.txt").exists() and (out / "backup.tmp").exists()


# -- publish ----------------------------------------------------------------------------------


def test_publish_commits_only_api_files_and_removes_debris_an_older_version_committed(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git("init", "--bare", "-q", str(remote))
    settings = load_section(GitPublisherSettings, overrides={"API_GIT_REMOTE": str(remote), "API_GIT_WORKDIR": str(tmp_path / "clone")}, environ={})
    data = tmp_path / "data"
    shutil.copytree(ROOT / "tests/fixtures/live-api", data)
    # An older publisher committed a temp file: the next publish must take it out again.
    seed = tmp_path / "seed"
    git("init", "-q", "-b", "api", str(seed))
    (seed / "data" / "api").mkdir(parents=True)
    (seed / "data" / "api" / ".latest.json.zz9.tmp").write_text('{"half": ')
    (seed / "README.md").write_text("StakTrakr API\n")  # outside data/: not the publisher's to touch
    git("add", "-A", cwd=seed)
    git("commit", "-q", "-m", "old publisher", cwd=seed)
    git("push", "-q", str(remote), "api", cwd=seed)
    for debris in ("api/.manifest.json.x1.tmp", "api/ase/.latest.json.x2.tmp", "hourly/2026/03/15/.20.json.x3.tmp", ".swp", "core", "notes.txt"):
        (data / debris).write_text("not for the public")
    (data / "staktrakr.db").write_bytes(b"SQLite format 3\x00")

    result = publish(data, settings, "2026-03-15T20:23:02.057Z")

    assert result.pushed
    committed = git("ls-tree", "-r", "--name-only", "api", cwd=remote).split()
    assert "README.md" in committed
    published = [f.removeprefix("data/") for f in committed if f.startswith("data/")]
    assert sorted(published) == [f for f in files_in(data) if is_api_file(f)]
    assert "api/.latest.json.zz9.tmp" not in published


def test_a_folder_holding_only_debris_is_not_published_as_an_empty_api(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git("init", "--bare", "-q", str(remote))
    settings = load_section(GitPublisherSettings, overrides={"API_GIT_REMOTE": str(remote), "API_GIT_WORKDIR": str(tmp_path / "clone")}, environ={})
    (tmp_path / "data" / "api").mkdir(parents=True)
    (tmp_path / "data" / "api" / ".manifest.json.x1.tmp").write_text("{")
    with pytest.raises(PublishError, match="holds no files of the API"):
        publish(tmp_path / "data", settings, None)


# -- killed for real --------------------------------------------------------------------------

KILLS = 20


def _command(name: str, as_of: str) -> list[str]:
    exe = shutil.which("staktrakr", path=str(Path(sys.executable).parent)) or "staktrakr"
    return [exe, name, "--as-of", as_of]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_killed_exports_and_publishes_never_ship_a_temp_or_foreign_file(tmp_path: Path) -> None:
    fill_database(tmp_path / "db.sqlite")
    remote = tmp_path / "remote.git"
    git("init", "--bare", "-q", str(remote))
    data = tmp_path / "api-data"
    env = {
        **os.environ, **GIT_ENV, "STAKTRAKR_DB": str(tmp_path / "db.sqlite"), "STAKTRAKR_API_DIR": str(data),
        "API_GIT_REMOTE": str(remote), "API_GIT_WORKDIR": str(tmp_path / "clone"), "POLLER_ID": "api",
    }  # fmt: skip
    seed = int(os.environ.get("KILL_TEST_SEED") or time.time())
    rng = random.Random(seed)
    steps = iter(range(1000))

    def as_of() -> str:  # every run 2 h later: new prices and new spot files to write
        return iso_ms(START + timedelta(hours=2 * next(steps)))

    # How long an uninterrupted run of each takes, so the kills land anywhere in it.
    duration = {}
    for name in ("export", "publish"):
        started = time.monotonic()
        done = subprocess.run(_command(name, as_of()), env=env, capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
        duration[name] = time.monotonic() - started

    kills, landed, debris_in_root, debris_in_staging, attempts = 0, {"export": 0, "publish": 0}, set(), set(), 0
    while kills < KILLS and attempts < 3 * KILLS:  # bounded even if runs keep finishing first
        attempts += 1
        name = rng.choice(("export", "publish"))
        proc = subprocess.Popen(_command(name, as_of()), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        time.sleep(rng.uniform(0.0, duration[name]))
        if proc.poll() is None:
            proc.kill()  # SIGKILL: no cleanup of any kind runs
            kills += 1
            landed[name] += 1
        proc.wait()
        debris_in_root |= {f for f in files_in(data) if is_temp_name(Path(f).name)}
        if staging_dir(data).exists():
            debris_in_staging |= set(files_in(staging_dir(data)))

    # A spot crawl killed mid-write (it writes beside the target) and a stranger's file.
    (data / "hourly" / "2026" / "03" / "15").mkdir(parents=True, exist_ok=True)
    (data / "hourly" / "2026" / "03" / "15" / ".20.json.k1ll.tmp").write_text('[{"spot": 50')
    (data / "notes.txt").write_text("mine")
    # The next cron run comes minutes later: whatever a killed run left is old by then.
    for leftover in [*data.rglob(".*.tmp"), *staging_dir(data).rglob("*")]:
        age(leftover, DEBRIS_AGE_S + 60)
    final = subprocess.run(_command("publish", as_of()), env=env, capture_output=True, text=True, cwd=ROOT, timeout=120)

    print(f"\nkill test (seed {seed}): {kills} kills in {attempts} runs ({landed['export']} export, {landed['publish']} publish); "
          f"uninterrupted export {duration['export']:.2f} s, publish {duration['publish']:.2f} s; temp files seen after kills: "
          f"{len(debris_in_root)} in the data root, {len(debris_in_staging)} in the staging folder")  # fmt: skip
    assert kills == KILLS, f"only {kills} of {attempts} runs were still going when killed"
    assert final.returncode == 0, final.stderr
    committed = git("ls-tree", "-r", "--name-only", "api", cwd=remote).split()
    assert committed and all(f.startswith("data/") for f in committed)
    foreign = [f for f in committed if not is_api_file(f.removeprefix("data/"))]
    assert foreign == [], foreign
    for name in committed:  # every committed file is whole JSON
        json.loads(git("show", f"api:{name}", cwd=remote))
    assert "data/api/ase/history-30d.json" in committed and "data/goldback-2026.json" in committed
    assert any(f.startswith("data/hourly/") for f in committed) and any(f.startswith("data/15min/") for f in committed)
    # what went out is the final run's export
    assert git("show", "api:data/api/manifest.json", cwd=remote) == (data / "api" / "manifest.json").read_text()
    # and the export cleared what the killed runs left
    assert [f for f in files_in(data) if is_temp_name(Path(f).name)] == []
    assert files_in(staging_dir(data)) == []

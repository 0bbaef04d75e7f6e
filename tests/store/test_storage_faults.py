"""Damaged or misplaced database files, for real: every command says so in one line naming the
file, exits non-zero, and never starts a new database over the old one's history.

Faults that need root (a full or read-only file system, missing permissions) are in
tests/ops/test_storage_faults_root.py.
"""

import os
import sqlite3

import pytest

from staktrakr.store import Database

from .fault_helpers import DB_COMMANDS, STATIC, cli, crawl, history_db, history_in_wal, one_line, truncate_half, write_garbage

ALL_COMMANDS = DB_COMMANDS + (("db", "backup", "backup.db"),)


def _every_command_refuses(tmp_path, db_path, exit_code, *words):
    env = {"STAKTRAKR_DB": str(db_path)}
    for args in ALL_COMMANDS:
        done = cli(*args, env=env)
        assert done.returncode == exit_code, (args, done.stdout[-500:], done.stderr[-2000:])
        one_line(done.stderr, db_path, *words)
    done = crawl(tmp_path, env, STATIC[:4])
    assert done.returncode == exit_code, done.stderr[-3000:]
    one_line(done.stderr, db_path, *words)
    assert "Spider opened" not in done.stderr  # refused before a single page is fetched


def test_database_path_that_is_a_directory(tmp_path):
    folder = tmp_path / "staktrakr.db"
    folder.mkdir()
    _every_command_refuses(tmp_path, folder, 3, "is a directory, not a file", "set STAKTRAKR_DB to a file path")


def test_truncated_database(tmp_path):
    path = history_db(tmp_path / "staktrakr.db")
    truncate_half(path)
    size = path.stat().st_size
    _every_command_refuses(tmp_path, path, 4, "is damaged", "short read", "db backup")
    assert path.stat().st_size == size  # nothing was written into it


def test_garbage_in_the_database(tmp_path):
    path = history_db(tmp_path / "staktrakr.db")
    write_garbage(path)
    before = path.read_bytes()
    _every_command_refuses(tmp_path, path, 4, "is damaged", "integrity check", "Recovering a database")
    assert path.read_bytes() == before


def test_main_file_emptied_while_its_wal_holds_history(tmp_path):
    path = tmp_path / "staktrakr.db"
    wal_size = history_in_wal(path)
    assert wal_size > 4096
    os.truncate(path, 0)
    _every_command_refuses(tmp_path, path, 4, "refusing to open", "is empty (0 bytes)", f"holds {wal_size} bytes")
    # the history is still there for whoever recovers it
    assert path.stat().st_size == 0 and path.with_name("staktrakr.db-wal").stat().st_size == wal_size


def test_missing_main_file_of_a_replica_is_refused(tmp_path):
    path = history_db(tmp_path / "staktrakr.db")
    path.with_name("staktrakr.db-info").write_text('{"version": "v1"}')  # what turso.sync keeps beside a replica
    path.unlink()
    path.with_name("staktrakr.db-wal").unlink(missing_ok=True)
    done = cli("db", "status", env={"STAKTRAKR_DB": str(path)})
    assert done.returncode == 4
    one_line(done.stderr, path, "refusing to open", "is missing", "says it is a Turso replica")
    assert not path.exists()


def test_db_check_backup_and_restore(tmp_path):
    path = history_db(tmp_path / "staktrakr.db", rows=500)
    env = {"STAKTRAKR_DB": str(path)}
    checked = cli("db", "check", env=env)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == f"{path}: integrity check ok (500 price_snapshots rows)"

    backup = tmp_path / "backups" / "staktrakr-2026-12-04.db"
    done = cli("db", "backup", str(backup), env=env)
    assert done.returncode == 0, done.stderr
    assert f"to {backup}: 500 price_snapshots rows, integrity ok" in done.stdout
    assert sorted(p.name for p in backup.parent.iterdir()) == [backup.name]  # no temp file, no -wal left
    with sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as copy:
        assert copy.execute("SELECT COUNT(*) FROM price_snapshots").fetchone() == (500,)
    again = cli("db", "backup", str(backup), env=env)  # a nightly job overwrites its copy
    assert again.returncode == 0, again.stderr

    # the database is lost; the backup takes its place
    write_garbage(path)
    assert cli("db", "check", env=env).returncode == 4
    os.replace(backup, path)
    status = cli("db", "status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    assert '"price_snapshots": 500' in status.stdout

    itself = cli("db", "backup", str(path), env=env)
    assert itself.returncode == 1 and "is the database itself" in itself.stderr


@pytest.mark.parametrize("quick", [False, True])
def test_db_check_reports_damage_in_one_line(tmp_path, quick):
    path = history_db(tmp_path / "staktrakr.db")
    write_garbage(path)
    done = cli("db", "check", *(["--quick"] if quick else []), env={"STAKTRAKR_DB": str(path)})
    assert done.returncode == 4 and done.stdout == ""
    line = one_line(done.stderr, path, "is damaged (integrity check:")
    assert line.startswith("error: database ")


def test_status_of_a_damaged_database_is_no_table_of_counts(tmp_path):
    path = history_db(tmp_path / "staktrakr.db")
    write_garbage(path)
    done = cli("db", "status", env={"STAKTRAKR_DB": str(path)})
    assert done.returncode == 4 and "price_snapshots" not in done.stdout
    one_line(done.stderr, path, "is damaged")


def test_a_healthy_database_opens_as_before(tmp_path):
    path = history_db(tmp_path / "staktrakr.db", rows=10)
    with Database.open_local(path) as db:
        assert db.query_value("SELECT COUNT(*) FROM price_snapshots") == 10
    done = cli("db", "status", env={"STAKTRAKR_DB": str(path)})
    assert done.returncode == 0, done.stderr


def test_an_emptied_replica_is_refused_and_a_fresh_one_pulls_everything_back(tmp_path, turso_server):
    path = tmp_path / "replica.db"
    env = {"STAKTRAKR_DB": str(path), "TURSO_DATABASE_URL": turso_server.url}
    done = crawl(tmp_path, env, STATIC[:6])
    assert done.returncode == 0 and "pushed to the remote database" in done.stderr, done.stderr[-3000:]
    os.truncate(path, 0)
    refused = cli("db", "status", env=env)
    assert refused.returncode == 4
    one_line(refused.stderr, path, "refusing to open", "says it is a Turso replica", "fresh Turso replica")
    # README "Recovering a database": move the damaged replica aside; a fresh one pulls everything
    aside = tmp_path / "damaged"
    aside.mkdir()
    for file in tmp_path.glob("replica.db*"):
        file.rename(aside / file.name)
    status = cli("db", "status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    assert '"price_snapshots": 6' in status.stdout

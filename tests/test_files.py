"""Atomic file writing (staktrakr/files.py): the export, the providers cache and the feeds use it."""

from __future__ import annotations

import os

import pytest

from staktrakr.files import is_temp_name, write_atomic


def test_a_new_file_is_written_and_an_equal_one_left_alone(tmp_path):
    path = tmp_path / "api" / "ase" / "latest.json"
    assert write_atomic(path, b'{"a": 1}\n') is True
    assert path.read_bytes() == b'{"a": 1}\n'
    before = path.stat().st_mtime_ns
    assert write_atomic(path, b'{"a": 1}\n') is False  # unchanged: not rewritten
    assert path.stat().st_mtime_ns == before
    assert write_atomic(path, b'{"a": 2}\n') is True
    assert path.read_bytes() == b'{"a": 2}\n'
    assert sorted(p.name for p in path.parent.iterdir()) == ["latest.json"]  # no temp file left


def test_a_failed_replace_keeps_the_old_file_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "latest.json"
    target.mkdir()  # a folder where the file should go: the rename fails
    (target / "keep.txt").write_text("old")
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert (target / "keep.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["latest.json"]


def test_the_temp_file_goes_to_the_staging_folder_and_is_recognised(tmp_path, monkeypatch):
    staging = tmp_path / ".data.staging"
    staging.mkdir()
    renamed: list[str] = []
    real_replace = os.replace

    def recording_replace(src, dst):
        renamed.append(os.fspath(src))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", recording_replace)
    write_atomic(tmp_path / "data" / "manifest.json", b"{}", tmp_dir=staging)
    [temp] = renamed
    assert os.path.dirname(temp) == str(staging) and is_temp_name(os.path.basename(temp))
    assert (tmp_path / "data" / "manifest.json").read_bytes() == b"{}" and list(staging.iterdir()) == []
    assert not is_temp_name("latest.json") and not is_temp_name(".gitignore")

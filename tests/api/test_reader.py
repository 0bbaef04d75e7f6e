"""One reader of a data root, a folder or a URL (real files, a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from staktrakr.api import layout, reader
from staktrakr.api.reader import FileProblem, FolderRoot, UrlRoot, open_data_root
from staktrakr.serve import make_app, serve_in_thread


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "data/api/ase").mkdir(parents=True)
    (tmp_path / "data" / layout.MANIFEST).write_text(json.dumps({"coins": ["ase"]}))
    (tmp_path / "data" / layout.slug_latest("ase")).write_text("[]")
    (tmp_path / "data/api/schema").mkdir()
    (tmp_path / "data/api/schema/latest.json").write_text("{}")  # a schema folder is not a coin
    return tmp_path / "data"


def test_a_folder_reads_lists_and_says_what_is_missing(root: Path) -> None:
    folder = open_data_root(str(root))
    assert isinstance(folder, FolderRoot) and folder.read_json(layout.MANIFEST) == {"coins": ["ase"]}
    assert folder.slug_folders() == ["ase"]
    assert folder.read_optional("api/age/latest.json") is None
    with pytest.raises(FileProblem) as missing:
        folder.read("api/age/latest.json")
    assert missing.value.not_found and missing.value.reason == "not found"
    assert open_data_root(str(root.parent)).label == str(root)  # a repository's data/ is its data root


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty file"),
        (b"\x00" * 8, "8 NUL bytes and nothing else (interrupted write)"),
        (b'{"a": 1}\x00', "malformed JSON: contains 1 NUL bytes (interrupted write)"),
        (b"\xff\xfe[]", "malformed JSON: not UTF-8 text"),
        (b'{"a": [1, 2', "malformed JSON: truncated (11 bytes, ends inside a value)"),
        (b"<html>502</html>", "malformed JSON: Expecting value at line 1 column 1"),
        (b"[NaN]", "malformed JSON: NaN is not a JSON number"),
    ],
)
def test_unusable_files_say_why(root: Path, raw: bytes, reason: str) -> None:
    (root / "bad.json").write_bytes(raw)
    with pytest.raises(FileProblem) as problem:
        FolderRoot(root).read_json("bad.json")
    assert problem.value.reason == reason and not problem.value.not_found
    assert problem.value.location == str(root / "bad.json")


def test_one_size_cap_for_folders_and_urls(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_FILE_BYTES", 10)
    (root / "big.json").write_text(json.dumps(list(range(20))))
    with pytest.raises(FileProblem, match="larger than 10 bytes"):
        FolderRoot(root).read("big.json")
    with serve_in_thread(make_app(root)) as url, pytest.raises(FileProblem, match="larger than 10 bytes"):
        UrlRoot(url).read("big.json")


def test_a_url_reads_the_same_files_and_never_shows_its_secret(root: Path) -> None:
    with serve_in_thread(make_app(root.parent)) as url:
        host = url.split("://", 1)[1]
        remote = open_data_root(f"http://user:pw@{host}/?token=sekrit")  # the repository's URL
        assert isinstance(remote, UrlRoot) and remote.label == f"{url}/data"
        assert remote.read_json(layout.MANIFEST) == {"coins": ["ase"]}
        assert remote.where(layout.MANIFEST) == f"{url}/data/api/manifest.json"
        with pytest.raises(FileProblem) as missing:
            remote.read("api/age/latest.json")
    assert missing.value.not_found and missing.value.reason == "HTTP 404"
    assert "sekrit" not in remote.label + missing.value.location and "pw" not in remote.label


def test_an_unreachable_host_is_one_clear_reason_given_at_once(root: Path) -> None:
    with serve_in_thread(make_app(root)) as url:
        pass  # the server is gone: nothing listens on the port any more
    remote = UrlRoot(url, 2)
    with pytest.raises(FileProblem, match="^cannot reach http://127.0.0.1:"):
        remote.read(layout.MANIFEST)
    with pytest.raises(FileProblem, match="^cannot reach"):
        remote.read(layout.LATEST)  # remembered: no second wait


@pytest.mark.parametrize(
    ("source", "reason"),
    [("ftp://host/data", "unsupported URL scheme 'ftp'"), ("http://host:port/", "malformed URL (bad port)"), ("https:///data", "malformed URL (no host)")],
)
def test_what_is_not_a_data_root(tmp_path: Path, source: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        open_data_root(source)
    with pytest.raises(ValueError, match="no such folder"):
        open_data_root(str(tmp_path / "nowhere"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        open_data_root(str(tmp_path / "file"))

"""The git publisher plugin (plugins/git_publisher/) against real repositories: a bare repo (or git over HTTP on 127.0.0.1) as remote."""

from __future__ import annotations

import base64
import logging
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from staktrakr.plugins import git_publisher
from staktrakr.plugins.git_publisher import GitPublisherSettings, PublishError, mirror_tree, publish
from staktrakr.plugins.git_publisher.publisher import Publisher
from staktrakr.config import Config, load_config, load_section
from staktrakr.errors import ConfigError
from staktrakr.api.layout import is_api_file
from staktrakr.locking import job_lock
from staktrakr.plugin_manager import PluginManager
from staktrakr.redact import redact_text, redact_url

from .conftest import FIXTURES

LIVE_API = FIXTURES / "live-api"
NOW = datetime(2026, 3, 15, 20, 38, 12, tzinfo=UTC)
RETAIL = "2026-03-15T20:23:02.057Z"
TOKEN = "s3cr3t-token"


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch, tmp_path):
    """No global or system git config (so no identity, no credential helpers) in any test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in list(os.environ):
        if name.startswith(("GIT_AUTHOR_", "GIT_COMMITTER_", "GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_")):
            monkeypatch.delenv(name)


def git(*args: str, cwd: Path | None = None, check: bool = True) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def commit_as_someone_else(clone: Path, message: str) -> str:
    git("-c", "user.name=Someone Else", "-c", "user.email=else@example.invalid", "commit", "-q", "-m", message, cwd=clone)
    return git("rev-parse", "HEAD", cwd=clone)


@pytest.fixture
def remote(tmp_path) -> Path:
    path = tmp_path / "remote.git"
    git("init", "-q", "--bare", str(path))
    # A force-push from the publisher would now fail the test instead of rewriting history.
    git("config", "receive.denyNonFastForwards", "true", cwd=path)
    return path


@pytest.fixture
def export(tmp_path) -> Path:
    path = tmp_path / "export"
    shutil.copytree(LIVE_API, path)
    return path


def make_config(remote_url: str | Path, workdir: Path, **extra: str) -> GitPublisherSettings:
    overrides = {"API_GIT_REMOTE": str(remote_url), "API_GIT_WORKDIR": str(workdir), **extra}
    return load_section(GitPublisherSettings, overrides=overrides, environ={})


@pytest.fixture
def config(remote, tmp_path):
    return make_config(remote, tmp_path / "var" / "publish")


def checkout(remote: Path, dest: Path, branch: str = "api") -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    git("clone", "-q", "--branch", branch, str(remote), str(dest))
    return dest


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.parts}


def api_files_under(root: Path) -> dict[str, bytes]:
    """What a publish of `root` puts under data/: the API's files (the live samples also hold the
    old system's `retail/` day files, which the export never writes)."""
    return {rel: body for rel, body in files_under(root).items() if is_api_file(rel)}


def log_subjects(remote: Path, branch: str = "api") -> list[str]:
    return git("--git-dir", str(remote), "log", "--format=%s", branch).splitlines()


def branch_tip(remote: Path, branch: str = "api") -> str:
    return git("--git-dir", str(remote), "rev-parse", f"refs/heads/{branch}")


# -- publishing -------------------------------------------------------------------------------


def test_first_publish_creates_the_branch_with_the_export_under_data(remote, export, config, tmp_path):
    result = publish(export, config, RETAIL, now=NOW)

    assert result.committed and result.pushed and result.pending == 0
    assert result.files_added == len(api_files_under(LIVE_API)) and result.files_changed == result.files_removed == 0
    assert result.commit == branch_tip(remote)
    assert result.message.startswith(f"published {result.commit[:10]} to api")
    site = checkout(remote, tmp_path / "site")
    assert files_under(site / "data") == api_files_under(LIVE_API)
    assert sorted(p.name for p in site.iterdir() if p.name != ".git") == ["data"]
    assert log_subjects(remote) == ["publish: 2026-03-15T20:38Z | retail=2026-03-15T20:23:02.057Z"]
    # No git identity is configured in this test, so the publisher's own is used.
    assert git("log", "-1", "--format=%an <%ae>|%cn <%ce>", cwd=site) == (
        "staktrakr publisher <publisher@staktrakr.invalid>|staktrakr publisher <publisher@staktrakr.invalid>"
    )


def test_a_configured_git_identity_is_used_for_the_commit(remote, export, config):
    workdir = config.API_GIT_WORKDIR
    workdir.mkdir(parents=True)
    git("init", "-q", str(workdir))
    git("config", "user.name", "Fly Publisher", cwd=workdir)
    git("config", "user.email", "fly@example.invalid", cwd=workdir)

    assert publish(export, config, RETAIL, now=NOW).pushed
    assert git("--git-dir", str(remote), "log", "-1", "--format=%an <%ae>", "api") == "Fly Publisher <fly@example.invalid>"


def test_an_unknown_retail_time_is_said_so_in_the_message(remote, export, config):
    publish(export, config, None, now=datetime(2026, 3, 15, 21, 8, 59))  # naive = UTC
    assert log_subjects(remote) == ["publish: 2026-03-15T21:08Z | retail=unknown"]


def test_an_unchanged_export_makes_no_commit(remote, export, config):
    first = publish(export, config, RETAIL, now=NOW)
    again = publish(export, config, RETAIL, now=NOW)

    assert not again.committed and not again.pushed and again.pending == 0
    assert again.commit == first.commit == branch_tip(remote)
    assert again.message.startswith("nothing to publish")
    assert len(log_subjects(remote)) == 1


def test_a_changed_file_is_committed_and_pushed(remote, export, config, tmp_path):
    publish(export, config, RETAIL, now=NOW)
    latest = export / "api" / "ase" / "latest.json"
    latest.write_text(latest.read_text().replace("2026", "2027", 1))

    result = publish(export, config, "2026-03-15T20:53:01.000Z", now=NOW.replace(minute=53))

    assert result.committed and result.pushed
    assert (result.files_added, result.files_changed, result.files_removed) == (0, 1, 0)
    site = checkout(remote, tmp_path / "site")
    assert (site / "data" / "api" / "ase" / "latest.json").read_bytes() == latest.read_bytes()
    assert log_subjects(remote)[0] == "publish: 2026-03-15T20:53Z | retail=2026-03-15T20:53:01.000Z"


def test_a_removed_slug_folder_disappears_from_the_branch_and_other_files_stay(remote, export, config, tmp_path):
    publish(export, config, RETAIL, now=NOW)
    # Someone adds a README at the top of the branch: not ours to touch.
    other = checkout(remote, tmp_path / "other")
    (other / "README.md").write_text("StakTrakr API\n")
    git("add", "README.md", cwd=other)
    commit_as_someone_else(other, "docs: README")
    git("push", "-q", "origin", "api", cwd=other)
    removed = len(files_under(export / "api" / "ase"))
    shutil.rmtree(export / "api" / "ase")
    shutil.rmtree(export / "retail" / "ase")

    result = publish(export, config, RETAIL, now=NOW)

    assert result.pushed and result.files_removed == removed
    site = checkout(remote, tmp_path / "site")
    assert not (site / "data" / "api" / "ase").exists() and not (site / "data" / "retail" / "ase").exists()
    assert (site / "README.md").read_text() == "StakTrakr API\n"
    assert files_under(site / "data") == api_files_under(export)


def test_a_rejected_push_keeps_the_other_commit_and_puts_ours_on_top(remote, export, config, tmp_path, monkeypatch):
    publish(export, config, RETAIL, now=NOW)
    other = checkout(remote, tmp_path / "other")
    (other / "data" / "api" / "providers.json").write_text('{"edited": "by hand"}\n')
    (other / "CNAME").write_text("api.staktrakr.com\n")
    git("add", "-A", cwd=other)
    theirs = commit_as_someone_else(other, "hand edit")
    (export / "api" / "manifest.json").write_text('{"generated_at": "2026-03-15T20:53:01.000Z"}\n')

    # The other push lands between our fetch and our push, so our first push is rejected.
    pushes = []
    real_push = Publisher._push

    def push_after_someone_else(self):
        if not pushes:
            git("push", "-q", "origin", "api", cwd=other)
        result = real_push(self)
        pushes.append(result)
        return result

    monkeypatch.setattr(Publisher, "_push", push_after_someone_else)
    result = publish(export, config, "2026-03-15T20:53:01.000Z", now=NOW.replace(minute=53))

    assert [p.rejected for p in pushes] == [True, False]
    assert result.committed and result.pushed and result.commit == branch_tip(remote)
    assert log_subjects(remote) == [
        "publish: 2026-03-15T20:53Z | retail=2026-03-15T20:53:01.000Z",
        "hand edit",
        "publish: 2026-03-15T20:38Z | retail=2026-03-15T20:23:02.057Z",
    ]
    git("--git-dir", str(remote), "merge-base", "--is-ancestor", theirs, "api")
    site = checkout(remote, tmp_path / "site")
    assert (site / "CNAME").read_text() == "api.staktrakr.com\n"
    # data/ is regenerated in full: our export wins over the hand edit.
    assert files_under(site / "data") == api_files_under(export)


def test_a_push_that_fails_keeps_the_commit_and_the_next_publish_pushes_it(remote, export, config):
    publish(export, config, RETAIL, now=NOW)
    published = branch_tip(remote)
    (export / "api" / "latest.json").write_text('{"changed": true}\n')
    moved = remote.with_name("remote-away.git")
    remote.rename(moved)  # the remote is unreachable

    failed = publish(export, config, RETAIL, now=NOW)

    assert failed.committed and not failed.pushed and failed.pending == 1
    assert "does not appear to be a git repository" in failed.error
    assert "the next publish pushes it" in failed.message
    assert branch_tip(moved) == published
    workdir = config.API_GIT_WORKDIR
    assert git("rev-parse", "api", cwd=workdir) == failed.commit

    moved.rename(remote)
    retried = publish(export, config, RETAIL, now=NOW)  # nothing new in the export

    assert not retried.committed and retried.pushed and retried.pending == 0
    assert retried.message.startswith("pushed 1 pending commit(s) to api")
    assert branch_tip(remote) == failed.commit
    assert len(log_subjects(remote)) == 2


def test_a_push_the_remote_declines_is_reported_and_retried_next_time(remote, export, config):
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch is frozen' >&2\nexit 1\n")
    hook.chmod(0o755)

    failed = publish(export, config, RETAIL, now=NOW)

    assert failed.committed and not failed.pushed and failed.pending == 1
    assert "pre-receive hook declined" in failed.error and "remote says: branch is frozen" in failed.error
    assert git("--git-dir", str(remote), "branch", "--list") == ""

    hook.unlink()
    retried = publish(export, config, RETAIL, now=NOW)
    assert retried.pushed and not retried.committed and branch_tip(remote) == failed.commit


def test_unpushed_commits_are_superseded_when_the_remote_moved_meanwhile(remote, export, config, tmp_path, caplog):
    publish(export, config, RETAIL, now=NOW)
    (export / "api" / "latest.json").write_text('{"run": 2}\n')
    remote.rename(tmp_path / "away.git")
    stuck = publish(export, config, RETAIL, now=NOW)
    (tmp_path / "away.git").rename(remote)
    other = checkout(remote, tmp_path / "other")
    (other / "CNAME").write_text("api.staktrakr.com\n")
    git("add", "CNAME", cwd=other)
    theirs = commit_as_someone_else(other, "add CNAME")
    git("push", "-q", "origin", "api", cwd=other)
    (export / "api" / "latest.json").write_text('{"run": 3}\n')

    with caplog.at_level(logging.WARNING, logger="staktrakr.plugins.git_publisher"):
        result = publish(export, config, RETAIL, now=NOW.replace(minute=53))

    assert not stuck.pushed and result.pushed and result.committed
    assert log_subjects(remote)[:2] == ["publish: 2026-03-15T20:53Z | retail=2026-03-15T20:23:02.057Z", "add CNAME"]
    git("--git-dir", str(remote), "merge-base", "--is-ancestor", theirs, "api")
    site = checkout(remote, tmp_path / "site")
    assert (site / "data" / "api" / "latest.json").read_text() == '{"run": 3}\n' and (site / "CNAME").exists()
    # The replaced local commit is recorded, not silently dropped.
    assert "superseded by this export" in caplog.text and stuck.commit[:10] in caplog.text
    kept = git("for-each-ref", "--format=%(objectname)", "refs/staktrakr/superseded", cwd=config.API_GIT_WORKDIR)
    assert kept == stuck.commit


def test_a_stale_git_index_lock_does_not_block_publishing(remote, export, config, caplog):
    publish(export, config, RETAIL, now=NOW)
    (config.API_GIT_WORKDIR / ".git" / "index.lock").write_text("")  # git was killed mid-command
    (export / "api" / "latest.json").write_text("{}\n")

    result = publish(export, config, RETAIL, now=NOW)

    assert result.pushed and result.files_changed == 1
    assert "index.lock" in caplog.text


def test_a_second_publish_while_one_runs_is_skipped_in_one_line(remote, export, config, caplog):
    with caplog.at_level(logging.INFO, logger="staktrakr.plugins.git_publisher"):
        with job_lock("publish", config.API_GIT_WORKDIR.parent):
            result = publish(export, config, RETAIL, now=NOW)

    assert result.skipped and not result.committed and not result.pushed
    assert result.message.startswith("another publish is running (pid ")
    assert [r.getMessage() for r in caplog.records if r.name == "staktrakr.plugins.git_publisher"] == [f"publish api: {result.message}"]
    assert git("--git-dir", str(remote), "branch", "--list") == ""
    assert publish(export, config, RETAIL, now=NOW).pushed  # the lock was not disturbed


def test_an_empty_export_is_refused_instead_of_deleting_the_api(remote, export, config, tmp_path):
    publish(export, config, RETAIL, now=NOW)
    empty = tmp_path / "empty-export"
    empty.mkdir()
    with pytest.raises(PublishError, match="holds no files"):
        publish(empty, config, RETAIL, now=NOW)
    assert len(log_subjects(remote)) == 1


def test_a_workdir_that_is_not_a_clone_is_not_overwritten(remote, export, config):
    workdir = config.API_GIT_WORKDIR
    workdir.mkdir(parents=True)
    (workdir / "notes.txt").write_text("mine")
    with pytest.raises(PublishError, match="not a git clone"):
        publish(export, config, RETAIL, now=NOW)
    assert (workdir / "notes.txt").read_text() == "mine"


# -- the branch a host serves -------------------------------------------------------------


def test_the_api_branch_is_merged_into_the_serve_branch(remote, export, tmp_path):
    seed = tmp_path / "seed"
    git("init", "-q", "-b", "main", str(seed))
    (seed / "index.html").write_text("<h1>StakTrakr API</h1>\n")
    git("add", "index.html", cwd=seed)
    site_commit = commit_as_someone_else(seed, "site")
    git("push", "-q", str(remote), "main", cwd=seed)
    config = make_config(remote, tmp_path / "publish", API_GIT_SERVE_BRANCH="main")

    first = publish(export, config, RETAIL, now=NOW)
    (export / "api" / "latest.json").write_text("{}\n")
    second = publish(export, config, RETAIL, now=NOW)

    for result in (first, second):
        assert result.pushed and result.serve_merged is True and result.error is None
        assert "main contains it" in result.message
        git("--git-dir", str(remote), "merge-base", "--is-ancestor", result.commit, "main")
    git("--git-dir", str(remote), "merge-base", "--is-ancestor", site_commit, "main")
    main = checkout(remote, tmp_path / "main-site", "main")
    assert (main / "index.html").exists()
    assert files_under(main / "data") == api_files_under(export)
    # Already merged: a publish with nothing new leaves main alone.
    tip = branch_tip(remote, "main")
    assert publish(export, config, RETAIL, now=NOW).serve_merged is True
    assert branch_tip(remote, "main") == tip


def test_a_missing_serve_branch_is_created_and_a_refused_one_is_not_fatal(remote, export, tmp_path):
    config = make_config(remote, tmp_path / "publish", API_GIT_SERVE_BRANCH="main")
    created = publish(export, config, RETAIL, now=NOW)
    assert created.serve_merged is True and branch_tip(remote, "main") == branch_tip(remote, "api")

    hook = remote / "hooks" / "update"
    hook.write_text('#!/bin/sh\n[ "$1" = refs/heads/main ] && { echo "main is protected" >&2; exit 1; }\nexit 0\n')
    hook.chmod(0o755)
    (export / "api" / "latest.json").write_text("{}\n")
    refused = publish(export, config, RETAIL, now=NOW)

    assert refused.pushed and refused.committed and refused.serve_merged is False
    assert "merge into main failed" in refused.message and "main is protected" in refused.error
    assert branch_tip(remote, "api") == refused.commit and branch_tip(remote, "main") == created.commit


# -- credentials ----------------------------------------------------------------------------


def test_credentials_in_the_remote_url_never_leak_when_it_is_unreachable(export, tmp_path, caplog):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://x-access-token:{TOKEN}@127.0.0.1:{port}/owner/api.git"
    config = make_config(url, tmp_path / "publish")

    with caplog.at_level(logging.DEBUG):
        result = publish(export, config, RETAIL, now=NOW)
        again = publish(export, config, RETAIL, now=NOW)

    assert result.committed and not result.pushed and "127.0.0.1" in result.error
    assert not again.pushed and again.pending == 1
    assert f"127.0.0.1:{port}" in caplog.text
    for text in (caplog.text, result.model_dump_json(), again.model_dump_json(), (tmp_path / "publish" / ".git" / "config").read_text()):
        assert TOKEN not in text and "x-access-token" not in text
    with pytest.raises(PublishError) as bad:
        publish(export, make_config(f"http://x-access-token:{TOKEN}@127.0.0.1:99999/x.git", tmp_path / "p2"), RETAIL)
    assert TOKEN not in str(bad.value) and TOKEN not in repr(bad.value) and "***@127.0.0.1" in str(bad.value)
    assert bad.value.__cause__ is None and bad.value.__suppress_context__


class _GitOverHTTP(BaseHTTPRequestHandler):
    """Smart-HTTP git via `git http-backend`, behind HTTP Basic auth, like a forge."""

    root: Path
    expected_auth: str
    seen_auth: list[str]

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, *args) -> None:
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        body = self._body()
        auth = self.headers.get("Authorization", "")
        self.seen_auth.append(auth)
        if auth != self.expected_auth:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        env = {
            **os.environ, "GIT_PROJECT_ROOT": str(self.root), "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": path,
            "QUERY_STRING": query, "REQUEST_METHOD": self.command, "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)), "REMOTE_USER": "publisher", "REMOTE_ADDR": "127.0.0.1",
        }
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=True).stdout
        sep = b"\r\n\r\n" if b"\r\n\r\n" in out else b"\n\n"
        head, _, payload = out.partition(sep)
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            else:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def http_remote(remote) -> Iterator[tuple[str, list[str]]]:
    """(base URL, Authorization headers seen) of a git server on 127.0.0.1 that wants user:TOKEN."""
    seen: list[str] = []
    handler = type("Handler", (_GitOverHTTP,), {
        "root": remote.parent,
        "expected_auth": "Basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode(),
        "seen_auth": seen,
    })
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_the_token_in_the_url_authenticates_over_http_without_being_stored_or_logged(remote, http_remote, export, tmp_path, caplog):
    address, seen = http_remote
    config = make_config(f"http://x-access-token:{TOKEN}@{address}/remote.git", tmp_path / "publish")

    with caplog.at_level(logging.DEBUG):
        result = publish(export, config, RETAIL, now=NOW)

    assert result.pushed and result.committed and branch_tip(remote) == result.commit
    assert seen and all(auth.startswith("Basic ") for auth in seen)
    git_config = (tmp_path / "publish" / ".git" / "config").read_text()
    assert f"url = http://{address}/remote.git" in git_config
    for text in (caplog.text, result.model_dump_json(), git_config):
        assert TOKEN not in text

    wrong = make_config(f"http://x-access-token:wrong-{TOKEN}@{address}/remote.git", tmp_path / "publish")
    (export / "api" / "latest.json").write_text("{}\n")
    with caplog.at_level(logging.DEBUG):
        refused = publish(export, wrong, RETAIL, now=NOW)
    assert refused.committed and not refused.pushed and "check the credentials in API_GIT_REMOTE" in refused.error
    assert branch_tip(remote) == result.commit
    assert TOKEN not in caplog.text and TOKEN not in refused.model_dump_json()


def test_redaction_helpers():
    assert redact_url(f"https://x-access-token:{TOKEN}@github.com/o/r.git") == "https://***@github.com/o/r.git"
    assert redact_url("/srv/git/api.git") == "/srv/git/api.git"
    text = f"fatal: unable to access 'https://{TOKEN}@github.com/o/r.git/': 403 (token {TOKEN})"
    assert TOKEN not in redact_text(text, [TOKEN])


# -- the plugin hook and the mirror ----------------------------------------------------------


def test_the_hook_is_off_without_a_remote_and_publishes_with_one(remote, export, tmp_path, caplog, monkeypatch):
    # The plugin reads its own variables (API_GIT_*) from the environment, as `staktrakr publish` runs.
    pm = PluginManager()
    pm.register(git_publisher, name="staktrakr.plugins.git_publisher")
    manifest = {"generated_at": RETAIL}
    core = load_config()
    monkeypatch.setenv("API_GIT_WORKDIR", str(tmp_path / "publish"))

    with caplog.at_level(logging.INFO, logger="staktrakr.plugins.git_publisher"):
        assert pm.hook.staktrakr_publish(data_dir=str(export), manifest=manifest, config=core) == []
    assert "git publishing off" in caplog.text and not (tmp_path / "publish").exists()

    monkeypatch.setenv("API_GIT_REMOTE", str(remote))
    [summary] = pm.hook.staktrakr_publish(data_dir=str(export), manifest=manifest, config=core)
    assert summary.startswith("published ") and summary.endswith("0 removed")
    assert log_subjects(remote)[0].endswith(f"| retail={RETAIL}")


def test_the_variables_are_the_plugins_own_section_not_the_cores():
    assert git_publisher.staktrakr_config_fields() is GitPublisherSettings
    assert not any(name.startswith("API_GIT_") for name in Config.model_fields)
    defaults = load_section(GitPublisherSettings, environ={})
    assert (defaults.API_GIT_REMOTE, defaults.API_GIT_BRANCH, defaults.API_GIT_WORKDIR) == (None, "api", Path("var/publish"))
    with pytest.raises(ConfigError, match=r"^invalid configuration: API_GIT_WORKDIR: "):
        load_section(GitPublisherSettings, overrides={"API_GIT_WORKDIR": 5}, environ={})  # a `-s` override of the wrong type


def test_mirror_copies_changes_deletes_leftovers_and_swaps_files_and_folders(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    (src / "a" / "b").mkdir(parents=True)
    (src / "a" / "b" / "x.json").write_text("new")
    (src / "c").write_text("c is a file now")
    (src / "same.json").write_text("same")
    (dest / "a" / "b").mkdir(parents=True)
    (dest / "a" / "b" / "x.json").write_text("old")
    (dest / "a" / "b" / "gone.json").write_text("stale slug")
    (dest / "old-slug" / "deep").mkdir(parents=True)
    (dest / "old-slug" / "deep" / "latest.json").write_text("{}")
    (dest / "c").mkdir()
    (dest / "c" / "inner.json").write_text("{}")
    shutil.copy2(src / "same.json", dest / "same.json")

    mirror_tree(src, dest)

    assert files_under(dest) == files_under(src)
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == ["a", "a/b", "a/b/x.json", "c", "same.json"]

"""Git publisher plugin: commit the exported data root as `data/` of a working clone and push it.

The live system force-pushed, reset away unpushed commits and never deleted stale slug folders
(LIVE-SYSTEM §7, B-17). Here: the clone is reused, the branch only ever moves forward on the
remote (no force), `data/` mirrors the API files of the export exactly (`is_api_file`: never the
temp files of a killed write or anything else lying in the folder), a commit that could not be
pushed stays and goes out with the next publish, and one `job_lock("publish")` keeps runs from
overlapping.

Credentials embedded in API_GIT_REMOTE never reach the clone's `.git/config`, the command line,
logs, results or exceptions: git gets them through an `http.extraHeader` in its environment
(the way actions/checkout hands a token to git), and all text that leaves goes through `redact`.
"""

from __future__ import annotations

import base64
import filecmp
import logging
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from git import Repo
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError
from pydantic import BaseModel, ConfigDict

from staktrakr.config import Config
from staktrakr.errors import StaktrakrError
from staktrakr.export.writer import is_api_file
from staktrakr.hookspecs import hookimpl
from staktrakr.locking import LockBusy, job_lock
from staktrakr.redact import redact_text, redact_url, url_secrets
from staktrakr.timeutil import utcnow

logger = logging.getLogger(__name__)

DATA_PREFIX = "data"
DEFAULT_NAME = "staktrakr publisher"
DEFAULT_EMAIL = "publisher@staktrakr.invalid"
# Unpushed commits replaced by a newer export are kept under these refs (newest KEEP_SUPERSEDED).
SUPERSEDED_REFS = "refs/staktrakr/superseded"
KEEP_SUPERSEDED = 10
DEFAULT_NETWORK_TIMEOUT_S = 300.0

# Files git itself leaves behind when killed mid-command. While we hold the publish lock no git
# process of ours can be running in the clone, so any of these is stale and would block every
# later publish ("Unable to create '.git/index.lock': File exists").
_GIT_LOCK_FILES = ("index.lock", "HEAD.lock", "config.lock", "packed-refs.lock")
_AUTH_FAILED = re.compile(r"could not read Username|Authentication failed|returned error: 40[13]|Permission denied")
_NON_FAST_FORWARD = re.compile(r"\[rejected\].*\((fetch first|non-fast-forward|stale info)\)")


class PublishError(StaktrakrError):
    """The publish could not be prepared or committed (bad data dir or clone, local git failure)."""


class PublishResult(BaseModel):
    """What one publish did; `message` is the one-line summary for logs and the CLI."""

    model_config = ConfigDict(frozen=True)

    committed: bool = False
    pushed: bool = False
    skipped: bool = False
    commit: str | None = None
    files_added: int = 0
    files_changed: int = 0
    files_removed: int = 0
    pending: int = 0
    serve_merged: bool | None = None
    error: str | None = None
    message: str


@hookimpl
def staktrakr_publish(data_dir: str, manifest: dict[str, Any], config: Any) -> str | None:
    if config.API_GIT_REMOTE is None:
        logger.info("git publishing off (API_GIT_REMOTE is not set)")
        return None
    retail = manifest.get("generated_at") if isinstance(manifest, dict) else None
    return publish(Path(data_dir), config, retail).message


def publish(
    data_dir: Path,
    config: Config,
    retail_generated_at: str | None,
    now: datetime | None = None,
    *,
    lock_dir: Path | None = None,
    network_timeout_s: float = DEFAULT_NETWORK_TIMEOUT_S,
) -> PublishResult:
    """Mirror `data_dir` into `data/` of the API branch, commit if it changed, push what is pending.

    Push failures are reported in the result (the commit stays for the next run); problems with
    the data dir or the clone raise PublishError. Another running publish -> skipped result.
    """
    if config.API_GIT_REMOTE is None:
        raise PublishError("API_GIT_REMOTE is not set: there is nowhere to publish to")
    remote = _Remote.parse(config.API_GIT_REMOTE.get_secret_value())
    now = now or utcnow()
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    message = f"publish: {now.astimezone(UTC):%Y-%m-%dT%H:%M}Z | retail={retail_generated_at or 'unknown'}"
    workdir = Path(config.API_GIT_WORKDIR).absolute()
    try:
        # Only job_lock raises LockBusy here; the publish itself never does.
        with job_lock("publish", Path(lock_dir) if lock_dir else workdir.parent):
            return _Publisher(Path(data_dir), workdir, config, remote, message, network_timeout_s).run()
    except LockBusy as busy:
        who = busy.holder.describe() if busy.holder else "lock being written"
        text = f"another publish is running ({who}); skipped"
        logger.info("publish %s: %s", config.API_GIT_BRANCH, text)
        return PublishResult(skipped=True, message=text)


@dataclass(frozen=True)
class _Remote:
    url: str  # what .git/config stores and git is told: no userinfo for http(s)
    shown: str  # for logs
    secrets: tuple[str, ...] = ()
    auth_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: str) -> _Remote:
        secrets = url_secrets(raw)
        try:
            parts = urlsplit(raw)
            port = parts.port
        except ValueError:
            raise PublishError(f"API_GIT_REMOTE is not a valid git remote: {redact_text(raw, secrets)}") from None
        if parts.scheme not in ("http", "https") or not (parts.username or parts.password):
            return cls(url=raw, shown=redact_url(raw), secrets=secrets)
        host = parts.hostname or ""
        netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
        basic = base64.b64encode(f"{unquote(parts.username or '')}:{unquote(parts.password or '')}".encode()).decode()
        # Scoped to this scheme://host:port so a redirect elsewhere never receives the token.
        env = _git_config_env({f"http.{parts.scheme}://{netloc}/.extraHeader": f"Authorization: Basic {basic}"})
        return cls(url=url, shown=url, secrets=secrets + (basic,), auth_env=env)

    def scrub(self, text: str) -> str:
        return redact_text(text, self.secrets)


def _git_config_env(pairs: dict[str, str]) -> dict[str, str]:
    """Config for one git process via GIT_CONFIG_COUNT (git >= 2.31): not on disk, not in argv."""
    base = int(os.environ.get("GIT_CONFIG_COUNT") or 0)
    env = {"GIT_CONFIG_COUNT": str(base + len(pairs))}
    for i, (key, value) in enumerate(pairs.items(), start=base):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env


@dataclass
class _Change:
    sha: str
    added: int
    changed: int
    removed: int


@dataclass
class _NetResult:
    error: str | None = None
    rejected: bool = False


class _Publisher:
    def __init__(self, data_dir: Path, workdir: Path, config: Config, remote: _Remote, message: str, timeout_s: float):
        self.data_dir = data_dir
        self.workdir = workdir
        self.branch = config.API_GIT_BRANCH
        serve = config.API_GIT_SERVE_BRANCH
        self.serve = serve if serve and serve != self.branch else None
        self.remote = remote
        self.message = message
        self.timeout_s = timeout_s
        self.repo: Repo | None = None

    # -- the run ----------------------------------------------------------------------------

    def run(self) -> PublishResult:
        self._check_data_dir()
        with self._open_clone() as repo:
            self.repo = repo
            change: _Change | None = None
            for attempt in (1, 2):
                fetched = self._fetch()
                self._sync_branch(remote_known=fetched.error is None)
                change = self._commit_export()
                pending = self._pending()
                if fetched.error:
                    return self._failed(change, pending, f"fetch failed: {fetched.error}")
                if pending == 0:
                    return self._done(change, pushed=False)
                pushed = self._push()
                if pushed.error is None:
                    return self._done(change, pushed=True, pushed_count=pending)
                if pushed.rejected and attempt == 1:
                    logger.info("publish %s: push rejected, %s moved on the remote; fetching and publishing on top of it", self.branch, self.remote.shown)
                    continue
                return self._failed(change, pending, f"push failed: {pushed.error}")
        raise AssertionError("unreachable")  # pragma: no cover

    def _done(self, change: _Change | None, *, pushed: bool, pushed_count: int = 0) -> PublishResult:
        head = self._rev("HEAD")
        short = head[:10] if head else "-"
        if change is not None:
            text = f"published {short} to {self.branch}: {change.added} added, {change.changed} changed, {change.removed} removed"
            if pushed_count > 1:
                text += f" ({pushed_count} commits)"
        elif pushed:
            text = f"pushed {pushed_count} pending commit(s) to {self.branch} ({short})"
        else:
            text = f"nothing to publish ({self.branch} is up to date at {short})"
        serve_merged, serve_error = self._update_serve_branch()
        if serve_merged:
            text += f"; {self.serve} contains it"
        elif serve_error:
            text += f"; merge into {self.serve} failed: {serve_error}"
        logger.info("publish %s: %s", self.branch, text)
        return PublishResult(
            committed=change is not None,
            pushed=pushed,
            commit=head,
            files_added=change.added if change else 0,
            files_changed=change.changed if change else 0,
            files_removed=change.removed if change else 0,
            pending=0,
            serve_merged=serve_merged,
            error=serve_error,
            message=text,
        )

    def _failed(self, change: _Change | None, pending: int, reason: str) -> PublishResult:
        head = self._rev("HEAD")
        short = head[:10] if head else "-"
        if change is None and pending == 0:
            text = f"nothing new to publish, but {reason}"
        else:
            what = f"committed {short}" if change else f"{pending} commit(s) waiting"
            text = f"{what}, not pushed to {self.branch}: {reason}; the next publish pushes it"
        logger.warning("publish %s: %s", self.branch, text)
        return PublishResult(
            committed=change is not None,
            pushed=False,
            commit=head,
            files_added=change.added if change else 0,
            files_changed=change.changed if change else 0,
            files_removed=change.removed if change else 0,
            pending=pending,
            error=reason,
            message=text,
        )

    # -- the clone --------------------------------------------------------------------------

    def _check_data_dir(self) -> None:
        data_dir = self.data_dir.resolve()
        if not data_dir.is_dir():
            raise PublishError(f"export folder {self.data_dir} does not exist; run the export first")
        if not any(p.is_file() and is_api_file(p.relative_to(data_dir)) for p in data_dir.rglob("*")):
            # Mirroring an empty folder (or one holding only debris) would delete the whole published API.
            raise PublishError(f"export folder {self.data_dir} holds no files of the API; refusing to publish an empty API")
        workdir = self.workdir.resolve()
        if workdir.is_relative_to(data_dir) or data_dir.is_relative_to(workdir):
            raise PublishError(f"API_GIT_WORKDIR {self.workdir} and the export folder {self.data_dir} must not contain each other")

    def _open_clone(self) -> Repo:
        workdir = self.workdir
        try:
            if (workdir / ".git").exists():
                repo = Repo(workdir)
            elif workdir.exists() and any(workdir.iterdir()):
                raise PublishError(f"API_GIT_WORKDIR {workdir} exists but is not a git clone; move it away or choose another folder")
            else:
                workdir.mkdir(parents=True, exist_ok=True)
                repo = Repo.init(workdir)
                logger.info("publish %s: created working clone %s for %s", self.branch, workdir, self.remote.shown)
        except (InvalidGitRepositoryError, NoSuchPathError):
            raise PublishError(f"API_GIT_WORKDIR {workdir} is not a usable git clone; move it away so it can be recreated") from None
        except GitCommandError as exc:
            raise PublishError(f"cannot create the working clone in {workdir}: {self._reason(exc)}") from None
        except OSError as exc:
            raise PublishError(f"cannot create the working clone in {workdir}: {exc.strerror or exc}") from None
        self.repo = repo
        self._recover_interrupted_state()
        self._set_origin()
        return repo

    def _recover_interrupted_state(self) -> None:
        git_dir = Path(self.repo.git_dir)
        stale = [git_dir / name for name in _GIT_LOCK_FILES]
        stale += [git_dir / "refs" / "heads" / f"{self.branch}.lock", git_dir / "refs" / "remotes" / "origin" / f"{self.branch}.lock"]
        for path in stale:
            if path.exists():
                logger.warning("publish %s: removing %s left by an interrupted git command", self.branch, path)
                path.unlink(missing_ok=True)
        if (git_dir / "rebase-merge").exists() or (git_dir / "rebase-apply").exists():
            logger.warning("publish %s: aborting a rebase left in progress in %s", self.branch, self.workdir)
            self._git("rebase", "--abort", check=False)
        # A leftover MERGE_HEAD would turn the next publish commit into a merge with it.
        for name in ("MERGE_HEAD", "MERGE_MSG", "CHERRY_PICK_HEAD", "REVERT_HEAD"):
            (git_dir / name).unlink(missing_ok=True)

    def _set_origin(self) -> None:
        current = self._git("config", "--get", "remote.origin.url", check=False)
        if not current:
            self._git("remote", "add", "origin", self.remote.url)
        elif current != self.remote.url:
            logger.info("publish %s: origin changed from %s to %s", self.branch, self.remote.scrub(current), self.remote.shown)
            self._git("remote", "set-url", "origin", self.remote.url)

    # -- bringing the branch up to date -----------------------------------------------------

    def _fetch(self) -> _NetResult:
        names = [self.branch] + ([self.serve] if self.serve else [])
        listed = self._net("ls-remote", "--heads", "origin", *(f"refs/heads/{n}" for n in names))
        if isinstance(listed, _NetResult):
            return listed
        heads = {}
        for line in listed.splitlines():
            sha, _, ref = line.partition("\t")
            heads[ref.strip()] = sha.strip()
        refspecs = []
        for name in names:
            tracking = f"refs/remotes/origin/{name}"
            sha = heads.get(f"refs/heads/{name}")
            if sha is None:
                if self._rev(tracking):  # deleted on the remote (or never there)
                    self._git("update-ref", "-d", tracking)
            elif self._rev(tracking) != sha:
                refspecs.append(f"+refs/heads/{name}:{tracking}")
        if refspecs:
            fetched = self._net("fetch", "--no-tags", "origin", *refspecs)
            if isinstance(fetched, _NetResult):
                return fetched
        return _NetResult()

    def _sync_branch(self, remote_known: bool) -> None:
        """Check out the branch at the commit to publish on top of; never loses a commit.

        Why not `rebase` unpushed commits onto a remote that moved: every commit of ours is a
        complete snapshot of data/, and this run is about to write a newer complete snapshot.
        Replaying old snapshots only produces conflicts in files we regenerate anyway (and after
        an outage there can be dozens). So when local and remote diverged, the unpushed commits
        are first recorded under refs/staktrakr/superseded/ (and in the log), then the branch
        restarts from the remote's tip, where this run's export is committed: the others' commits
        stay in the history and ours lands on top.
        """
        branch = self.branch
        local = self._rev(f"refs/heads/{branch}")
        remote = self._rev(f"refs/remotes/origin/{branch}")
        if local is None and remote is None:
            self._start_orphan(remote_known)
            return
        if local is None:
            base = remote
        elif remote is None or local == remote or self._is_ancestor(remote, local):
            base = local  # up to date, or our unpushed commits on top: keep them
        elif self._is_ancestor(local, remote):
            base = remote  # fast-forward: the remote contains everything we had
        else:
            self._supersede(local, remote)
            base = remote
        # --force only discards uncommitted files of an interrupted run; -B moves the branch to
        # a commit that contains it (or that it was recorded against above).
        self._git("checkout", "--quiet", "--force", "-B", branch, base)

    def _start_orphan(self, remote_known: bool) -> None:
        # If the remote could not be read and does have the branch, the next run finds the two
        # diverged and rebuilds this export on top of the remote's tip (see above).
        why = "does not exist on" if remote_known else "could not be read from"
        logger.info("publish %s: the branch %s %s; starting it here", self.branch, why, self.remote.shown)
        self._git("symbolic-ref", "HEAD", f"refs/heads/{self.branch}")
        if self._git("ls-files"):
            self._git("rm", "-r", "-q", "--cached", ".")

    def _supersede(self, local: str, remote: str) -> None:
        count = self._git("rev-list", "--count", f"{remote}..{local}")
        ref = f"{SUPERSEDED_REFS}/{utcnow():%Y%m%dT%H%M%SZ}-{local[:12]}"
        self._git("update-ref", ref, local)
        logger.warning(
            "publish %s: %s unpushed commit(s) up to %s are superseded by this export because the branch moved on %s; kept as %s",
            self.branch, count, local[:10], self.remote.shown, ref,
        )
        refs = sorted(self._git("for-each-ref", "--format=%(refname)", SUPERSEDED_REFS).split())
        for old in refs[:-KEEP_SUPERSEDED]:
            self._git("update-ref", "-d", old)

    # -- commit and push ----------------------------------------------------------------------

    def _commit_export(self) -> _Change | None:
        dest = self.workdir / DATA_PREFIX
        try:
            left_out = mirror_tree(self.data_dir, dest, include=is_api_file)
        except OSError as exc:
            raise PublishError(f"cannot copy the export into {dest}: {exc.strerror or exc}") from None
        if left_out:
            shown = ", ".join(left_out[:5]) + (", ..." if len(left_out) > 5 else "")
            logger.warning("publish %s: left out %d file(s) of %s that are not API files: %s", self.branch, len(left_out), self.data_dir, shown)
        self._git("add", "--all", "--", DATA_PREFIX)
        status = self._git("diff", "--cached", "--name-status", "--no-renames", "-z", "--", DATA_PREFIX)
        fields = [f for f in status.split("\0") if f]
        codes = fields[0::2]
        if not codes:
            return None
        self._git("commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", self.message, env=self._identity_env())
        return _Change(
            sha=self._rev("HEAD") or "",
            added=sum(c == "A" for c in codes),
            changed=sum(c not in ("A", "D") for c in codes),
            removed=sum(c == "D" for c in codes),
        )

    def _identity_env(self) -> dict[str, str]:
        """The default identity for whatever neither git config nor the environment provides."""
        env = {}
        for key, default in (("name", DEFAULT_NAME), ("email", DEFAULT_EMAIL)):
            if self._git("config", "--get", f"user.{key}", check=False):
                continue
            for role in ("AUTHOR", "COMMITTER"):
                var = f"GIT_{role}_{key.upper()}"
                if not os.environ.get(var):
                    env[var] = default
        return env

    def _pending(self) -> int:
        if self._rev("HEAD") is None:
            return 0
        remote = f"refs/remotes/origin/{self.branch}"
        spec = f"{remote}..HEAD" if self._rev(remote) else "HEAD"
        return int(self._git("rev-list", "--count", spec))

    def _push(self) -> _NetResult:
        head = self._rev("HEAD")
        pushed = self._net("push", "--no-verify", "origin", f"{head}:refs/heads/{self.branch}")
        if isinstance(pushed, _NetResult):
            return pushed
        self._git("update-ref", f"refs/remotes/origin/{self.branch}", head)
        return _NetResult()

    def _update_serve_branch(self) -> tuple[bool | None, str | None]:
        """Merge the pushed API branch into API_GIT_SERVE_BRANCH (fast-forward or merge, no force)."""
        if not self.serve:
            return None, None
        serve, head = self.serve, self._rev("HEAD")
        target = self._rev(f"refs/remotes/origin/{serve}")
        if target and self._is_ancestor(head, target):
            return True, None
        if target is None or self._is_ancestor(target, head):
            new = head
        else:
            new = self._merge_commit(target, head)
            if new is None:
                return False, f"{self.branch} does not merge cleanly into {serve}"
        pushed = self._net("push", "--no-verify", "origin", f"{new}:refs/heads/{serve}")
        if isinstance(pushed, _NetResult):
            logger.warning("publish %s: could not update %s: %s", self.branch, serve, pushed.error)
            return False, pushed.error
        self._git("update-ref", f"refs/remotes/origin/{serve}", new)
        return True, None

    def _merge_commit(self, target: str, head: str) -> str | None:
        """A merge of `head` into `target`, made in a temporary worktree so data/ stays put."""
        worktree = self.workdir.parent / f".{self.workdir.name}-merge"
        if worktree.exists():
            shutil.rmtree(worktree)
        self._git("worktree", "prune")
        self._git("worktree", "add", "--quiet", "--detach", str(worktree), target)
        try:
            # -X theirs: where both changed the same published file, the API branch wins.
            merged = self._git(
                "-C", str(worktree), "merge", "--quiet", "--no-ff", "--no-verify", "--no-gpg-sign", "--allow-unrelated-histories", "-X", "theirs",
                "-m", f"publish: merge {self.branch} into {self.serve}", head,
                env=self._identity_env(), check=False,
            )
            if merged is None:
                self._git("-C", str(worktree), "merge", "--abort", check=False)
                return None
            return self._git("-C", str(worktree), "rev-parse", "HEAD")
        finally:
            self._git("worktree", "remove", "--force", str(worktree), check=False)
            self._git("worktree", "prune", check=False)

    # -- git plumbing -------------------------------------------------------------------------

    def _git(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str | None:
        """Run a local git command; stdout, or None on failure when check=False."""
        assert self.repo is not None
        try:
            return self.repo.git.execute([self.repo.git.GIT_PYTHON_GIT_EXECUTABLE, *args], env=env)
        except GitCommandError as exc:
            if not check:
                return None
            raise PublishError(f"git {args[0]} failed in {self.workdir}: {self._reason(exc)}") from None

    def _net(self, *args: str) -> str | _NetResult:
        """Run a command that talks to the remote; a _NetResult with the reason when it fails."""
        assert self.repo is not None
        env = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", **self.remote.auth_env}
        try:
            return self.repo.git.execute(
                [self.repo.git.GIT_PYTHON_GIT_EXECUTABLE, *args], env=env, kill_after_timeout=self.timeout_s
            )
        except GitCommandError as exc:
            output = f"{exc.stdout or ''}\n{exc.stderr or ''}"
            reason = self._reason(exc)
            if _AUTH_FAILED.search(output):
                reason += " (check the credentials in API_GIT_REMOTE)"
            return _NetResult(error=reason, rejected=bool(_NON_FAST_FORWARD.search(output)))

    def _reason(self, exc: GitCommandError) -> str:
        """git's own one-line reason (not GitPython's text with the command line), redacted."""
        raw = str(exc.stderr or "").strip()
        raw = raw.removeprefix("stderr:").strip().strip("'").strip()
        lines = [line.strip() for line in raw.splitlines() if line.strip() and not line.strip().startswith("hint:")]
        picked = next((line for line in lines if line.startswith(("fatal:", "error:", "!"))), lines[-1] if lines else "")
        if not picked:
            picked = f"git exited with status {exc.status}"
        # What the server said (a hook's or a forge's reason, e.g. "protected branch") helps most.
        said = [line.removeprefix("remote:").strip() for line in lines if line.startswith("remote:")]
        said = [line for line in said if line and line not in picked]
        if said:
            picked += " (remote says: " + "; ".join(said[:3]) + ")"
        return self.remote.scrub(picked)

    def _rev(self, ref: str) -> str | None:
        return self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False) or None

    def _is_ancestor(self, older: str, newer: str) -> bool:
        return self._git("merge-base", "--is-ancestor", older, newer, check=False) is not None


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

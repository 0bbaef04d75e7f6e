"""One publish: mirror the export into `data/` of the API branch, commit, push, merge into the
serve branch.

The live system force-pushed, reset away unpushed commits and never deleted stale slug folders
(LIVE-SYSTEM §7, B-17). Here: the clone is reused, the branch only ever moves forward on the
remote (no force), `data/` mirrors the API files of the export exactly (`is_api_file`: never the
temp files of a killed write or anything else lying in the folder), a commit that could not be
pushed stays and goes out with the next publish, and one `job_lock("publish")` keeps runs from
overlapping.
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

from staktrakr.api.layout import is_api_file
from staktrakr.locking import LockBusy, job_lock
from staktrakr.timeutil import utcnow

from .clone import Clone
from .mirror import mirror_tree
from .remote import Remote
from .results import Change, NetResult, PublishError, PublishResult
from .settings import GitPublisherSettings

logger = logging.getLogger(__package__)

DATA_PREFIX = "data"
# Unpushed commits replaced by a newer export are kept under these refs (newest KEEP_SUPERSEDED).
SUPERSEDED_REFS = "refs/staktrakr/superseded"
KEEP_SUPERSEDED = 10
DEFAULT_NETWORK_TIMEOUT_S = 300.0


def publish(
    data_dir: Path,
    settings: GitPublisherSettings,
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
    if settings.API_GIT_REMOTE is None:
        raise PublishError("API_GIT_REMOTE is not set: there is nowhere to publish to")
    remote = Remote.parse(settings.API_GIT_REMOTE.get_secret_value())
    now = now or utcnow()
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    message = f"publish: {now.astimezone(UTC):%Y-%m-%dT%H:%M}Z | retail={retail_generated_at or 'unknown'}"
    workdir = Path(settings.API_GIT_WORKDIR).absolute()
    try:
        # Only job_lock raises LockBusy here; the publish itself never does.
        with job_lock("publish", Path(lock_dir) if lock_dir else workdir.parent):
            return Publisher(Path(data_dir), workdir, settings, remote, message, network_timeout_s).run()
    except LockBusy as busy:
        who = busy.holder.describe() if busy.holder else "lock being written"
        text = f"another publish is running ({who}); skipped"
        logger.info("publish %s: %s", settings.API_GIT_BRANCH, text)
        return PublishResult(skipped=True, message=text)


class Publisher(Clone):
    def __init__(self, data_dir: Path, workdir: Path, settings: GitPublisherSettings, remote: Remote, message: str, timeout_s: float):
        super().__init__(workdir, settings.API_GIT_BRANCH, remote, timeout_s)
        self.data_dir = data_dir
        serve = settings.API_GIT_SERVE_BRANCH
        self.serve = serve if serve and serve != self.branch else None
        self.message = message

    # -- the run ----------------------------------------------------------------------------

    def run(self) -> PublishResult:
        self._check_data_dir()
        with self._open_clone() as repo:
            self.repo = repo
            change: Change | None = None
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

    def _done(self, change: Change | None, *, pushed: bool, pushed_count: int = 0) -> PublishResult:
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

    def _failed(self, change: Change | None, pending: int, reason: str) -> PublishResult:
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

    # -- the export folder ------------------------------------------------------------------

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

    # -- bringing the branch up to date -----------------------------------------------------

    def _fetch(self) -> NetResult:
        names = [self.branch] + ([self.serve] if self.serve else [])
        listed = self._net("ls-remote", "--heads", "origin", *(f"refs/heads/{n}" for n in names))
        if isinstance(listed, NetResult):
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
            if isinstance(fetched, NetResult):
                return fetched
        return NetResult()

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

    def _commit_export(self) -> Change | None:
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
        return Change(
            sha=self._rev("HEAD") or "",
            added=sum(c == "A" for c in codes),
            changed=sum(c not in ("A", "D") for c in codes),
            removed=sum(c == "D" for c in codes),
        )

    def _pending(self) -> int:
        if self._rev("HEAD") is None:
            return 0
        remote = f"refs/remotes/origin/{self.branch}"
        spec = f"{remote}..HEAD" if self._rev(remote) else "HEAD"
        return int(self._git("rev-list", "--count", spec))

    def _push(self) -> NetResult:
        head = self._rev("HEAD")
        pushed = self._net("push", "--no-verify", "origin", f"{head}:refs/heads/{self.branch}")
        if isinstance(pushed, NetResult):
            return pushed
        self._git("update-ref", f"refs/remotes/origin/{self.branch}", head)
        return NetResult()

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
        if isinstance(pushed, NetResult):
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

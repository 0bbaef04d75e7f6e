"""The working clone the publisher commits in: opened or created, repaired after a killed run,
and the git commands run in it (local ones raise PublishError, network ones return NetResult)."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from git import Repo
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from .remote import Remote
from .results import NetResult, PublishError

logger = logging.getLogger(__package__)

DEFAULT_NAME = "staktrakr publisher"
DEFAULT_EMAIL = "publisher@staktrakr.invalid"

# Files git itself leaves behind when killed mid-command. While we hold the publish lock no git
# process of ours can be running in the clone, so any of these is stale and would block every
# later publish ("Unable to create '.git/index.lock': File exists").
_GIT_LOCK_FILES = ("index.lock", "HEAD.lock", "config.lock", "packed-refs.lock")
_AUTH_FAILED = re.compile(r"could not read Username|Authentication failed|returned error: 40[13]|Permission denied")
_NON_FAST_FORWARD = re.compile(r"\[rejected\].*\((fetch first|non-fast-forward|stale info)\)")


class Clone:
    """A git working clone of the API repository, on one branch, talking to one remote."""

    def __init__(self, workdir: Path, branch: str, remote: Remote, timeout_s: float):
        self.workdir = workdir
        self.branch = branch
        self.remote = remote
        self.timeout_s = timeout_s
        self.repo: Repo | None = None

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

    def _net(self, *args: str) -> str | NetResult:
        """Run a command that talks to the remote; a NetResult with the reason when it fails."""
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
            return NetResult(error=reason, rejected=bool(_NON_FAST_FORWARD.search(output)))

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

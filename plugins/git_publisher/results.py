"""What a publish reports, and the one error it raises."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from staktrakr.errors import StaktrakrError


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


@dataclass
class Change:
    """The commit one publish made, and its files by kind of change."""

    sha: str
    added: int
    changed: int
    removed: int


@dataclass
class NetResult:
    """A git command that talks to the remote and failed: why, and whether the remote moved on."""

    error: str | None = None
    rejected: bool = False

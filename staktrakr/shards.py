"""Dealer shards within a poller group: which poller process crawls which dealer.

A poller *group* (POLLER_ID: cloud, home, ...) may run as N shards. Each dealer belongs to exactly
one shard of a group, chosen by rendezvous (highest-random-weight) hashing of the dealer id: every
shard computes the same answer on its own, without talking to the others, and going from N to
N+1 shards moves only the dealers the new shard wins (about 1/(N+1) of them) - the others keep
their shard, so per-dealer politeness and learned state stay where they were.

Whole dealers, never single targets, are shared out: all of a dealer's pages then wait in one
process's download slot, so a dealer never sees two shards of one group at once.

Shards are numbered from 0, like Kubernetes' JOB_COMPLETION_INDEX: `STAKTRAKR_SHARD=0/3` ..
`2/3`, or JOB_COMPLETION_INDEX with STAKTRAKR_SHARD_COUNT (set by the manifest). No shard
settings, or a count of 1, means no shards: every target, exactly as before.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict

from .timeutil import parse_time

if TYPE_CHECKING:
    from .config import Config

T = TypeVar("T")

MAX_SHARDS = 64
_SPEC = re.compile(r"^\s*(\d{1,3})\s*/\s*(\d{1,3})\s*$")
SPEC_RULE = f"write it as INDEX/COUNT, e.g. 0/3 (shards are numbered 0..COUNT-1, COUNT at most {MAX_SHARDS})"


class Shard(BaseModel):
    """This process's place in its poller group."""

    model_config = ConfigDict(frozen=True)

    index: int
    count: int

    @property
    def label(self) -> str:
        """`1/3`: what the run rows and `staktrakr shards` show."""
        return f"{self.index}/{self.count}"

    def owns(self, dealer: str) -> bool:
        return shard_of_dealer(dealer, self.count) == self.index


def parse_spec(value: str) -> tuple[int, int]:
    """`STAKTRAKR_SHARD=i/N` as (i, N); ValueError with the rule when it is not one."""
    match = _SPEC.match(value)
    if not match:
        raise ValueError(f"{value[:20]!r} is not a shard; {SPEC_RULE}")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= count <= MAX_SHARDS:
        raise ValueError(f"{value.strip()!r}: the count must be 1..{MAX_SHARDS}")
    if index >= count:
        raise ValueError(f"{value.strip()!r}: shard {index} does not exist among {count} (they are numbered 0..{count - 1})")
    return index, count


def resolve(spec: str | None, count: int | None, completion_index: int | None) -> tuple[int, int] | None:
    """The (index, count) the three variables describe, or None for no shards.

    Called by the Config validator; each inconsistency is one ValueError naming the variables,
    so the operator reads one line and exit status 2 like any other configuration mistake."""
    if count is not None and not 1 <= count <= MAX_SHARDS:
        raise ValueError(f"must be 1..{MAX_SHARDS}")
    if spec is not None:
        index, spec_count = parse_spec(spec)
        if count is not None and count != spec_count:
            raise ValueError(f"is {count} but STAKTRAKR_SHARD={spec.strip()} says {spec_count} shards; set one of them")
        if count is not None and completion_index is not None and completion_index != index:
            raise ValueError(f"STAKTRAKR_SHARD={spec.strip()} and JOB_COMPLETION_INDEX={completion_index} disagree; set one of them")
        return (index, spec_count) if spec_count > 1 else None
    if count is None:
        # JOB_COMPLETION_INDEX alone is just Kubernetes numbering the pods of some Indexed Job.
        return None
    if completion_index is None:
        raise ValueError("is set but neither STAKTRAKR_SHARD nor JOB_COMPLETION_INDEX says which shard this is")
    if not 0 <= completion_index < count:
        raise ValueError(f"is {count} but JOB_COMPLETION_INDEX is {completion_index} (shards are 0..{count - 1})")
    return (completion_index, count) if count > 1 else None


def shard_of(config: Config) -> Shard | None:
    """This process's shard, from its (already validated) configuration."""
    found = resolve(config.STAKTRAKR_SHARD, config.STAKTRAKR_SHARD_COUNT, config.JOB_COMPLETION_INDEX)
    return Shard(index=found[0], count=found[1]) if found else None


def _weight(dealer: str, index: int) -> int:
    # A stable hash (not Python's hash(), which is salted per process): every shard, on every
    # machine and version, must give a dealer the same weights.
    digest = hashlib.blake2b(f"{dealer}\x00{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def shard_of_dealer(dealer: str, count: int) -> int:
    """The shard (0..count-1) that crawls `dealer`: the one giving it the highest weight."""
    if count <= 1:
        return 0
    return max(range(count), key=lambda index: _weight(dealer, index))


def shard_targets(targets: Sequence[T], config: Config) -> list[T]:
    """The targets of this process's shard (objects with a `.vendor`); all of them when unsharded."""
    shard = shard_of(config)
    if shard is None:
        return list(targets)
    return [t for t in targets if shard.owns(_vendor(t))]


def assignment(dealers: Iterable[str], count: int) -> dict[int, list[str]]:
    """Every shard's dealers, sorted: what `staktrakr shards` prints."""
    shares: dict[int, list[str]] = {index: [] for index in range(max(count, 1))}
    for dealer in sorted(set(dealers)):
        shares[shard_of_dealer(dealer, count)].append(dealer)
    return shares


def _vendor(target: Any) -> str:
    return str(target.vendor)


class ShardState(BaseModel):
    """One shard of a poller group as its runs show it: what `staktrakr shards` reports."""

    group: str
    shard: str  # `1/3`
    state: str  # ok, error, running, silent (see shard_states)
    started_at: str | None = None
    status: str | None = None
    total: int | None = None
    note: str = ""


def shard_states(runs: Iterable[dict[str, Any]], now: datetime, silent_after: timedelta) -> list[ShardState]:
    """Every shard of every sharded group (the count its newest run gives), newest run first in
    `runs`. A shard is *silent* when it never ran, missed its group's latest cycle (its newest
    run started more than `silent_after` before the group's newest), or has been running for
    longer than `silent_after` (a killed process never closes its run)."""
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for run in runs:
        newest.setdefault((run["poller_id"], run["shard"]), run)
    groups: dict[str, list[dict[str, Any]]] = {}
    for (group, _), run in newest.items():
        groups.setdefault(group, []).append(run)
    states: list[ShardState] = []
    for group, group_runs in sorted(groups.items()):
        latest = max(group_runs, key=lambda r: r["started_at"])
        count = parse_spec(latest["shard"])[1]
        cycle_start = parse_time(latest["started_at"]) - silent_after
        for index in range(count):
            label = f"{index}/{count}"
            run = newest.get((group, label))
            states.append(_state(group, label, run, cycle_start, now, silent_after))
    return states


def _state(group: str, label: str, run: dict[str, Any] | None, cycle_start: datetime, now: datetime, silent_after: timedelta) -> ShardState:
    if run is None:
        return ShardState(group=group, shard=label, state="silent", note="no run of this shard yet")
    started = parse_time(run["started_at"])
    state = ShardState(group=group, shard=label, state=run["status"], started_at=run["started_at"], status=run["status"], total=run["total"])
    if started < cycle_start:
        return state.model_copy(update={"state": "silent", "note": "missed the group's latest cycle"})
    if run["status"] == "running" and now - started > silent_after:
        return state.model_copy(update={"state": "silent", "note": "run never finished (process killed or host down?)"})
    if run.get("finish_reason") == "orphaned":
        return state.model_copy(update={"state": "silent", "note": "run never finished (closed as orphaned)"})
    return state

"""Row ids unique across pollers: sync is last-push-wins per primary key, so keys must never collide."""

from __future__ import annotations

import secrets
from datetime import datetime

from ..timeutil import utcnow


def new_id(poller_id: str, when: datetime | None = None) -> str:
    """`home-20260315T201502123-9f2c4a1b7e3d`: sortable by time, unique per poller and draw."""
    when = when or utcnow()
    stamp = when.strftime("%Y%m%dT%H%M%S") + f"{when.microsecond // 1000:03d}"
    return f"{poller_id}-{stamp}-{secrets.token_hex(6)}"

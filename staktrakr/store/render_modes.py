"""`dealer_render_modes`: whether a dealer's pages need the browser, as the crawl learned it."""

from __future__ import annotations

from typing import Any

from .db import Database


def learned_render_modes(db: Database) -> dict[str, dict[str, Any]]:
    """The newest learned mode of every dealer, whichever poller learned it:
    {vendor: {"mode": "browser" | "static", "learned_at": ISO time, "reason": ...}}."""
    rows = db.query(
        """SELECT vendor, mode, learned_at, reason, poller_id FROM dealer_render_modes AS m
           WHERE learned_at = (SELECT MAX(learned_at) FROM dealer_render_modes WHERE vendor = m.vendor)"""
    )
    return {row["vendor"]: row for row in rows}


def remember_render_mode(db: Database, vendor: str, poller_id: str, mode: str, learned_at: str, reason: str) -> None:
    with db.transaction():
        db.execute(
            """INSERT INTO dealer_render_modes (id, vendor, poller_id, mode, learned_at, reason) VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, learned_at = excluded.learned_at, reason = excluded.reason""",
            (f"{poller_id}:{vendor}", vendor, poller_id, mode, learned_at, reason[:300]),
        )

"""The alert plugin's table: one row per incident key, shared by every poller.

The key names the condition (`dealer:apmex`, `feed:spot`), never a counter: two pollers that
see the same incident write the same row, so it is announced once, whichever runs first.
"""

from __future__ import annotations

from staktrakr.store.migrations import Migration

COMPONENT = "alerts"

MIGRATIONS = [
    Migration(
        COMPONENT,
        1,
        "alert incidents",
        (
            """CREATE TABLE IF NOT EXISTS alert_incidents (
                key TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                subject TEXT NOT NULL,
                message TEXT NOT NULL,
                opened_at TEXT NOT NULL,
                opened_by TEXT NOT NULL,
                notified_at TEXT,
                closed_at TEXT,
                recovery_notified_at TEXT
            )""",
        ),
    )
]

"""The state of each incident in `alert_incidents`: open, announced, closed, recovery announced."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from staktrakr.store import Database


@dataclass(frozen=True)
class Condition:
    """A condition that holds now: `key` identifies the incident across runs and pollers."""

    kind: str  # dealer, feed, poller, price-low, price-move
    subject: str
    message: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subject}"


def incidents(db: Database) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in db.query("SELECT * FROM alert_incidents")}


def open_incident(db: Database, condition: Condition, now: str, poller: str) -> None:
    """A new incident, or a closed one of the same key opening again (its old state replaced)."""
    with db.transaction():
        db.execute(
            """INSERT INTO alert_incidents (key, kind, subject, message, opened_at, opened_by) VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (key) DO UPDATE SET message = excluded.message, opened_at = excluded.opened_at,
                   opened_by = excluded.opened_by, notified_at = NULL, closed_at = NULL, recovery_notified_at = NULL""",
            (condition.key, condition.kind, condition.subject, condition.message, now, poller),
        )


def close_incident(db: Database, key: str, now: str) -> None:
    with db.transaction():
        db.execute("UPDATE alert_incidents SET closed_at = ? WHERE key = ? AND closed_at IS NULL", (now, key))


def mark_notified(db: Database, key: str, now: str, recovery: bool) -> None:
    column = "recovery_notified_at" if recovery else "notified_at"
    with db.transaction():
        db.execute(f"UPDATE alert_incidents SET {column} = ? WHERE key = ?", (now, key))  # noqa: S608 - fixed names

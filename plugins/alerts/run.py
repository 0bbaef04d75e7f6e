"""One pass of `staktrakr alert`: compare the conditions that hold now with the incidents in the
database, announce each new incident once and each recovery once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from staktrakr.plugin_manager import get_plugin_manager
from staktrakr.status import build_status
from staktrakr.store import Database
from staktrakr.timeutil import iso_ms

from . import incidents as store
from .conditions import dealer_conditions, feed_conditions, poller_conditions
from .incidents import Condition
from .price_events import SpotAt, low_price_conditions, price_move_conditions
from .settings import AlertSettings

Send = Callable[[str, str], bool]


@dataclass
class AlertPass:
    opened: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)  # titles of the notifications that went out
    unsent: list[str] = field(default_factory=list)  # tried again by the next pass


def _spot_at(db: Database) -> SpotAt:
    """Spot prices from whichever feed plugin answers (the export asks the same way)."""
    pm = get_plugin_manager()

    def spot_at(metal: str, since: str, until: str) -> float | None:
        row = pm.hook.staktrakr_spot_price(db=db, metal=metal, since=since, until=until)
        return float(row["spot"]) if row else None

    return spot_at


def conditions_now(db: Database, now: datetime, settings: AlertSettings) -> list[Condition]:
    status = build_status(db, now)
    return [
        *dealer_conditions(db, status, now, settings),
        *feed_conditions(status),
        *poller_conditions(status, now, settings),
        *low_price_conditions(db, now, _spot_at(db)),
        *price_move_conditions(db, now, settings),
    ]


def alert_pass(db: Database, now: datetime, settings: AlertSettings, poller: str, send: Send) -> AlertPass:
    stamp = iso_ms(now)
    result = AlertPass()
    with db.held():
        holding = {c.key: c for c in conditions_now(db, now, settings)}
        known = store.incidents(db)
        for key, condition in holding.items():
            row = known.get(key)
            if row is None or row["closed_at"] is not None:
                store.open_incident(db, condition, stamp, poller)
                result.opened.append(key)
        for key, row in known.items():
            if row["closed_at"] is None and key not in holding:
                store.close_incident(db, key, stamp)
                result.recovered.append(key)
        # Announce what is due: new incidents, recoveries, and those a failed send left over.
        for key, row in sorted(store.incidents(db).items()):
            if row["closed_at"] is None and row["notified_at"] is None:
                _announce(db, send, result, key, f"[staktrakr] {row['kind']} {row['subject']}: problem", row["message"], stamp, recovery=False)
            elif row["closed_at"] is not None and row["notified_at"] is not None and row["recovery_notified_at"] is None:
                body = f"recovered at {row['closed_at']} (open since {row['opened_at']}): {row['message']}"
                _announce(db, send, result, key, f"[staktrakr] {row['kind']} {row['subject']}: recovered", body, stamp, recovery=True)
    return result


def _announce(db: Database, send: Send, result: AlertPass, key: str, title: str, body: str, stamp: str, recovery: bool) -> None:
    if send(title, body):
        store.mark_notified(db, key, stamp, recovery)
        result.sent.append(title)
    else:
        result.unsent.append(title)

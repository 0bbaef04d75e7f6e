"""Alert passes on a real database, sent through Apprise's json:// to a receiver on 127.0.0.1:
price events, a destination that is down, the secret destinations, the table's keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from staktrakr.config import load_section
from staktrakr.models import Status
from staktrakr.plugins.alerts.incidents import incidents
from staktrakr.plugins.alerts.notify import Notifier
from staktrakr.plugins.alerts.run import alert_pass
from staktrakr.plugins.alerts.settings import AlertSettings

from ..conftest import staktrakr
from ..status.rows import attempt
from .receiver import Receiver

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def _month_of_prices(db, vendor: str = "a", low: float = 30.0) -> None:
    for day in range(1, 21):
        attempt(db, NOW - timedelta(days=day), vendor, Status.ok, price=low + day % 5)


def test_a_cheap_coin_and_a_price_jump_are_announced_once_each(db):
    _month_of_prices(db)
    attempt(db, NOW - timedelta(days=3), "b", Status.ok, price=40.0)
    attempt(db, NOW - timedelta(days=2), "b", Status.ok, price=40.0)
    attempt(db, NOW - timedelta(minutes=20), "a", Status.ok, price=28.5)  # under every day's low
    attempt(db, NOW - timedelta(minutes=20), "b", Status.ok, price=52.0)  # +30 % on its week
    settings = AlertSettings(ALERT_PRICE_MOVE=0.2)
    with Receiver() as receiver:
        notifier = Notifier([receiver.alert_url])
        first = alert_pass(db, NOW, settings, "test", notifier.send)
        second = alert_pass(db, NOW + timedelta(minutes=5), settings, "test", notifier.send)
    # a's 28.50 is under the month's lows but only 11 % under its week: a low, not a jump.
    assert sorted(first.opened) == ["price-low:ase", "price-move:b/ase"]
    assert second.opened == [] and second.sent == []
    bodies = {p["title"]: p["message"] for p in receiver.posts}
    assert "ase at 28.50 (a), under its 30-day 10th percentile 30.00" in bodies["[staktrakr] price-low ase: problem"]
    assert "b ase at 52.00, +30% from its 7-day median 40.00" in bodies["[staktrakr] price-move b/ase: problem"]
    assert len(receiver.posts) == 2


def test_a_destination_that_is_down_gets_the_alert_on_the_next_pass(db):
    for minutes in (50, 40, 30):
        attempt(db, NOW - timedelta(minutes=minutes), "a", Status.error)
    settings = AlertSettings(ALERT_DEALER_FAILURES_IN_A_ROW=3)
    with Receiver(fail=True) as receiver:
        notifier = Notifier([receiver.alert_url])
        down = alert_pass(db, NOW, settings, "test", notifier.send)
        receiver.fail = False
        up = alert_pass(db, NOW + timedelta(minutes=1), settings, "test", notifier.send)
        done = alert_pass(db, NOW + timedelta(minutes=2), settings, "test", notifier.send)
    assert down.opened == ["dealer:a"] and down.unsent == ["[staktrakr] dealer a: problem"] and down.sent == []
    assert up.opened == [] and up.sent == ["[staktrakr] dealer a: problem"] and done.sent == []
    assert receiver.titles() == ["[staktrakr] dealer a: problem"]
    row = incidents(db)["dealer:a"]
    assert row["opened_at"] == "2026-03-15T12:00:00.000Z" and row["notified_at"] == "2026-03-15T12:01:00.000Z"


def test_alert_urls_are_a_secret_and_a_bad_one_is_one_clear_line(tmp_path):
    secret = "ntfys://user:hunter2@ntfy.example/topic"
    assert "hunter2" not in repr(load_section(AlertSettings, environ={"ALERT_URLS": secret}))
    done = staktrakr("alert", env={"ALERT_URLS": "nonsense-without-scheme"})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "none of the 1 ALERT_URLS destination(s) is a URL Apprise knows" in done.stderr
    assert "nonsense-without-scheme" not in done.stderr + done.stdout
    dry = staktrakr("alert", "--dry-run", env={"ALERT_URLS": secret})
    assert dry.returncode == 0 and "nothing sent" in dry.stderr and "hunter2" not in dry.stdout + dry.stderr
    verbose = staktrakr("-v", "alert", env={"ALERT_URLS": "json://user:hunter2@127.0.0.1:9/hook"})
    assert verbose.returncode == 0 and "Loaded JSON URL" in verbose.stderr and "hunter2" not in verbose.stdout + verbose.stderr
    bad_time = staktrakr("alert", "--now", "yesterday")
    assert bad_time.returncode == 2 and "not an ISO-8601 time: 'yesterday'" in bad_time.stderr


def _spot(db, at: datetime, gold: float) -> None:
    from staktrakr.plugins.spot.store import SpotReading, insert_spot_readings
    from staktrakr.timeutil import floor_15, iso_ms

    stamp = iso_ms(at)
    insert_spot_readings(db, [SpotReading(id=f"test-gold-{stamp}", poller_id="test", metal="gold", spot=gold, source="test",
                                          timestamp=stamp, timestamp_floor=iso_ms(floor_15(at)), scraped_at=stamp)])  # fmt: skip


def test_a_cheap_coin_is_judged_by_its_premium_when_spot_is_known(db):
    # Gold fell 10 % over the month and the dealers' prices with it: today's price is the month's
    # lowest, yet its premium is the usual one. Then a price whose premium really is low.
    for day in range(1, 21):
        gold = 4000.0 + 20 * day  # 4,020 yesterday ... 4,400 twenty days ago
        _spot(db, NOW - timedelta(days=day, hours=1), gold)
        attempt(db, NOW - timedelta(days=day), "a", Status.ok, coin="age", price=round(gold * 1.05 + day % 3, 2))
    _spot(db, NOW - timedelta(hours=1), 4000.0)
    attempt(db, NOW - timedelta(minutes=20), "a", Status.ok, coin="age", price=4201.0)  # +5.0 %: usual
    settings = AlertSettings()
    with Receiver() as receiver:
        usual = alert_pass(db, NOW, settings, "test", Notifier([receiver.alert_url]).send)
        assert "price-low:age" not in usual.opened  # by price alone it would be: under every day's low
        attempt(db, NOW - timedelta(minutes=10), "b", Status.ok, coin="age", price=4080.0)  # +2.0 %
        cheap = alert_pass(db, NOW + timedelta(minutes=5), settings, "test", Notifier([receiver.alert_url]).send)
    assert cheap.opened == ["price-low:age"]
    body = {p["title"]: p["message"] for p in receiver.posts}["[staktrakr] price-low age: problem"]
    assert "age at 4,080.00 (b), premium +2.0 % under its 30-day 10th percentile +5.0 %" in body

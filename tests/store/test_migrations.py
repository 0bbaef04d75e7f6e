from staktrakr.store import Database
from staktrakr.store.migrations import LATEST_VERSION
from staktrakr.store.snapshots import Snapshot, count_rows, insert_snapshot
from staktrakr.models import Status


def test_fresh_database_has_every_table(db):
    tables = set(db.table_names())
    assert {"price_snapshots", "poller_runs", "provider_failures", "spot_prices", "provider_coins", "provider_vendors", "goldback_rates"} <= tables
    assert db.schema_version() == LATEST_VERSION
    assert db.migrate() == []  # idempotent


def test_upgrade_from_an_older_level_keeps_rows(tmp_path):
    path = tmp_path / "old.db"
    old = Database.open_local(path, migrate=False)
    assert old.migrate(target=1) == [1]
    old.execute(
        "INSERT INTO price_snapshots (id, run_id, poller_id, scraped_at, window_start, coin_slug, vendor, price, in_stock, status) "
        "VALUES ('api-1', 'r1', 'api', '2026-03-15T20:00:02.000Z', '2026-03-15T20:00:00Z', 'ase', 'apmex', 93.33, 1, 'ok')"
    )
    old.commit()
    assert "http_status" not in old.columns("price_snapshots")
    old.close()

    upgraded = Database.open_local(path)  # migrates on open
    assert upgraded.schema_version() == LATEST_VERSION
    assert {"http_status", "elapsed_ms"} <= set(upgraded.columns("price_snapshots"))
    assert "urls" in upgraded.columns("provider_vendors")
    assert upgraded.query("SELECT price, http_status FROM price_snapshots") == [{"price": 93.33, "http_status": None}]
    upgraded.close()


def test_failures_get_their_own_row_and_ids_never_collide(db):
    for poller in ("api", "home"):
        for status in (Status.ok, Status.blocked):
            insert_snapshot(db, Snapshot(
                id=f"{poller}-{status.value}", run_id=f"run-{poller}", poller_id=poller, scraped_at="2026-03-15T20:00:02.000Z",
                window_start="2026-03-15T20:00:00Z", coin_slug="ase", vendor="apmex", status=status,
                price=93.3 if status is Status.ok else None, in_stock=True if status is Status.ok else None,
                reason="HTTP 403" if status is Status.blocked else None,
            ))
    assert count_rows(db, "price_snapshots") == 4
    failures = db.query("SELECT poller_id, status, reason FROM provider_failures ORDER BY poller_id")
    assert failures == [
        {"poller_id": "api", "status": "blocked", "reason": "HTTP 403"},
        {"poller_id": "home", "status": "blocked", "reason": "HTTP 403"},
    ]


def test_the_snapshot_model_and_the_core_schema_name_the_same_columns():
    # Snapshot.from_item writes CORE_COLUMNS; the core's migrations create them (plugins add theirs).
    from staktrakr.store.migrations import core_columns
    from staktrakr.store.snapshots import CORE_COLUMNS

    assert core_columns("price_snapshots") == set(CORE_COLUMNS)
    assert {"run_id", "total", "captured", "shard"} <= core_columns("poller_runs")
    assert "vision_calls" not in core_columns("poller_runs")  # the vision plugin's own column

"""One observation model from the item to the row: the item's fields are Observation's, the row
is a Snapshot built from it, and a plugin's own columns ride along without entering the model."""

import pytest
from scrapy.utils.test import get_crawler

from staktrakr.catalogue import catalogue_coin
from staktrakr.models import Observation, RetailPriceItem, Target, plugin_columns, plugin_data
from staktrakr.pipelines.store import StorePipeline
from staktrakr.store.snapshots import CORE_COLUMNS, Snapshot, insert_snapshots

TARGET = Target(coin=catalogue_coin("ase"), vendor="apmex", urls=("http://127.0.0.1:1/apmex/ase.html",))


def _item(**extra):
    return RetailPriceItem(
        target=TARGET, coin_slug="ase", vendor="apmex", url=TARGET.urls[0], price=94.19, in_stock=True, status="ok",
        method="table", reason="tier 1-19", scraped_at="2026-03-15T20:15:00.123Z", http_status=200, elapsed_ms=120, **extra,
    )  # fmt: skip


def test_the_item_the_row_and_the_table_share_one_list_of_fields(db):
    assert set(RetailPriceItem.fields) == set(Observation.model_fields) | {"target", "plugin_columns", "plugin_data"}
    assert set(CORE_COLUMNS) == set(Observation.model_fields) | {"id", "run_id", "poller_id", "window_start"}
    table = {row["name"] for row in db.query("PRAGMA table_info(price_snapshots)")}
    assert set(CORE_COLUMNS) <= table


def test_a_plugin_column_is_stored_and_plugin_data_is_not(db, config):
    crawler = get_crawler(settings_dict={"STAKTRAKR_DB": str(config.STAKTRAKR_DB)})
    crawler.stats.open_spider()
    crawler.stats.set_value("staktrakr/run_id", "test-run")
    pipeline = StorePipeline(crawler)
    item = _item()
    plugin_columns(item).update(vision_price=94.5, vision_agrees=True)  # the vision plugin's migration added them
    plugin_data(item)["vision.screenshot"] = "/tmp/never-stored.png"
    snapshot = pipeline.snapshot(item)
    assert snapshot.model_extra == {"vision_price": 94.5, "vision_agrees": True}
    assert snapshot.window_start == "2026-03-15T20:15:00Z" and snapshot.run_id == "test-run" and snapshot.poller_id == "test"
    assert pipeline.store(snapshot)
    (row,) = db.query("SELECT * FROM price_snapshots")
    assert row["price"] == 94.19 and row["vision_price"] == 94.5 and row["vision_agrees"] == 1 and row["in_stock"] == 1
    assert "never-stored" not in repr(row)


def test_rows_with_and_without_a_plugin_column_go_in_one_batch(db):
    identity = {"run_id": None, "poller_id": "import", "window_start": "2026-03-15T20:15:00Z"}
    plain = Snapshot.from_item(_item(), {"id": "import-1", **identity})
    checked = Snapshot.from_item(_item(plugin_columns={"vision_price": 90.0}), {"id": "import-2", **identity})
    assert insert_snapshots(db, [plain, checked]) == 2
    rows = {r["id"]: r for r in db.query("SELECT id, vision_price FROM price_snapshots")}
    assert rows == {"import-1": {"id": "import-1", "vision_price": None}, "import-2": {"id": "import-2", "vision_price": 90.0}}


def test_a_column_name_is_never_taken_from_anything_but_a_field_name(db):
    identity = {"id": "import-3", "run_id": None, "poller_id": "import", "window_start": "2026-03-15T20:15:00Z"}
    hostile = Snapshot.from_item(_item(plugin_columns={"price) VALUES (1); DROP TABLE price_snapshots; --": 1}), identity)
    with pytest.raises(ValueError, match="not a column name"):
        insert_snapshots(db, [hostile])
    assert db.query("SELECT COUNT(*) AS n FROM price_snapshots") == [{"n": 0}]

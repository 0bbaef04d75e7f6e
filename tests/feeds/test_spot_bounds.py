"""Spot-relative validation: the validation pipeline, built from a crawler, judges retail prices
against melt value at the latest stored spot price (plugins/spot/bounds.py, hook `staktrakr_price_bounds`)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from scrapy.utils.test import get_crawler

from staktrakr.pipelines.validate import ValidatePipeline
from staktrakr.plugins.spot import staktrakr_price_bounds
from staktrakr.models import Coin, Metal, RetailPriceItem
from staktrakr.store import Database
from staktrakr.plugins.spot.store import SpotReading, insert_spot_readings
from staktrakr.timeutil import floor_15, iso_ms, iso_s, utcnow


def store_spot(db: Database, metal: str, spot: float, when: datetime | None = None) -> datetime:
    when = when or utcnow() - timedelta(minutes=10)
    insert_spot_readings(db, [SpotReading(
        id=f"api-{metal}-{iso_ms(when)}", poller_id="api", metal=metal, spot=spot, source="metalprice-api",
        timestamp=iso_ms(when), timestamp_floor=iso_s(floor_15(when)), scraped_at=iso_ms(when),
    )])  # fmt: skip
    return when


def validate(coin: str, price: float, settings: dict | None = None) -> RetailPriceItem:
    pipeline = ValidatePipeline.from_crawler(get_crawler(settings_dict=settings or {}))
    item = RetailPriceItem(coin_slug=coin, vendor="apmex", price=price, status="ok", in_stock=True, reason="tier 1-19")
    return pipeline.process_item(item)


def test_a_half_ounce_gold_price_is_rejected_for_a_one_ounce_coin(db):
    read = store_spot(db, "gold", 5020.0)
    # 2,700 passes the static per-ounce range (1,000-25,000) but is about half of melt
    item = validate("age", 2700.0)
    assert item["status"] == "error"
    assert item["reason"] == (
        f"out_of_bounds: 2700 outside 4869.40-10040.00 (0.97-2.0x melt 5,020.00 (gold spot 5,020.00 at {iso_s(read)}))"
    )
    assert validate("age", 5230.31)["status"] == "ok"


def test_a_gold_price_is_rejected_for_a_platinum_coin(db):
    store_spot(db, "platinum", 2022.9)
    store_spot(db, "gold", 5019.58)
    item = validate("ape", 5166.0)  # published by three dealers in March (LIVE-SYSTEM §9.1)
    assert item["status"] == "error" and "platinum spot 2,022.90" in item["reason"]
    assert validate("ape", 2219.81)["status"] == "ok"


def test_a_g2_price_is_rejected_for_a_g1_goldback(db):
    store_spot(db, "gold", 5020.0)
    # Goldbacks trade near twice their gold (1/1000 oz): 1.2-4.0x melt 5.02 = 6.02-20.08
    item = validate("goldback-utah-g1", 21.70)
    assert item["status"] == "error"
    assert "outside 6.02-20.08 (1.2-4.0x melt 5.02 (gold spot 5,020.00" in item["reason"]
    assert validate("goldback-utah-g1", 10.90)["status"] == "ok"


def test_silver_below_40_is_accepted_when_spot_is_below_40(db):
    # The live system's fixed $40 floor would reject every silver price at this spot (B-11).
    store_spot(db, "silver", 35.0)
    assert validate("ase", 38.0)["status"] == "ok"
    too_high = validate("ase", 90.49)  # yesterday's price at a much higher spot: a wrong product now
    assert too_high["status"] == "error" and "0.97-2.0x melt 35.00 (silver spot 35.00" in too_high["reason"]


def test_without_a_recent_spot_price_the_static_bounds_apply(db):
    store_spot(db, "gold", 5020.0, utcnow() - timedelta(hours=25))
    store_spot(db, "gold", 2600.0, utcnow() + timedelta(hours=1))  # not yet valid at validation time
    item = validate("age", 2700.0)
    assert item["status"] == "ok"  # static bounds only: the weaker check when spot is unknown
    assert validate("age", 900.0)["reason"] == "out_of_bounds: 900 outside 1000.00-25000.00 (static per-oz bounds)"


def test_the_age_limit_of_a_spot_price_is_a_setting(db):
    store_spot(db, "gold", 5020.0, utcnow() - timedelta(hours=2))
    assert validate("age", 2700.0)["status"] == "error"
    assert validate("age", 2700.0, {"STAKTRAKR_SPOT_MAX_AGE_HOURS": 1})["status"] == "ok"


def test_the_multiples_are_settings_per_coin_and_per_metal(db):
    store_spot(db, "silver", 35.0)
    store_spot(db, "gold", 5020.0)
    settings = {"STAKTRAKR_SPOT_BOUNDS": {"ase": [0.97, 2.5], "goldback": [1.5, 3.0]}}
    assert validate("ase", 80.0, settings)["status"] == "ok"  # 2.29x: inside 2.5x
    assert validate("maple-silver", 80.0, settings)["status"] == "error"  # the default 2.0x still applies
    goldback = validate("goldback-utah-g1", 7.0, settings)  # 1.39x: below the new 1.5x
    assert goldback["status"] == "error" and "1.5-3.0x melt 5.02" in goldback["reason"]
    as_json = {"STAKTRAKR_SPOT_BOUNDS": '{"ase": [0.97, 2.5]}'}  # -s on the command line
    assert validate("ase", 80.0, as_json)["status"] == "ok"


def test_a_malformed_multiple_is_ignored_with_a_warning(db, caplog):
    store_spot(db, "silver", 35.0)
    with caplog.at_level("WARNING"):
        item = validate("britannia-silver", 80.0, {"STAKTRAKR_SPOT_BOUNDS": {"britannia-silver": [2.5, 1.0]}})
    assert item["status"] == "error" and "0.97-2.0x" in item["reason"]
    assert "STAKTRAKR_SPOT_BOUNDS['britannia-silver'] = [2.5, 1.0] is not [lower, upper]" in caplog.text


@pytest.mark.parametrize(
    ("coin", "expected"),
    [
        (Coin(slug="age-tenth", name="American Gold Eagle 1/10 oz", metal=Metal.gold, weight_oz=0.1), (486.94, 1506.0, "0.97-3.0x melt 502.00")),
        (Coin(slug="generic-silver-bar-10oz", name="Silver bar 10 oz", metal=Metal.silver, weight_oz=10), (339.5, 700.0, "0.97-2.0x melt 350.00")),
    ],
    ids=["fractional", "ten-ounce"],
)
def test_fractional_pieces_get_more_room_above_melt(db, coin, expected):
    store_spot(db, "gold", 5020.0)
    store_spot(db, "silver", 35.0)
    low, high, basis = staktrakr_price_bounds(coin=coin, db=db, now=iso_s(utcnow()), settings=None)
    assert (round(low, 2), round(high, 2)) == expected[:2] and basis.startswith(expected[2])

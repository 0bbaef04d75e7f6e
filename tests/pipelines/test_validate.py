"""The validation pipeline as a Scrapy component built from a crawler."""

import pytest
from scrapy.utils.test import get_crawler

from staktrakr.pipelines.validate import ValidatePipeline
from staktrakr.hookspecs import hookimpl
from staktrakr.models import RetailPriceItem


def _item(price, coin="age", status="ok"):
    return RetailPriceItem(coin_slug=coin, vendor="apmex", price=price, status=status, in_stock=True, reason="tier 1-19")


@pytest.fixture
def pipeline():
    return ValidatePipeline.from_crawler(get_crawler(settings_dict={"STAKTRAKR_STATIC_BOUNDS": {"silver": [20, 300]}}))


def test_plausible_price_passes(pipeline):
    item = pipeline.process_item(_item(5230.31))
    assert item["status"] == "ok"


def test_out_of_bounds_is_stored_as_error_never_ok(pipeline):
    item = pipeline.process_item(_item(51.0))
    assert item["status"] == "error" and item["reason"].startswith("out_of_bounds: 51 outside")
    silver = pipeline.process_item(_item(450.0, coin="ase"))  # settings override the static table
    assert silver["status"] == "error" and "20.00-300.00" in silver["reason"]


def test_plugins_can_tighten_bounds_and_reject(pipeline):
    class SpotBounds:
        @hookimpl
        def staktrakr_price_bounds(self, coin, db, now, settings):
            return (4900.0, 10000.0, "0.97-2.0x melt at spot 5020")

        @hookimpl
        def staktrakr_validate_item(self, item, coin):
            return "suspicious round number" if item["price"] == 6000 else None

    pipeline.context.pm.register(SpotBounds())
    low = pipeline.process_item(_item(2720.0))  # a half-ounce price passes static bounds, not spot ones
    assert low["status"] == "error" and "melt" in low["reason"]
    assert pipeline.process_item(_item(6000.0))["reason"] == "rejected: suspicious round number"
    assert pipeline.process_item(_item(5230.31))["status"] == "ok"

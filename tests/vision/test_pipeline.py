"""The vision pipeline as a Scrapy component (built with get_crawler): off unless configured, and
items it has nothing to say about pass through untouched, without a call."""

import asyncio
import logging

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

import staktrakr.settings as project_settings
from staktrakr.pipelines.vision import VisionPipeline
from staktrakr.models import RetailPriceItem

from ..conftest import FIXTURES

SETTINGS = {name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()}


def _crawler(**overrides):
    return get_crawler(settings_dict=SETTINGS | overrides)


def _item(status="ok", price=94.19, screenshot=None):
    return RetailPriceItem(
        coin_slug="ase", vendor="apmex", url="http://127.0.0.1:1/apmex/ase.html", price=price, in_stock=True,
        status=status, method="table", reason="tier 1-19", scraped_at="2026-03-15T20:15:00.000Z", screenshot=screenshot,
    )  # fmt: skip


def test_off_without_vision_enabled_with_one_log_line(caplog):
    caplog.set_level(logging.INFO, logger="staktrakr.pipelines.vision")
    with pytest.raises(NotConfigured):
        VisionPipeline.from_crawler(_crawler(GEMINI_API_KEY="k-0123456789"))
    assert [r.getMessage() for r in caplog.records] == ["vision cross-check off: VISION_ENABLED is not set"]


def test_off_when_the_pipeline_is_not_configured(monkeypatch):
    monkeypatch.setenv("VISION_ENABLED", "1")
    monkeypatch.setenv("GEMINI_API_KEY", "k-0123456789")
    pipelines = dict(SETTINGS["ITEM_PIPELINES"], **{"staktrakr.pipelines.vision.VisionPipeline": None})
    with pytest.raises(NotConfigured):
        VisionPipeline.from_crawler(_crawler(ITEM_PIPELINES=pipelines))


def test_items_without_anything_to_check_pass_through(monkeypatch):
    monkeypatch.setenv("VISION_ENABLED", "1")
    monkeypatch.setenv("GEMINI_API_KEY", "k-0123456789")
    monkeypatch.setenv("GEMINI_BASE_URL", "http://127.0.0.1:9")  # nothing listens: no call may be made
    crawler = _crawler()
    crawler.stats.open_spider()
    pipeline = VisionPipeline.from_crawler(crawler)
    blocked = _item(status="blocked", price=None, screenshot=str(FIXTURES / "vision" / "apmex-ase.png"))
    no_picture = _item()
    for item in (blocked, no_picture):
        before = dict(item)
        assert asyncio.run(pipeline.process_item(item)) is item and dict(item) == before
    assert crawler.stats.get_value("staktrakr/vision/no_screenshot") == 1
    assert crawler.stats.get_value("staktrakr/vision/calls") is None

"""The vision pipeline as a Scrapy component (built with get_crawler): off unless configured, and
items it has nothing to say about pass through untouched, without a call."""

import asyncio
import logging

import pytest
from pydispatch import dispatcher
from scrapy.pipelines import ItemPipelineManager
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

import staktrakr.settings as project_settings
from staktrakr.models import RetailPriceItem
from staktrakr.visit_signals import browser_visit_starting
from staktrakr.plugins.vision.pipeline import VisionPipeline
from staktrakr.plugins.vision.visits import SCREENSHOT

from ..conftest import FIXTURES

SETTINGS = {name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()}


def _crawler(**overrides):
    return get_crawler(settings_dict=SETTINGS | overrides)


def _item(status="ok", price=94.19, screenshot=None):
    return RetailPriceItem(
        coin_slug="ase", vendor="apmex", url="http://127.0.0.1:1/apmex/ase.html", price=price, in_stock=True,
        status=status, method="table", reason="tier 1-19", scraped_at="2026-03-15T20:15:00.000Z",
        plugin_data={SCREENSHOT: screenshot} if screenshot else {},
    )  # fmt: skip


def test_off_without_vision_enabled_with_one_log_line(caplog):
    caplog.set_level(logging.INFO, logger="staktrakr.plugins.vision.pipeline")
    with pytest.raises(NotConfigured):
        VisionPipeline.from_crawler(_crawler(GEMINI_API_KEY="k-0123456789"))
    assert [r.getMessage() for r in caplog.records] == ["vision cross-check off: VISION_ENABLED is not set"]


def test_off_when_the_pipeline_is_not_configured(monkeypatch):
    monkeypatch.setenv("VISION_ENABLED", "1")
    monkeypatch.setenv("GEMINI_API_KEY", "k-0123456789")
    # The plugin adds its pipeline (hook staktrakr_crawl_components); a project or `-s` entry of
    # None switches it off, and with it the screenshots: only the pipeline connects them.
    pipelines = dict(SETTINGS["ITEM_PIPELINES"], **{"staktrakr.plugins.vision.pipeline.VisionPipeline": None})
    crawler = _crawler(ITEM_PIPELINES=pipelines)
    manager = ItemPipelineManager.from_crawler(crawler)
    assert manager.middlewares and not any(isinstance(m, VisionPipeline) for m in manager.middlewares)
    assert not list(dispatcher.liveReceivers(dispatcher.getAllReceivers(crawler, browser_visit_starting)))
    on = _crawler()
    built = ItemPipelineManager.from_crawler(on)  # alive while the crawl is: receivers are weak references
    assert any(isinstance(m, VisionPipeline) for m in built.middlewares)
    assert list(dispatcher.liveReceivers(dispatcher.getAllReceivers(on, browser_visit_starting)))


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

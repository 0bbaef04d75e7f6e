"""The spot feed's items: a metal's reading of one poll, and a daily rate filling a missing hour."""

from __future__ import annotations

import scrapy


class SpotPriceItem(scrapy.Item):
    """One metal of one poll: a price (`ok`) or the reason there is none (`error`)."""

    metal = scrapy.Field()
    spot = scrapy.Field()
    status = scrapy.Field()  # counted by the RunRecorder: one per metal
    reason = scrapy.Field()
    source = scrapy.Field()
    timestamp = scrapy.Field()  # ISO-8601 UTC: when the API was polled


class SpotBackfillItem(scrapy.Item):
    """A daily rate filling a missing hour; no `status`, so it does not count as a poll."""

    metal = scrapy.Field()
    spot = scrapy.Field()
    source = scrapy.Field()
    timestamp = scrapy.Field()  # HH:00 of the hour it fills


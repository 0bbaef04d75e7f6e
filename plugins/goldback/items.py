"""The Goldback feed's item: the day's G1 rate, or why there is none."""

from __future__ import annotations

import scrapy


class GoldbackRateItem(scrapy.Item):
    g1_usd = scrapy.Field()
    status = scrapy.Field()  # counted by the RunRecorder
    method = scrapy.Field()
    reason = scrapy.Field()
    url = scrapy.Field()
    scraped_at = scrapy.Field()

"""Components that raise for one dealer, loaded into real crawls by tests/store/test_attempt_rows.py."""

from itemadapter import ItemAdapter

DEALER = "apmex"


class ExplodingPipeline:
    """A pipeline between validation and storage that fails on one dealer's items."""

    def process_item(self, item, spider=None):
        if ItemAdapter(item).get("vendor") == DEALER:
            raise RuntimeError("pipeline exploded")
        return item


class ExplodingSpiderMiddleware:
    """Fails on one dealer's pages as a spider callback would (before any item exists)."""

    def process_spider_output(self, response, result):
        if f"/{DEALER}/" in response.url:
            raise RuntimeError("callback exploded")
        yield from result

    async def process_spider_output_async(self, response, result):
        if f"/{DEALER}/" in response.url:
            raise RuntimeError("callback exploded")
        async for output in result:
            yield output

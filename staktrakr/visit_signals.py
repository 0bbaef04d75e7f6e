"""Signals the retail spider sends (crawler.signals) so that a plugin can take part in a
target's visit without the spider knowing the plugin: the vision cross-check takes its
screenshots through them. Receivers connect in their component's `from_crawler`.

`browser_visit_starting(request, target, profile)`
    A browser visit of `target` is about to start. A receiver may append scrapy-playwright
    PageMethods to `request.meta["playwright_page_methods"]` (they run after the page settled,
    before its HTML is read: the page is open in this same visit) and keep what it needs in
    `request.meta`. Nothing is returned.

`observation_ready(item, meta, spider)`
    The target's item (models.RetailPriceItem, carrying its Target) is about to leave the
    spider for the pipelines; `meta` is the request's meta of the visit that gave it (empty
    `http_status` on the item: the download failed). A receiver may add its per-observation
    data (models.plugin_data / plugin_columns) or return a Request to send instead: one more
    visit whose callback yields the item (e.g. built with `spider.request_for(target, ...)`
    and `.replace(callback=...)`). The first Request returned wins; the others are ignored.
"""

from __future__ import annotations

browser_visit_starting = object()
observation_ready = object()

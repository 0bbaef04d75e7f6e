"""Headless Chromium for the pages that need it (scrapy-playwright).

    request_filter.py  which requests a page may make (images, fonts, media, trackers are
                       aborted): PLAYWRIGHT_ABORT_REQUEST in settings.py names it
    reading.py         read a page the way a person does: wait until its price has settled,
                       scroll, clear overlays, then take the composed DOM (open shadow roots,
                       same-origin iframes, only what is rendered)
    modes.py           which dealers need the browser: learned per dealer, remembered in the
                       database
    handler.py         the download handler: static or browser decided when a download starts
"""

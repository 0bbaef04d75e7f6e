"""Which requests a browser page may make (PLAYWRIGHT_ABORT_REQUEST)."""

from __future__ import annotations

import re
from typing import Any

# A price never needs these; skipping them keeps pages fast and the renderer small.
_HEAVY = {"image", "media", "font", "texttrack", "manifest"}
# Analytics, ads, session recorders and chat widgets: they add renderer memory and network
# activity that would keep a page from looking settled, and never carry a price.
_TRACKERS = re.compile(
    r"(^|\.)(google-analytics\.com|googletagmanager\.com|doubleclick\.net|googlesyndication\.com|"
    r"facebook\.net|connect\.facebook\.com|hotjar\.com|clarity\.ms|segment\.(io|com)|mixpanel\.com|"
    r"newrelic\.com|nr-data\.net|intercom\.io|zdassets\.com|zendesk\.com|tawk\.to|livechatinc\.com|"
    r"klaviyo\.com|criteo\.(com|net)|bing\.com|tiktok\.com|pinterest\.com|snapchat\.com|yotpo\.com|"
    r"trustpilot\.com|optimizely\.com|fullstory\.com|quantserve\.com|scorecardresearch\.com)$"
)
_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://([^/:?#]+)", re.IGNORECASE)


def abort_heavy_request(request: Any) -> bool:
    """True to abort: images, fonts, media, and requests to known trackers."""
    if request.resource_type in _HEAVY:
        return True
    host = _HOST.match(request.url or "")
    return bool(host and _TRACKERS.search(host.group(1).lower()))

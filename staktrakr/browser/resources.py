"""Browser helpers for scrapy-playwright."""

from __future__ import annotations

from typing import Any

# A price never needs these; skipping them keeps pages fast and memory flat.
_HEAVY = {"image", "media", "font"}


def abort_heavy_request(request: Any) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: True to abort images, fonts and media."""
    return request.resource_type in _HEAVY

"""Sending through Apprise: one notification per alert to every destination in ALERT_URLS."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import apprise

logger = logging.getLogger(__name__)


class Notifier:
    """`send(title, body)` is True when at least one destination took it."""

    def __init__(self, urls: Sequence[str]):
        self.apprise = apprise.Apprise()
        self.rejected = 0
        for url in urls:
            if not self.apprise.add(url):
                self.rejected += 1  # counted, never printed: a destination URL holds its token

    @property
    def destinations(self) -> int:
        return len(self.apprise)

    def send(self, title: str, body: str) -> bool:
        if not self.destinations:
            return False
        return bool(self.apprise.notify(title=title, body=body))

"""The MetalPriceAPI key on the wire only: added right before the download, taken off right after."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import scrapy
from scrapy.http import Response

from staktrakr.config import config_from_settings
from staktrakr.redact import redact_text

from .settings import SpotSettings

KEY_META = "metalprice_api_key"  # request meta flag: add the key to this request
_BARE_URL_META = "_metalprice_bare_url"


def key_secrets(key: Any) -> tuple[str, ...]:
    """The key as it may appear in text: raw and URL-encoded."""
    if key is None:
        return ()
    value = key.get_secret_value() if hasattr(key, "get_secret_value") else str(key)
    return tuple({value, quote(value, safe=""), quote_plus(value)} - {""})


def _without_key(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "api_key"]
    return urlunsplit(parts._replace(query=urlencode(query, safe=",")))


class ApiKeyMiddleware:
    """Puts `api_key` on MetalPriceAPI requests for the download only.

    The request is changed in place (a replacement request would be rescheduled and then logged
    with its keyed URL) and restored before any other middleware, the engine's "Crawled" line,
    the retry middleware or the spider sees it.
    """

    def __init__(self, key: Any, secrets: tuple[str, ...]):
        self.key = key
        self.secrets = secrets

    @classmethod
    def from_crawler(cls, crawler: Any) -> ApiKeyMiddleware:
        key = config_from_settings(crawler.settings, SpotSettings).METAL_PRICE_API_KEY
        return cls(key, key_secrets(key))

    def process_request(self, request: scrapy.Request) -> None:
        if not request.meta.get(KEY_META) or self.key is None:
            return None
        bare = request.url
        parts = urlsplit(bare)
        keyed = urlencode({"api_key": self.key.get_secret_value()}) + (f"&{parts.query}" if parts.query else "")
        request.meta[_BARE_URL_META] = bare
        request._set_url(urlunsplit(parts._replace(query=keyed)))  # noqa: SLF001 - see the class docstring
        return None

    def _restore(self, request: scrapy.Request) -> bool:
        bare = request.meta.pop(_BARE_URL_META, None)
        if bare is None:
            return False
        request._set_url(bare)  # noqa: SLF001
        return True

    def process_response(self, request: scrapy.Request, response: Response) -> Response:
        if not self._restore(request):
            return response
        return response.replace(url=_without_key(response.url))

    def process_exception(self, request: scrapy.Request, exception: BaseException) -> None:
        if self._restore(request):
            # Download errors quote the URL ("Getting …?api_key=… took longer than 30 s").
            try:
                exception.args = tuple(redact_text(a, self.secrets) if isinstance(a, str) else a for a in exception.args)
            except (AttributeError, TypeError):
                pass  # the log redaction (staktrakr/logs.py) still scrubs whatever gets logged
        return None


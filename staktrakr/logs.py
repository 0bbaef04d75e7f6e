"""Log output for operations: secrets redacted from every record, and JSON lines on request.

* `RedactSecrets` is a `logging.Filter` that scrubs the configured secret values (TURSO_AUTH_TOKEN,
  METAL_PRICE_API_KEY, GEMINI_API_KEY, and the credentials in PROXY_TIERS, API_GIT_REMOTE and
  TURSO_DATABASE_URL), the userinfo of any URL, and `api_key=…`-style parameters from the message,
  the traceback and the extras of a record.
* `JsonFormatter` writes each record as one JSON object per line: time, level, logger, message,
  then the record's extras (and `exception` / `stack` when present). Chosen with the environment
  variable `LOG_FORMAT=json`; anything else keeps the plain text format.

Both go on the handlers of the root logger. Who creates those handlers differs: the `staktrakr`
group calls `logging.basicConfig`, Scrapy installs its own root handler when the process starts
and *replaces* it when a crawl starts (after the extensions are built). `LogHook` therefore wraps
the log record factory: before each record is handed out it makes sure every root handler carries
the filter (and the JSON formatter), so a handler created at any time is covered before its first
line. `install_log_hook()` is called where each program starts (the end of `staktrakr/settings.py`
for Scrapy, the CLI's feature commands for `staktrakr`), and the `JsonLogs` extension adds what only
the crawl knows: the secrets given as `-s` overrides.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, SecretStr

from .config import Config, _split_list, config_from_settings, secret_names, sections
from .errors import ConfigError
from .redact import REDACTED, redact_text, url_secrets
from .timeutil import iso_ms

LOG_FORMAT_VARIABLE = "LOG_FORMAT"

# `api_key=…`, `token=…`, `client_secret=…`, `password=…` in a query string or a command line.
_SECRET_PARAMETER = re.compile(
    r"(?i)(?<![A-Za-z0-9])([A-Za-z0-9_.-]*(?:api[_-]?key|apikey|key|token|secret|password|passwd|pwd|signature|sig|auth|credentials?)=)"
    r"([^&\s#'\"<>,;)\]}]+)"
)

# Attributes every LogRecord has; anything else on a record was passed as `extra=`.
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


def redact_parameters(text: str) -> str:
    """`…?api_key=abc&base=USD` -> `…?api_key=***&base=USD`."""
    return _SECRET_PARAMETER.sub(lambda m: f"{m.group(1)}{REDACTED}", text)


def config_secrets(*configs: BaseModel) -> tuple[str, ...]:
    """The secret values of configuration sections (the core's Config, plugins' sections), as
    they could appear in text."""
    found: list[str] = []
    for config in configs:
        for name in type(config).model_fields:
            value = getattr(config, name)
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, SecretStr):
                    found.extend(_secret_parts(item.get_secret_value()))
    # The database URL is not secret as a whole, but a token in its userinfo is.
    found.extend(url_secrets(getattr(configs[0], "TURSO_DATABASE_URL", None) or "") if configs else ())
    return tuple(s for s in found if s)


def environment_secrets(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The same values read straight from the environment: works even when it does not validate
    (the configuration error is reported by the command; its secrets still must not be)."""
    found: list[str] = []
    for name in secret_names():
        raw = environ.get(name, "")
        try:
            items = _split_list(raw or None) if name == "PROXY_TIERS" else [raw]
        except ValueError:  # not even a list: all of it may be secret
            found.append(raw)
            items = []
        for item in items:
            found.extend(_secret_parts(item))
    found.extend(url_secrets(environ.get("TURSO_DATABASE_URL", "")))
    return tuple(s for s in found if s)


def _secret_parts(value: str) -> tuple[str, ...]:
    # Of a URL only the userinfo is secret: the host and path stay readable in the logs.
    if "://" in value:
        return url_secrets(value)
    return (value,) if value else ()


class RedactSecrets(logging.Filter):
    """Scrubs known secret values, URL userinfo and secret-looking parameters from each record."""

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets: frozenset[str] = frozenset()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        self.secrets = self.secrets | {s for s in secrets if s}

    def redact(self, text: str) -> str:
        return redact_parameters(redact_text(text, self.secrets))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is logging's own error to report
            return True
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # Rendered here so that the traceback (which may quote a URL) is scrubbed too; every
            # formatter uses a record's exc_text when it is set.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, then the extras.

    `redact` is applied to every extra rendered as text here (Scrapy passes whole items and
    responses as extras, and their text quotes URLs), after the filter has seen the record."""

    def __init__(self, redact: Callable[[str], str] = lambda text: text):
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": iso_ms(datetime.fromtimestamp(record.created, UTC)),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry.setdefault(key, _plain(value, self.redact))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _plain(value: Any, redact: Callable[[str], str]) -> Any:
    """A JSON value for an extra: numbers and flags as they are, anything else as redacted text."""
    if value is None or isinstance(value, int | float | bool):
        return value
    if isinstance(value, str):
        return redact(value)
    # Scrapy passes the spider as `extra={"spider": ...}`: its name is what a reader needs.
    name = getattr(value, "name", None)
    return redact(name if isinstance(name, str) else str(value))


def json_requested(environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return environ.get(LOG_FORMAT_VARIABLE, "").strip().lower() == "json"


# Scrapy's start-up and shutdown dump (versions, add-ons, enabled components, overridden settings,
# the stats dict, the browser handler's start and stop): INFO by Scrapy's choice, shown here only at DEBUG, so a
# crawl's console is its per-target lines and its summary. Their warnings still show.
STARTUP_DUMP_LOGGERS = frozenset({
    "scrapy.utils.log", "scrapy.addons", "scrapy.middleware", "scrapy.crawler", "scrapy.statscollectors",
    "scrapy.extensions.telnet", "scrapy.extensions.remote_control", "scrapy-playwright",
})  # fmt: skip


class DumpOnlyAtDebug(logging.Filter):
    """On one handler: Scrapy's start-up dump passes only when the handler shows DEBUG, and then
    says DEBUG (the handler's level was checked before the filter, against INFO)."""

    def __init__(self, handler: logging.Handler):
        super().__init__()
        self.handler = handler

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or record.name not in STARTUP_DUMP_LOGGERS:
            return True
        if self.handler.level > logging.DEBUG:
            return False
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


class LogHook:
    """Keeps the root handlers redacting (and JSON-formatting) whoever creates or replaces them."""

    def __init__(self, json_format: bool, secrets: Iterable[str] = ()):
        self.json_format = json_format
        self.redactor = RedactSecrets(secrets)
        self.formatter = JsonFormatter(redact=self.redactor.redact)
        self._previous: Any = None

    def install(self) -> None:
        if self._previous is not None:
            return
        previous = self._previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            self.apply()
            return record

        logging.setLogRecordFactory(factory)
        self.apply()

    def apply(self) -> None:
        """Put the filters (and the formatter) on every root handler and on logging's last resort."""
        handlers = list(logging.root.handlers)
        if logging.lastResort is not None:
            handlers.append(logging.lastResort)
        for handler in handlers:
            if self.redactor not in handler.filters:
                handler.addFilter(self.redactor)
            if self.json_format and handler.formatter is not self.formatter:
                handler.setFormatter(self.formatter)
            if not any(isinstance(f, DumpOnlyAtDebug) for f in handler.filters):
                handler.addFilter(DumpOnlyAtDebug(handler))


_hook: LogHook | None = None


def install_log_hook(environ: Mapping[str, str] | None = None) -> LogHook:
    """Redact secrets from every log line of this process, and write JSON lines with
    LOG_FORMAT=json. Idempotent: later calls only add the secrets of `environ`."""
    global _hook  # noqa: PLW0603 - logging itself is process-wide; so is its configuration
    environ = os.environ if environ is None else environ
    if _hook is None:
        _hook = LogHook(json_requested(environ))
        _hook.install()
    _hook.redactor.add(environment_secrets(environ))
    return _hook


class JsonLogs:
    """Scrapy extension: JSON lines (LOG_FORMAT=json) and redaction for the whole crawl.

    Scrapy replaces its root handler after the extensions are built, so a formatter set here
    alone would be lost; the hook re-applies it before the new handler's first record."""

    def __init__(self, hook: LogHook):
        self.hook = hook

    @classmethod
    def from_crawler(cls, crawler: Any) -> JsonLogs:
        from scrapy import signals

        hook = install_log_hook()
        # The crawl's configuration: `-s METAL_PRICE_API_KEY=…` overrides are secrets too, in the
        # core's section and in every plugin's.
        for model in sections().values():
            try:
                hook.redactor.add(config_secrets(config_from_settings(crawler.settings, model)))
            except ConfigError:
                pass  # the crawl command reports it; the environment's secrets are already covered
        ext = cls(hook)
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started)
        return ext

    def engine_started(self) -> None:
        self.hook.apply()

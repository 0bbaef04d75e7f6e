"""Runtime configuration: environment variables validated once, Scrapy settings may override.

Every field name is the environment variable's name, so an error message can name the
variable the operator has to fix. Secrets are `SecretStr` so they never print by accident.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from . import shards
from .errors import ConfigError

M = TypeVar("M", bound=BaseModel)

_POLLER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
POLLER_ID_RULE = "a poller id is 1-32 characters of a-z, 0-9, '-' or '_', starting with a letter or digit"
# Variables where an empty value is an error rather than "use the default".
_EMPTY_IS_A_MISTAKE = frozenset({"POLLER_ID"})
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Config(BaseModel):
    """The environment variables of DESIGN.md §4 (plus a few tuning knobs), typed."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    STAKTRAKR_DB: Path = Field(Path("var/staktrakr.db"), description="Local database file.")
    TURSO_DATABASE_URL: str | None = Field(None, description="Turso database URL; sync is on when set.")
    TURSO_AUTH_TOKEN: SecretStr | None = Field(None, description="Turso auth token (omit for a server without auth).")
    POLLER_ID: str = Field("local", description="Name of this poller (api, home, ...); part of every row id.")
    STAKTRAKR_PROVIDERS: str | None = Field(None, description="Providers file or https URL; default: database, then bundled set.")
    STAKTRAKR_API_DIR: Path = Field(Path("var/api"), description="Export target: the data root holding api/, hourly/, 15min/.")
    PROXY_TIERS: tuple[SecretStr, ...] = Field((), description="Proxy URLs tried in order after the direct attempt.")
    STAKTRAKR_PLUGINS: tuple[str, ...] | None = Field(None, description="Only load these plugins (comma list).")
    STAKTRAKR_TRACE_PLUGINS: bool = Field(False, description="Log every hook call.")
    # Dealer shards (staktrakr/shards.py). The order matters: the count's validator checks all three.
    JOB_COMPLETION_INDEX: int | None = Field(None, description="Set by Kubernetes in an Indexed Job: this pod's shard when STAKTRAKR_SHARD_COUNT is set.")
    STAKTRAKR_SHARD: str | None = Field(None, description="This process's dealer shard within its poller group, INDEX/COUNT from 0 (e.g. 0/3).")
    STAKTRAKR_SHARD_COUNT: int | None = Field(None, validate_default=True, description="Shards in this poller group (with JOB_COMPLETION_INDEX).")

    @field_validator("POLLER_ID")
    @classmethod
    def _poller_id(cls, value: str) -> str:
        if value == "":
            # Set but empty is a mistake (a template variable that was never filled), not a wish for
            # the default: two pollers silently stamping rows as `local` would look like one.
            raise ValueError(f"is set but empty; {POLLER_ID_RULE} (unset it to use 'local')")
        if not _POLLER_ID.match(value):
            raise ValueError(f"{value[:40]!r} is not valid; {POLLER_ID_RULE}")
        if value == "import":
            raise ValueError("'import' is reserved for rows brought in by `staktrakr backfill`")
        return value

    @field_validator("STAKTRAKR_SHARD")
    @classmethod
    def _shard(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        shards.parse_spec(value)
        return value.strip()

    @field_validator("STAKTRAKR_SHARD_COUNT")
    @classmethod
    def _shard_count(cls, value: int | None, info: ValidationInfo) -> int | None:
        if "STAKTRAKR_SHARD" not in info.data:
            return value  # STAKTRAKR_SHARD itself was wrong: one message about it is enough
        shards.resolve(info.data["STAKTRAKR_SHARD"], value, info.data.get("JOB_COMPLETION_INDEX"))
        return value

    @field_validator("TURSO_DATABASE_URL")
    @classmethod
    def _turso_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if urlsplit(value).scheme not in ("libsql", "https", "http", "wss", "ws"):
            raise ValueError("must be a libsql://, https:// or http:// URL")
        return value

    @field_validator("PROXY_TIERS", mode="before")
    @classmethod
    def _proxy_tiers(cls, value: Any) -> Any:
        items = _split_list(value)
        for i, item in enumerate(items, 1):
            parts = urlsplit(item)
            if parts.scheme not in ("http", "https", "socks5", "socks5h") or not parts.hostname:
                # Never echo the value: a proxy URL usually carries credentials.
                raise ValueError(f"tier {i} is not a proxy URL (http://, https:// or socks5://)")
        return tuple(items)

    @field_validator("STAKTRAKR_PLUGINS", mode="before")
    @classmethod
    def _plugin_names(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        return tuple(_split_list(value))

    @field_validator("STAKTRAKR_TRACE_PLUGINS", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        return parse_flag(value) if isinstance(value, str) else value

    @property
    def sync_enabled(self) -> bool:
        return bool(self.TURSO_DATABASE_URL)


def http_url(value: str) -> str:
    """An http(s) base URL without its trailing slash: the rule for every URL variable (the core's
    and plugins' sections use it in their validators, so the message is the same everywhere)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL")
    return value.rstrip("/")


def parse_flag(value: Any) -> bool:
    """An on/off value from the environment, a setting or a spider argument."""
    if isinstance(value, bool):
        return value
    lowered = "" if value is None else str(value).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE or lowered == "none":
        return False
    raise ValueError("must be 1/0, true/false, yes/no or on/off")


def _split_list(value: Any) -> list[str]:
    """Accept a JSON list, a comma/whitespace separated string, or a sequence."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"is not a valid JSON list ({exc.msg})") from None
        else:
            return [part for part in re.split(r"[,\s]+", text) if part]
    return [str(item).strip() for item in value if str(item).strip()]


def load_config(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Build the config from the environment; `overrides` (e.g. Scrapy `-s` settings) win.

    Raises ConfigError naming each bad variable, without echoing secret values.
    """
    return load_section(Config, overrides, environ)


def load_section(model: type[M], overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> M:
    """Any model of environment variables (the core's Config, a plugin's section) from the
    environment, `overrides` winning; errors name the variable, never a secret value."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    for name in model.model_fields:
        # Mostly an empty value means "unset" (env files keep `NAME=` lines as placeholders);
        # for the names in _EMPTY_IS_A_MISTAKE it is passed on so the validator rejects it.
        keep_empty = name in _EMPTY_IS_A_MISTAKE
        if overrides is not None and (overrides.get(name) not in (None, "") or (keep_empty and overrides.get(name) == "")):
            raw[name] = overrides.get(name)
        elif environ.get(name) not in (None, "") or (keep_empty and name in environ):
            raw[name] = environ[name]
    try:
        return model(**raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "configuration"
            message = err["msg"].removeprefix("Value error, ")
            problems.append(f"{name}: {message}")
        if len(problems) == 1:  # the usual case: one line, for cron mails and log searches
            raise ConfigError(f"invalid configuration: {problems[0]}") from None
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None


# Plugins' sections (hook `staktrakr_config_fields`), registered by the plugin manager so that
# secrets in them are redacted like the core's.
_SECTIONS: dict[str, type[BaseModel]] = {}


def register_sections(sections: Mapping[str, type[BaseModel]]) -> None:
    _SECTIONS.update(sections)


def sections() -> dict[str, type[BaseModel]]:
    """Every model of environment variables: the core's and each loaded plugin's."""
    return {"core": Config, **_SECTIONS}


def secret_names() -> tuple[str, ...]:
    """Variables whose values are secret, in every section."""
    names = []
    for model in sections().values():
        for name, field in model.model_fields.items():
            if _is_secret(field.annotation):
                names.append(name)
    return tuple(dict.fromkeys(names))


def _is_secret(annotation: Any) -> bool:
    return "SecretStr" in repr(annotation)


def config_from_settings(settings: Any, model: type[M] = Config) -> M:  # type: ignore[assignment]
    """Config (or a plugin's section) for a Scrapy component: `-s NAME=value` overrides the environment."""
    overrides = {name: settings.get(name) for name in model.model_fields if settings.get(name) is not None}
    return load_section(model, overrides)

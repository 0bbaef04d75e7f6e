"""Where the providers in force come from: STAKTRAKR_PROVIDERS (a file or an http(s) URL with a
last good copy beside the database), else the database copy, else the bundled set."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Collection
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ProvidersError
from ..files import write_atomic
from ..redact import redact_url
from .parse import parse_providers
from .provider_set import ProviderSet

logger = logging.getLogger(__package__)

BUNDLED = "bundled providers"
# A providers document is a few hundred kB; a URL serving more is not serving one.
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024


def known_dealer_ids(config: Any = None) -> list[str]:
    """The dealer ids the plugins describe (built-in dealers and installed dealer plugins,
    as far as STAKTRAKR_PLUGINS loads them): the only ones a providers file may name.

    With `config`, the plugins that configuration loads; without, the process-wide manager."""
    from ..plugin_manager import dealer_profiles, get_plugin_manager

    pm = get_plugin_manager(config) if config is not None else get_plugin_manager()
    return sorted(dealer_profiles(pm))


def load_providers_file(path: str | Path, known_dealers: Collection[str] | None = None) -> ProviderSet:
    """A providers file, validated; dealer ids are checked against `known_dealers`, by default
    the dealers of the installed plugins (`known_dealer_ids()`)."""
    path = Path(path)
    if known_dealers is None:
        known_dealers = known_dealer_ids()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProvidersError(str(path), [f"cannot read file: {exc.strerror or exc}"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProvidersError(str(path), [f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"]) from None
    return parse_providers(data, str(path), known_dealers)


def load_bundled_providers() -> ProviderSet:
    text = resources.files("staktrakr").joinpath("data/providers.json").read_text(encoding="utf-8")
    return parse_providers(json.loads(text), BUNDLED)


def _fetch_providers(url: str, cache: Path, known_dealers: Collection[str], timeout_s: float = 20.0) -> ProviderSet:
    """Providers from an http(s) URL (e.g. providers.json on the published branch). A good copy
    is kept beside the database; when the URL fails or serves something invalid, the last good
    copy is used with a warning, so an outage of the host never stops a crawl."""
    shown = redact_url(url).split("?", 1)[0]
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:  # noqa: S310 - http(s) checked by the caller
            text = answer.read(MAX_DOCUMENT_BYTES).decode("utf-8")
        providers = parse_providers(json.loads(text), shown, known_dealers)
    except (OSError, ValueError, ProvidersError) as exc:
        reason = exc.problems[0] if isinstance(exc, ProvidersError) else str(exc)
        if cache.exists():
            logger.warning("providers from %s unusable (%s); using the last good copy of %s", shown, reason, cache)
            stored = json.loads(cache.read_text(encoding="utf-8"))
            return parse_providers(stored, f"{shown} (last good copy)")
        raise ProvidersError(shown, [f"cannot load providers and there is no earlier copy: {reason}"]) from None
    write_atomic(cache, json.dumps(providers.rich(), indent=1).encode("utf-8"))
    return providers


def providers_cache_path(config: Any) -> Path:
    db_path = Path(config.STAKTRAKR_DB)
    return db_path.with_name(db_path.name + ".providers.json")


def resolve_providers(config: Any, db: Any = None) -> ProviderSet:
    """The provider set in force: STAKTRAKR_PROVIDERS (file or http(s) URL) if set, else the
    database copy, else the bundled real set."""
    source = config.STAKTRAKR_PROVIDERS
    if source:
        # A file or URL is checked against the dealers this configuration's plugins know. The
        # database copy is not (it was checked when edited; the crawl checks its own targets),
        # so an export never stops over a dealer only the other poller has a plugin for.
        known = known_dealer_ids(config)
        if source.startswith(("http://", "https://")):
            return _fetch_providers(source, providers_cache_path(config), known)
        return load_providers_file(source, known)
    if db is not None:
        from ..store.provider_tables import load_providers_rich

        rich = load_providers_rich(db)
        if rich is not None:
            return parse_providers(rich, f"database {db.path}")
    return load_bundled_providers()

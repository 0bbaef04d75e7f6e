"""The plugin manager. Every plugin, built-in or not, comes in through an entry point of the
group `staktrakr`; the core imports none of them.

    [project.entry-points.staktrakr]
    mydealer = "mydealer_plugin"              # a module with @hookimpl functions
    mybundle = "mypackage.plugins:bundle"     # a function returning several such modules

The built-in dealers and features are one bundle (`staktrakr.plugins:bundle`): every module in
plugins/dealers/ and each feature package, registered under its module name.
"""

from __future__ import annotations

import logging
import types
from dataclasses import dataclass
from collections.abc import Iterable
from functools import lru_cache
from importlib import metadata

import pluggy

from . import __version__, hookspecs
from pydantic import BaseModel

from .config import Config, load_config, register_sections
from .errors import PluginError
from .models import DealerProfile
from .store.migrations import Migration, set_plugin_migrations

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "staktrakr"
OWN_DISTRIBUTION = "staktrakr-pollers"


@dataclass(frozen=True)
class PluginInfo:
    name: str
    origin: str  # "built-in" or "entry point (dist)"
    version: str
    hooks: tuple[str, ...]


def _wanted(names: tuple[str, ...] | None, *aliases: str) -> bool:
    return names is None or any(alias in names for alias in aliases if alias)


class PluginManager(pluggy.PluginManager):
    """pluggy's manager that also remembers where each plugin came from."""

    def __init__(self) -> None:
        super().__init__("staktrakr")
        self.add_hookspecs(hookspecs)
        self.origins: dict[str, tuple[str, str]] = {}


def build_plugin_manager(config: Config | None = None) -> PluginManager:
    """A fresh manager with every entry-point plugin, honouring STAKTRAKR_PLUGINS."""
    config = config or load_config()
    only = config.STAKTRAKR_PLUGINS
    pm = PluginManager()
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=_builtin_first):
        _load_entry_point(pm, ep, only)
    if config.STAKTRAKR_TRACE_PLUGINS:
        pm.trace.root.setwriter(lambda message: logger.info("plugin trace: %s", message.rstrip()))
        pm.enable_tracing()
    # The plugins own their tables and variables: a database opened after this migrates their
    # tables too, and their secrets are redacted like the core's.
    set_plugin_migrations(lambda: plugin_migrations(pm))
    register_sections(config_sections(pm))
    return pm


def config_sections(pm: pluggy.PluginManager) -> dict[str, type[BaseModel]]:
    """Each plugin's model of the environment variables it reads, by plugin name."""
    found: dict[str, type[BaseModel]] = {}
    for impl in pm.hook.staktrakr_config_fields.get_hookimpls():
        model = impl.function()
        if model is None:
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise PluginError(f"staktrakr_config_fields of {impl.plugin_name} returned {model!r}, not a pydantic model")
        found[impl.plugin_name] = model
    return found


def _builtin_first(ep: metadata.EntryPoint) -> tuple[bool, str]:
    # pluggy calls the last registered first, so other packages' hooks run before (and
    # override) the built-ins'.
    return (_dist_name(ep) != OWN_DISTRIBUTION, ep.name)


def _dist_name(ep: metadata.EntryPoint) -> str:
    return ep.dist.name if ep.dist else "unknown"


def _load_entry_point(pm: PluginManager, ep: metadata.EntryPoint, only: tuple[str, ...] | None) -> None:
    dist = _dist_name(ep)
    builtin = dist == OWN_DISTRIBUTION
    try:
        loaded = ep.load()
        modules: Iterable[object] = loaded() if callable(loaded) and not isinstance(loaded, types.ModuleType) else (loaded,)
        modules = list(modules)
    except Exception as exc:
        if builtin:  # a broken built-in is a bug, but say which one
            raise PluginError(f"built-in plugin {ep.name} ({ep.value}) failed to load: {exc}") from exc
        logger.error("plugin %s (%s) failed to load: %s", ep.name, dist, exc)  # keep the rest working
        return
    origin = "built-in" if builtin else f"entry point ({dist})"
    version = __version__ if builtin else (ep.dist.version if ep.dist else "?")
    for plugin in modules:
        name = ep.name if len(modules) == 1 and not builtin else getattr(plugin, "__name__", ep.name)
        short = name.rsplit(".", 1)[-1]
        if not _wanted(only, name, short, ep.name, dist, ep.value):
            continue
        if pm.get_plugin(name) is not None or pm.is_blocked(name):
            continue
        pm.register(plugin, name=name)
        pm.origins[name] = (origin, getattr(plugin, "__version__", None) or version)


def plugin_migrations(pm: pluggy.PluginManager) -> list[Migration]:
    """Every plugin's migrations, checked: a plugin's versions are 1, 2, ... without gaps."""
    found: list[Migration] = []
    for result in pm.hook.staktrakr_migrations():
        for migration in result or ():
            if not isinstance(migration, Migration):
                raise PluginError(f"staktrakr_migrations returned {type(migration).__name__}, not Migration")
            found.append(migration)
    by_component: dict[str, list[int]] = {}
    for migration in found:
        by_component.setdefault(migration.component, []).append(migration.version)
    for component, versions in by_component.items():
        if sorted(versions) != list(range(1, len(versions) + 1)):
            raise PluginError(f"plugin migrations of {component!r} are numbered {sorted(versions)}, not 1..{len(versions)}")
    return sorted(found, key=lambda m: (m.component, m.version))


@lru_cache(maxsize=4)
def _cached_manager(only: tuple[str, ...] | None, trace: bool) -> PluginManager:
    return build_plugin_manager(Config(STAKTRAKR_PLUGINS=only, STAKTRAKR_TRACE_PLUGINS=trace))


def get_plugin_manager(config: Config | None = None) -> PluginManager:
    """The process-wide manager: built once per plugin selection (STAKTRAKR_PLUGINS)."""
    config = config or load_config()
    return _cached_manager(config.STAKTRAKR_PLUGINS, config.STAKTRAKR_TRACE_PLUGINS)


def reset_plugin_manager() -> None:
    """Forget the cached manager, e.g. after the environment changed in a test."""
    _cached_manager.cache_clear()


def list_plugins(pm: PluginManager) -> list[PluginInfo]:
    origins = pm.origins
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        hooks = tuple(sorted(h.name for h in pm.get_hookcallers(plugin) or ()))
        origin, version = origins.get(name, ("registered at run time", getattr(plugin, "__version__", "?")))
        infos.append(PluginInfo(name=name, origin=origin, version=version, hooks=hooks))
    return sorted(infos, key=lambda info: (info.origin != "built-in", info.name))


def dealer_profiles(pm: pluggy.PluginManager) -> dict[str, DealerProfile]:
    """All dealer profiles the plugins provide, keyed by dealer id; later plugins override."""
    profiles: dict[str, DealerProfile] = {}
    # pluggy calls the last registered first; reverse so third parties override built-ins.
    for result in reversed(pm.hook.staktrakr_dealer_profiles()):
        for profile in result or ():
            if not isinstance(profile, DealerProfile):
                raise PluginError(f"staktrakr_dealer_profiles returned {type(profile).__name__}, not DealerProfile")
            profiles[profile.id] = profile
    return profiles


def default_profile(vendor: str) -> DealerProfile:
    """Profile for a dealer no plugin describes: plain HTTP, generic extraction."""
    return DealerProfile(id=vendor, name=vendor)

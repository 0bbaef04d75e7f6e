"""The plugin manager: built-in plugins are registered like any third-party package's.

Third parties declare an entry point in the group `staktrakr`:

    [project.entry-points.staktrakr]
    mydealer = "mydealer_plugin"
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

import pluggy

from . import __version__, hookspecs
from .config import Config, load_config
from .errors import PluginError
from .models import DealerProfile

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "staktrakr"

# Built-in features that are plugins of the core, like a contributor's would be.
FEATURE_PLUGINS: tuple[str, ...] = ("plugins.git_exporter", "plugins.aggregator", "plugins.spot", "plugins.goldback", "plugins.vision")


def _dealer_modules() -> tuple[str, ...]:
    """Every module in plugins/vendors/ is a dealer plugin: adding a file is enough."""
    import plugins.vendors

    return tuple(
        f"plugins.vendors.{info.name}"
        for info in sorted(pkgutil.iter_modules(plugins.vendors.__path__), key=lambda i: i.name)
        if not info.name.startswith("_")
    )


DEFAULT_PLUGINS: tuple[str, ...] = _dealer_modules() + FEATURE_PLUGINS


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
    """A fresh manager with built-ins and entry-point plugins, honouring STAKTRAKR_PLUGINS."""
    config = config or load_config()
    only = config.STAKTRAKR_PLUGINS
    pm = PluginManager()
    for module_name in DEFAULT_PLUGINS:
        if not _wanted(only, module_name, module_name.rsplit(".", 1)[-1]):
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:  # a broken built-in is a bug, but say which one
            raise PluginError(f"built-in plugin {module_name} failed to import: {exc}") from exc
        pm.register(module, name=module_name)
        pm.origins[module_name] = ("built-in", __version__)
    _load_entry_points(pm, only)
    if config.STAKTRAKR_TRACE_PLUGINS:
        pm.trace.root.setwriter(lambda message: logger.info("plugin trace: %s", message.rstrip()))
        pm.enable_tracing()
    return pm


def _load_entry_points(pm: PluginManager, only: tuple[str, ...] | None) -> None:
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist else "unknown"
        if not _wanted(only, ep.name, dist, ep.value):
            continue
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # third-party code: report it, keep the rest working
            logger.error("plugin %s (%s) failed to load: %s", ep.name, dist, exc)
            continue
        pm.register(plugin, name=ep.name)
        version = ep.dist.version if ep.dist else "?"
        pm.origins[ep.name] = (f"entry point ({dist})", version)


@lru_cache(maxsize=1)
def _cached_manager() -> PluginManager:
    return build_plugin_manager()


def get_plugin_manager() -> PluginManager:
    """The process-wide manager (built once from the environment)."""
    return _cached_manager()


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

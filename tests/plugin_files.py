"""Reaching a built-in plugin's checks and importers from the tests.

The plugins expose them through their hooks (`staktrakr_health_checks`,
`staktrakr_backfill_importers`) in `plugins/<name>/__init__.py`. While `plugins/spot.py` and
`plugins/goldback.py` are still single modules (being turned into packages), the folder
`plugins/<name>/` has no `__init__.py` and cannot be imported as `staktrakr.plugins.<name>`:
then the file is loaded from its path. Once the packages exist, the import is the normal one.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from staktrakr.hookspecs import hookimpl

PLUGINS = Path(__file__).resolve().parent.parent / "plugins"


def plugin_function(plugin: str, module: str, function: str) -> Callable[..., Any]:
    try:
        loaded = importlib.import_module(f"staktrakr.plugins.{plugin}.{module}")
    except ImportError:
        path = PLUGINS / plugin / f"{module}.py"
        spec = importlib.util.spec_from_file_location(f"_staktrakr_plugin_{plugin}_{module}", path)
        assert spec is not None and spec.loader is not None, path
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = loaded  # dataclasses look their module up while it runs
        spec.loader.exec_module(loaded)
    return getattr(loaded, function)


class _PluginHooks:
    """The hooks the plugin package will implement, for a plugin that does not yet."""

    def __init__(self, plugin: str):
        self.plugin = plugin

    @hookimpl
    def staktrakr_health_checks(self) -> list[Any]:
        return plugin_function(self.plugin, "checks", "health_checks")()

    @hookimpl
    def staktrakr_backfill_importers(self) -> list[Any]:
        return plugin_function(self.plugin, "importers", "backfill_importers")()


@contextmanager
def plugin_hooks(pm: Any, plugins: tuple[str, ...] = ("spot", "goldback")) -> Iterator[None]:
    """`pm` with the health checks and backfill importers of `plugins`: their own hooks when the
    packages have them, else registered here for the time of the block."""
    have = {c.name for found in pm.hook.staktrakr_health_checks() for c in (found or [])}
    added = [pm.register(_PluginHooks(p), name=f"test-shim-{p}") for p in plugins if p not in have]
    try:
        yield
    finally:
        for name in added:
            pm.unregister(name=name)

"""Built-in plugins of staktrakr: the dealers (one module each in dealers/) and the features.

They reach the core only through the `builtin` entry point (pyproject.toml), like any other
package's plugins: the core never imports this package.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

# Built-in features, each a plugin package of its own.
FEATURES: tuple[str, ...] = ("git_publisher", "aggregator", "spot", "goldback", "vision", "alerts")


def bundle() -> list[ModuleType]:
    """Every dealer module in dealers/ (adding a file there is enough), then the features."""
    from . import dealers

    names = [
        f"{dealers.__name__}.{info.name}"
        for info in sorted(pkgutil.iter_modules(dealers.__path__), key=lambda i: i.name)
        if not info.name.startswith("_")
    ]
    names += [f"{__name__}.{feature}" for feature in FEATURES]
    return [importlib.import_module(name) for name in names]

"""The layering the project promises (docs/ARCHITECTURE.md), checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "staktrakr"
# Built-in plugins and the demo's stand-ins: the core reaches them only through entry points.
NOT_FROM_CORE = ("staktrakr.plugins", "staktrakr_samples")
MAX_LINES = 400


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _core_modules() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def test_the_core_never_imports_a_built_in_plugin():
    upward = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _core_modules()
        for line, module in _imports(path)
        if module.startswith(NOT_FROM_CORE)
    ]
    assert upward == []


def test_the_check_sees_relative_and_absolute_imports(tmp_path, monkeypatch):
    # The check itself must be able to fail.
    fake = CORE / "store" / "_probe_for_test.py"
    assert not fake.exists()
    fake.write_text("from ..plugins import spot\nimport staktrakr_samples.server\n", encoding="utf-8")
    try:
        modules = {module for _, module in _imports(fake)}
        assert "staktrakr.plugins.spot" in modules and "staktrakr_samples.server" in modules
    finally:
        fake.unlink()


@pytest.mark.parametrize("folder", ["staktrakr", "spiders", "pipelines", "plugins"])
def test_no_module_has_many_jobs(folder):
    long = {
        str(path.relative_to(ROOT)): count
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"modules over {MAX_LINES} lines: split them by job"

"""What gets installed: every package folder is listed in pyproject.toml, and a wheel holds the
top-level folders spiders/, pipelines/ and plugins/ under the `staktrakr` namespace only."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = ("staktrakr", "spiders", "pipelines", "plugins", "samples")


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def _package_name(folder: Path, package_dir: dict[str, str]) -> str:
    """The import name setuptools gives a folder: `plugins/git_publisher` -> `staktrakr.plugins.git_publisher`."""
    relative = folder.relative_to(ROOT).as_posix()
    for package, where in sorted(package_dir.items(), key=lambda item: -len(item[1])):
        if relative == where or relative.startswith(where + "/"):
            return package + relative[len(where) :].replace("/", ".")
    return relative.replace("/", ".")


def _package_folders() -> list[Path]:
    """Folders holding Python modules (the folders with only data are package data)."""
    found = []
    for top in SOURCE_FOLDERS:
        for folder in [ROOT / top, *sorted(p for p in (ROOT / top).rglob("*") if p.is_dir())]:
            if "__pycache__" not in folder.parts and any(folder.glob("*.py")):
                found.append(folder)
    return found


def test_every_package_folder_is_listed_in_pyproject():
    setuptools = _setuptools()
    listed, package_dir = set(setuptools["packages"]), setuptools["package-dir"]
    names = {_package_name(folder, package_dir): folder for folder in _package_folders()}
    missing = sorted(f"{name} ({folder.relative_to(ROOT)})" for name, folder in names.items() if name not in listed)
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {missing}"
    folders = {_package_name(p, package_dir) for top in SOURCE_FOLDERS for p in [ROOT / top, *(ROOT / top).rglob("*")] if p.is_dir()}
    assert not listed - folders, f"listed in pyproject.toml without a folder: {sorted(listed - folders)}"
    assert not any(name.split(".")[0] in ("spiders", "pipelines", "plugins") for name in names)


def test_the_mapping_check_names_folders_like_setuptools():
    package_dir = {"staktrakr.plugins": "plugins", "staktrakr_samples": "samples"}
    assert _package_name(ROOT / "plugins" / "git_publisher", package_dir) == "staktrakr.plugins.git_publisher"
    assert _package_name(ROOT / "samples", package_dir) == "staktrakr_samples"
    assert _package_name(ROOT / "staktrakr" / "store", package_dir) == "staktrakr.store"


@pytest.mark.timeout(300)
def test_the_wheel_installs_everything_under_the_staktrakr_namespace(tmp_path):
    # Built from a copy, so the build/ and .egg-info folders setuptools writes stay out of the tree.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", *SOURCE_FOLDERS):
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    out = tmp_path / "wheel"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(source)],
        capture_output=True, text=True, timeout=280,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = out.glob("staktrakr_pollers-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == {"staktrakr", "staktrakr_samples"}
    for module in ("staktrakr/spiders/retail.py", "staktrakr/pipelines/store.py", "staktrakr/plugins/git_publisher/publisher.py", "staktrakr/cli.py"):
        assert module in names
    assert "staktrakr/data/providers.json" in names  # package data comes along
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "builtin = staktrakr.plugins:bundle" in entry_points and "staktrakr = staktrakr.cli:main" in entry_points

"""The demo as a plugin: `staktrakr demo` comes from this package's entry point, so the
runtime package holds no stand-in servers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from staktrakr.hookspecs import hookimpl


@hookimpl
def staktrakr_cli_commands(cli: Any) -> None:
    import click

    @cli.command("demo")
    @click.option("--workdir", type=click.Path(path_type=Path), default=Path("var/demo"), show_default=True, help="Where the demo database and API go (recreated).")
    @click.option("--no-browser", is_flag=True, help="Skip the pages that need Chromium.")
    @click.option("--vision", is_flag=True, help="Cross-check prices on screenshots with a stand-in Gemini server.")
    def demo_command(workdir: Path, no_browser: bool, vision: bool) -> None:
        """Crawl the bundled sample dealer sites on 127.0.0.1 and print what was found."""
        from rich.console import Console

        from .demo import run_demo

        sys.exit(run_demo(workdir, browser=not no_browser, vision=vision, console=Console(width=None if sys.stdout.isatty() else 160)))

"""The `staktrakr` command: the click group, error handling and `main()`.

The commands live in staktrakr/commands/ (one module per topic, registered by the list in
staktrakr/commands/__init__.py); plugins add theirs through the `staktrakr_cli_commands` hook.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from . import __version__
from .commands import load_commands
from .commands.context import CommandContext, err_console
from .errors import StaktrakrError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="staktrakr")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Bullion dealer prices, spot and Goldback feeds, published as a static JSON API."""
    from .logs import install_log_hook

    install_log_hook()  # secrets redacted in every line; JSON lines with LOG_FORMAT=json
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.ensure_object(CommandContext)


for _command in load_commands():
    cli.add_command(_command)


def _register_plugin_commands() -> None:
    try:
        from .plugin_manager import get_plugin_manager

        get_plugin_manager().hook.staktrakr_cli_commands(cli=cli)
    except StaktrakrError:
        pass  # reported by the command that needs the plugins


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point: user errors print one message, never a traceback."""
    _register_plugin_commands()
    try:
        return cli.main(args=argv, prog_name="staktrakr", standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except StaktrakrError as exc:
        # soft_wrap: a one-line message stays one line (rich would break it at 80 columns in cron).
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        from .store.faults import os_fault

        fault = os_fault(exc)
        if fault is None:
            raise
        err_console.print(f"error: {fault}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(fault.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

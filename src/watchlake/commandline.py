"""The small argparse helpers every subcommand module shares (below the CLI that loads them, so no stage module
imports the entry point)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from watchlake.settings import Settings, load_settings

Handler = Callable[[argparse.Namespace], int]


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings a subcommand runs with: the chosen environment's file plus WATCHLAKE_* overrides."""
    return load_settings(args.env)


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    handler: Handler,
    *,
    help: str,
    description: str,
    epilog: str | None = None,
    formatter_class: type[argparse.HelpFormatter] = argparse.HelpFormatter,
) -> argparse.ArgumentParser:
    """Add the subcommand ``name`` that runs ``handler(args)``; returns its parser for the caller's arguments.

    ``help`` is the one-line summary in ``watchlake --help``, ``description`` the text of ``watchlake <name>
    --help``; pass ``argparse.RawDescriptionHelpFormatter`` to keep a description's own line breaks.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help, description=description, epilog=epilog, formatter_class=formatter_class
    )
    parser.set_defaults(handler=handler)
    return parser

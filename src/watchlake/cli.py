"""The ``watchlake`` command: one subcommand per stage, glue only.

Each stage package has a ``commands.py`` whose ``register(subparsers)`` adds its subcommands; heavy imports
(PySpark, boto3, ...) happen inside the command functions so ``watchlake --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence

from watchlake import __version__
from watchlake.errors import WatchlakeError
from watchlake.settings import Settings, load_settings

# Modules that register subcommands, in the order the stages run.
COMMAND_MODULES: tuple[str, ...] = (
    "watchlake.services.commands",
    "watchlake.casas.commands",
    "watchlake.ingest.commands",
    "watchlake.clean.commands",
    "watchlake.stats.commands",
    "watchlake.synth.commands",
    "watchlake.train.commands",
    "watchlake.predict.commands",
    "watchlake.demo",
)


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings a subcommand runs with: the chosen environment's file plus WATCHLAKE_* overrides."""
    return load_settings(args.env)


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    handler: Callable[[argparse.Namespace], int],
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="watchlake",
        description=(
            "Stage, clean, model, generate and classify Apple Watch sensor data (WSU CASAS smartwatch "
            "archives). Settings come from conf/<env>.yaml, overridden by WATCHLAKE_* environment variables."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"watchlake {__version__}")
    parser.add_argument(
        "--env",
        choices=("local", "aws"),
        default=None,
        help="target environment (default: $WATCHLAKE_ENV or local)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="<stage>", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("py4j", "botocore", "urllib3", "kafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        result = args.handler(args)
    except WatchlakeError as error:
        print(f"watchlake {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"watchlake {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())

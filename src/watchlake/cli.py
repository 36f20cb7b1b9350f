"""The ``watchlake`` command: one subcommand per entry of the stage table (:mod:`watchlake.stages`), glue only.

A stage's subcommand takes its arguments from the stage's ``commands`` module, runs the stage through
:func:`watchlake.stages.run_stage` and prints the result's summary line; tools (services, the fidelity report, the
demo) register their own subcommands. Heavy imports (PySpark, boto3, ...) happen only when a command runs, so
``watchlake --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from watchlake import __version__, progress
from watchlake.commandline import add_command, settings_of
from watchlake.errors import NOTHING_TO_DO_EXIT, WatchlakeError
from watchlake.settings import ENVIRONMENTS
from watchlake.stages import STAGES, TOOLS, Stage, commands_of, run_stage, stage


def _add_stage(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], entry: Stage) -> None:
    module = commands_of(entry)
    parser = add_command(
        subparsers,
        entry.name,
        _run_stage_command,
        help=entry.help,
        description=module.DESCRIPTION,
        formatter_class=getattr(module, "FORMATTER", argparse.HelpFormatter),
    )
    parser.set_defaults(stage=entry.name)
    module.add_arguments(parser)


def _run_stage_command(args: argparse.Namespace) -> int:
    """Run the stage the subcommand names and print its summary; a module's ``handle(args, settings)`` may
    answer the command itself (e.g. ``train --show``) by returning an exit code instead of None."""
    module = commands_of(stage(args.stage))
    settings = settings_of(args)
    handle = getattr(module, "handle", None)
    answered = handle(args, settings) if handle is not None else None
    if answered is not None:
        return int(answered)
    result = run_stage(args.stage, settings, **module.options(args))
    print(f"{args.stage}: {module.summary(result)}")
    return NOTHING_TO_DO_EXIT if getattr(result, "skipped", False) else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="watchlake",
        description=(
            "Stage, clean, model, generate and classify Apple Watch sensor data (WSU CASAS smartwatch "
            "archives). Settings come from conf/<env>.yaml, overridden by WATCHLAKE_* environment variables."
        ),
        epilog=(
            "Exit status: 0 done; 1 failed (the message says why and what to do); 2 bad settings or arguments; "
            f"{NOTHING_TO_DO_EXIT} nothing to do (for example retrain without new labels; a DAG shows it as skipped); "
            "130 interrupted."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"watchlake {__version__}")
    parser.add_argument(
        "--env",
        choices=ENVIRONMENTS,
        default=None,
        help="target environment (default: $WATCHLAKE_ENV or local)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="<stage>", required=True)
    for entry in STAGES:
        _add_stage(subparsers, entry)
    for tool in TOOLS:
        importlib.import_module(tool.module).register(subparsers)
    return parser


def _configure_logging(level: int) -> None:
    """Plain timestamped lines into a log file or pipe; on a terminal, records print above any progress bar."""
    if progress.live():
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(
            console=progress.console(), show_path=False, log_time_format="%H:%M:%S", markup=False
        )
        logging.basicConfig(level=level, format="%(name)s: %(message)s", handlers=[handler])
    else:
        logging.basicConfig(
            level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:  # the Spark JVMs too (unless the environment chose a level already)
        os.environ.setdefault("WATCHLAKE_SPARK__LOG_LEVEL", "WARN")
    _configure_logging(logging.DEBUG if args.verbose else logging.INFO)
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

"""``watchlake up | down | status``: start, stop and show the local services (Kafka, PostgreSQL, moto)."""

from __future__ import annotations

import argparse
import importlib
import json
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

from watchlake.commandline import add_command, settings_of
from watchlake.errors import ServiceError
from watchlake.services import SERVICE_NAMES
from watchlake.services.process import ServiceInfo

if TYPE_CHECKING:
    from watchlake.monitor.snapshot import Snapshot
    from watchlake.settings import Settings

_EPILOG = """\
Services run as the current user, bound to 127.0.0.1, with data, logs and pid files in <runtime_dir>/<service>:
  kafka     single-node KRaft broker on kafka.bootstrap_servers (+ kafka.controller_port); needs Java 17+ and
            the jars of scripts/fetch-jars.sh; creates kafka.topic and kafka.dead_letter_topic
  postgres  the server at warehouse.host:warehouse.port if it answers, else a private cluster there
            (Debian's postgresql package; as root it runs as the 'postgres' user)
  moto      S3/EMR/Glue stand-in on aws.endpoint_url, only when that URL is on loopback
`up` is harmless when a service already runs; `down` stops only what watchlake started.
"""


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"watchlake.services.{name}")


def _chosen(names: list[str] | str) -> list[str]:
    if isinstance(names, str):  # argparse gives the bare default when no SERVICE is named
        names = [names]
    if "all" in names:
        return list(SERVICE_NAMES)
    return list(dict.fromkeys(names))


def _add(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    handler: Callable[[argparse.Namespace], int],
    help_text: str,
) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers,
        name,
        handler,
        help=help_text,
        description=help_text,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "services",
        nargs="*",
        default="all",
        choices=[*SERVICE_NAMES, "all"],
        metavar="SERVICE",
        help=f"one or more of {', '.join(SERVICE_NAMES)}, or all (default: all)",
    )
    return parser


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _add(subparsers, "up", _up, "start local services and wait until they answer")
    _add(subparsers, "down", _down, "stop the local services watchlake started")
    status = _add(
        subparsers,
        "status",
        _status,
        "show which local services run where (pid, address, health) and the monitoring figures",
    )
    status.add_argument(
        "--json",
        action="store_true",
        help="print the services as JSON, without the figures (those are at /monitor/figures.json)",
    )
    status.add_argument(
        "--no-figures", action="store_true", help="only the services, not the warehouse and registry figures"
    )


def _run_each(args: argparse.Namespace, action: Callable[[ModuleType], ServiceInfo]) -> list[ServiceInfo]:
    """Apply ``action`` to every chosen service; the first failure is raised after all were tried."""
    results: list[ServiceInfo] = []
    errors: list[ServiceError] = []
    for name in _chosen(args.services):
        try:
            results.append(action(_module(name)))
        except ServiceError as error:
            errors.append(error)
    if errors:
        raise ServiceError("\n".join(str(error) for error in errors))
    return results


def _up(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    _print_table(_run_each(args, lambda module: module.start(settings)))
    return 0


def _down(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    _print_table(_run_each(args, lambda module: module.stop(settings)))
    return 0


def _status(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    infos = _run_each(args, lambda module: module.status(settings))
    if args.json:
        print(json.dumps([info.as_dict() for info in infos], indent=2))
        return 0
    _print_table(infos)
    if not args.no_figures:
        from rich.console import Console

        from watchlake.monitor.terminal import print_snapshot

        print_snapshot(_snapshot(settings), Console(soft_wrap=True))
    return 0


def _snapshot(settings: Settings) -> Snapshot:
    """The monitoring figures now (the warehouse's and the registry's), each source's failure as a sentence."""
    from datetime import UTC, datetime

    from watchlake.monitor.champion import ChampionReader
    from watchlake.monitor.snapshot import take_snapshot
    from watchlake.registry.registry import ModelRegistry
    from watchlake.warehouse.connection import connect

    now = datetime.now(UTC).replace(tzinfo=None)
    return take_snapshot(
        settings, lambda: connect(settings), ChampionReader(ModelRegistry.from_settings(settings)), now
    )


def _print_table(infos: list[ServiceInfo]) -> None:
    print(f"{'service':<9} {'state':<9} {'pid':>7}  {'address':<22} {'health':<7} log / detail")
    for info in infos:
        pid = str(info.pid) if info.pid is not None else "-"
        health = "ok" if info.healthy else "-"
        print(
            f"{info.name:<9} {info.state:<9} {pid:>7}  {info.address or '-':<22} {health:<7} "
            f"{info.detail or info.log_file}"
        )

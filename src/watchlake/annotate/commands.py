"""``watchlake annotate``: serve the annotation page and API, add accounts and API tokens, or run the oracle."""

from __future__ import annotations

import argparse
import getpass
import sys

from watchlake.commandline import add_command, settings_of
from watchlake.errors import ConfigError

_DESCRIPTION = """\
Serve the annotation page and its JSON API on annotate.host:annotate.port (loopback only) over the warehouse's
annotation_queue: windows most uncertain first (predict.confidence_measure), leased for annotate.lease_seconds,
labels logged in annotation_labels and handed to the feature store.

  watchlake annotate                      serve until Ctrl-C (http://127.0.0.1:8765)
  watchlake annotate add-user NAME        create an account (password prompted, or --password-stdin)
  watchlake annotate add-token NAME       print a new bearer token of NAME for the JSON API
  watchlake annotate push-pending         hand the feature store the labels it missed while it was down
  watchlake annotate --oracle [--limit N] label the queue from the generator's ground truth (Kafka), through
                                          the API (a service of its own unless --url names one), then stop

Session cookies are signed with annotate.session_secret (set WATCHLAKE_ANNOTATE__SESSION_SECRET to keep
sessions across restarts). JSON API: GET /api/queue, POST /api/leases, POST /api/leases/ID/skip,
POST /api/labels, POST /api/undo (docs at /api/docs).
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "annotate",
        _annotate,
        help="the annotation page and API (low-confidence windows -> labels), accounts, the oracle",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "action", nargs="?", choices=("serve", "add-user", "add-token", "push-pending"), default="serve"
    )
    parser.add_argument("name", nargs="?", help="the annotator (add-user, add-token)")
    parser.add_argument(
        "--password-stdin", action="store_true", help="add-user: read the password from stdin"
    )
    parser.add_argument("--port", type=int, default=None, help="serve: port (default: annotate.port)")
    parser.add_argument(
        "--oracle", action="store_true", help="label the queue from the ground truth, then stop"
    )
    parser.add_argument("--limit", type=int, default=None, help="--oracle: stop after N labels")
    parser.add_argument("--url", default=None, help="--oracle: a running service to use (default: its own)")


def _annotate(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if args.oracle:
        from watchlake.annotate.oracle import run_oracle, summary

        print(f"annotate --oracle: {summary(run_oracle(settings, limit=args.limit, url=args.url))}")
        return 0
    if args.action in ("add-user", "add-token"):
        if not args.name:
            raise ConfigError(
                f"annotate {args.action}: name the annotator (watchlake annotate {args.action} NAME)"
            )
        return _add_user(settings, args) if args.action == "add-user" else _add_token(settings, args.name)
    if args.action == "push-pending":
        return _push_pending(settings)
    from watchlake.annotate.app import create_app
    from watchlake.annotate.server import serve

    port = args.port or settings.annotate.port
    app = create_app(settings)
    print(f"annotate: http://{settings.annotate.host}:{port} (Ctrl-C stops it)", flush=True)
    serve(app, settings.annotate.host, port, in_container=settings.env == "docker")
    return 0


def _connection(settings):  # type: ignore[no-untyped-def]
    from watchlake.warehouse.connection import connect
    from watchlake.warehouse.tables import ensure_tables

    connection = connect(settings)
    ensure_tables(connection, settings.warehouse.schema_name)
    return connection


def _add_user(settings, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from watchlake.annotate.accounts import add_annotator, check_name
    from watchlake.annotate.app import utc_now

    check_name(args.name)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise ConfigError("the passwords differ; nothing was created")
    connection = _connection(settings)
    try:
        add_annotator(connection, settings.warehouse.schema_name, args.name, password, utc_now())
    finally:
        connection.close()
    print(f"annotate: annotator {args.name} created")
    return 0


def _add_token(settings, name: str) -> int:  # type: ignore[no-untyped-def]
    from watchlake.annotate.accounts import annotator_exists, create_token
    from watchlake.annotate.app import utc_now

    connection = _connection(settings)
    try:
        if not annotator_exists(connection, settings.warehouse.schema_name, name):
            raise ConfigError(f"no annotator {name!r}: create it first (watchlake annotate add-user {name})")
        token = create_token(connection, settings.warehouse.schema_name, name, utc_now())
    finally:
        connection.close()
    print(token)
    return 0


def _push_pending(settings) -> int:  # type: ignore[no-untyped-def]
    from watchlake.annotate.app import feature_store_sink, utc_now
    from watchlake.annotate.service import pending_labels, push_pending

    connection = _connection(settings)
    try:
        schema = settings.warehouse.schema_name
        waiting = len(pending_labels(connection, schema))
        pushed = push_pending(connection, schema, feature_store_sink(settings), utc_now())
    finally:
        connection.close()
    print(f"annotate push-pending: {pushed} of {waiting} labels pushed to the feature store")
    return 0 if pushed == waiting else 1

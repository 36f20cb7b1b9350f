"""``watchlake predict``: score the Kafka stream with the champion model into the SQL warehouse."""

from __future__ import annotations

import argparse

from watchlake.cli import add_command, settings_of

_DESCRIPTION = """\
Read the Kafka topic (kafka.topic), group each watch's readings into event-time windows (features.*), score
every closed window with the current champion model and write the predictions to the warehouse
(warehouse.*: PostgreSQL locally, Redshift on AWS). Windows whose confidence (predict.confidence_measure) is
below predict.low_confidence_threshold also go to the annotation queue. Malformed messages go to the
dead_letters table with their reason; the stream goes on. A promoted champion is picked up at the next
micro-batch without a restart. Checkpoints live in the lake (checkpoints/<query>); with the warehouse's batch
ledger a restart loses and repeats nothing.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "predict",
        _predict,
        help="score the Kafka stream with the champion model into the warehouse",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--available-now",
        action="store_true",
        help="process what the topic holds now, then stop (default: run until Ctrl-C or --timeout)",
    )
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS", help="stop after this long")


def _predict(args: argparse.Namespace) -> int:
    from watchlake.predict.job import run
    from watchlake.spark import build_session

    settings = settings_of(args)
    spark = build_session(settings, "watchlake-predict", jars=("spark-kafka",))
    result = run(settings, spark, available_now=args.available_now, timeout_seconds=args.timeout)
    print(
        f"predict: {result.predictions} predictions in {result.batches} micro-batches, "
        f"{result.queued} queued for annotation, {result.dead_letters} dead letters"
    )
    return 0

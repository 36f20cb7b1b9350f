"""``watchlake predict``: score the Kafka stream with the champion model into the SQL warehouse."""

from __future__ import annotations

import argparse
from typing import Any

DESCRIPTION = """\
Read the Kafka topic (kafka.topic), merge each watch's seconds into event-time windows (features.*; a window
closes when its watch has sent the window's last second, or for a silent watch when predict.watermark_seconds
have passed), score every closed window with the current champion model and write the predictions to the
warehouse (warehouse.*: PostgreSQL locally, Redshift on AWS). Windows whose confidence
(predict.confidence_measure) is below predict.low_confidence_threshold also go to the annotation queue (at most
predict.max_queued_per_batch per micro-batch, the least confident first). Malformed messages go to the
dead_letters table with their reason; the stream goes on. A promoted champion is picked up at the next micro-
batch without a restart. Checkpoints live in the lake (checkpoints/<query>); with the warehouse's batch ledger a
restart loses and repeats nothing. --reset starts the stream over (for example after an upgrade that changed the
predictor's state): the topic is read again, and rows already in the warehouse are replaced, not repeated.
"""


FORMATTER = argparse.RawDescriptionHelpFormatter


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--available-now",
        action="store_true",
        help="process what the topic holds now, then stop (default: run until Ctrl-C or --timeout)",
    )
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS", help="stop after this long")
    parser.add_argument(
        "--reset",
        action="store_true",
        help="first delete the stream's checkpoint and ledger rows: read the topic again from the start",
    )


def options(args: argparse.Namespace) -> dict[str, Any]:
    return {"available_now": args.available_now, "timeout_seconds": args.timeout}


def handle(args: argparse.Namespace, settings: Any) -> None:
    """``--reset`` first forgets the stream (then the predictor runs as usual)."""
    if not args.reset:
        return
    from watchlake.predict.checkpoint import reset
    from watchlake.stages import session_for, stage

    existed, deleted = reset(session_for(stage("predict"), settings), settings)
    print(f"predict: stream reset (checkpoint {'removed' if existed else 'absent'}, {deleted} ledger rows)")


def summary(result: Any) -> str:
    return (
        f"{result.predictions} window predictions in {result.batches} micro-batches, "
        f"{result.queued} queued for annotation, {result.dead_letters} dead letters, "
        f"{result.older_than_watermark} messages older than the watermark"
    )

"""``watchlake generate``: synthetic watches to staging (CASAS files) or into Kafka."""

from __future__ import annotations

import argparse
from typing import Any

DESCRIPTION = (
    "Build a dbldatagen generator from the statistics of `watchlake stats` (<lake>/stats/activity_stats): "
    "generate.devices watches at 10 Hz, each walking a repeating schedule of activity segments whose "
    "class shares and durations follow the labelled data; per class, motion axes are normals with the "
    "class's means, sds and correlations clipped to its observed range, location fields and categories "
    "follow the class's shares. Without --kafka: write --rows rows as CASAS files sw1.p<90000+i>.csv to "
    "<lake>/staging/synthetic (label rows every labels.span_seconds, so `watchlake clean` and training "
    "treat them like real data). With --kafka: stream JSON messages (schema WATCH_MESSAGE_V2: one per "
    "watch and second, 10 readings each; see src/watchlake/synth/MESSAGE_SCHEMA.md) keyed by device id "
    "into kafka.topic for --seconds at --rate readings/s, with an idempotent producer (acks=all). Row "
    "counts and rates are readings, rounded up to whole messages. --check also writes the fidelity report."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=None, help="batch readings (default generate.batch_rows)")
    parser.add_argument("--devices", type=int, default=None, help="watches (default generate.devices)")
    parser.add_argument(
        "--kafka", action="store_true", help="stream into Kafka instead of writing CASAS files"
    )
    parser.add_argument(
        "--rate", type=int, default=None, help="target readings/s (default generate.rows_per_second)"
    )
    parser.add_argument(
        "--seconds", type=float, default=None, help="stream duration (default generate.stream_seconds)"
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help=(
            "with --kafka: start again at sequence number 0 instead of resuming the last stream (a resumed "
            "stream first catches up, at --rate, every second it was stopped)"
        ),
    )
    parser.add_argument(
        "--check", action="store_true", help="also write the fidelity report (as `watchlake fidelity`)"
    )
    add_stats_from(parser)


def add_stats_from(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stats-from",
        choices=("lake", "warehouse"),
        default="lake",
        help=(
            "where to read the statistics of `watchlake stats`: lake (Parquet, default) or warehouse "
            "(the warehouse.* table <schema>.activity_stats, e.g. Redshift on AWS)"
        ),
    )


def options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "kafka": args.kafka,
        "rows": args.rows,
        "devices": args.devices,
        "rate": args.rate,
        "seconds": args.seconds,
        "fresh": args.fresh,
        "check": args.check,
        "stats_from": args.stats_from,
    }


def summary(result: Any) -> str:
    parts = []
    if result.stream is not None:
        streamed = result.stream
        parts.append(
            f"{streamed.rows} synthetic readings ({streamed.messages} messages) from {result.devices} watches "
            f"in {streamed.batches} batches into {streamed.topic} in {streamed.seconds:.1f} s "
            f"({streamed.rows_per_second:,.0f} readings/s, target {result.target_rate:,}/s)"
        )
    if result.batch is not None:
        batch = result.batch
        parts.append(
            f"{batch.rows} readings of {batch.devices} watches: {batch.files} CASAS files in {batch.path}"
        )
    if result.fidelity is not None:
        parts.append(fidelity_summary(result.fidelity))
    return "; ".join(parts)


def fidelity_summary(result: Any) -> str:
    worst = ", ".join(f"{key} {value:.3f}" for key, value in result.summary.items() if value is not None)
    return f"fidelity of {result.rows} generated rows: {worst}; report in {result.path}"

"""``watchlake generate`` (synthetic watches to staging or Kafka) and ``watchlake fidelity`` (generated vs source)."""

from __future__ import annotations

import argparse
from typing import Any

from watchlake.cli import add_command, settings_of


def register(subparsers: Any) -> None:
    generate = add_command(
        subparsers,
        "generate",
        _generate,
        help="dbldatagen: synthetic watches from the activity statistics, to staging (CASAS) or into Kafka",
        description=(
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
        ),
    )
    generate.add_argument(
        "--rows", type=int, default=None, help="batch readings (default generate.batch_rows)"
    )
    generate.add_argument("--devices", type=int, default=None, help="watches (default generate.devices)")
    generate.add_argument(
        "--kafka", action="store_true", help="stream into Kafka instead of writing CASAS files"
    )
    generate.add_argument(
        "--rate", type=int, default=None, help="target readings/s (default generate.rows_per_second)"
    )
    generate.add_argument(
        "--seconds", type=float, default=None, help="stream duration (default generate.stream_seconds)"
    )
    generate.add_argument(
        "--fresh",
        action="store_true",
        help=(
            "with --kafka: start again at sequence number 0 instead of resuming the last stream (a resumed "
            "stream first catches up, at --rate, every second it was stopped)"
        ),
    )
    generate.add_argument(
        "--check", action="store_true", help="also write the fidelity report (as `watchlake fidelity`)"
    )
    _add_stats_from(generate)
    fidelity = add_command(
        subparsers,
        "fidelity",
        _fidelity,
        help="compare generated watches with the source statistics: JSON + PNG under <lake>/reports/fidelity",
        description=(
            "Generate --rows rows in memory and compare them, per class and column, with the source statistics: "
            "relative error of mean and sd, KS statistic against a sample of the processed readings (when "
            "present), shares of location_type, battery_state and the classes. Writes fidelity.json, errors.png, "
            "motion_histograms.png and shares.png to <lake>/reports/fidelity."
        ),
    )
    fidelity.add_argument("--rows", type=int, default=200_000, help="rows to generate (default 200000)")
    _add_stats_from(fidelity)


def _add_stats_from(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stats-from",
        choices=("lake", "warehouse"),
        default="lake",
        help=(
            "where to read the statistics of `watchlake stats`: lake (Parquet, default) or warehouse "
            "(the warehouse.* table <schema>.activity_stats, e.g. Redshift on AWS)"
        ),
    )


def _override(settings: Any, args: argparse.Namespace) -> Any:
    from watchlake.settings import with_section

    return with_section(settings, "generate", devices=args.devices) if args.devices else settings


def _generate(args: argparse.Namespace) -> int:
    from watchlake.spark import build_session
    from watchlake.stats.job import load_stats
    from watchlake.synth.job import run_batch, run_stream

    settings = _override(settings_of(args), args)
    spark = build_session(settings, "watchlake-generate", jars=("spark-kafka",) if args.kafka else ())
    stats = load_stats(spark, settings, args.stats_from)
    if args.kafka:
        rate = args.rate or settings.generate.rows_per_second
        seconds = args.seconds or settings.generate.stream_seconds
        streamed = run_stream(spark, settings, stats, rate, seconds, fresh=args.fresh)
        print(
            f"streamed {streamed.rows} readings ({streamed.messages} messages) in {streamed.batches} batches to "
            f"{streamed.topic} in {streamed.seconds:.1f} s ({streamed.rows_per_second:,.0f} readings/s, target "
            f"{rate:,}/s)"
        )
    else:
        batch = run_batch(spark, settings, stats, args.rows or settings.generate.batch_rows)
        print(
            f"generated {batch.rows} readings of {batch.devices} watches: {batch.files} CASAS files in {batch.path}"
        )
    if args.check:
        _report(spark, settings, stats, args.rows or 200_000)
    return 0


def _fidelity(args: argparse.Namespace) -> int:
    from watchlake.spark import build_session
    from watchlake.stats.job import load_stats

    settings = settings_of(args)
    spark = build_session(settings, "watchlake-fidelity")
    _report(spark, settings, load_stats(spark, settings, args.stats_from), args.rows)
    return 0


def _report(spark: Any, settings: Any, stats: Any, rows: int) -> None:
    from watchlake.synth.report import run_fidelity

    result = run_fidelity(spark, settings, stats, rows)
    worst = ", ".join(f"{key} {value:.3f}" for key, value in result.summary.items() if value is not None)
    print(f"fidelity of {result.rows} generated rows: {worst}; report in {result.path}")

"""Benchmark: the whole streaming prediction path (Kafka -> parse -> windows -> champion -> PostgreSQL) against the
same job writing to a no-op sink, in the same run.

Usage: python bench/predict/run.py [--rates 2000,10000,30000,100000] [--paced-seconds 20] [--warmup-seconds 8]
           [--drain-messages 12000] [--drain-batch-messages 4000] [--devices 300] [--window-seconds 10]
           [--watermark-seconds 2] [--trigger-seconds 1] [--trees 60] [--depth 10] [--skip-profile] [--skip-drain]
Starts a private Kafka broker and PostgreSQL cluster in a temporary runtime folder (always stopped), fits and
registers a champion on synthetic windows, then: (1) pre-loads the topic and profiles each step as a batch job,
(2) drains the pre-loaded topic with the streaming predictor (max throughput), (3) paced runs at each rate with a
separate producer process (latency). Writes bench/results/predict.json and prints a summary. See README.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import phases
import stages
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from watchlake.features.transforms import FEATURE_COLUMNS
from watchlake.registry.registry import ModelRegistry
from watchlake.scoring import ChampionModel, load_champion
from watchlake.services import kafka, postgres
from watchlake.services.process import free_port
from watchlake.settings import Settings, TrainSettings, load_settings
from watchlake.spark import build_session
from watchlake.train.pipeline import fit_pipeline

log = logging.getLogger("bench.predict")
RESULTS = Path(__file__).resolve().parent.parent / "results" / "predict.json"
CLASSES = ("Exercise", "Housework", "Relax", "Sleep", "Travel", "Work")


def base_values(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    values = _base_values(root, args)
    # Keep every batch's progress (the default keeps 100).
    conf = {"spark.sql.streaming.numRecentProgressUpdates": "100000"}
    conf |= dict(item.split("=", 1) for item in args.conf)
    values["spark"]["conf"] = conf
    return values


def _base_values(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "runtime_dir": str(root / "runtime"),
        "lake": {"root": str(root / "lake")},
        "catalog": {"kind": "none"},
        "spark": {
            "master": "local[2]",
            "shuffle_partitions": 2,
            "ui_enabled": False,
            "driver_memory": "4g",
        },
        "kafka": {
            "bootstrap_servers": f"127.0.0.1:{free_port()}",
            "controller_port": free_port(),
            "partitions": 2,
            "retention_ms": 3_600_000,
        },
        "warehouse": {"host": "127.0.0.1", "port": free_port(), "database": "bench", "user": "watchlake"},
        "features": {"window_seconds": args.window_seconds, "step_seconds": args.window_seconds},
        "predict": {
            "watermark_seconds": args.watermark_seconds,
            "trigger_seconds": args.trigger_seconds,
            "starting_offsets": "earliest",
        },
    }


def training_windows(spark: SparkSession, rows: int = 3000, seed: int = 3) -> DataFrame:
    """Random feature windows; the class depends on two features, so the forest grows real trees."""
    base = spark.range(rows).select(
        F.timestamp_seconds(F.lit(1_577_836_800) + F.col("id") * 60).alias("window_start"), F.col("id")
    )
    features = [F.rand(seed + i).alias(name) for i, name in enumerate(FEATURE_COLUMNS)]
    kinds = F.array(*[F.lit(kind) for kind in ("house", "road", "work", "store", "unknown")])
    windows = base.select(
        *features, F.element_at(kinds, (F.col("id") % 5 + 1).cast("int")).alias("location_type_mode")
    )
    code = F.floor(F.col(FEATURE_COLUMNS[0]) * 3) * 2 + F.floor(F.col(FEATURE_COLUMNS[9]) * 2)
    label = F.element_at(
        F.array(*[F.lit(c) for c in CLASSES]), (F.pmod(code, F.lit(len(CLASSES))) + 1).cast("int")
    )
    return windows.withColumn("activity", label).withColumn("class_weight", F.lit(1.0))


def register_champion(spark: SparkSession, settings: Settings, trees: int, depth: int) -> ChampionModel:
    started = time.perf_counter()
    trained = fit_pipeline(
        training_windows(spark).cache(), TrainSettings(num_trees=trees, max_depth=depth), label_col="activity"
    )
    registry = ModelRegistry.from_settings(settings)
    version = registry.register(trained.model, {"classes": list(trained.classes), "metrics": {}})
    registry.set_champion(version, "bench")
    log.info("champion fitted and registered in %.1f s", time.perf_counter() - started)
    return load_champion(settings, spark)


def measure(spark: SparkSession, base: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    settings = load_settings("local", **base)
    result: dict[str, Any] = {}
    champion = register_champion(spark, settings, args.trees, args.depth)
    drain_topic = "bench-drain"
    if not args.skip_drain:
        result["preload"] = phases.preload(settings, drain_topic, args.drain_messages, args.devices)
        log.info("pre-loaded: %s", result["preload"])
    if not args.skip_profile:
        profile_topic = "bench-profile"
        result["profile_preload"] = phases.preload(
            settings, profile_topic, args.profile_messages, args.devices
        )
        profile_settings = phases.phase_settings(base, "profile", profile_topic)
        result["profile"] = stages.profile(spark, profile_settings, champion, args.profile_messages)
        log.info("profile: %s", result["profile"])
    if not args.skip_drain:
        result["drain"] = {}
        for sink in args.sinks:
            drain_settings = phases.phase_settings(
                base, f"drain-{sink}", drain_topic, max_offsets_per_trigger=args.drain_batch_messages
            )
            result["drain"][sink] = phases.drain(spark, drain_settings, sink, args.drain_timeout)
            log.info("drain %s: %s", sink, result["drain"][sink]["predictions_query"])
    result["paced"] = []
    for rate in args.rates:
        for sink in args.sinks:
            name = f"paced-{rate}-{sink}"
            paced_settings = phases.phase_settings(
                base, name, name, max_offsets_per_trigger=args.max_batch_messages
            )
            run = phases.paced(spark, paced_settings, sink, rate, args.paced_seconds, args.warmup_seconds)
            result["paced"].append(run)
            log.info("%s: %s | latency %s", name, run["predictions_query"], run["latency"])
    return result


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rates",
        type=lambda s: [int(r) for r in s.split(",") if r],
        default=[2000, 10000, 30000, 100000],
        help="paced runs: events (readings) per second, rate/10 watches sending one message per second",
    )
    parser.add_argument("--sinks", type=lambda s: s.split(","), default=["warehouse", "noop"])
    parser.add_argument("--paced-seconds", type=float, default=20.0)
    parser.add_argument("--warmup-seconds", type=float, default=8.0)
    # Kafka messages of 10 events (readings) each; the defaults hold as many events as the V1 bench's did.
    parser.add_argument("--drain-messages", type=int, default=12_000)
    parser.add_argument(
        "--drain-batch-messages", type=int, default=4_000, help="drain: predict.max_offsets_per_trigger"
    )
    parser.add_argument("--profile-messages", type=int, default=4_000)
    parser.add_argument(
        "--max-batch-messages", type=int, default=30_000, help="paced runs: predict.max_offsets_per_trigger"
    )
    parser.add_argument("--drain-timeout", type=float, default=240.0)
    parser.add_argument(
        "--devices",
        type=int,
        default=300,
        help="watches in the pre-loaded topics (10 Hz; sets their event-time span)",
    )
    parser.add_argument("--window-seconds", type=float, default=10.0)
    parser.add_argument("--watermark-seconds", type=float, default=2.0)
    parser.add_argument("--trigger-seconds", type=float, default=1.0)
    parser.add_argument("--trees", type=int, default=60)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="results JSON (default bench/results/predict.json)"
    )
    parser.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra Spark configuration, e.g. spark.sql.shuffle.partitions=4 (repeatable; the predictor's "
        "start() sets spark.sql.constraintPropagation.enabled=false itself, after these)",
    )
    parser.add_argument("--skip-profile", action="store_true")
    parser.add_argument("--skip-drain", action="store_true")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("kafka", "py4j", "watchlake.predict.sinks", "watchlake.warehouse"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="watchlake-bench-predict-"))
    root.chmod(0o711)  # as root, PostgreSQL runs as the postgres user and must reach its folder
    base = base_values(root, args)
    settings = load_settings("local", **base)
    started = time.time()
    result: dict[str, Any] = {"machine": {"cores": os.cpu_count(), "load_average_at_start": os.getloadavg()}}
    result["config"] = {key: value for key, value in vars(args).items()}
    try:
        kafka.start(settings)
        postgres.start(settings)
        spark = build_session(settings, "bench-predict", jars=("spark-kafka",))
        try:
            result |= measure(spark, base, args)
        finally:
            spark.stop()
    finally:
        postgres.stop(settings)
        kafka.stop(settings)
        shutil.rmtree(root, ignore_errors=True)
    result["machine"]["load_average_at_end"] = os.getloadavg()
    result["bench_seconds"] = round(time.time() - started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(summary(result))
    print(f"\nfull results: {args.out}")


def summary(result: dict[str, Any]) -> str:
    lines = [
        f"predict bench ({result['bench_seconds']} s, load average {result['machine']['load_average_at_start'][0]:.1f})"
    ]
    for name, stage in result.get("profile", {}).items():
        rate = stage.get("events_per_second", stage.get("rows_per_second", stage.get("windows_per_second")))
        lines.append(f"  profile {name:<40} {stage['seconds']:>7.2f} s  {rate:>9,}/s")
    for sink, run in result.get("drain", {}).items():
        query = run["predictions_query"]
        lines.append(f"  drain  {sink:<9} sustained {query['events_per_second']:>8,} events/s "
                     f"({query['batches']} batches of ~{query.get('mean_batch_messages', 0):,} messages)")  # fmt: skip
    for run in result.get("paced", []):
        query, latency = run["predictions_query"], run["latency"]
        arrival = latency.get("committed_minus_last_arrival_ms", {})
        lines.append(
            f"  paced {run['target_events_per_second']:>7,}/s {run['sink']:<9} produced "
            f"{run['producer']['achieved_events_per_second']:>7,}/s sustained {query['events_per_second']:>7,}/s "
            f"lag at producer end {run['producer'].get('predictor_lag_at_producer_end_events', 0):>8,} events  latency(commit-arrival) p50 {arrival.get('p50')} "
            f"p95 {arrival.get('p95')} ms (n={arrival.get('n', 0)})"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()

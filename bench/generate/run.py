"""Benchmark: synthetic watch messages per second into a real Kafka broker (Spark Structured Streaming, idempotent
producer, JSON values), with dbldatagen's own batch generation rate measured in the same run as the reference.

Usage: python bench/generate/run.py [--seconds 40] [--rate 400000] [--batch-rows 3000000] [--partitions 2]
                                    [--huge-methods] [--stats-from-lake]
Starts a private KRaft broker on free loopback ports (stopped at the end), runs Spark local[2], and writes
bench/results/generate.json. Statistics: 12 made-up classes (or the lake's with --stats-from-lake).
--huge-methods adds the JVM flag -XX:-DontCompileHugeMethods (lets the JIT compile Spark's long generated methods).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pyspark.sql import DataFrame, SparkSession

from watchlake.schemas import LOCATION_FIELDS, MOTION_FIELDS
from watchlake.services import kafka
from watchlake.services.process import free_port
from watchlake.settings import Settings, load_settings
from watchlake.spark import build_session, session_conf
from watchlake.stats.model import ActivityStats, ClassStats, Summary
from watchlake.synth.job import generate_batch, kafka_sink_options, start_stream, stop_between_batches
from watchlake.synth.transforms import to_watch_messages

log = logging.getLogger("bench.generate")
RESULTS = Path(__file__).resolve().parent.parent / "results" / "generate.json"
CLASSES = ("Errands", "Exercise", "Hobby", "Housework", "Hygiene", "Mealtime", "Other", "Relax", "Sleep",
           "Socialize", "Travel", "Work")  # fmt: skip
SHARES = (0.04, 0.05, 0.01, 0.2, 0.02, 0.065, 0.03, 0.38, 0.03, 0.04, 0.06, 0.09)


def demo_stats(seed: int = 5) -> ActivityStats:
    """Twelve classes with ArWISE-like shares, distinct moments and random valid motion correlations."""
    rng = np.random.default_rng(seed)

    def summary(mean: float, sd: float, missing: float = 0.0) -> Summary:
        return Summary(10_000, mean, sd, mean - 5 * sd, mean + 5 * sd, missing)

    def one(name: str) -> ClassStats:
        loadings = rng.normal(size=(len(MOTION_FIELDS), 3))
        covariance = loadings @ loadings.T + np.eye(len(MOTION_FIELDS))
        scale = np.sqrt(np.diag(covariance))
        numeric = {c: summary(rng.normal(), rng.uniform(0.05, 1.5)) for c in MOTION_FIELDS}
        numeric |= {c: summary(rng.normal(10, 5), rng.uniform(0.5, 5), 0.1) for c in LOCATION_FIELDS}
        return ClassStats(
            name=name,
            numeric=numeric,
            correlation=tuple(tuple(row) for row in (covariance / np.outer(scale, scale)).tolist()),
            location_type={None: 0.1, "house": 0.6, "road": 0.2, "work": 0.1},
            battery_state={"unplugged": 0.9, "full": 0.1},
            segment_seconds=Summary(100, 300.0, 120.0, 10.0, 3600.0, 0.0),
        )

    classes = {name: one(name) for name in CLASSES}
    return ActivityStats(classes["Relax"], classes, dict(zip(CLASSES, SHARES, strict=True)), {}, 0.1, 10.0)


def bench_settings(root: Path, partitions: int, huge_methods: bool) -> Settings:
    values: dict[str, Any] = {
        "runtime_dir": str(root / "runtime"),
        "lake": {"root": str(root / "lake")},
        "spark": {"master": "local[2]", "shuffle_partitions": 2, "ui_enabled": False, "driver_memory": "3g"},
        "kafka": {
            "bootstrap_servers": f"127.0.0.1:{free_port()}",
            "controller_port": free_port(),
            "topic": "bench-generate",
            "partitions": partitions,
            "retention_ms": 600_000,
        },
        "generate": {"devices": 100, "start": "2026-01-01T08:00:00", "trigger_seconds": 0.0},
    }
    # Keep every batch's progress (the default keeps 100), so the stream's rows can be summed.
    conf = {"spark.sql.streaming.numRecentProgressUpdates": "100000"}
    if huge_methods:
        derby = session_conf(load_settings("local", **values), [])["spark.driver.extraJavaOptions"]
        conf["spark.driver.extraJavaOptions"] = f"{derby} -XX:-DontCompileHugeMethods"
    values["spark"]["conf"] = conf
    return load_settings("local", **values)


def timed_write(
    frame: DataFrame, rows: int, sink: str = "noop", options: dict[str, str] | None = None
) -> dict[str, float]:
    started = time.perf_counter()
    frame.write.format(sink).options(**(options or {})).mode(
        "append" if sink == "kafka" else "overwrite"
    ).save()
    seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds)}


def batch_references(
    spark: SparkSession, settings: Settings, stats: ActivityStats, rows: int
) -> dict[str, Any]:
    generated = generate_batch(spark, settings, stats, rows)
    generate_batch(spark, settings, stats, 100_000).write.format("noop").mode("overwrite").save()  # warm-up
    return {
        "dbldatagen_noop": timed_write(generated, rows),
        "dbldatagen_json_noop": timed_write(to_watch_messages(generated), rows),
        "dbldatagen_json_kafka_batch": timed_write(
            to_watch_messages(generated), rows, "kafka", kafka_sink_options(settings, "bench-generate-batch")
        ),
    }


def stream(
    spark: SparkSession, settings: Settings, stats: ActivityStats, rate: int, seconds: float
) -> dict[str, Any]:
    query = start_stream(spark, settings, stats, rate)
    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds and query.isActive:
            time.sleep(0.5)
    finally:
        # A batch still running after the measured time is abandoned: it is not counted.
        stop_between_batches(query, timeout_seconds=2.0)
    if query.exception() is not None:
        raise RuntimeError(str(query.exception()))
    progress = sorted((p for p in query.recentProgress if p["numInputRows"] > 0), key=lambda p: p["batchId"])
    rows = sum(p["numInputRows"] for p in progress)
    busy = sum(p["durationMs"].get("triggerExecution", 0) for p in progress) / 1000
    # Wall time of the completed batches: from the first one's start to the last one's end.
    first, last = progress[0], progress[-1]
    span = (_epoch(last["timestamp"]) - _epoch(first["timestamp"])) + last["durationMs"][
        "triggerExecution"
    ] / 1000
    return {
        "target_rows_per_second": rate,
        "rows": rows,
        "batches": len(progress),
        "seconds": round(span, 1),
        "rows_per_second": round(rows / span),
        "busy_seconds": round(busy, 1),
        "largest_batch_rows": max(p["numInputRows"] for p in progress),
    }


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--rate", type=int, default=400_000)
    parser.add_argument("--batch-rows", type=int, default=3_000_000)
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--huge-methods", action="store_true")
    parser.add_argument("--stats-from-lake", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="watchlake-bench-generate-"))
    settings = bench_settings(root, args.partitions, args.huge_methods)
    kafka.start(settings)
    try:
        kafka.ensure_topic(settings, "bench-generate-batch")
        spark = build_session(settings, "bench-generate", jars=("spark-kafka",))
        if args.stats_from_lake:
            from watchlake.stats.job import load_activity_stats

            stats = load_activity_stats(spark, load_settings())
        else:
            stats = demo_stats()
        result: dict[str, Any] = {
            "machine": {"cores": os.cpu_count(), "load_average_at_start": os.getloadavg()},
            "spark_master": settings.spark.master,
            "huge_methods_jit": args.huge_methods,
            "classes": len(stats.classes),
            "devices": settings.generate.devices,
            "kafka_partitions": args.partitions,
            "producer": {
                k: v
                for k, v in kafka_sink_options(settings).items()
                if k.startswith("kafka.") and "bootstrap" not in k
            },
            "batch": batch_references(spark, settings, stats, args.batch_rows),
            "stream_into_kafka": stream(spark, settings, stats, args.rate, args.seconds),
        }
        result["machine"]["load_average_at_end"] = os.getloadavg()
        result["target_300k_met"] = result["stream_into_kafka"]["rows_per_second"] >= 300_000
        spark.stop()
    finally:
        kafka.stop(settings)
        shutil.rmtree(root, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    log.info("results in %s:\n%s", RESULTS, json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""Benchmark: synthetic watch readings (events) per second into a real Kafka broker (Spark Structured Streaming,
idempotent producer, JSON values of WATCH_MESSAGE_V2: one message per watch and second, 10 readings), with two
references measured in the same run: dbldatagen's own batch generation rate, and the transport's ceiling (Kafka's
own producer tool sending records of the same size, no generation at all).

Usage: python bench/generate/run.py [--rates 100000,150000,200000,300000] [--seconds 24] [--warmup-seconds 10]
                                    [--trigger-seconds 2] [--batch-rows 3000000] [--partitions 2]
                                    [--stats-from-lake] [--out FILE]
Starts a private KRaft broker on free loopback ports (stopped at the end), runs Spark local[2], and writes
bench/results/generate.json. Statistics: 12 made-up classes (or the lake's with --stats-from-lake).
Streaming: for each target rate, a fresh query runs for --warmup-seconds (not counted: JIT, first batches) and then
--seconds; it keeps up when it writes at least 95 % of the target rate. The highest rate kept up is
`sustained_rows_per_second`; `peak_rows_per_second` is the most any run wrote (falling behind, with larger batches).
Rows and rates are readings; messages are a tenth of them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pyspark.sql import DataFrame, SparkSession

from watchlake.lake import Lake
from watchlake.messages import to_json_messages
from watchlake.schemas import LOCATION_FIELDS, MOTION_FIELDS
from watchlake.services import kafka
from watchlake.services.process import free_port
from watchlake.settings import Settings, load_settings
from watchlake.spark import build_session
from watchlake.stats.model import ActivityStats, ClassStats, Summary
from watchlake.stream_stop import stop_between_batches
from watchlake.synth.generator import READINGS_PER_MESSAGE
from watchlake.synth.job import (
    CUT_MEANS,
    QUERY_NAME,
    generate_messages,
    kafka_sink_options,
    messages_for,
    start_stream,
)

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


def bench_settings(root: Path, partitions: int, trigger_seconds: float = 2.0) -> Settings:
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
        "generate": {"devices": 100, "start": "2026-01-01T08:00:00", "trigger_seconds": trigger_seconds},
    }
    # Keep every batch's progress (the default keeps 100), so the stream's rows can be summed.
    values["spark"]["conf"] = {"spark.sql.streaming.numRecentProgressUpdates": "100000"}
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
    """Batch (no streaming) rates in readings/s: generation alone, plus JSON, plus the Kafka sink."""
    generated = generate_messages(spark, settings, stats, messages_for(rows))
    generate_messages(spark, settings, stats, 10_000).write.format("noop").mode("overwrite").save()  # warm-up
    return {
        "dbldatagen_noop": timed_write(generated, rows),
        "dbldatagen_json_noop": timed_write(to_json_messages(generated), rows),
        "dbldatagen_json_kafka_batch": timed_write(
            to_json_messages(generated), rows, "kafka", kafka_sink_options(settings, "bench-generate-batch")
        ),
    }


def stream(
    spark: SparkSession,
    settings: Settings,
    stats: ActivityStats,
    rate: int,
    seconds: float,
    warmup_seconds: float,
) -> dict[str, Any]:
    """One query at ``rate`` readings/s: the micro-batches that started after the warm-up, summed."""
    shutil.rmtree(Lake.from_settings(settings).checkpoint(QUERY_NAME), ignore_errors=True)
    query = start_stream(spark, settings, stats, rate)
    started = time.monotonic()
    try:
        while time.monotonic() - started < warmup_seconds + seconds and query.isActive:
            time.sleep(0.5)
    finally:
        # A batch still running after the measured time is abandoned: it is not counted.
        stop_between_batches(query, "generate", cut_means=CUT_MEANS, timeout_seconds=2.0)
    if query.exception() is not None:
        raise RuntimeError(str(query.exception()))
    begun = _epoch(query.recentProgress[0]["timestamp"]) + warmup_seconds
    progress = sorted(
        (p for p in query.recentProgress if p["numInputRows"] > 0 and _epoch(p["timestamp"]) >= begun),
        key=lambda p: p["batchId"],
    )
    if not progress:
        return {"target_rows_per_second": rate, "rows": 0, "kept_up": False}
    rows = sum(p["numInputRows"] for p in progress) * READINGS_PER_MESSAGE  # input rows are messages
    durations = [p["durationMs"].get("triggerExecution", 0) / 1000 for p in progress]
    first, last = progress[0], progress[-1]
    span = (_epoch(last["timestamp"]) - _epoch(first["timestamp"])) + durations[-1]
    trigger = settings.generate.trigger_seconds
    return {
        "target_rows_per_second": rate,
        "rows": rows,
        "batches": len(progress),
        "seconds": round(span, 1),
        "rows_per_second": round(rows / span),
        "mean_batch_seconds": round(sum(durations) / len(durations), 2),
        "max_batch_seconds": round(max(durations), 2),
        "trigger_seconds": trigger,
        # Keeping up: the rows written per second of wall time reach the target (within 5 %).
        "kept_up": rows / span >= 0.95 * rate,
    }


def mean_message_bytes(spark: SparkSession, settings: Settings, stats: ActivityStats) -> int:
    """The mean size of a message value (JSON), from 10k generated messages."""
    from pyspark.sql import functions as F

    messages = to_json_messages(generate_messages(spark, settings, stats, 10_000))
    return round(messages.select(F.avg(F.length("value"))).first()[0])


def transport_ceiling(settings: Settings, record_bytes: int, records: int) -> dict[str, Any]:
    """Records/s of Kafka's own producer tool (kafka-tools' ProducerPerformance) into the same broker, with the
    same producer settings and record size, as fast as it can: the transport's ceiling on these cores, since
    the broker runs here too. No generation, no serialisation: the tool sends random bytes of that size."""
    topic = "bench-generate-ceiling"
    kafka.ensure_topic(settings, topic)
    options = kafka_sink_options(settings, topic)
    props = [
        f"{key.removeprefix('kafka.')}={value}" for key, value in options.items() if key.startswith("kafka.")
    ]
    command = [
        "java",
        "-cp",
        str(settings.jvm.lib_path / "kafka-broker" / "*"),
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--record-size",
        str(record_bytes),
        "--throughput",
        "-1",
        "--producer-props",
        *props,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip().splitlines()
    summary = output[-1]  # "N records sent, R records/sec (M MB/sec), ..."
    rate = float(summary.split(" records/sec")[0].rsplit(" ", 1)[1])
    return {
        "records": records,
        "record_bytes": record_bytes,
        "records_per_second": round(rate),
        "readings_per_second": round(rate * READINGS_PER_MESSAGE),
        "tool": summary,
    }


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", type=lambda text: [int(r) for r in text.split(",")],
                        default=[100_000, 150_000, 200_000, 300_000])  # fmt: skip
    parser.add_argument("--seconds", type=float, default=24.0)
    parser.add_argument("--warmup-seconds", type=float, default=10.0)
    parser.add_argument("--trigger-seconds", type=float, default=2.0)
    parser.add_argument("--batch-rows", type=int, default=3_000_000)
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--stats-from-lake", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="watchlake-bench-generate-"))
    settings = bench_settings(root, args.partitions, args.trigger_seconds)
    kafka.start(settings)
    try:
        kafka.ensure_topic(settings, "bench-generate-batch")
        spark = build_session(settings, "bench-generate", jars=("spark-kafka",))
        if args.stats_from_lake:
            from watchlake.stats.store import load_activity_stats

            stats = load_activity_stats(spark, load_settings())
        else:
            stats = demo_stats()
        result: dict[str, Any] = {
            "machine": {"cores": os.cpu_count(), "load_average_at_start": os.getloadavg()},
            "spark_master": settings.spark.master,
            "classes": len(stats.classes),
            "devices": settings.generate.devices,
            "kafka_partitions": args.partitions,
            "producer": {
                k: v
                for k, v in kafka_sink_options(settings).items()
                if k.startswith("kafka.") and "bootstrap" not in k
            },
            "batch": batch_references(spark, settings, stats, args.batch_rows),
            "stream_into_kafka": [
                stream(spark, settings, stats, rate, args.seconds, args.warmup_seconds) for rate in args.rates
            ],
        }
        message_bytes = mean_message_bytes(spark, settings, stats)
        spark.stop()
        result["transport_ceiling"] = transport_ceiling(settings, message_bytes, 1_000_000)
        kept = [run["rows_per_second"] for run in result["stream_into_kafka"] if run["kept_up"]]
        result["sustained_rows_per_second"] = max(kept, default=0)
        result["peak_rows_per_second"] = max(
            run.get("rows_per_second", 0) for run in result["stream_into_kafka"]
        )
        result["target_300k_met"] = result["sustained_rows_per_second"] >= 300_000
        result["machine"]["load_average_at_end"] = os.getloadavg()
    finally:
        kafka.stop(settings)
        shutil.rmtree(root, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    log.info("results in %s:\n%s", args.out, json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

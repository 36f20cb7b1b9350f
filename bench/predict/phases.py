"""Phases of the predict bench: drain a pre-loaded topic (max throughput) and paced runs (throughput + latency),
each run once on the warehouse sink and once on the no-op reference sink, with the predictor's own ``start()``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg2
from bench_sinks import sink_swapped
from producer import READINGS_PER_MESSAGE
from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from watchlake.predict.job import start
from watchlake.services import kafka
from watchlake.settings import Settings, load_settings
from watchlake.warehouse.connection import connection_kwargs

PRODUCER = Path(__file__).resolve().parent / "producer.py"


def phase_settings(base: dict[str, Any], name: str, topic: str, **predict: Any) -> Settings:
    """The bench settings with this phase's topic, query name (so its checkpoint) and warehouse schema."""
    values = json.loads(json.dumps(base))
    values["kafka"]["topic"] = topic
    values["warehouse"]["schema_name"] = name.replace("-", "_")
    values["predict"] = {**values["predict"], "query_name": name, **predict}
    return load_settings("local", **values)


def produce(settings: Settings, topic: str, *args: str) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        str(PRODUCER),
        "--bootstrap",
        settings.kafka.bootstrap_servers,
        "--topic",
        topic,
    ]
    return subprocess.Popen([*command, *args], stdout=subprocess.PIPE, text=True)


def finished(process: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    out, _ = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise RuntimeError(f"producer failed with exit code {process.returncode}")
    return json.loads(out.strip().splitlines()[-1])


def preload(settings: Settings, topic: str, messages: int, devices: int) -> dict[str, Any]:
    """Write ``messages`` V2 messages (``READINGS_PER_MESSAGE`` events each) of ``devices`` watches."""
    kafka.ensure_topic(settings, topic)
    return finished(produce(settings, topic, "--burst", str(messages), "--devices", str(devices)), 600)


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def _offsets(offsets: Any) -> int:
    if isinstance(offsets, str):  # JSON from Spark, or a Python repr of it from PySpark's progress objects
        try:
            offsets = json.loads(offsets)
        except json.JSONDecodeError:
            offsets = ast.literal_eval(offsets)
    return sum(int(v) for partitions in (offsets or {}).values() for v in partitions.values())


def progress_summary(query: StreamingQuery, steady_from: float) -> dict[str, Any]:
    """Sustained events/s over the batches that started after ``steady_from`` (epoch s), and where time went.

    Spark's input rows are Kafka messages; every bench message holds ``READINGS_PER_MESSAGE`` events (readings).
    """
    batches = sorted(query.recentProgress, key=lambda p: p["batchId"])
    work = [p for p in batches if p["numInputRows"] > 0]
    steady = [p for p in work if _epoch(p["timestamp"]) >= steady_from] or work[-1:]
    if not steady:
        return {"batches": 0, "messages": 0, "events": 0, "events_per_second": 0}
    messages = sum(p["numInputRows"] for p in steady)
    first, last = steady[0], steady[-1]
    span = (
        _epoch(last["timestamp"]) - _epoch(first["timestamp"]) + last["durationMs"]["triggerExecution"] / 1000
    )
    durations = {
        key: round(sum(p["durationMs"].get(key, 0) for p in steady) / len(steady))
        for key in (
            "triggerExecution",
            "addBatch",
            "latestOffset",
            "queryPlanning",
            "walCommit",
            "commitOffsets",
        )
    }
    source = batches[-1]["sources"][0]
    state = batches[-1].get("stateOperators") or [{}]
    return {
        "batches": len(steady),
        "messages": messages,
        "events": messages * READINGS_PER_MESSAGE,
        "seconds": round(span, 1),
        "messages_per_second": round(messages / span) if span else 0,
        "events_per_second": round(messages * READINGS_PER_MESSAGE / span) if span else 0,
        "mean_batch_messages": round(messages / len(steady)),
        "mean_duration_ms": durations,
        "backlog_at_end": _offsets(source.get("latestOffset")) - _offsets(source.get("endOffset")),
        "state_rows": state[0].get("numRowsTotal"),
        "state_memory_mb": round((state[0].get("memoryUsedBytes") or 0) / 2**20, 1),
    }


def percentiles(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    array = np.asarray(values)
    return {"n": len(values), "p50": round(float(np.percentile(array, 50))),
            "p95": round(float(np.percentile(array, 95))), "max": round(float(array.max()))}  # fmt: skip


def warehouse_latency(settings: Settings, since: float) -> dict[str, Any]:
    """Latencies (ms) of the rows whose window ended after ``since`` (epoch s), read back from PostgreSQL."""
    schema = settings.warehouse.schema_name
    sql = f"""
        SELECT p.latency_ms,
               p.latency_ms + EXTRACT(EPOCH FROM (l.committed_at - p.predicted_at)) * 1000,
               EXTRACT(EPOCH FROM (l.committed_at - p.window_end)) * 1000
        FROM {schema}.predictions p
        JOIN {schema}.stream_batches l ON l.query_name = p.query_name AND l.batch_id = p.batch_id
        WHERE p.window_end >= to_timestamp(%s) AT TIME ZONE 'UTC'"""
    connection = psycopg2.connect(**connection_kwargs(settings))
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, (since,))
            rows = cursor.fetchall()
    finally:
        connection.close()
    return _latency_block([(float(a), float(b), float(c)) for a, b, c in rows])


def _latency_block(rows: list[tuple[float, float, float]]) -> dict[str, Any]:
    return {
        "predicted_at_minus_last_arrival_ms": percentiles([r[0] for r in rows]),
        "committed_minus_last_arrival_ms": percentiles([r[1] for r in rows]),
        "committed_minus_window_end_ms": percentiles([r[2] for r in rows]),
    }


def sink_summary(sink: Any, since: float | None = None) -> dict[str, Any]:
    timings = sink.timings if hasattr(sink, "timings") else []
    busy = [t for t in timings if t.windows > 0]
    result: dict[str, Any] = {
        "batches_with_windows": len(busy),
        "windows": sum(t.windows for t in busy),
        "mean_sink_seconds": round(float(np.mean([t.seconds for t in busy])), 2) if busy else None,
        "mean_commit_seconds": round(float(np.mean([t.commit_seconds for t in busy])), 3) if busy else None,
        "queued": sum(t.queued for t in busy),
        "mean_step_seconds": {
            step: round(float(np.mean([t.steps.get(step, 0.0) for t in busy])), 3)
            for step in ("spark", "scoring", "commit")
        }
        if busy
        else None,
    }
    latencies = [lat[1:] for t in timings for lat in t.latencies if since is None or lat[0] >= since]
    if latencies:
        result["latency"] = _latency_block(latencies)
    return result


def _stop(running: Any, wait_seconds: float = 30.0) -> dict[str, Any]:
    """Stop the query between micro-batches (waiting up to ``wait_seconds`` for a running one to end)."""
    deadline = time.monotonic() + wait_seconds
    for query in running.queries:
        while query.isActive and query.status.get("isTriggerActive") and time.monotonic() < deadline:
            time.sleep(0.1)
        query.stop()
    failure = next((q.exception() for q in running.queries if q.exception() is not None), None)
    running.stop()
    if failure is not None:
        raise RuntimeError(f"predict query failed: {failure}")
    return {}


def drain(spark: SparkSession, settings: Settings, sink: str, timeout: float) -> dict[str, Any]:
    """Run the predictor with availableNow over the pre-loaded topic until it is drained."""
    with sink_swapped(sink):
        running = start(settings, spark, available_now=True)
    started = time.time()
    try:
        while any(q.isActive for q in running.queries) and time.time() - started < timeout:
            time.sleep(0.5)
        timed_out = any(q.isActive for q in running.queries)
    finally:
        _stop(running)
    result = {
        "sink": sink,
        "timed_out": timed_out,
        "wall_seconds": round(time.time() - started, 1),
        # The first batch pays for code generation and state store set-up: sustained starts at the second one.
        "predictions_query": progress_summary(running.predictions, _second_batch_start(running.predictions)),
        "sink_timing": sink_summary(running.sink),
    }
    return result


def _messages_done_by(query: StreamingQuery, moment: float) -> int:
    """Input rows (Kafka messages) of the micro-batches that had finished by ``moment`` (epoch s)."""
    return sum(
        p["numInputRows"]
        for p in query.recentProgress
        if _epoch(p["timestamp"]) + p["durationMs"].get("triggerExecution", 0) / 1000 <= moment
    )


def _second_batch_start(query: StreamingQuery) -> float:
    work = sorted((p for p in query.recentProgress if p["numInputRows"] > 0), key=lambda p: p["batchId"])
    return _epoch(work[1]["timestamp"]) if len(work) > 1 else 0.0


def paced(
    spark: SparkSession,
    settings: Settings,
    sink: str,
    rate: int,
    seconds: float,
    warmup: float,
) -> dict[str, Any]:
    """Produce ``rate`` events/s (rate/10 messages/s) for ``seconds`` while the predictor runs; measure after
    ``warmup`` seconds."""
    topic = settings.kafka.topic
    kafka.ensure_topic(settings, topic)
    with sink_swapped(sink):
        running = start(settings, spark)
    try:
        began = time.time()
        producer = produce(settings, topic, "--rate", str(rate), "--seconds", str(seconds),
                           "--prefix", f"{settings.predict.query_name}-")  # fmt: skip
        produced = finished(producer, seconds + 120)
        produced_until = time.time()
        time.sleep(max(0.0, 2 * settings.predict.trigger_seconds))  # let the last batch of the run finish
    finally:
        _stop(running)
    steady_from = began + warmup
    done = _messages_done_by(running.predictions, produced_until)
    produced["predictor_lag_at_producer_end_events"] = (produced["messages"] - done) * READINGS_PER_MESSAGE
    result: dict[str, Any] = {
        "sink": sink,
        "target_events_per_second": rate,
        "producer": produced,
        "predictions_query": progress_summary(running.predictions, steady_from),
        "sink_timing": sink_summary(running.sink, steady_from),
    }
    if sink == "warehouse":
        result["latency"] = warehouse_latency(settings, steady_from)
    else:
        result["latency"] = result["sink_timing"].pop("latency", {})
    return result

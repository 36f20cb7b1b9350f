"""Streaming into the real (test) Kafka broker: a consumer reads exactly the messages produced, in schema V2."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from synth_stats import make_stats

from watchlake.lake import Lake
from watchlake.messages import to_json_messages
from watchlake.settings import Settings
from watchlake.stream_stop import stop_between_batches
from watchlake.synth.job import (
    CUT_MEANS,
    QUERY_NAME,
    forget_stream_position,
    generate_messages,
    start_stream,
    stream_progress,
)

pytestmark = [pytest.mark.slow, pytest.mark.services]


def consume_all(settings: Settings, expected: int, timeout_seconds: float = 60.0) -> list[tuple[str, str]]:
    """Every (key, value) in the topic, read from the beginning until ``expected`` arrived and 3 s passed idle."""
    consumer = KafkaConsumer(
        settings.kafka.topic,
        bootstrap_servers=settings.kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
    )
    records: list[tuple[str, str]] = []
    deadline = time.monotonic() + timeout_seconds
    try:
        while time.monotonic() < deadline:
            before = len(records)
            records.extend((m.key.decode(), m.value.decode()) for m in consumer)
            if len(records) >= expected and len(records) == before:
                break
    finally:
        consumer.close()
    return records


@pytest.fixture
def stream_settings(kafka_settings: Settings) -> Settings:
    generate = kafka_settings.generate.model_copy(
        update={"devices": 5, "start": "2026-01-01T08:00:00", "trigger_seconds": 1.0, "producer_linger_ms": 5}
    )
    return kafka_settings.model_copy(update={"generate": generate})


def test_stream_to_kafka_consumer_reads_exactly_the_produced_messages(
    spark, stream_settings: Settings
) -> None:
    stats = make_stats()
    query = start_stream(spark, stream_settings, stats, rows_per_second=2000)  # readings: 200 messages/s
    try:
        deadline = time.monotonic() + 90
        while stream_progress(query)[0] < 400 and time.monotonic() < deadline and query.isActive:
            time.sleep(0.5)
    finally:
        stop_between_batches(query, "generate", cut_means=CUT_MEANS)
    assert query.exception() is None
    produced, _ = stream_progress(query)
    assert produced >= 400

    consumed = consume_all(stream_settings, produced)
    expected = to_json_messages(generate_messages(spark, stream_settings, stats, produced)).collect()
    assert sorted(consumed) == sorted((row.key, row.value) for row in expected)


def _stream_until(spark, settings: Settings, stats, messages: int) -> int:
    query = start_stream(spark, settings, stats, rows_per_second=2000)
    try:
        deadline = time.monotonic() + 90
        while stream_progress(query)[0] < messages and time.monotonic() < deadline and query.isActive:
            time.sleep(0.5)
    finally:
        stop_between_batches(query, "generate", cut_means=CUT_MEANS)
    assert query.exception() is None
    return stream_progress(query)[0]


def test_forgetting_the_stream_position_starts_again_at_sequence_zero(
    spark, stream_settings: Settings
) -> None:
    stats = make_stats()
    first = _stream_until(spark, stream_settings, stats, 50)
    checkpoint = Path(Lake.from_settings(stream_settings).checkpoint(QUERY_NAME))
    assert checkpoint.is_dir()

    assert forget_stream_position(spark, stream_settings) is True
    assert not checkpoint.exists()
    assert forget_stream_position(spark, stream_settings) is False
    second = _stream_until(spark, stream_settings, stats, 50)

    bodies = [json.loads(value) for _, value in consume_all(stream_settings, first + second)]
    firsts = [b for b in bodies if (b["device_id"], b["seq"]) == ("watch-00000", 0)]
    assert len(bodies) == first + second
    assert len(firsts) == 2  # one from each stream


_BUSY_STREAM = """
import logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stdout)
from watchlake.settings import load_settings
from watchlake.spark import build_session
from watchlake.stream_stop import stop_between_batches
settings = load_settings("local", runtime_dir=sys.argv[1], lake={"root": sys.argv[1] + "/lake"},
                         catalog={"kind": "none"}, spark={"ui_enabled": False})
spark = build_session(settings, "busy-stream")
slow = spark.readStream.format("rate").option("rowsPerSecond", 50).load().selectExpr(
    "reflect('java.lang.Thread', 'sleep', cast(2000 as bigint)) as slept")
query = slow.writeStream.format("noop").option("checkpointLocation", sys.argv[1] + "/cp").start()
while not query.status.get("isTriggerActive"):
    query.awaitTermination(0.05)
stop_between_batches(query, "busy", cut_means="a test", timeout_seconds=0.2, log_level=settings.spark.log_level)
print("STOPPED", query.isActive)
spark.stop()
"""


@pytest.mark.slow
def test_a_stream_cut_mid_batch_says_so_once_without_spark_error_traces(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _BUSY_STREAM, str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "STOPPED False" in done.stdout
    assert "cutting the batch in flight" in done.stdout
    assert " ERROR " not in done.stderr and "TaskKilledException" not in done.stderr, done.stderr[-3000:]

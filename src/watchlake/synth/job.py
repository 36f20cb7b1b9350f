"""``watchlake generate``: synthetic watches from the activity statistics, as CASAS files in staging (batch) or
as JSON messages into Kafka (Spark Structured Streaming, idempotent producer).

Counts of ``rows`` are readings (events); the generator makes them a message (one device-second, 10 readings) at
a time, so counts and rates round up to whole messages.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from watchlake.casas.format import file_name
from watchlake.checkpoint_lock import lock_checkpoint
from watchlake.errors import ConfigError
from watchlake.lake import Lake
from watchlake.messages import to_json_messages
from watchlake.settings import Settings
from watchlake.spark import hadoop_file_system
from watchlake.stats.model import ActivityStats
from watchlake.stream_stop import stop_between_batches
from watchlake.synth.generator import (
    GENERATED_COLUMNS,
    READINGS_PER_MESSAGE,
    GeneratorSpec,
    build_generator,
)
from watchlake.synth.transforms import to_casas_lines, to_readings, with_label_rows

log = logging.getLogger(__name__)
# What a generator stream cut mid-batch leaves behind.
CUT_MEANS = "its messages may be partly written"
QUERY_NAME = "generate-kafka"


@dataclass(frozen=True)
class BatchResult:
    rows: int
    devices: int
    files: int
    path: str


@dataclass(frozen=True)
class StreamResult:
    rows: int  # readings
    messages: int
    batches: int
    seconds: float
    rows_per_second: float  # readings
    topic: str


def start_micros(settings: Settings) -> int:
    """Event time of sequence number 0 in UTC microseconds: ``generate.start`` or now (whole seconds)."""
    text = settings.generate.start
    if not text:
        return int(time.time()) * 1_000_000
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"generate.start: {text!r} is not an ISO date-time such as 2026-01-01T08:00:00"
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000)


def generator_spec(settings: Settings, stats: ActivityStats, devices: int | None = None) -> GeneratorSpec:
    return GeneratorSpec(
        stats=stats,
        devices=devices or settings.generate.devices,
        seed=settings.generate.seed,
        start_micros=start_micros(settings),
        schedule_segments=settings.generate.schedule_segments,
    )


def messages_for(readings: int) -> int:
    """Messages that carry at least ``readings`` readings."""
    return math.ceil(readings / READINGS_PER_MESSAGE)


def generate_messages(
    spark: SparkSession, settings: Settings, stats: ActivityStats, messages: int, devices: int | None = None
) -> DataFrame:
    """``messages`` generated messages (ids 0..messages-1) with the ``GENERATED_COLUMNS``."""
    spec, _ = build_generator(spark, generator_spec(settings, stats, devices), messages)
    return spec.build().select(*GENERATED_COLUMNS)


def generate_batch(
    spark: SparkSession, settings: Settings, stats: ActivityStats, rows: int, devices: int | None = None
) -> DataFrame:
    """At least ``rows`` generated readings (whole messages): ``to_readings`` of :func:`generate_messages`."""
    return to_readings(generate_messages(spark, settings, stats, messages_for(rows), devices))


def write_casas(spark: SparkSession, settings: Settings, readings: DataFrame) -> int:
    """Write one CASAS file per device to ``Lake.synthetic_staging`` (replacing earlier ones); returns files.

    Spark writes each device's lines (headers first) into its own folder, which are then renamed to
    ``sw1.p<N>.csv`` through the Hadoop file system, so this works on local disk and on S3 alike.
    """
    target = Lake.from_settings(settings).synthetic_staging
    scratch = f"{target}/_writing"
    lines = to_casas_lines(with_label_rows(readings, settings.labels.span_seconds))
    (
        lines.repartition("participant")
        .sortWithinPartitions("participant", "seq")
        .select("participant", "line")
        .write.mode("overwrite")
        .partitionBy("participant")
        .option("lineSep", "\r\n")
        .text(scratch)
    )
    fs, hadoop_path = hadoop_file_system(spark, target)
    files = 0
    for status in fs.globStatus(hadoop_path(f"{scratch}/participant=*/part-*")) or []:
        participant = status.getPath().getParent().getName().split("=", 1)[1]
        destination = hadoop_path(f"{target}/{file_name(participant)}")
        fs.delete(destination, False)
        if not fs.rename(status.getPath(), destination):
            raise OSError(f"cannot move {status.getPath()} to {destination}")
        # The local file system's checksum file, if any, would otherwise be left beside the renamed file.
        fs.delete(hadoop_path(f"{target}/.{file_name(participant)}.crc"), False)
        files += 1
    fs.delete(hadoop_path(scratch), True)
    return files


def forget_stream_position(spark: SparkSession, settings: Settings) -> bool:
    """Delete the generator stream's checkpoint; True if there was one.

    A stream restarted on its checkpoint continues the ids (and sequence numbers), but Spark's rate source first
    catches up every second it was stopped, at the target rate: after a long pause, a flood. Without the
    checkpoint, the next stream starts again at id 0, at the current time (unless ``generate.start`` is set).
    """
    checkpoint = Lake.from_settings(settings).checkpoint(QUERY_NAME)
    fs, hadoop_path = hadoop_file_system(spark, checkpoint)
    return bool(fs.delete(hadoop_path(checkpoint), True))


def run_batch(spark: SparkSession, settings: Settings, stats: ActivityStats, rows: int) -> BatchResult:
    """Generate ``rows`` readings (rounded up to whole messages) for ``generate.devices`` watches into the
    staging layer in CASAS format."""
    rows = messages_for(rows) * READINGS_PER_MESSAGE
    files = write_casas(spark, settings, generate_batch(spark, settings, stats, rows))
    target = Lake.from_settings(settings).synthetic_staging
    log.info(
        "generate: %d readings of %d watches -> %d CASAS files in %s",
        rows,
        settings.generate.devices,
        files,
        target,
    )
    return BatchResult(rows, settings.generate.devices, files, target)


def kafka_sink_options(settings: Settings, topic: str | None = None) -> dict[str, str]:
    """Options of the Spark Kafka sink: idempotent producer (acks=all) plus the batching settings."""
    generate = settings.generate
    return {
        "kafka.bootstrap.servers": settings.kafka.bootstrap_servers,
        "topic": topic or settings.kafka.topic,
        "kafka.acks": "all",
        "kafka.enable.idempotence": "true",
        "kafka.max.in.flight.requests.per.connection": "5",
        "kafka.linger.ms": str(generate.producer_linger_ms),
        "kafka.batch.size": str(generate.producer_batch_size),
        "kafka.compression.type": generate.producer_compression,
    }


def start_stream(
    spark: SparkSession,
    settings: Settings,
    stats: ActivityStats,
    rows_per_second: int,
    topic: str | None = None,
) -> StreamingQuery:
    """Start streaming generated messages into Kafka at ``rows_per_second`` readings, i.e. a tenth as many
    messages (dbldatagen's rate-source mode).

    The checkpoint lives at ``Lake.checkpoint("generate-kafka")``; remove it to restart ids (and sequence numbers)
    from 0. Keyed by device id, so one device's messages stay ordered within one partition.
    """
    spec, _ = build_generator(spark, generator_spec(settings, stats), rows=1)
    options = {
        "rowsPerSecond": messages_for(rows_per_second),
        "numPartitions": spark.sparkContext.defaultParallelism,
    }
    generated = spec.build(withStreaming=True, options=options).select(*GENERATED_COLUMNS)
    writer = (
        to_json_messages(generated)
        .writeStream.format("kafka")
        .options(**kafka_sink_options(settings, topic))
        .option("checkpointLocation", Lake.from_settings(settings).checkpoint(QUERY_NAME))
        .queryName(QUERY_NAME)
    )
    if settings.generate.trigger_seconds > 0:
        writer = writer.trigger(processingTime=f"{settings.generate.trigger_seconds} seconds")
    return writer.start()


def stream_progress(query: StreamingQuery) -> tuple[int, int]:
    """(messages, micro-batches) the query has completed, from its recent progress (kept for the last 100 batches)."""
    batches = {progress["batchId"]: progress["numInputRows"] for progress in query.recentProgress}
    return sum(batches.values()), len([b for b in batches.values() if b > 0])


def run_stream(
    spark: SparkSession,
    settings: Settings,
    stats: ActivityStats,
    rows_per_second: int,
    seconds: float,
    *,
    fresh: bool = False,
) -> StreamResult:
    """Stream for about ``seconds`` at a target ``rows_per_second`` (readings); returns what was written.

    ``fresh``: start from id 0 instead of resuming the last stream (see :func:`forget_stream_position`). A
    ServiceError when another generator holds the checkpoint (it names its pid)."""
    lock = lock_checkpoint(settings, QUERY_NAME, "generator")
    try:
        if fresh and forget_stream_position(spark, settings):
            log.info("generate: previous stream position forgotten; ids start again at 0")
        query = start_stream(spark, settings, stats, rows_per_second)
        started = time.monotonic()
        try:
            while time.monotonic() - started < seconds and query.isActive:
                query.awaitTermination(min(1.0, seconds))
        finally:
            stop_between_batches(query, "generate", cut_means=CUT_MEANS, log_level=settings.spark.log_level)
    finally:
        lock.release()
    elapsed = time.monotonic() - started
    if query.exception() is not None:
        raise RuntimeError(f"the generate stream failed: {query.exception()}")
    messages, batches = stream_progress(query)
    rows = messages * READINGS_PER_MESSAGE
    log.info(
        "generate: %d readings in %d messages, %d batches, to %s in %.1f s",
        rows,
        messages,
        batches,
        settings.kafka.topic,
        elapsed,
    )
    rate = rows / elapsed if elapsed else 0.0
    return StreamResult(rows, messages, batches, elapsed, rate, settings.kafka.topic)

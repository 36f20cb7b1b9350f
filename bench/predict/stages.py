"""Where a micro-batch's time goes: the predictor's steps run as batch jobs over the pre-loaded topic, each one
step longer than the last, each ending in the no-op sink (or the driver, for collect and the warehouse write).

The difference between two consecutive stages is the cost of the step added. Same functions as the stream
(``to_assembler_rows``, ``assemble_windows``, the sink's collect and scoring in the driver, ``write_batch``);
as a batch job the assembler has no state store to read or write, so the streaming drain is slower than the last
stage by the state store's share (and the per-batch planning).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from producer import READINGS_PER_MESSAGE
from pyspark.sql import DataFrame, SparkSession

from watchlake.features.assembly import PASSTHROUGH
from watchlake.features.transforms import min_readings
from watchlake.predict.job import assembled_windows
from watchlake.predict.messages import to_assembler_rows
from watchlake.predict.sinks import PredictionSink, to_collected
from watchlake.scoring import ChampionModel
from watchlake.settings import Settings
from watchlake.warehouse.batches import write_batch
from watchlake.warehouse.connection import connect
from watchlake.warehouse.tables import ANNOTATION_QUEUE, PREDICTIONS, ensure_tables


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def _noop(frame: DataFrame) -> Callable[[], None]:
    return lambda: frame.write.format("noop").mode("overwrite").save()


def profile(
    spark: SparkSession, settings: Settings, champion: ChampionModel, messages: int
) -> dict[str, Any]:
    """Seconds and events/s of each cumulative stage over the whole topic (``messages`` messages of
    ``READINGS_PER_MESSAGE`` events each)."""
    events = messages * READINGS_PER_MESSAGE
    raw = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka.bootstrap_servers)
        .option("subscribe", settings.kafka.topic)
        .option("startingOffsets", "earliest")
        .load()
    )
    rows = to_assembler_rows(raw, settings.predict.max_message_bytes)
    assembled = assembled_windows(settings, raw)
    collected = to_collected(assembled)
    sink = PredictionSink(
        lambda: connect(settings),
        settings.warehouse.schema_name,
        "profile",
        champion,
        settings.predict,
        min_readings(settings.features.window_seconds, settings.features.min_readings_share),
    )
    _noop(collected)()  # warm-up: code generation, JIT, Kafka consumer pool
    stages: dict[str, Callable[[], Any]] = {
        "1_kafka_read": _noop(raw),
        "2_parse_to_partials": _noop(rows),
        "3_assembled_windows": _noop(assembled),
        "4_features_collected": collected.collect,
    }
    result: dict[str, Any] = {}
    collected: list[Any] = []
    for name, action in stages.items():
        seconds, value = _timed(action)
        result[name] = {"seconds": round(seconds, 2), "events_per_second": round(events / seconds)}
        if name.startswith("4_"):
            closed = [row for row in value if row[PASSTHROUGH] is None]
            result[name]["windows"] = len(closed)
    seconds, (predictions, queued) = _timed(lambda: sink.score_closed(closed, 0))
    result["5_scored_in_driver"] = {
        "seconds": round(seconds, 3),
        "windows_per_second": round(len(closed) / seconds),
    }
    result["6_warehouse_write"] = _warehouse_write(settings, predictions, queued)
    return result


def _warehouse_write(settings: Settings, predictions: list[Any], queued: list[Any]) -> dict[str, Any]:
    """The sink's commit of its rows: predictions and the annotation queue, one transaction."""
    rows = {PREDICTIONS: predictions, ANNOTATION_QUEUE: queued}
    connection = connect(settings)
    try:
        ensure_tables(connection, settings.warehouse.schema_name)
        seconds, _ = _timed(
            lambda: write_batch(connection, settings.warehouse.schema_name, "profile", 0, rows)
        )
    finally:
        connection.close()
    written = len(predictions) + len(queued)
    return {"rows": written, "seconds": round(seconds, 3), "rows_per_second": round(written / seconds)}

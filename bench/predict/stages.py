"""Where a micro-batch's time goes: the predictor's steps run as batch jobs over the pre-loaded topic, each one
step longer than the last, each ending in the no-op sink (or the driver, for collect and the warehouse write).

The difference between two consecutive stages is the cost of the step added. Same functions as the stream
(``split_messages``, ``to_windows``, ``score``, ``to_sink_rows``, ``write_batch``); batch aggregation has no
state store, so the streaming drain is slower than the last stage by the state store's share.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from producer import READINGS_PER_MESSAGE
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from watchlake.features import transforms as features
from watchlake.predict.messages import ARRIVED_AT, split_messages
from watchlake.predict.rows import LAST_ARRIVAL, SIGNAL, signal_aggregate, to_sink_rows
from watchlake.scoring import ChampionModel, score
from watchlake.settings import Settings
from watchlake.warehouse.batches import ensure_tables, write_batch
from watchlake.warehouse.connection import connect
from watchlake.warehouse.tables import ANNOTATION_QUEUE, PREDICTIONS


def _extra_aggregates() -> dict[str, Column]:
    """The predictor's extra window aggregates (as in ``watchlake.predict.job.start``)."""
    return {LAST_ARRIVAL: F.max(ARRIVED_AT), SIGNAL: signal_aggregate("event_time")}


def _windows(readings: DataFrame, settings: Settings) -> DataFrame:
    return features.to_windows(
        readings,
        window_seconds=settings.features.window_seconds,
        step_seconds=settings.features.step_seconds,
        key_col="device_id",
        time_col="event_time",
        extra_aggregates=_extra_aggregates(),
    )


def _windows_without_percentiles(readings: DataFrame, settings: Settings) -> DataFrame:
    """The same grouping and aggregates minus the three percentile_approx per channel (bench only)."""
    aggregates = [
        aggregate
        for name, value in features._channel_columns().items()
        for aggregate in features._channel_aggregates(name, value)
        if "percentile_approx" not in str(aggregate)
    ]
    window = F.window("event_time", f"{round(settings.features.window_seconds * 1000)} milliseconds")
    extra = [aggregate.alias(name) for name, aggregate in _extra_aggregates().items()]
    return readings.groupBy("device_id", window).agg(*aggregates, *features._context_aggregates(), *extra)


def _windows_declarative_only(readings: DataFrame, settings: Settings) -> DataFrame:
    """The same grouping minus every aggregate Spark keeps as an object (percentile_approx, mode, the signal's
    collect_list; bench only): what a fully code-generated hash aggregation would cost."""
    typed = ("percentile_approx", "mode(", "collect_list")
    aggregates = [
        aggregate
        for name, value in features._channel_columns().items()
        for aggregate in [*features._channel_aggregates(name, value)]
        if not any(word in str(aggregate) for word in typed)
    ]
    context = [a for a in features._context_aggregates() if not any(word in str(a) for word in typed)]
    window = F.window("event_time", f"{round(settings.features.window_seconds * 1000)} milliseconds")
    extra = [a.alias(n) for n, a in _extra_aggregates().items() if not any(w in str(a) for w in typed)]
    return readings.groupBy("device_id", window).agg(*aggregates, *context, *extra)


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
    # As the job's start() does: with it on, planning the windows of V2 readings takes ~15 s per action (measured
    # on 300 messages; 1.1 s in all with it off), which would drown every stage's own cost.
    spark.conf.set("spark.sql.constraintPropagation.enabled", "false")
    raw = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka.bootstrap_servers)
        .option("subscribe", settings.kafka.topic)
        .option("startingOffsets", "earliest")
        .load()
    )
    readings, dead_letters = split_messages(raw, settings.predict.max_message_bytes)
    windows = _windows(readings, settings)
    prediction_rows = to_sink_rows(
        score(champion, windows), "profile", 0, F.current_timestamp(), "margin", 0.2
    )
    _noop(windows)()  # warm-up: code generation, JIT, Kafka consumer pool
    stages: dict[str, Callable[[], Any]] = {
        "1_kafka_read": _noop(raw),
        "2_parse_valid_readings": _noop(readings),
        "2b_parse_dead_letters": _noop(dead_letters),
        "3_windows": _noop(windows),
        "3b_windows_without_percentile_approx": _noop(_windows_without_percentiles(readings, settings)),
        "3c_windows_declarative_only": _noop(_windows_declarative_only(readings, settings)),
        "4_windows_scored": _noop(score(champion, windows)),
        "5_prediction_rows_collected": prediction_rows.collect,
    }
    result: dict[str, Any] = {}
    collected: list[Any] = []
    for name, action in stages.items():
        seconds, value = _timed(action)
        result[name] = {"seconds": round(seconds, 2), "events_per_second": round(events / seconds)}
        if name.startswith("5_"):
            collected = value
            result[name]["windows"] = len(collected)
    result["6_warehouse_write"] = _warehouse_write(settings, collected)
    return result


def _warehouse_write(settings: Settings, collected: list[Any]) -> dict[str, Any]:
    """The sink's commit of ``to_sink_rows`` output: predictions and the annotation queue, one transaction."""
    predictions = [tuple(row.prediction) for row in collected]
    queued = [tuple(row.queued) for row in collected if row.queued is not None]
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

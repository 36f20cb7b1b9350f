"""``watchlake predict``: Kafka ``ticker-watch-data`` -> parse -> event-time windows -> champion -> warehouse.

Two streaming queries read the topic: ``<query_name>`` scores windows of valid messages, and
``<query_name>-dead-letters`` keeps every malformed message with its reason. Checkpoints live in the lake, one
folder per query; with the warehouse ledger, a restart resumes where it stopped and repeats nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from watchlake.features.transforms import to_windows
from watchlake.lake import Lake
from watchlake.predict.messages import ARRIVED_AT, split_messages
from watchlake.predict.rows import LAST_ARRIVAL, SIGNAL, signal_aggregate
from watchlake.predict.sinks import DeadLetterSink, PredictionSink
from watchlake.scoring import ChampionModel, load_champion
from watchlake.settings import Settings
from watchlake.warehouse.batches import ensure_tables
from watchlake.warehouse.connection import connect
from watchlake.warehouse.tables import ANNOTATION_QUEUE, PREDICTIONS

log = logging.getLogger(__name__)


@dataclass
class PredictQueries:
    """The running queries and their sinks (the sinks record what each batch wrote)."""

    predictions: StreamingQuery
    dead_letters: StreamingQuery
    prediction_sink: PredictionSink
    dead_letter_sink: DeadLetterSink
    queries: list[StreamingQuery] = field(init=False)

    def __post_init__(self) -> None:
        self.queries = [self.predictions, self.dead_letters]

    def stop(self) -> None:
        for query in self.queries:
            query.stop()
        self.prediction_sink.close()
        self.dead_letter_sink.close()


def read_topic(spark: SparkSession, settings: Settings) -> DataFrame:
    """The Kafka source: raw messages of ``settings.kafka.topic``."""
    return (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka.bootstrap_servers)
        .option("subscribe", settings.kafka.topic)
        .option("startingOffsets", settings.predict.starting_offsets)
        .option("maxOffsetsPerTrigger", settings.predict.max_offsets_per_trigger)
        .load()
    )


def _windows(settings: Settings, readings: DataFrame) -> DataFrame:
    """The training feature windows of each watch, closed by the watermark, plus what the sinks need."""
    predict = settings.predict
    return to_windows(
        readings.withWatermark("event_time", f"{predict.watermark_seconds} seconds"),
        window_seconds=settings.features.window_seconds,
        step_seconds=settings.features.step_seconds,
        key_col="device_id",
        time_col="event_time",
        extra_aggregates={LAST_ARRIVAL: F.max(ARRIVED_AT), SIGNAL: signal_aggregate("event_time")},
    )


def _start_query(
    frame: DataFrame,
    name: str,
    sink: Callable[[DataFrame, int], None],
    settings: Settings,
    available_now: bool,
) -> StreamingQuery:
    """``frame`` into ``sink`` (foreachBatch), appending, with its checkpoint in the lake."""
    trigger = (
        {"availableNow": True}
        if available_now
        else {"processingTime": f"{settings.predict.trigger_seconds} seconds"}
    )
    return (
        frame.writeStream.queryName(name)
        .outputMode("append")
        .foreachBatch(sink)
        .option("checkpointLocation", Lake.from_settings(settings).checkpoint(name))
        .trigger(**trigger)
        .start()
    )


def start(
    settings: Settings,
    spark: SparkSession,
    *,
    available_now: bool = False,
    champion: ChampionModel | None = None,
) -> PredictQueries:
    """Start both queries; ``available_now`` processes what the topic holds, then stops."""
    predict = settings.predict
    schema = settings.warehouse.schema_name
    connection = connect(settings)
    try:
        ensure_tables(connection, schema)
    finally:
        connection.close()
    champion = champion or load_champion(settings, spark)
    # The windows plan (~90 aggregates) makes Catalyst's constraint propagation cost seconds of driver time per
    # micro-batch (bench/predict: 4.9k -> 12.6k events/s with the single parse above).
    spark.conf.set("spark.sql.constraintPropagation.enabled", "false")
    readings, dead_letters = split_messages(read_topic(spark, settings), predict.max_message_bytes)
    prediction_sink = PredictionSink(lambda: connect(settings), schema, predict.query_name, champion, predict)
    dead_name = f"{predict.query_name}-dead-letters"
    dead_letter_sink = DeadLetterSink(lambda: connect(settings), schema, dead_name)
    predictions = _start_query(
        _windows(settings, readings), predict.query_name, prediction_sink, settings, available_now
    )
    dead = _start_query(dead_letters, dead_name, dead_letter_sink, settings, available_now)
    log.info(
        "predicting from %s into %s.predictions (champion v%d)",
        settings.kafka.topic,
        schema,
        champion.version,
    )
    return PredictQueries(predictions, dead, prediction_sink, dead_letter_sink)


def _failed(queries: list[StreamingQuery]) -> Exception | None:
    """The first query's failure, if any query stopped with one."""
    return next((error for query in queries if (error := query.exception()) is not None), None)


@dataclass(frozen=True)
class PredictResult:
    batches: int
    predictions: int
    queued: int
    dead_letters: int


def run(
    settings: Settings,
    spark: SparkSession,
    *,
    available_now: bool = False,
    timeout_seconds: float | None = None,
) -> PredictResult:
    """Run until the topic is drained (``available_now``), ``timeout_seconds`` pass, or Ctrl-C."""
    running = start(settings, spark, available_now=available_now)
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    try:
        while any(query.isActive for query in running.queries) and not _failed(running.queries):
            if deadline is not None and time.monotonic() > deadline:
                break
            time.sleep(0.5)
        failure = _failed(running.queries)
        if failure is not None:
            raise failure
    finally:
        running.stop()
    writes = running.prediction_sink.writes
    return PredictResult(
        batches=len(writes),
        predictions=sum(write.rows.get(PREDICTIONS.name, 0) for write in writes),
        queued=sum(write.rows.get(ANNOTATION_QUEUE.name, 0) for write in writes),
        dead_letters=sum(write.rows_written for write in running.dead_letter_sink.writes),
    )

"""``watchlake predict``: Kafka ``ticker-watch-data`` -> parse -> per-watch windows -> champion -> warehouse.

One streaming query reads the topic and parses each message once: a valid message becomes the partials of its
second, which the window assembler merges per watch (a window closes when its watch has sent the window's last
second); a malformed one travels through the assembler untouched to the dead letters. Each micro-batch's
predictions, annotation-queue rows and dead letters are committed in one warehouse transaction with the batch's
ledger row. The checkpoint lives in the lake; with the ledger, a restart resumes where it stopped and repeats
nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery, StreamingQueryListener

from watchlake.checkpoint_lock import CheckpointLock
from watchlake.features.assembly import assemble_windows
from watchlake.features.transforms import min_readings
from watchlake.lake import Lake
from watchlake.predict.checkpoint import check_checkpoint, lock_predictor
from watchlake.predict.messages import to_assembler_rows
from watchlake.predict.sinks import PredictionSink
from watchlake.scoring import ChampionModel, load_champion
from watchlake.settings import Settings
from watchlake.stream_stop import stop_between_batches
from watchlake.warehouse.batches import Reconnect
from watchlake.warehouse.connection import connect
from watchlake.warehouse.progress import BatchProgress, record_progress, to_batch_progress
from watchlake.warehouse.tables import ANNOTATION_QUEUE, DEAD_LETTERS, PREDICTIONS, ensure_tables

log = logging.getLogger(__name__)


class WatermarkDrops(StreamingQueryListener):
    """Counts, and logs, the messages Spark drops before the window assembler because they are older than the
    watermark (``predict.watermark_seconds`` behind the newest event time): the only messages the predictor does
    not write anywhere (they stay in Kafka). With ``record``, every progress report of the query is also handed to
    it (the predictor writes them to the warehouse's ``stream_progress`` for the monitoring figures); a failure
    there is logged, never raised: monitoring must not stop the stream."""

    def __init__(self, query_name: str, record: Callable[[BatchProgress], None] | None = None) -> None:
        self.query_name = query_name
        self.total = 0
        self.record = record

    def onQueryStarted(self, event: Any) -> None:
        pass

    def onQueryProgress(self, event: Any) -> None:
        progress = event.progress
        if progress.name != self.query_name:
            return
        row = to_batch_progress(progress)
        if row.older_than_watermark:
            self.total += row.older_than_watermark
            log.warning(
                "%s batch %d: %d messages older than the watermark dropped",
                self.query_name,
                row.batch_id,
                row.older_than_watermark,
            )
        if self.record is not None:
            try:
                self.record(row)
            except Exception as error:  # the figures miss one batch; the stream goes on
                log.warning("%s batch %d: progress not recorded (%s)", self.query_name, row.batch_id, error)

    def onQueryIdle(self, event: Any) -> None:
        pass

    def onQueryTerminated(self, event: Any) -> None:
        pass


class ProgressRecorder:
    """Writes progress reports to the warehouse on a connection of its own (the listener runs in Spark's listener
    thread, beside the sink's), reopened after a failure."""

    def __init__(self, connect: Callable[[], Any], schema: str) -> None:
        self._connect = connect
        self._connection: Any = None
        self.schema = schema

    def __call__(self, row: BatchProgress) -> None:
        try:
            if self._connection is None or self._connection.closed:
                self._connection = self._connect()
            record_progress(self._connection, self.schema, row)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass
class PredictQueries:
    """The running query, its sink (which records what each batch wrote), its watermark-drop counter and the
    checkpoint lock it holds until stopped."""

    predictions: StreamingQuery
    sink: PredictionSink
    drops: WatermarkDrops
    spark: SparkSession
    lock: CheckpointLock | None = None
    recorder: ProgressRecorder | None = None
    log_level: str = "ERROR"  # the JVM's, restored after a stop that had to cut a batch

    @property
    def queries(self) -> list[StreamingQuery]:
        return [self.predictions]

    def stop(self) -> None:
        stop_between_batches(
            self.predictions,
            "predict",
            cut_means="nothing written by it is kept twice; the next start replays it from the checkpoint",
            timeout_seconds=10.0,  # a predictor batch takes a few seconds; a backlog keeps them back to back
            log_level=self.log_level,
        )
        self.spark.streams.removeListener(self.drops)
        self.sink.close()
        if self.recorder is not None:
            self.recorder.close()
        if self.lock is not None:
            self.lock.release()


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


def assembled_windows(settings: Settings, messages: DataFrame) -> DataFrame:
    """Kafka messages -> the window assembler's output: per-watch windows of partials, and dead letters."""
    return assemble_windows(
        to_assembler_rows(messages, settings.predict.max_message_bytes),
        window_seconds=settings.features.window_seconds,
        step_seconds=settings.features.step_seconds,
        watermark_seconds=settings.predict.watermark_seconds,
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
    """Start the query; ``available_now`` processes what the topic holds, then stops. A ServiceError when another
    predictor holds the checkpoint (it names its pid)."""
    lock = lock_predictor(settings)
    try:
        return _start_locked(settings, spark, lock, available_now=available_now, champion=champion)
    except BaseException:
        lock.release()
        raise


def _start_locked(
    settings: Settings,
    spark: SparkSession,
    lock: CheckpointLock,
    *,
    available_now: bool,
    champion: ChampionModel | None,
) -> PredictQueries:
    check_checkpoint(spark, settings)
    predict = settings.predict
    schema = settings.warehouse.schema_name
    connection = connect(settings)
    try:
        ensure_tables(connection, schema)
    finally:
        connection.close()
    champion = champion or load_champion(settings, spark)
    fewest = min_readings(settings.features.window_seconds, settings.features.min_readings_share)
    warehouse = settings.warehouse
    reconnect = Reconnect(
        warehouse.reconnect_attempts,
        warehouse.reconnect_first_delay_seconds,
        warehouse.reconnect_max_delay_seconds,
    )
    sink = PredictionSink(
        lambda: connect(settings), schema, predict.query_name, champion, predict, fewest, reconnect
    )
    assembled = assembled_windows(settings, read_topic(spark, settings))
    recorder = ProgressRecorder(lambda: connect(settings), schema)
    drops = WatermarkDrops(predict.query_name, recorder)
    spark.streams.addListener(drops)
    query = _start_query(assembled, predict.query_name, sink, settings, available_now)
    log.info(
        "predicting from %s into %s.predictions (champion v%d)",
        settings.kafka.topic,
        schema,
        champion.version,
    )
    return PredictQueries(query, sink, drops, spark, lock, recorder, settings.spark.log_level)


def _failed(queries: list[StreamingQuery]) -> Exception | None:
    """The first query's failure, if any query stopped with one."""
    return next((error for query in queries if (error := query.exception()) is not None), None)


@dataclass(frozen=True)
class PredictResult:
    batches: int
    predictions: int
    queued: int
    dead_letters: int  # malformed messages and late ones (after their windows were scored)
    older_than_watermark: int  # dropped by Spark before the windows, left in Kafka


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
    writes = running.sink.writes
    return PredictResult(
        batches=len(writes),
        predictions=sum(write.rows.get(PREDICTIONS.name, 0) for write in writes),
        queued=sum(write.rows.get(ANNOTATION_QUEUE.name, 0) for write in writes),
        dead_letters=sum(write.rows.get(DEAD_LETTERS.name, 0) for write in writes),
        older_than_watermark=max(running.drops.total, _dropped_in_recent_progress(running.predictions)),
    )


def _dropped_in_recent_progress(query: StreamingQuery) -> int:
    """Watermark drops in the query's recent progress reports (the last 100 batches): exact for a short run, where
    the listener, which Spark calls asynchronously, may not have seen the last report yet."""
    return sum(
        operator.numRowsDroppedByWatermark
        for progress in query.recentProgress
        for operator in progress.stateOperators
    )

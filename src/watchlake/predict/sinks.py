"""The ``foreachBatch`` sink of the predictor: each micro-batch is committed to the warehouse exactly once.

The sink hands its rows and the (query name, batch id) ledger row to ``warehouse.batches.write_batch`` in one
transaction, so a micro-batch that Spark replays after a crash or restart changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from watchlake.features.assembly import KEY, SIGNAL, passthrough_of, windows_of
from watchlake.features.transforms import finish_windows
from watchlake.predict.rows import LAST_ARRIVAL, to_dead_letter_rows, to_sink_rows
from watchlake.scoring import ChampionModel, score
from watchlake.settings import PredictSettings
from watchlake.warehouse.batches import BatchWrite, is_committed, write_batch
from watchlake.warehouse.tables import ANNOTATION_QUEUE, DEAD_LETTERS, PREDICTIONS

log = logging.getLogger(__name__)


class WarehouseSink:
    """Holds one warehouse connection for a query and reopens it after a failure."""

    def __init__(self, connect: Callable[[], Any], schema: str, query_name: str) -> None:
        self._connect = connect
        self._connection: Any = None
        self.schema = schema
        self.query_name = query_name
        self.writes: list[BatchWrite] = []

    @property
    def connection(self) -> Any:
        if self._connection is None or self._connection.closed:
            self._connection = self._connect()
        return self._connection

    def skip_replay(self, batch: DataFrame, batch_id: int) -> bool:
        """True (after draining ``batch``) when this batch is already in the warehouse ledger.

        The batch is still executed: a stateful query's state stores must commit every batch, replays included
        (Spark 4.1 fails the query otherwise), and the state must advance exactly as it did the first time.
        """
        if not is_committed(self.connection, self.schema, self.query_name, batch_id):
            return False
        batch.write.format("noop").mode("overwrite").save()
        log.info("%s batch %d already committed: replay skipped", self.query_name, batch_id)
        return True

    def commit(self, batch_id: int, rows_by_table: dict[Any, list[tuple[Any, ...]]]) -> None:
        try:
            write = write_batch(self.connection, self.schema, self.query_name, batch_id, rows_by_table)
        except Exception:
            self.close()  # the next batch (or the replay after a restart) starts on a fresh connection
            raise
        self.writes.append(write)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _rows(frame: DataFrame) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in frame.collect()]


def _now_column() -> Any:
    """The JVM's clock when Spark produces the row, as a timestamp (the session runs in UTC).

    Evaluated as the rows come out of the micro-batch's Spark work (Kafka read, windows, state store, model), so
    ``predicted_at`` and ``latency_ms`` include that work; a literal would hold the time the sink was called,
    before it, and running the work first in a job of its own would cost one more job per micro-batch.
    """
    return F.timestamp_millis(F.reflect(F.lit("java.lang.System"), F.lit("currentTimeMillis")).cast("long"))


class PredictionSink(WarehouseSink):
    """Scores each batch's windows with the current champion; commits predictions, annotation queue and dead
    letters together."""

    def __init__(
        self,
        connect: Callable[[], Any],
        schema: str,
        query_name: str,
        champion: ChampionModel,
        predict: PredictSettings,
    ) -> None:
        super().__init__(connect, schema, query_name)
        self.champion = champion
        self.predict = predict

    def __call__(self, assembled: DataFrame, batch_id: int) -> None:
        if self.skip_replay(assembled, batch_id):
            return
        self.champion.refresh(assembled.sparkSession)  # hot reload: a new champion scores from this batch on
        assembled.persist()  # the batch's output is small (windows, dead letters); its work runs once
        try:
            dead = _rows(to_dead_letter_rows(passthrough_of(assembled)))
            predictions, queued = self._score(assembled, batch_id)
        finally:
            assembled.unpersist()
        self.commit(batch_id, {PREDICTIONS: predictions, ANNOTATION_QUEUE: queued, DEAD_LETTERS: dead})
        log.info(
            "%s batch %d: %d predictions (model v%d), %d queued for annotation",
            self.query_name,
            batch_id,
            len(predictions),
            self.champion.version,
            len(queued),
        )
        if dead:
            log.warning("%s batch %d: %d malformed messages set aside", self.query_name, batch_id, len(dead))

    def _score(
        self, assembled: DataFrame, batch_id: int
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Prediction rows and annotation-queue rows of the batch's windows, in one Spark job."""
        windows = finish_windows(
            windows_of(assembled).withColumnRenamed(KEY, "device_id"),
            "device_id",
            keep=(LAST_ARRIVAL, SIGNAL),
        )
        predict = self.predict
        both = to_sink_rows(
            score(self.champion, windows),
            self.query_name,
            batch_id,
            _now_column(),
            predict.confidence_measure,
            predict.low_confidence_threshold,
        ).collect()
        return [tuple(row.prediction) for row in both], [tuple(row.queued) for row in both if row.queued]

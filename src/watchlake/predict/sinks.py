"""The ``foreachBatch`` sink of the predictor: each micro-batch is committed to the warehouse exactly once.

The sink hands its rows and the (query name, batch id) ledger row to ``warehouse.batches.write_batch`` in one
transaction, so a micro-batch that Spark replays after a crash or restart changes nothing.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from watchlake import faults
from watchlake.features.assembly import KEY, LATE, PASSTHROUGH, SIGNAL
from watchlake.features.partials import PARTIALS
from watchlake.features.transforms import (
    CATEGORICAL_COLUMNS,
    FEATURE_COLUMNS,
    FEATURE_VALUES,
    WINDOW_END,
    WINDOW_START,
    DecodedFeatures,
    decode_feature_values,
    feature_values,
)
from watchlake.predict.rows import (
    LAST_ARRIVAL,
    Window,
    to_dead_letter_rows,
    to_late_rows,
    to_sink_rows,
    to_unscorable_rows,
)
from watchlake.scoring import ChampionModel, finite_rows, score_values
from watchlake.settings import PredictSettings
from watchlake.warehouse.batches import (
    BatchWrite,
    Reconnect,
    is_committed,
    retry_lost_connection,
    write_batch,
)
from watchlake.warehouse.tables import ANNOTATION_QUEUE, DEAD_LETTERS, PREDICTIONS

log = logging.getLogger(__name__)


class WarehouseSink:
    """Holds one warehouse connection for a query and reopens it after a failure; a lost connection is retried
    as ``reconnect`` says (the query survives a warehouse restart)."""

    def __init__(
        self,
        connect: Callable[[], Any],
        schema: str,
        query_name: str,
        reconnect: Reconnect | None = None,
    ) -> None:
        self._connect = connect
        self._connection: Any = None
        self.schema = schema
        self.query_name = query_name
        self.reconnect = reconnect or Reconnect()
        self.writes: list[BatchWrite] = []

    def _retrying(self, work: Callable[[], Any], batch_id: int) -> Any:
        what = f"{self.query_name} batch {batch_id}"
        return retry_lost_connection(work, reconnect=self.reconnect, on_lost=self.close, what=what)

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
        committed = self._retrying(
            lambda: is_committed(self.connection, self.schema, self.query_name, batch_id), batch_id
        )
        if not committed:
            return False
        batch.write.format("noop").mode("overwrite").save()
        log.info("%s batch %d already committed: replay skipped", self.query_name, batch_id)
        return True

    def commit(self, batch_id: int, rows_by_table: dict[Any, list[tuple[Any, ...]]]) -> None:
        try:
            write = self._retrying(
                lambda: write_batch(self.connection, self.schema, self.query_name, batch_id, rows_by_table),
                batch_id,
            )
        except Exception:
            self.close()  # the next batch (or the replay after a restart) starts on a fresh connection
            raise
        self.writes.append(write)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _utc(micros: int) -> datetime:
    """Epoch microseconds as a naive UTC datetime (the warehouse's convention), whatever the local time zone."""
    return datetime.fromtimestamp(micros / 1_000_000, UTC).replace(tzinfo=None)


def to_collected(assembled: DataFrame) -> DataFrame:
    """What the sink collects of the assembler's output: per window its keys, times (epoch µs), signal and feature
    values (one Java call each); per dead letter its struct."""
    return assembled.select(
        KEY,
        *(F.unix_micros(name).alias(name) for name in (WINDOW_START, WINDOW_END, LAST_ARRIVAL)),
        SIGNAL,
        PASSTHROUGH,
        LATE,
        feature_values(F.col(PARTIALS), F.col(WINDOW_START)).alias(FEATURE_VALUES),
    )


def _window(row: Any, features: DecodedFeatures) -> Window:
    return Window(
        device_id=row[KEY],
        window_start=_utc(row[WINDOW_START]),
        window_end=_utc(row[WINDOW_END]),
        events=features.rows,
        last_arrived_at=_utc(row[LAST_ARRIVAL]),
        signal=row[SIGNAL],
        values=features.numeric,
    )


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
        min_readings: int,
        reconnect: Reconnect | None = None,
    ) -> None:
        super().__init__(connect, schema, query_name, reconnect)
        self.champion = champion
        self.predict = predict
        self.min_readings = min_readings  # fewer events: the window is marked partial
        self.last_seconds: dict[
            str, float
        ] = {}  # wall seconds of the last batch's steps: spark, scoring, commit

    def __call__(self, assembled: DataFrame, batch_id: int) -> None:
        if self.skip_replay(assembled, batch_id):
            return
        self.champion.refresh(assembled.sparkSession)  # hot reload: a new champion scores from this batch on
        clock = {"started": time.perf_counter()}
        rows = to_collected(assembled).collect()  # the batch's one Spark job: Kafka, parse, state, features
        clock["spark"] = time.perf_counter()
        faults.reach("predict.after_spark")
        letters = [row[PASSTHROUGH] for row in rows if row[PASSTHROUGH] is not None]
        late = [row[LATE] for row in rows if row[LATE] is not None]
        closed = [row for row in rows if row[WINDOW_START] is not None]
        predictions, queued, unscorable = self.score_closed(closed, batch_id)
        dead = to_dead_letter_rows(letters) + to_late_rows(late) + unscorable
        clock["scoring"] = time.perf_counter()
        self.commit(batch_id, {PREDICTIONS: predictions, ANNOTATION_QUEUE: queued, DEAD_LETTERS: dead})
        clock["commit"] = time.perf_counter()
        steps = list(clock)
        self.last_seconds = {step: clock[step] - clock[before] for before, step in itertools.pairwise(steps)}
        log.info(
            "%s batch %d: %d predictions (model v%d), %d queued for annotation; %s",
            self.query_name,
            batch_id,
            len(predictions),
            self.champion.version,
            len(queued),
            ", ".join(f"{step} {seconds:.2f} s" for step, seconds in self.last_seconds.items()),
        )
        if dead:
            log.warning(
                "%s batch %d: %d malformed and %d late messages set aside",
                self.query_name,
                batch_id,
                len(letters),
                len(late),
            )

    def score_closed(
        self, closed: list[Any], batch_id: int
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Prediction rows and annotation-queue rows of the batch's closed windows, and dead letters of those
        with a NaN or infinite feature (never scored)."""
        decoded = [decode_feature_values(row[FEATURE_VALUES]) for row in closed]
        windows = [_window(row, features) for row, features in zip(closed, decoded, strict=True)]
        values = np.array([window.values for window in windows], dtype=float).reshape(
            len(windows), len(FEATURE_COLUMNS)
        )
        finite = finite_rows(values)  # a window with a NaN or infinite feature is set aside, never scored
        unscorable = to_unscorable_rows([w for w, ok in zip(windows, finite, strict=True) if not ok])
        windows = [window for window, ok in zip(windows, finite, strict=True) if ok]
        modes = [features.location_type_mode for features, ok in zip(decoded, finite, strict=True) if ok]
        scores = score_values(self.champion, values[finite], {CATEGORICAL_COLUMNS[0]: modes})
        return *to_sink_rows(
            windows,
            scores,
            classes=self.champion.classes,
            model_version=self.champion.version,
            query_name=self.query_name,
            batch_id=batch_id,
            now=datetime.now(UTC).replace(tzinfo=None),
            measure=self.predict.confidence_measure,
            threshold=self.predict.low_confidence_threshold,
            max_queued=self.predict.max_queued_per_batch,
            min_readings=self.min_readings,
        ), unscorable

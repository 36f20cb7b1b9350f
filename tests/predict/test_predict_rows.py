"""The prediction sink's single pass (``to_sink_rows``) gives exactly the rows of the separate transforms."""

from __future__ import annotations

from datetime import datetime

import pytest
from pyspark.sql import functions as F

from fixtures_models import tiny_windows
from watchlake.predict.rows import (
    LAST_ARRIVAL,
    SIGNAL,
    select_low_confidence,
    to_annotation_rows,
    to_prediction_rows,
    to_sink_rows,
)
from watchlake.scoring import ChampionModel, score
from watchlake.warehouse.tables import ANNOTATION_QUEUE, PREDICTIONS

NOW = datetime(2026, 1, 1, 9, 0, 0)


@pytest.fixture(scope="module")
def scored(spark, tiny_model):
    windows = tiny_windows(spark, rows=40).select(
        F.col("participant").alias("device_id"),
        "*",
        (F.col("window_end") - F.expr("INTERVAL 1 SECOND")).alias(LAST_ARRIVAL),
        F.array(
            F.struct(F.col("window_start").alias("t"), F.lit(0.5).alias("a"), F.lit(0.1).alias("r"))
        ).alias(SIGNAL),
    )
    champion = ChampionModel("activity", 3, tuple(tiny_model.classes), tiny_model.model, registry=None)
    return score(champion, windows).cache()


@pytest.mark.parametrize("threshold", [0.0, 0.3, 1.01])
def test_to_sink_rows_equals_the_separate_prediction_and_queue_rows(scored, threshold: float) -> None:
    now = F.lit(NOW)
    both = to_sink_rows(scored, "predict", 7, now, "margin", threshold).collect()
    predictions = sorted(tuple(row.prediction) for row in both)
    queued = sorted(tuple(row.queued) for row in both if row.queued is not None)

    assert list(both[0].prediction.asDict()) == list(PREDICTIONS.column_names)
    assert predictions == sorted(tuple(r) for r in to_prediction_rows(scored, "predict", 7, now).collect())
    doubtful = select_low_confidence(scored, "margin", threshold)
    assert queued == sorted(tuple(r) for r in to_annotation_rows(doubtful, "margin", now).collect())
    assert len(predictions) == 40
    assert len(queued) == {0.0: 0, 1.01: 40}.get(threshold, len(queued))
    if queued:
        assert list(next(r for r in both if r.queued).queued.asDict()) == list(ANNOTATION_QUEUE.column_names)

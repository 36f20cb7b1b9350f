"""The prediction sink's rows (``to_sink_rows``): one pass gives the predictions and the annotation queue, in the
warehouse tables' column order, with values taken from the scored windows."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from pyspark.sql import functions as F

from fixtures_models import tiny_windows
from watchlake.features.assembly import SIGNAL
from watchlake.features.transforms import FEATURE_COLUMNS
from watchlake.predict.rows import LAST_ARRIVAL, to_sink_rows
from watchlake.scoring import ChampionModel, score
from watchlake.warehouse.tables import ANNOTATION_QUEUE, PREDICTIONS

NOW = datetime(2026, 1, 1, 9, 0, 0)


@pytest.fixture(scope="module")
def scored(spark, tiny_model):
    # The assembler's flat triples (second into the window, mean |acceleration|, mean |rotation|), out of order.
    signal = F.array(*(F.lit(value) for value in (1.0, 0.25, 0.5, 0.0, 0.5, 0.125)))
    windows = tiny_windows(spark, rows=40).select(
        F.col("participant").alias("device_id"),
        "*",
        (F.col("window_end") - F.expr("INTERVAL 1 SECOND")).alias(LAST_ARRIVAL),
        signal.alias(SIGNAL),
    )
    champion = ChampionModel("activity", 3, tuple(tiny_model.classes), tiny_model.model, registry=None)
    return score(champion, windows).cache()


@pytest.mark.parametrize("threshold", [0.0, 0.3, 1.01])
def test_to_sink_rows_gives_predictions_and_the_low_margin_queue(scored, threshold: float) -> None:
    both = to_sink_rows(scored, "predict", 7, F.lit(NOW), "margin", threshold).collect()
    windows = {(r.device_id, r.window_start): r for r in scored.collect()}

    assert len(both) == len(windows) == 40
    for row in both:
        prediction = row.prediction
        assert list(prediction.asDict()) == list(PREDICTIONS.column_names)
        window = windows[(prediction.device_id, prediction.window_start)]
        assert (prediction.predicted_class, prediction.confidence, prediction.margin) == (
            window.predicted_activity,
            window.confidence,
            window.margin,
        )
        assert json.loads(prediction.probabilities) == pytest.approx(window.class_probabilities)
        assert (prediction.model_version, prediction.query_name, prediction.batch_id) == ("3", "predict", 7)
        assert prediction.predicted_at == NOW
        assert prediction.latency_ms == (NOW - window[LAST_ARRIVAL]) / timedelta(milliseconds=1)

        assert (row.queued is not None) == (window.margin < threshold)
        if row.queued is not None:
            queued = row.queued
            assert list(queued.asDict()) == list(ANNOTATION_QUEUE.column_names)
            assert (queued.confidence_measure, queued.confidence_value) == ("margin", window.margin)
            assert json.loads(queued.features) == pytest.approx(
                {name: window[name] for name in FEATURE_COLUMNS}
            )
            assert json.loads(queued.signal) == [
                {"t": 0.0, "a": 0.5, "r": 0.125},
                {"t": 1.0, "a": 0.25, "r": 0.5},
            ]
            assert queued.queued_at == NOW
    queued_count = sum(row.queued is not None for row in both)
    assert queued_count == {0.0: 0, 1.01: 40}.get(threshold, queued_count)

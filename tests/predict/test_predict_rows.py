"""Scoring in the driver (``score_values``) gives what the Spark scoring API gives, and the sink's rows
(``to_sink_rows``) carry those scores in the warehouse tables' column order."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pytest

from fixtures_models import tiny_windows
from watchlake.errors import DataQualityError
from watchlake.features.transforms import CATEGORICAL_COLUMNS, FEATURE_COLUMNS
from watchlake.predict.rows import (
    WINDOW_PARTITION,
    Window,
    signal_json,
    to_dead_letter_rows,
    to_sink_rows,
    to_unscorable_rows,
)
from watchlake.scoring import ChampionModel, finite_rows, score, score_values
from watchlake.settings import PredictSettings, TrainSettings
from watchlake.train.pipeline import fit_pipeline
from watchlake.warehouse.tables import ANNOTATION_QUEUE, DEAD_LETTERS, PREDICTIONS

NOW = datetime(2026, 1, 1, 9, 0, 0)


@pytest.fixture(scope="module")
def windows(spark):
    # An unseen location kind in a few rows: the indexer's "keep" bucket.
    return tiny_windows(spark, rows=40).cache()


def _champion(model) -> ChampionModel:
    return ChampionModel("activity", 3, tuple(model.classes), model.model, registry=None)


def _local(champion: ChampionModel, rows: list) -> object:
    values = np.array([[row[name] for name in FEATURE_COLUMNS] for row in rows])
    modes = [row[CATEGORICAL_COLUMNS[0]] for row in rows]
    return score_values(champion, values, {CATEGORICAL_COLUMNS[0]: [*modes[:-3], *["moon base"] * 3]})


@pytest.mark.parametrize("classifier", ["random_forest", "logistic_regression"])
def test_score_values_equals_the_spark_scoring_api(spark, windows, tiny_model, classifier) -> None:
    model = tiny_model
    if classifier != "random_forest":
        model = fit_pipeline(
            windows, TrainSettings(classifier=classifier, num_trees=5, max_depth=4), label_col="activity"
        )
    champion = _champion(model)
    rows = windows.orderBy("participant", "window_start").collect()
    unseen = [row.asDict() | {CATEGORICAL_COLUMNS[0]: "moon base"} for row in rows[-3:]]
    spark_rows = [row.asDict() for row in rows[:-3]] + unseen
    frame = spark.createDataFrame(spark_rows, windows.schema)
    want = score(champion, frame).orderBy("participant", "window_start").collect()
    got = _local(champion, rows)
    assert got.probabilities == pytest.approx(np.array([row.probabilities for row in want]), abs=1e-12)
    assert got.predicted == [row.predicted_activity for row in want]
    assert got.confidence == pytest.approx([row.confidence for row in want], abs=1e-12)
    assert got.margin == pytest.approx([row.margin for row in want], abs=1e-12)
    assert got.entropy == pytest.approx([row.entropy for row in want], abs=1e-12)


def test_score_values_of_no_windows(tiny_model) -> None:
    scores = score_values(
        _champion(tiny_model), np.zeros((0, len(FEATURE_COLUMNS))), {"location_type_mode": []}
    )
    assert scores.probabilities.shape == (0, len(tiny_model.classes)) and scores.predicted == []


def _threshold_queueing(margins: np.ndarray, below: int) -> float:
    """A margin threshold with exactly ``below`` of ``margins`` under it: 0 for none, above 1 for all, else halfway
    between the ``below``-th and the next smallest margin (which must differ, or no threshold splits them)."""
    if below == 0:
        return 0.0
    if below == len(margins):
        return 1.01
    ranked = np.sort(margins)
    assert ranked[below - 1] < ranked[below], "tied margins: choose another split"
    return float(ranked[below - 1] + ranked[below]) / 2


@pytest.mark.parametrize(("below", "max_queued"), [(0, 100), (13, 100), (13, 5), (40, 100), (40, 5)])
def test_to_sink_rows_gives_predictions_and_the_low_margin_queue(
    windows, tiny_model, below, max_queued
) -> None:
    champion = _champion(tiny_model)
    rows = windows.collect()
    scores = _local(champion, rows)
    threshold = _threshold_queueing(scores.margin, below)
    closed = [
        Window(
            device_id=row.participant,
            window_start=row.window_start,
            window_end=row.window_end,
            events=int(row.rows * 100),
            last_arrived_at=row.window_end - timedelta(seconds=1),
            signal=[1.0, 0.25, 0.5, 0.0, 0.5, 0.125],  # out of order, as the assembler may append them
            values=[row[name] for name in FEATURE_COLUMNS],
        )
        for row in rows
    ]
    predictions, queued = to_sink_rows(
        closed,
        scores,
        classes=champion.classes,
        model_version=3,
        query_name="predict",
        batch_id=7,
        now=NOW,
        measure="margin",
        threshold=threshold,
        max_queued=max_queued,
        min_readings=0,
    )
    assert len(predictions) == 40
    # The queue: windows below the threshold, at most max_queued, the smallest margins first.
    low = sorted((margin, i) for i, margin in enumerate(scores.margin) if margin < threshold)[:max_queued]
    expected_queue = {(closed[i].device_id, closed[i].window_start) for _, i in low}
    queued_by_key = {
        (row[0], row[1]): dict(zip(ANNOTATION_QUEUE.column_names, row, strict=True)) for row in queued
    }
    for i, (window, row) in enumerate(zip(closed, predictions, strict=True)):
        prediction = dict(zip(PREDICTIONS.column_names, row, strict=True))
        assert (prediction["device_id"], prediction["window_start"]) == (
            window.device_id,
            window.window_start,
        )
        assert prediction["predicted_class"] == scores.predicted[i]
        assert (prediction["confidence"], prediction["margin"]) == (scores.confidence[i], scores.margin[i])
        assert json.loads(prediction["probabilities"]) == pytest.approx(
            dict(zip(champion.classes, scores.probabilities[i], strict=True))
        )
        assert (prediction["model_version"], prediction["query_name"], prediction["batch_id"]) == (
            "3",
            "predict",
            7,
        )
        assert (prediction["predicted_at"], prediction["events"]) == (NOW, window.events)
        assert prediction["latency_ms"] == (NOW - window.last_arrived_at) / timedelta(milliseconds=1)
        key = (window.device_id, window.window_start)
        assert (key in queued_by_key) == (key in expected_queue)
        if key in queued_by_key:
            entry = queued_by_key[key]
            assert (entry["confidence_measure"], entry["confidence_value"]) == ("margin", scores.margin[i])
            assert json.loads(entry["features"]) == pytest.approx(
                dict(zip(FEATURE_COLUMNS, window.values, strict=True))
            )
            assert json.loads(entry["signal"]) == [
                {"t": 0, "a": 0.5, "r": 0.125},
                {"t": 1, "a": 0.25, "r": 0.5},
            ]
            assert entry["queued_at"] == NOW
    # Counted from the parameters, not from the queue: exactly ``below`` windows are under the threshold.
    assert len(queued) == min(below, max_queued)
    assert sorted(queued_by_key) == sorted(expected_queue)


def test_signal_json_rounds_and_orders() -> None:
    assert json.loads(signal_json([2.0, 0.123456, 1.0, 1.0, 0.5, 0.25])) == [
        {"t": 1, "a": 0.5, "r": 0.25},
        {"t": 2, "a": 0.1235, "r": 1.0},
    ]


def test_dead_letter_rows_keep_column_order_and_drop_nul_characters() -> None:
    from pyspark.sql import Row

    letter = Row(
        topic="t",
        kafka_partition=1,
        kafka_offset=9,
        raw_value="a\x00b",
        raw_size=3,
        reason="why",
        received_at=NOW,
    )
    empty = Row(**(letter.asDict() | {"raw_value": None}))
    assert to_dead_letter_rows([letter, empty]) == [
        ("t", 1, 9, "a\ufffdb", 3, "why", NOW),
        ("t", 1, 9, None, 3, "why", NOW),
    ]


def test_score_values_refuses_windows_with_non_finite_features(tiny_model) -> None:
    values = np.full((3, len(FEATURE_COLUMNS)), 0.5)
    values[1, 4], values[2, 0] = np.nan, -np.inf
    assert finite_rows(values).tolist() == [True, False, False]
    with pytest.raises(DataQualityError, match="2 of 3 windows have NaN or infinite features"):
        score_values(_champion(tiny_model), values, {"location_type_mode": ["house"] * 3})


def test_unscorable_rows_name_the_window_and_its_non_finite_features() -> None:
    values = [0.5] * len(FEATURE_COLUMNS)
    values[2], values[5] = float("nan"), float("inf")
    start = datetime(2026, 1, 1, 9, 0)
    window = Window("w1", start, start + timedelta(minutes=1), 600, NOW, [], values)
    [row] = to_unscorable_rows([window])
    names = [FEATURE_COLUMNS[2], FEATURE_COLUMNS[5]]
    letter = dict(zip(DEAD_LETTERS.column_names, row, strict=True))
    assert (letter["topic"], letter["kafka_partition"], letter["kafka_offset"]) == (
        "window:w1",
        WINDOW_PARTITION,
        1_767_258_000_000,
    )
    assert letter["reason"] == f"window not scored: NaN or infinite features {', '.join(names)}"
    assert json.loads(letter["raw_value"])["non_finite_features"] == names
    assert (letter["raw_size"], letter["received_at"]) == (len(letter["raw_value"]), NOW)


def test_prediction_sink_sets_aside_a_window_with_a_nan_feature(tiny_model) -> None:
    from pyspark.sql import Row

    from watchlake.features.assembly import KEY, SIGNAL
    from watchlake.features.transforms import FEATURE_VALUES, WINDOW_END, WINDOW_START
    from watchlake.predict.rows import LAST_ARRIVAL
    from watchlake.predict.sinks import PredictionSink

    def collected(device: str, first: float) -> Row:
        values = [first, *[0.5] * (len(FEATURE_COLUMNS) - 1)]
        values[FEATURE_COLUMNS.index("rows")] = 600.0
        columns = {KEY: device, WINDOW_START: 0, WINDOW_END: 60_000_000, LAST_ARRIVAL: 59_000_000}
        return Row(**columns, **{SIGNAL: [], FEATURE_VALUES: [*values, 0.0]})

    sink = PredictionSink(lambda: None, "s", "predict", _champion(tiny_model), PredictSettings(), 0)
    predictions, _, unscorable = sink.score_closed([collected("ok", 0.5), collected("bad", np.nan)], 1)
    assert [row[0] for row in predictions] == ["ok"]
    assert [(row[0], row[5]) for row in unscorable] == [
        ("window:bad", f"window not scored: NaN or infinite features {FEATURE_COLUMNS[0]}")
    ]

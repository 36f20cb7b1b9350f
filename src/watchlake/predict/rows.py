"""Shape scored windows and dead letters into warehouse rows (pure: DataFrames in, DataFrames out)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from watchlake.features.transforms import FEATURE_COLUMNS, MAGNITUDES, WINDOW_END, WINDOW_START
from watchlake.warehouse.tables import ANNOTATION_QUEUE, DEAD_LETTERS, PREDICTIONS

LAST_ARRIVAL = "last_arrived_at"
SIGNAL = "signal"


def _magnitude(axes: tuple[str, str, str]) -> Column:
    return F.sqrt(sum((F.col(axis) * F.col(axis) for axis in axes), F.lit(0.0)))


def signal_aggregate(time_col: str) -> Column:
    """Aggregate of a window's raw signal for an annotator: (time, |acceleration|, |rotation rate|) per reading."""
    return F.collect_list(
        F.struct(
            F.col(time_col).alias("t"),
            _magnitude(MAGNITUDES["acceleration_magnitude"]).alias("a"),
            _magnitude(MAGNITUDES["rotation_magnitude"]).alias("r"),
        )
    )


def _signal_json() -> Column:
    """The window's signal as JSON ``[{"t": seconds into the window, "a": g, "r": rad/s}, ...]`` in time order."""
    start = F.unix_micros(F.col(WINDOW_START))
    points = F.transform(
        F.array_sort(F.col(SIGNAL)),
        lambda point: F.struct(
            F.round((F.unix_micros(point["t"]) - start) / 1e6, 1).alias("t"),
            F.round(point["a"], 4).alias("a"),
            F.round(point["r"], 4).alias("r"),
        ),
    )
    return F.to_json(points)


def _millis_between(later: Column, earlier: Column) -> Column:
    return (F.unix_micros(later) - F.unix_micros(earlier)) / 1000.0


def _window_prediction() -> list[Column]:
    """The columns every warehouse row about a scored window starts with: which window, what was predicted."""
    return [
        F.col("device_id"),
        F.col(WINDOW_START),
        F.col(WINDOW_END),
        F.col("predicted_activity").alias("predicted_class"),
        F.to_json("class_probabilities").alias("probabilities"),
    ]


def _prediction_columns(query_name: str, batch_id: int, predicted_at: Column) -> list[Column]:
    return [
        *_window_prediction(),
        F.col("confidence"),
        F.col("margin"),
        F.col("entropy"),
        F.col("rows").cast("int").alias("events"),
        F.col("model_version").cast("string").alias("model_version"),
        F.lit(query_name).alias("query_name"),
        F.lit(batch_id).cast("long").alias("batch_id"),
        predicted_at.alias("predicted_at"),
        _millis_between(predicted_at, F.col(LAST_ARRIVAL)).alias("latency_ms"),
    ]


def to_prediction_rows(scored: DataFrame, query_name: str, batch_id: int, predicted_at: Column) -> DataFrame:
    """PREDICTIONS columns from ``score()`` output that also has ``device_id`` and ``last_arrived_at``.

    ``predicted_at`` may be a per-row clock (see ``sinks``): it is evaluated once, and ``latency_ms`` is taken from
    that value.
    """
    stamped = scored.withColumn("_predicted_at", predicted_at)
    columns = _prediction_columns(query_name, batch_id, F.col("_predicted_at"))
    return stamped.select(*columns).select(*PREDICTIONS.column_names)


def confidence_value(measure: str) -> Column:
    """The confidence measure of a scored row: ``max_probability``, ``margin`` or ``entropy``."""
    columns = {"max_probability": "confidence", "margin": "margin", "entropy": "entropy"}
    if measure not in columns:
        raise ValueError(f"unknown confidence measure {measure!r}; choose one of {', '.join(columns)}")
    return F.col(columns[measure])


def _is_low_confidence(measure: str, threshold: float) -> Column:
    value = confidence_value(measure)
    return value > threshold if measure == "entropy" else value < threshold


def select_low_confidence(scored: DataFrame, measure: str, threshold: float) -> DataFrame:
    """Scored windows an annotator should see: measure below ``threshold`` (entropy: above it)."""
    return scored.where(_is_low_confidence(measure, threshold))


def _annotation_columns(measure: str, queued_at: Column) -> list[Column]:
    features = F.to_json(F.struct(*[F.col(name) for name in FEATURE_COLUMNS]))
    return [
        *_window_prediction(),
        F.lit(measure).alias("confidence_measure"),
        confidence_value(measure).alias("confidence_value"),
        features.alias("features"),
        _signal_json().alias("signal"),
        F.col("model_version").cast("string").alias("model_version"),
        queued_at.alias("queued_at"),
    ]


def to_annotation_rows(scored: DataFrame, measure: str, queued_at: Column) -> DataFrame:
    """ANNOTATION_QUEUE columns: what an annotator needs to judge a window: its features and raw signal."""
    return scored.select(*_annotation_columns(measure, queued_at)).select(*ANNOTATION_QUEUE.column_names)


def to_sink_rows(
    scored: DataFrame, query_name: str, batch_id: int, now: Column, measure: str, threshold: float
) -> DataFrame:
    """Both outputs of a scored micro-batch, so a sink collects them in one Spark job (no cache, no second pass).

    One row per window: ``prediction``, a struct of the PREDICTIONS columns, and ``queued``, a struct of the
    ANNOTATION_QUEUE columns when the window's confidence is low (``select_low_confidence``), else null. ``now``
    is evaluated once per row and is both ``predicted_at`` and ``queued_at``.
    """
    stamped = scored.withColumn("_now", now)
    now_once = F.col("_now")
    prediction = F.struct(*_prediction_columns(query_name, batch_id, now_once))
    queued = F.struct(*_annotation_columns(measure, now_once))
    return stamped.select(
        prediction.alias("prediction"),
        F.when(_is_low_confidence(measure, threshold), queued).alias("queued"),
    )


def to_dead_letter_rows(dead_letters: DataFrame) -> DataFrame:
    """DEAD_LETTERS columns, in order, from ``split_messages`` dead letters."""
    return dead_letters.select(*DEAD_LETTERS.column_names)

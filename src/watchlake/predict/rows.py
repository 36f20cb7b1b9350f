"""Shape scored windows and dead letters into warehouse rows (pure: DataFrames in, DataFrames out)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from watchlake.features.assembly import SIGNAL
from watchlake.features.transforms import FEATURE_COLUMNS, WINDOW_END, WINDOW_START
from watchlake.warehouse.tables import ANNOTATION_QUEUE, DEAD_LETTERS, PREDICTIONS, Table

LAST_ARRIVAL = "last_arrived_at"


def _signal_json() -> Column:
    """The window's signal as JSON ``[{"t": seconds into the window, "a": g, "r": rad/s}, ...]`` in time order: per
    second, the mean magnitude of acceleration and of rotation rate (flat triples from the window assembler)."""
    signal = F.col(SIGNAL)
    points = F.transform(
        F.sequence(F.lit(0), (F.size(signal) / 3).cast("int") - 1),
        lambda i: F.struct(
            signal[i * 3].alias("t"),
            F.round(signal[i * 3 + 1], 4).alias("a"),
            F.round(signal[i * 3 + 2], 4).alias("r"),
        ),
    )
    return F.to_json(F.array_sort(points))


def _millis_between(later: Column, earlier: Column) -> Column:
    return (F.unix_micros(later) - F.unix_micros(earlier)) / 1000.0


def _window_prediction() -> dict[str, Column]:
    """The columns every warehouse row about a scored window has: which window, what was predicted, by which model."""
    return {
        "device_id": F.col("device_id"),
        WINDOW_START: F.col(WINDOW_START),
        WINDOW_END: F.col(WINDOW_END),
        "predicted_class": F.col("predicted_activity"),
        "probabilities": F.to_json("class_probabilities"),
        "model_version": F.col("model_version").cast("string"),
    }


def _prediction_columns(query_name: str, batch_id: int, predicted_at: Column) -> dict[str, Column]:
    return {
        **_window_prediction(),
        "confidence": F.col("confidence"),
        "margin": F.col("margin"),
        "entropy": F.col("entropy"),
        "events": F.col("rows").cast("int"),
        "query_name": F.lit(query_name),
        "batch_id": F.lit(batch_id).cast("long"),
        "predicted_at": predicted_at,
        "latency_ms": _millis_between(predicted_at, F.col(LAST_ARRIVAL)),
    }


def confidence_value(measure: str) -> Column:
    """The confidence measure of a scored row: ``max_probability``, ``margin`` or ``entropy``."""
    columns = {"max_probability": "confidence", "margin": "margin", "entropy": "entropy"}
    if measure not in columns:
        raise ValueError(f"unknown confidence measure {measure!r}; choose one of {', '.join(columns)}")
    return F.col(columns[measure])


def _is_low_confidence(measure: str, threshold: float) -> Column:
    value = confidence_value(measure)
    return value > threshold if measure == "entropy" else value < threshold


def _annotation_columns(measure: str, queued_at: Column) -> dict[str, Column]:
    return {
        **_window_prediction(),
        "confidence_measure": F.lit(measure),
        "confidence_value": confidence_value(measure),
        "features": F.to_json(F.struct(*[F.col(name) for name in FEATURE_COLUMNS])),
        "signal": _signal_json(),
        "queued_at": queued_at,
    }


def _row_of(table: Table, columns: dict[str, Column]) -> Column:
    """A struct of ``table``'s columns in the table's order (a KeyError names a column left out)."""
    return F.struct(*(columns[name].alias(name) for name in table.column_names))


def to_sink_rows(
    scored: DataFrame, query_name: str, batch_id: int, now: Column, measure: str, threshold: float
) -> DataFrame:
    """Both outputs of a scored micro-batch, so a sink collects them in one Spark job (no cache, no second pass).

    One row per window: ``prediction``, a struct of the PREDICTIONS columns, and ``queued``, a struct of the
    ANNOTATION_QUEUE columns when the window's confidence measure is below ``threshold`` (entropy: above it), else
    null. ``now`` is evaluated once per row and is both ``predicted_at`` and ``queued_at``.
    """
    stamped = scored.withColumn("_now", now)
    now_once = F.col("_now")
    prediction = _row_of(PREDICTIONS, _prediction_columns(query_name, batch_id, now_once))
    queued = _row_of(ANNOTATION_QUEUE, _annotation_columns(measure, now_once))
    return stamped.select(
        prediction.alias("prediction"),
        F.when(_is_low_confidence(measure, threshold), queued).alias("queued"),
    )


def to_dead_letter_rows(dead_letters: DataFrame) -> DataFrame:
    """DEAD_LETTERS columns, in order, from the dead-letter structs of ``to_assembler_rows``."""
    return dead_letters.select(*DEAD_LETTERS.column_names)

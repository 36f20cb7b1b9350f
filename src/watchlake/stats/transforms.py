"""Descriptive statistics of processed readings as a tidy frame (schema ``ACTIVITY_STATS``): pure transforms.

Input: readings with the ``READINGS`` columns plus ``activity_class`` (NULL = unlabelled). Every statistic is one
row ``(scope, activity_class, column, statistic, key, value)``; see README.md in this folder for the vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from watchlake.schemas import ACTIVITY_STATS, LOCATION_FIELDS, MOTION_FIELDS

NUMERIC_COLUMNS: tuple[str, ...] = MOTION_FIELDS + LOCATION_FIELDS
CATEGORICAL_COLUMNS: tuple[str, ...] = ("location_type", "battery_state")
CLASS_COLUMN = "activity_class"
OVERALL = "overall"
PER_CLASS = "class"


def _stat(column: str, statistic: str, value: Column, key: str | Column | None = None) -> Column:
    key_column = key if isinstance(key, Column) else F.lit(key).cast("string")
    return F.struct(
        F.lit(column).alias("column"),
        F.lit(statistic).alias("statistic"),
        key_column.alias("key"),
        value.cast("double").alias("value"),
    )


def _by_scope(frame: DataFrame, aggregates: list[Column]) -> DataFrame:
    """Aggregate over all rows (scope overall) and per labelled class (scope class); one row per group.

    Each aggregate must be an array of ``_stat`` structs; the result has scope, activity_class and ``stats``.
    """
    overall = frame.agg(F.concat(*aggregates).alias("stats")).select(
        F.lit(OVERALL).alias("scope"), F.lit(None).cast("string").alias(CLASS_COLUMN), "stats"
    )
    per_class = (
        frame.where(F.col(CLASS_COLUMN).isNotNull())
        .groupBy(CLASS_COLUMN)
        .agg(F.concat(*aggregates).alias("stats"))
        .select(F.lit(PER_CLASS).alias("scope"), CLASS_COLUMN, "stats")
    )
    return overall.unionByName(per_class)


def _explode(grouped: DataFrame) -> DataFrame:
    return grouped.select("scope", CLASS_COLUMN, F.explode("stats").alias("s")).select(
        "scope", CLASS_COLUMN, "s.column", "s.statistic", "s.key", "s.value"
    )


def _summary_aggregates(column: str, quantiles: Sequence[float], accuracy: int) -> Column:
    value = F.col(column)
    levels = F.percentile_approx(value, list(quantiles), accuracy)
    return F.array(
        _stat(column, "count", F.count(value)),
        _stat(column, "mean", F.avg(value)),
        _stat(column, "sd", F.stddev_samp(value)),
        _stat(column, "min", F.min(value)),
        _stat(column, "max", F.max(value)),
        _stat(column, "null_fraction", 1 - F.count(value) / F.count(F.lit(1))),
        *(_stat(column, "quantile", levels[i], repr(float(q))) for i, q in enumerate(quantiles)),
    )


def to_numeric_stats(
    readings: DataFrame, columns: Sequence[str], quantiles: Sequence[float], accuracy: int
) -> DataFrame:
    """count (non-null), mean, sd (sample), min, max, null_fraction and quantiles (key = level) per column."""
    aggregates = [_summary_aggregates(column, quantiles, accuracy) for column in columns]
    return _explode(_by_scope(readings, aggregates))


def to_correlations(readings: DataFrame, axes: Sequence[str] = MOTION_FIELDS) -> DataFrame:
    """Pearson correlation of each pair of axes (column = first axis, key = second, in ``axes`` order).

    A pair involving a constant axis has no correlation: its value is NULL.
    """
    pairs = [(a, b) for i, a in enumerate(axes) for b in axes[i + 1 :]]
    aggregate = F.array(*(_stat(a, "corr", F.corr(a, b), b) for a, b in pairs))
    return _explode(_by_scope(readings, [aggregate]))


def to_frequencies(readings: DataFrame, column: str) -> DataFrame:
    """Share of each value of a categorical column among the scope's rows (key NULL = missing value)."""
    value = F.col(column).cast("string").alias("_value")
    overall = readings.groupBy(
        F.lit(OVERALL).alias("scope"), F.lit(None).cast("string").alias(CLASS_COLUMN), value
    )
    per_class = readings.where(F.col(CLASS_COLUMN).isNotNull()).groupBy(
        F.lit(PER_CLASS).alias("scope"), CLASS_COLUMN, value
    )
    counts = overall.count().unionByName(per_class.count())
    totals = Window.partitionBy("scope", CLASS_COLUMN)
    return counts.select(
        "scope",
        CLASS_COLUMN,
        F.lit(column).alias("column"),
        F.lit("share").alias("statistic"),
        F.col("_value").alias("key"),
        (F.col("count") / F.sum("count").over(totals)).cast("double").alias("value"),
    )


def to_label_stats(readings: DataFrame) -> DataFrame:
    """Overall shares of the classes (key NULL = unlabelled rows) and counts of the raw labels as written."""
    shares = to_frequencies(readings, CLASS_COLUMN).where(F.col("scope") == OVERALL)
    raw = (
        readings.where(F.col("user_activity_label").isNotNull())
        .groupBy("user_activity_label")
        .count()
        .select(
            F.lit(OVERALL).alias("scope"),
            F.lit(None).cast("string").alias(CLASS_COLUMN),
            F.lit("user_activity_label").alias("column"),
            F.lit("count").alias("statistic"),
            F.col("user_activity_label").alias("key"),
            F.col("count").cast("double").alias("value"),
        )
    )
    return shares.unionByName(raw)


def with_segments(readings: DataFrame, max_gap_seconds: float) -> DataFrame:
    """Adds ``delta_seconds`` (to the previous reading of the participant) and ``segment_id``.

    A segment is a run of consecutive readings of one participant with the same class (NULL counts as a value)
    and no step above ``max_gap_seconds`` or backwards in time.
    """
    order = Window.partitionBy("participant").orderBy("stamp")
    micros = F.unix_micros("stamp")
    delta = (micros - F.lag(micros).over(order)) / 1e6
    previous_class = F.lag(CLASS_COLUMN).over(order)
    starts = (
        delta.isNull()
        | (delta <= 0)
        | (delta > max_gap_seconds)
        | ~F.col(CLASS_COLUMN).eqNullSafe(previous_class)
    )
    with_start = readings.withColumn("delta_seconds", delta).withColumn("_start", starts.cast("int"))
    return with_start.withColumn("segment_id", F.sum("_start").over(order)).drop("_start")


def to_temporal_stats(
    segmented: DataFrame, quantiles: Sequence[float], accuracy: int, max_gap_seconds: float
) -> DataFrame:
    """Sampling (column ``stamp``: interval_median_seconds, sampling_hz) and labelled segment durations.

    ``segmented`` comes from :func:`with_segments`. A segment's duration runs from its first to its last reading
    plus one median sampling interval (so a one-reading segment lasts one interval); column ``segment``.
    """
    steps = segmented.where((F.col("delta_seconds") > 0) & (F.col("delta_seconds") <= max_gap_seconds))
    median = F.percentile_approx("delta_seconds", 0.5, accuracy)
    sampling = steps.agg(median.alias("interval")).select(
        F.lit(OVERALL).alias("scope"),
        F.lit(None).cast("string").alias(CLASS_COLUMN),
        F.explode(
            F.array(
                _stat("stamp", "interval_median_seconds", F.col("interval")),
                _stat("stamp", "sampling_hz", 1 / F.col("interval")),
            )
        ).alias("s"),
    )
    interval = sampling.where(F.col("s.statistic") == "interval_median_seconds").select(
        F.col("s.value").alias("interval")
    )
    micros = F.unix_micros("stamp")
    segments = (
        segmented.where(F.col(CLASS_COLUMN).isNotNull())
        .groupBy("participant", "segment_id", CLASS_COLUMN)
        .agg(((F.max(micros) - F.min(micros)) / 1e6).alias("span"))
        .crossJoin(F.broadcast(interval))
        .select(CLASS_COLUMN, (F.col("span") + F.col("interval")).alias("segment"))
    )
    durations = to_numeric_stats(segments, ["segment"], quantiles, accuracy)
    flat_sampling = sampling.select("scope", CLASS_COLUMN, "s.column", "s.statistic", "s.key", "s.value")
    return flat_sampling.unionByName(durations)


def to_activity_stats(
    readings: DataFrame, quantiles: Sequence[float], accuracy: int, max_gap_seconds: float
) -> DataFrame:
    """All statistics of classed readings, in the ``ACTIVITY_STATS`` schema (a few thousand rows at most)."""
    parts = [
        to_numeric_stats(readings, NUMERIC_COLUMNS, quantiles, accuracy),
        to_correlations(readings),
        *(to_frequencies(readings, column) for column in CATEGORICAL_COLUMNS),
        to_label_stats(readings),
        to_temporal_stats(with_segments(readings, max_gap_seconds), quantiles, accuracy, max_gap_seconds),
    ]
    result = parts[0]
    for part in parts[1:]:
        result = result.unionByName(part)
    return result.select(*(F.col(field.name).cast(field.dataType) for field in ACTIVITY_STATS.fields))

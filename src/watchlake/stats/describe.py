"""Readings described as ``watchlake stats`` describes them, the settings bound to the pure transforms in one
place: the stats job and the fidelity report (which describes generated watches to compare them) both call these,
so real and generated data get the same classes and the same figures."""

from __future__ import annotations

from pyspark.sql import DataFrame

from watchlake.labels.mapping import load_mapping
from watchlake.settings import LabelSettings, StatsSettings
from watchlake.stats.classes import with_activity_class
from watchlake.stats.transforms import to_activity_stats


def classify(readings: DataFrame, labels: LabelSettings) -> DataFrame:
    """Readings with their ``activity_class`` (label spreading over ``labels.span_seconds``, then the raw->class
    mapping of ``labels.mapping_file``, read here; ConfigError if it is invalid)."""
    return with_activity_class(readings, labels.span_seconds, load_mapping(labels.mapping_file))


def describe(classed: DataFrame, stats: StatsSettings) -> DataFrame:
    """The ``ACTIVITY_STATS`` frame of classed readings (:func:`classify`), with the quantile levels, quantile
    accuracy and segment gap of ``stats``. Pure: no I/O, the frame is lazy."""
    return to_activity_stats(classed, stats.quantiles, stats.quantile_accuracy, stats.max_gap_seconds)

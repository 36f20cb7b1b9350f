"""Window features of watch readings: the ONE feature step used by batch training and streaming prediction.

Features are finished from merged second partials (:mod:`watchlake.features.partials`), so both paths compute them
the same way: training merges seconds with a batch ``groupBy`` (:func:`to_windows`), the streaming predictor merges
messages per watch as they arrive (:mod:`watchlake.features.assembly`), and both finish with the Java function
``watchlake_window_features`` (jvm/functions, ``WindowFeatures``: its Javadoc defines every feature). Every feature
merges exactly: moments instead of percentiles, the most frequent location kind from kind counts. As one function
call, finishing costs a micro-batch little planning (as about 100 SQL expressions it cost 0.7 s a batch). Feature
columns are never null (missing context gets the sentinel ``MISSING``), so a model never meets a null it did not see
in training.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from watchlake.features.partials import CHANNELS, LOCATION_TYPES, PARTIALS, SECOND, merged, to_seconds
from watchlake.jvm import WINDOW_FEATURES
from watchlake.labels.mapping import LabelMapping
from watchlake.labels.transforms import ACTIVITY, with_activity, with_spread_labels
from watchlake.schemas import labelled_windows

# Recorded in each model's meta.json. 1: percentiles and the location mode, aggregated per reading.
FEATURE_VERSION = 2
MISSING = -1.0  # the value of a context feature when the window has no location reading (speed, distance)
# A channel whose variance is at most this share of its mean square is treated as constant: skewness and
# kurtosis are 0 (finished from power sums, they would be rounding noise).
CONSTANT_VARIANCE_SHARE = 1e-6
STATS: tuple[str, ...] = ("mean", "sd", "min", "max", "energy", "skewness", "kurtosis", "mean_abs_change")
CONTEXT_FEATURES: tuple[str, ...] = (
    "speed_mean",
    "speed_max",
    "distance_from_mean_km",
    "location_known_fraction",
    "battery_full_fraction",
    *(f"location_{kind}_fraction" for kind in LOCATION_TYPES),
)
TIME_FEATURES: tuple[str, ...] = ("hour_sin", "hour_cos")
# Numeric model inputs, in assembler order; training and scoring both use exactly this list.
FEATURE_COLUMNS: tuple[str, ...] = (
    *(f"{channel}_{stat}" for channel in CHANNELS for stat in STATS),
    *CONTEXT_FEATURES,
    *TIME_FEATURES,
    "rows",
)
# String model inputs (indexed by the training pipeline).
CATEGORICAL_COLUMNS: tuple[str, ...] = ("location_type_mode",)
WINDOW_START = "window_start"
WINDOW_END = "window_end"
LABELLED_ROWS = "labelled_rows"


ROWS_INDEX = FEATURE_COLUMNS.index("rows")
READINGS_PER_SECOND = 10  # the CASAS watches' sampling rate (stats: sampling_hz)
# A window with fewer readings than min_readings(...): not trained on, marked in predictions.
PARTIAL = "partial"
# The schema of the labelled windows dataset (``watchlake features``, read by training).
LABELLED_WINDOWS = labelled_windows(FEATURE_COLUMNS, CATEGORICAL_COLUMNS)
FEATURE_VALUES = "feature_values"  # FEATURE_COLUMNS as one array, for scoring without a query per micro-batch


def feature_values(partials: Column, window_start: Column) -> Column:
    """``watchlake_window_features`` of a window: its FEATURE_COLUMNS values in order, then the index of the most
    frequent location kind (-1: none)."""
    return F.call_function(
        WINDOW_FEATURES,
        partials,
        F.unix_seconds(window_start),
        F.lit(MISSING),
        F.lit(CONSTANT_VARIANCE_SHARE),
    )


def location_mode(values: Column) -> Column:
    """``location_type_mode`` from :func:`feature_values`: the most frequent kind's name, or ``unknown``."""
    index = values[len(FEATURE_COLUMNS)].cast("int")
    kinds = F.array(*(F.lit(kind) for kind in LOCATION_TYPES))
    return F.when(index >= 0, F.element_at(kinds, index + 1)).otherwise(F.lit("unknown"))


@dataclass(frozen=True)
class DecodedFeatures:
    """One window's :func:`feature_values` array, decoded in Python (the predictor's driver-side scoring)."""

    numeric: Sequence[float]  # FEATURE_COLUMNS, in order
    location_type_mode: str  # the most frequent location kind, or ``unknown``

    @property
    def rows(self) -> int:
        """The window's reading count."""
        return round(self.numeric[ROWS_INDEX])


def decode_feature_values(values: Sequence[float]) -> DecodedFeatures:
    """The numeric features and the location kind of a :func:`feature_values` array (the Python twin of
    :func:`location_mode`)."""
    index = round(values[len(FEATURE_COLUMNS)])
    return DecodedFeatures(
        numeric=values[: len(FEATURE_COLUMNS)],
        location_type_mode=LOCATION_TYPES[index] if index >= 0 else "unknown",
    )


def finish_windows(windows: DataFrame, key_col: str, keep: tuple[str, ...] = ()) -> DataFrame:
    """Merged windows (``key_col``, ``window_start``, ``window_end``, ``partials``) -> key, window_start,
    window_end, ``FEATURE_COLUMNS``, ``CATEGORICAL_COLUMNS``, then the ``keep`` columns unchanged."""
    values = windows.select(
        key_col,
        WINDOW_START,
        WINDOW_END,
        feature_values(F.col(PARTIALS), F.col(WINDOW_START)).alias(FEATURE_VALUES),
        *keep,
    )
    return values.select(
        key_col,
        WINDOW_START,
        WINDOW_END,
        *(F.col(FEATURE_VALUES)[index].alias(name) for index, name in enumerate(FEATURE_COLUMNS)),
        location_mode(F.col(FEATURE_VALUES)).alias(CATEGORICAL_COLUMNS[0]),
        *keep,
    )


def min_readings(window_seconds: float, min_share: float) -> int:
    """The fewest readings a whole window holds: ``min_share`` of the ``window_seconds * READINGS_PER_SECOND``
    readings a window expects, rounded up (0 when ``min_share`` is 0: no window is partial)."""
    return math.ceil(min_share * window_seconds * READINGS_PER_SECOND - 1e-9)


def is_partial(rows: Column, fewest: int) -> Column:
    """True where a window's reading count ``rows`` is below ``fewest`` (see :func:`min_readings`)."""
    return rows < F.lit(fewest)


def _seconds(seconds: float, name: str) -> int:
    if seconds <= 0 or seconds != int(seconds):
        raise ValueError(f"{name} must be a positive whole number of seconds, got {seconds}")
    return int(seconds)


def to_windows(
    readings: DataFrame,
    *,
    window_seconds: float,
    step_seconds: float,
    key_col: str = "participant",
    time_col: str = "stamp",
    label_col: str | None = None,
) -> DataFrame:
    """One row per (``key_col``, event-time window) with ``FEATURE_COLUMNS`` and ``CATEGORICAL_COLUMNS`` (batch).

    Windows are ``window_seconds`` long and start every ``step_seconds`` (whole seconds; tumbling when equal),
    aligned to the epoch; a reading lands in every window that contains its second. Required columns: the READINGS
    motion, location and battery fields. With ``label_col``, adds that column holding the label of the window's
    last labelled row (ArWISE: a window is labelled by its last row; null if no row is labelled) and
    ``labelled_rows``. Output columns: key, ``window_start``, ``window_end``, features, categoricals[, label,
    labelled_rows].
    """
    window = _seconds(window_seconds, "window_seconds")
    step = _seconds(step_seconds, "step_seconds")
    seconds = to_seconds(readings, key_col=key_col, time_col=time_col, label_col=label_col)
    aggregates = [F.array(*merged()).alias(PARTIALS)]
    if label_col is not None:
        last = F.max("_last_labelled")
        aggregates += [last[label_col].alias(label_col), F.sum("_labelled").alias(LABELLED_ROWS)]
    spans = F.window(F.timestamp_seconds(SECOND), f"{window} seconds", f"{step} seconds")
    grouped = seconds.groupBy(F.col(key_col), spans.alias("_window")).agg(*aggregates)
    windows = grouped.select(
        key_col,
        F.col("_window.start").alias(WINDOW_START),
        F.col("_window.end").alias(WINDOW_END),
        PARTIALS,
        *([label_col, LABELLED_ROWS] if label_col is not None else []),
    )
    return finish_windows(windows, key_col, keep=(label_col, LABELLED_ROWS) if label_col is not None else ())


def to_labelled_windows(
    readings: DataFrame,
    mapping: LabelMapping,
    *,
    span_seconds: float,
    window_seconds: float,
    step_seconds: float,
    key_col: str = "participant",
) -> DataFrame:
    """READINGS -> labelled feature windows: spread labels, map to classes, aggregate windows (label ``activity``)."""
    labelled = readings.transform(with_spread_labels, span_seconds, key_col=key_col).transform(
        with_activity, mapping
    )
    return to_windows(
        labelled,
        window_seconds=window_seconds,
        step_seconds=step_seconds,
        key_col=key_col,
        label_col=ACTIVITY,
    )

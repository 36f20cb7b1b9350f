"""Window features of watch readings: the ONE feature step used by batch training and streaming prediction.

Features are finished from merged second partials (:mod:`watchlake.features.partials`), so both paths compute
them the same way: training merges seconds with a batch ``groupBy`` (:func:`to_windows`), the streaming predictor
merges messages per watch as they arrive (:mod:`watchlake.features.assembly`), and both finish with
:func:`finish_windows`. Every feature merges exactly: moments instead of percentiles, the most frequent location
kind from kind counts. Feature columns are never null (missing context gets the sentinel ``MISSING``), so a model
never meets a null it did not see in training.
"""

from __future__ import annotations

import math

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from watchlake.features.partials import (
    CHANNELS,
    LOCATION_TYPES,
    PARTIALS,
    SECOND,
    merged,
    slot,
    to_seconds,
)

FEATURE_VERSION = 2  # 1: percentiles and the location mode, aggregated per reading
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


def _channel_features(channel: str) -> dict[str, Column]:
    n = slot("readings")
    mean, m2 = slot(f"{channel}_sum") / n, slot(f"{channel}_sum2") / n
    m3, m4 = slot(f"{channel}_sum3") / n, slot(f"{channel}_sum4") / n
    variance = F.greatest(m2 - mean * mean, F.lit(0.0))
    varies = variance > CONSTANT_VARIANCE_SHARE * m2
    third = m3 - 3 * mean * m2 + 2 * F.pow(mean, 3)
    fourth = m4 - 4 * mean * m3 + 6 * mean * mean * m2 - 3 * F.pow(mean, 4)
    changes = slot("changes")
    stats = {
        "mean": mean,
        "sd": F.sqrt(variance),
        "min": slot(f"{channel}_min"),
        "max": slot(f"{channel}_max"),
        "energy": m2,
        "skewness": F.when(varies, third / F.pow(variance, 1.5)).otherwise(0.0),
        "kurtosis": F.when(varies, fourth / (variance * variance)).otherwise(0.0),
        "mean_abs_change": F.when(changes > 0, slot(f"{channel}_abs_change") / changes).otherwise(0.0),
    }
    return {f"{channel}_{stat}": stats[stat] for stat in STATS}


def _ratio_or_missing(total: Column, count: Column) -> Column:
    return F.when(count > 0, total / count).otherwise(MISSING)


def _context_features() -> dict[str, Column]:
    n = slot("readings")
    kinds = [slot(f"location_{kind}") for kind in LOCATION_TYPES]
    # The most frequent kind; ties go to the kind listed first (the larger negated position wins).
    ranked = F.greatest(
        *(
            F.struct(count.alias("count"), F.lit(-i).alias("order"), F.lit(kind).alias("kind"))
            for i, (count, kind) in enumerate(zip(kinds, LOCATION_TYPES, strict=True))
        )
    )
    return {
        "speed_mean": _ratio_or_missing(slot("speed_sum"), slot("speed_count")),
        "speed_max": F.when(slot("speed_count") > 0, slot("speed_max")).otherwise(MISSING),
        "distance_from_mean_km": _ratio_or_missing(slot("distance_sum"), slot("distance_count")),
        "location_known_fraction": slot("location_known") / n,
        "battery_full_fraction": slot("battery_full") / n,
        **{f"location_{kind}_fraction": count / n for count, kind in zip(kinds, LOCATION_TYPES, strict=True)},
        "location_type_mode": F.when(slot("location_known") > 0, ranked["kind"]).otherwise("unknown"),
    }


def _time_features() -> dict[str, Column]:
    start = F.col(WINDOW_START)
    hours = F.hour(start) + F.minute(start) / 60.0 + F.second(start) / 3600.0
    angle = hours * (2 * math.pi / 24)
    return {"hour_sin": F.sin(angle), "hour_cos": F.cos(angle)}


def finish_windows(windows: DataFrame, key_col: str, keep: tuple[str, ...] = ()) -> DataFrame:
    """Merged windows (``key_col``, ``window_start``, ``window_end``, ``partials``) -> key, window_start,
    window_end, ``FEATURE_COLUMNS``, ``CATEGORICAL_COLUMNS``, then the ``keep`` columns unchanged."""
    features = {
        **{name: column for channel in CHANNELS for name, column in _channel_features(channel).items()},
        **_context_features(),
        **_time_features(),
        "rows": slot("readings"),
    }
    return windows.select(
        key_col,
        WINDOW_START,
        WINDOW_END,
        *(features[name].alias(name) for name in (*FEATURE_COLUMNS, *CATEGORICAL_COLUMNS)),
        *keep,
    )


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

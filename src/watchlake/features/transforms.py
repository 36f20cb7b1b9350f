"""Window features of watch readings: the ONE feature step used by batch training and streaming prediction.

:func:`to_windows` is a single ``groupBy(key, window(event_time))`` aggregation made only of aggregates Spark
supports in Structured Streaming (mean, stddev, min, max, percentile_approx, mode, count, max of a struct) plus
projections, so a stream with a watermark on the event-time column can call it unchanged. No window functions,
no UDFs. Feature columns are never null (missing context gets the sentinel ``MISSING``), so a model never meets
a null it did not see in training.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from watchlake.schemas import MOTION_FIELDS

MISSING = -1.0  # the value of a context feature when the window has no location reading (speed, distance)
KM_PER_DEGREE = 111.32  # latitude degree; longitude uses the same factor (the absolute latitude is not known)

MAGNITUDES: dict[str, tuple[str, str, str]] = {
    "acceleration_magnitude": ("user_acceleration_x", "user_acceleration_y", "user_acceleration_z"),
    "rotation_magnitude": ("rotation_rate_x", "rotation_rate_y", "rotation_rate_z"),
}
# Per-channel statistics: the motion axes (orientation yaw/pitch/roll included) and the two magnitudes.
CHANNELS: tuple[str, ...] = (*MOTION_FIELDS, *MAGNITUDES)
PERCENTILES: dict[str, float] = {"p25": 0.25, "p50": 0.5, "p75": 0.75}
STATS: tuple[str, ...] = ("mean", "sd", "min", "max", *PERCENTILES, "energy")
LOCATION_TYPES: tuple[str, ...] = (
    "house",
    "road",
    "service",
    "work",
    "attraction",
    "restaurant",
    "store",
    "other",
)

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


def _duration(seconds: float) -> str:
    return f"{round(seconds * 1000)} milliseconds"


def _channel_columns() -> dict[str, Column]:
    columns = {name: F.col(name) for name in MOTION_FIELDS}
    for name, (x, y, z) in MAGNITUDES.items():
        columns[name] = F.sqrt(F.col(x) * F.col(x) + F.col(y) * F.col(y) + F.col(z) * F.col(z))
    return columns


def _channel_aggregates(channel: str, value: Column) -> list[Column]:
    return [
        F.avg(value).alias(f"{channel}_mean"),
        F.stddev_pop(value).alias(f"{channel}_sd"),
        F.min(value).alias(f"{channel}_min"),
        F.max(value).alias(f"{channel}_max"),
        F.percentile_approx(value, list(PERCENTILES.values())).alias(f"_pct_{channel}"),
        F.avg(value * value).alias(f"{channel}_energy"),
    ]


def _context_aggregates() -> list[Column]:
    location = F.lower(F.trim(F.col("location_type")))
    known_kind = F.when(location.isin(list(LOCATION_TYPES)), location).when(location.isNotNull(), "other")
    speed = F.when(F.col("speed") >= 0, F.col("speed"))
    lat_km = F.col("latitude_distance_from_mean") * KM_PER_DEGREE
    lon_km = F.col("longitude_distance_from_mean") * KM_PER_DEGREE
    fractions = [
        F.avg(F.when(known_kind == kind, 1.0).otherwise(0.0)).alias(f"location_{kind}_fraction")
        for kind in LOCATION_TYPES
    ]
    return [
        F.coalesce(F.avg(speed), F.lit(MISSING)).alias("speed_mean"),
        F.coalesce(F.max(speed), F.lit(MISSING)).alias("speed_max"),
        F.coalesce(F.avg(F.sqrt(lat_km * lat_km + lon_km * lon_km)), F.lit(MISSING)).alias(
            "distance_from_mean_km"
        ),
        F.avg(F.when(location.isNotNull(), 1.0).otherwise(0.0)).alias("location_known_fraction"),
        F.avg(F.when(F.lower(F.col("battery_state")) == "full", 1.0).otherwise(0.0)).alias(
            "battery_full_fraction"
        ),
        *fractions,
        F.coalesce(F.mode(location), F.lit("unknown")).alias("location_type_mode"),
        F.count(F.lit(1)).cast("double").alias("rows"),
    ]


def to_windows(
    readings: DataFrame,
    *,
    window_seconds: float,
    step_seconds: float,
    key_col: str = "participant",
    time_col: str = "stamp",
    label_col: str | None = None,
    extra_aggregates: Mapping[str, Column] | None = None,
) -> DataFrame:
    """One row per (``key_col``, event-time window) with ``FEATURE_COLUMNS`` and ``CATEGORICAL_COLUMNS``.

    Windows are ``window_seconds`` long and start every ``step_seconds`` (tumbling when equal), aligned to the
    epoch; a row lands in every window that contains its ``time_col``. Required columns: the READINGS motion,
    location and battery fields. With ``label_col``, adds that column holding the label of the window's last
    labelled row (ArWISE: a window is labelled by its last row; null if no row is labelled) and
    ``labelled_rows``. ``extra_aggregates`` (name -> aggregate expression, e.g. the latest arrival time for the
    streaming predictor) are carried through after everything else; they are never model inputs.
    Output columns: key, ``window_start``, ``window_end``, features, categoricals[, label][, extras].
    """
    extras = dict(extra_aggregates or {})
    channels = _channel_columns()
    aggregates = [agg for name, value in channels.items() for agg in _channel_aggregates(name, value)]
    aggregates += _context_aggregates()
    aggregates += [aggregate.alias(name) for name, aggregate in extras.items()]
    if label_col is not None:
        last_labelled = F.max(
            F.when(F.col(label_col).isNotNull(), F.struct(F.col(time_col), F.col(label_col)))
        )
        aggregates += [
            last_labelled[label_col].alias(label_col),
            F.count(F.col(label_col)).alias(LABELLED_ROWS),
        ]
    window = F.window(F.col(time_col), _duration(window_seconds), _duration(step_seconds))
    grouped = readings.groupBy(F.col(key_col), window.alias("_window")).agg(*aggregates)
    return grouped.select(
        F.col(key_col),
        F.col("_window.start").alias(WINDOW_START),
        F.col("_window.end").alias(WINDOW_END),
        *_feature_projection(),
        *CATEGORICAL_COLUMNS,
        *([label_col, LABELLED_ROWS] if label_col is not None else []),
        *extras,
    )


def _feature_projection() -> list[Column]:
    columns: list[Column] = []
    for channel in CHANNELS:
        for stat in STATS:
            if stat in PERCENTILES:
                index = list(PERCENTILES).index(stat)
                columns.append(F.col(f"_pct_{channel}")[index].cast("double").alias(f"{channel}_{stat}"))
            else:
                columns.append(F.col(f"{channel}_{stat}").cast("double"))
    columns += [F.col(name) for name in CONTEXT_FEATURES]
    hours = F.hour("_window.start") + F.minute("_window.start") / 60.0 + F.second("_window.start") / 3600.0
    angle = hours * (2 * math.pi / 24)
    columns += [F.sin(angle).alias("hour_sin"), F.cos(angle).alias("hour_cos"), F.col("rows")]
    return columns

"""A schema for every dataset that crosses a stage boundary, and the CASAS file format's field list.

Timestamps: CASAS stamps are local wall-clock time without a zone. Sessions run with ``spark.sql.session.timeZone``
= UTC, so a ``TimestampType`` column holds that wall-clock time unchanged (read it back in UTC too).
"""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

# --- The CASAS archive format (see docs in README and ../shared/reference/casas-format.md) -------------------
CASAS_FIELDS: tuple[str, ...] = (
    "stamp",
    "yaw",
    "pitch",
    "roll",
    "rotation_rate_x",
    "rotation_rate_y",
    "rotation_rate_z",
    "user_acceleration_x",
    "user_acceleration_y",
    "user_acceleration_z",
    "location_type",
    "latitude_distance_from_mean",
    "longitude_distance_from_mean",
    "altitude_distance_from_mean",
    "course",
    "speed",
    "horizontal_accuracy",
    "vertical_accuracy",
    "battery_state",
    "user_activity_label",
)
# Row 2 of every file: dt = datetime, f = float, s = string.
CASAS_TYPES: tuple[str, ...] = ("dt",) + ("f",) * 9 + ("s",) + ("f",) * 7 + ("s", "s")
CASAS_TYPE_CODES = frozenset({"dt", "f", "s"})

MOTION_FIELDS: tuple[str, ...] = CASAS_FIELDS[1:10]
LOCATION_FIELDS: tuple[str, ...] = CASAS_FIELDS[11:18]
FLOAT_FIELDS: tuple[str, ...] = tuple(
    name for name, code in zip(CASAS_FIELDS, CASAS_TYPES, strict=True) if code == "f"
)
# Apple's WKInterfaceDeviceBatteryState as CASAS writes it; ``unknown`` means battery monitoring was off (still worn).
BATTERY_STATES = ("unplugged", "charging", "full", "unknown")
STAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"

# Reasons a staged row is rejected by cleaning, in the order they are checked (the first that applies wins).
REJECT_REASONS: tuple[str, ...] = (
    "wrong_field_count",  # the line does not split into exactly 20 fields
    "unparseable_stamp",  # stamp empty or not a datetime with 1-6 fractional digits
    "missing_motion",  # any of the nine motion fields empty
    "unparseable_number",  # a float field that is present but not a number
    "invalid_battery_state",  # a battery state other than unplugged / charging / full / unknown / empty
    "charging",  # the watch was on its charger: not wear time
    "full",  # on its charger at 100 %: not wear time either (ArWISE drops both)
)


def _sensor_fields(motion_type: DataType | None = None) -> list[StructField]:
    """What a watch measures, in CASAS order: the motion axes (of ``motion_type``, default double), location and
    battery."""
    return [
        *(StructField(name, motion_type or DoubleType(), False) for name in MOTION_FIELDS),
        StructField("location_type", StringType(), True),
        *(StructField(name, DoubleType(), True) for name in LOCATION_FIELDS),
        StructField("battery_state", StringType(), True),
    ]


# --- processed: cleaned readings -----------------------------------------------------------------------
READINGS = StructType(
    [
        StructField("participant", StringType(), False),
        StructField("stamp", TimestampType(), False),
        *_sensor_fields(),
        StructField("user_activity_label", StringType(), True),
        StructField("source_file", StringType(), False),
        StructField("date", DateType(), False),
    ]
)

# --- rejected: rows cleaning refused, kept whole with the reason ------------------------------------------
REJECTED_READINGS = StructType(
    [
        StructField("participant", StringType(), True),
        StructField("source_file", StringType(), False),
        StructField("line", StringType(), True),
        StructField("reason", StringType(), False),
    ]
)

# --- staging manifest ----------------------------------------------------------------------------------
MANIFEST = StructType(
    [
        StructField("path", StringType(), False),
        StructField("size_bytes", LongType(), False),
        StructField("sha256", StringType(), False),
    ]
)

# --- stats: descriptive statistics of the processed readings, one statistic per row (tidy) --------------------
# scope: "overall" (activity_class NULL) or "class". column: a READINGS column, "activity_class" (label shares),
# "segment" (activity segment durations, seconds) or "stamp" (sampling). statistic: count, mean, sd, min, max,
# null_fraction, quantile (key = level), corr (key = the other motion axis), share (key = category, NULL = missing),
# rows, interval_median_seconds, sampling_hz, duration_* (segments). See watchlake/stats/README.md.
ACTIVITY_STATS = StructType(
    [
        StructField("scope", StringType(), False),
        StructField("activity_class", StringType(), True),
        StructField("column", StringType(), False),
        StructField("statistic", StringType(), False),
        StructField("key", StringType(), True),
        StructField("value", DoubleType(), True),
    ]
)


# --- features: labelled windows, the training set (``watchlake features``) -----------------------------------
# One row per participant and event-time window: the window's numeric features (doubles) and categorical features
# (strings) in the feature module's order, then its class label (the activity of its last labelled row; null when
# none), how many of its rows carried a label, and the feature version that computed it. The feature names belong
# to ``watchlake.features.transforms``, which builds its ``LABELLED_WINDOWS`` with this function.
def labelled_windows(numeric: tuple[str, ...], categorical: tuple[str, ...]) -> StructType:
    """The schema of the labelled windows dataset for these feature column names."""
    return StructType(
        [
            StructField("participant", StringType(), False),
            StructField("window_start", TimestampType(), False),
            StructField("window_end", TimestampType(), False),
            *(StructField(name, DoubleType(), True) for name in numeric),
            *(StructField(name, StringType(), True) for name in categorical),
            StructField("activity", StringType(), True),
            StructField("labelled_rows", LongType(), True),
            StructField("feature_version", IntegerType(), False),
        ]
    )


# --- predictions: window predictions of `watchlake score` (Lake.predictions), partitioned by participant --------
BATCH_PREDICTIONS = StructType(
    [
        StructField("participant", StringType()),
        StructField("window_start", TimestampType()),
        StructField("window_end", TimestampType()),
        StructField("rows", IntegerType()),
        StructField("partial", BooleanType()),
        StructField(
            "activity", StringType()
        ),  # the mapped label of the window's last labelled row; null: none
        StructField("predicted_activity", StringType()),
        StructField("probabilities", ArrayType(DoubleType())),  # in the model's class order
        StructField("class_probabilities", MapType(StringType(), DoubleType())),
        StructField("confidence", DoubleType()),
        StructField("margin", DoubleType()),
        StructField("entropy", DoubleType()),
        StructField("model_name", StringType()),
        StructField("model_version", IntegerType()),
        StructField("source", StringType()),  # "lake" or the staging folder scored
        StructField("run_id", StringType()),
        StructField("scored_at", TimestampType()),
    ]
)

# --- synth: one second of one synthetic watch as streamed into Kafka (JSON value, key = device_id) ----------
# Documented in watchlake/synth/MESSAGE_SCHEMA.md; bump WATCH_MESSAGE_VERSION on any change. A message carries
# the readings of one device from ``event_time`` on, ``interval_ms`` apart: the motion axes as equally long arrays
# (reading k is element k), the location fix, categories and true activity once for all of them.
WATCH_MESSAGE_VERSION = 2
WATCH_MESSAGE_V2 = StructType(
    [
        StructField("schema_version", IntegerType(), False),
        StructField("device_id", StringType(), False),
        StructField("seq", LongType(), False),
        StructField("event_time", TimestampType(), False),
        StructField("interval_ms", IntegerType(), False),
        *_sensor_fields(ArrayType(DoubleType())),
        StructField("true_activity", StringType(), False),
    ]
)
# One reading of a message, as ``watchlake.messages.message_readings`` unpacks it (seq and event_time per reading).
WATCH_READING = StructType(
    [
        StructField("device_id", StringType(), False),
        StructField("seq", LongType(), False),
        StructField("event_time", TimestampType(), False),
        *_sensor_fields(),
        StructField("true_activity", StringType(), False),
    ]
)

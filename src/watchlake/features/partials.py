"""Second partials: the mergeable sums from which every window feature is finished.

A watch's readings are cut into runs of one second (a Kafka message is one such run). Each run gets one array of
partial sums (``SLOTS`` names its layout), computed by the Java function ``watchlake_second_partials``
(jvm/functions, ``SecondPartials``). Partials merge slot by slot, in any order and grouping: a window's partials
are the merge of its seconds' partials, whether Spark merges them in a batch ``groupBy`` (training) or the
per-watch window assembler merges them as messages arrive (streaming prediction).
"""

from __future__ import annotations

from typing import Literal

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from watchlake.jvm import SECOND_PARTIALS
from watchlake.schemas import MOTION_FIELDS

MergeOp = Literal["sum", "min", "max"]

KM_PER_DEGREE = 111.32  # latitude degree; longitude uses the same factor (the absolute latitude is not known)
MAGNITUDES: dict[str, tuple[str, str, str]] = {
    "acceleration_magnitude": ("user_acceleration_x", "user_acceleration_y", "user_acceleration_z"),
    "rotation_magnitude": ("rotation_rate_x", "rotation_rate_y", "rotation_rate_z"),
}
# The motion axes (orientation yaw/pitch/roll included), then the two magnitudes.
CHANNELS: tuple[str, ...] = (*MOTION_FIELDS, *MAGNITUDES)
CHANNEL_SUMS: tuple[tuple[str, MergeOp], ...] = (
    ("sum", "sum"),
    ("sum2", "sum"),
    ("sum3", "sum"),
    ("sum4", "sum"),
    ("min", "min"),
    ("max", "max"),
    ("abs_change", "sum"),
)
# Location kinds in their tie-break order; a location type not listed counts as the last one.
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
# The partials layout, in SecondPartials' order: (name, how two runs' values merge).
SLOTS: tuple[tuple[str, MergeOp], ...] = (
    ("readings", "sum"),
    ("changes", "sum"),
    *((f"{channel}_{part}", op) for channel in CHANNELS for part, op in CHANNEL_SUMS),
    ("speed_sum", "sum"),
    ("speed_count", "sum"),
    ("speed_max", "max"),
    ("distance_sum", "sum"),
    ("distance_count", "sum"),
    ("location_known", "sum"),
    ("battery_full", "sum"),
    *((f"location_{kind}", "sum") for kind in LOCATION_TYPES),
)
SLOT_INDEX: dict[str, int] = {name: index for index, (name, _) in enumerate(SLOTS)}
MERGE_CODES: dict[MergeOp, int] = {"sum": 0, "min": 1, "max": 2}  # WindowAssembler's merge operations
PARTIALS = "partials"
SECOND = "second"


def partials_of(
    motion: list[Column],
    speed: Column,
    latitude: Column,
    longitude: Column,
    location_type: Column,
    battery_state: Column,
) -> Column:
    """``watchlake_second_partials`` of one run: ``motion`` is the nine motion arrays in MOTION_FIELDS order; every
    argument is an array with one element per reading, in time order."""
    return F.call_function(
        SECOND_PARTIALS,
        F.array(*motion),
        speed,
        latitude,
        longitude,
        location_type,
        battery_state,
        F.array(*(F.lit(kind) for kind in LOCATION_TYPES)),
        F.lit(KM_PER_DEGREE),
    )


def message_partials(message: Column) -> Column:
    """Partials of a ``WATCH_MESSAGE_V2`` struct column (a valid message: equal, non-empty motion arrays): one run,
    its location, speed and battery fields holding for every reading."""
    readings = F.size(message[MOTION_FIELDS[0]])

    def each(name: str) -> Column:
        return F.array_repeat(message[name], readings)

    return partials_of(
        [message[name] for name in MOTION_FIELDS],
        each("speed"),
        each("latitude_distance_from_mean"),
        each("longitude_distance_from_mean"),
        each("location_type"),
        each("battery_state"),
    )


def to_seconds(
    readings: DataFrame, *, key_col: str, time_col: str, label_col: str | None = None
) -> DataFrame:
    """Readings -> one row per (``key_col``, whole epoch ``second``) with that second's ``partials``.

    With ``label_col``, also ``_last_labelled`` (the (time, label) struct of the second's last labelled reading,
    or null) and ``_labelled`` (how many of its readings carry a label), merged further by the window step.
    """
    fields = [*MOTION_FIELDS, "speed", "latitude_distance_from_mean", "longitude_distance_from_mean"]
    fields += ["location_type", "battery_state"]
    second = F.floor(F.unix_micros(F.col(time_col)) / 1_000_000).alias(SECOND)
    aggregates = [F.sort_array(F.collect_list(F.struct(F.col(time_col).alias("_t"), *fields))).alias("_run")]
    if label_col is not None:
        aggregates += [
            F.max(F.when(F.col(label_col).isNotNull(), F.struct(F.col(time_col), F.col(label_col)))).alias(
                "_last_labelled"
            ),
            F.count(F.col(label_col)).alias("_labelled"),
        ]
    runs = readings.groupBy(F.col(key_col), second).agg(*aggregates)
    partials = partials_of(
        [F.col(f"_run.{name}") for name in MOTION_FIELDS],
        *(F.col(f"_run.{name}") for name in fields[len(MOTION_FIELDS) :]),
    )
    return runs.select(
        key_col, SECOND, partials.alias(PARTIALS), *(["_last_labelled", "_labelled"] if label_col else [])
    )


def merged(partials: str = PARTIALS) -> list[Column]:
    """Aggregates merging the ``partials`` arrays of a group, one per slot (rebuild with ``F.array``)."""
    functions = {"sum": F.sum, "min": F.min, "max": F.max}
    return [functions[op](F.col(partials)[index]) for index, (_, op) in enumerate(SLOTS)]

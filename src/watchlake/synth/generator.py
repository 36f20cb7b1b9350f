"""Builds the dbldatagen ``DataGenerator`` of synthetic watches from ``ActivityStats``, in code.

One row is one message (``WATCH_MESSAGE_V2``): one device's second of readings at 10 Hz. Row ``id`` -> device
``id % devices``, second ``id div devices``, first reading ``seq = second * 10`` at ``start + second``; the
activity comes from the device's place in the shared schedule (segments are whole seconds, so one message has
one class); the motion axes are arrays of 10 class-conditional normals with the class's means, sds and
correlations (Cholesky), clipped to the class's observed range; the location fix and the categories, one per
message, follow the class's shares and missing fractions. Output columns: ``GENERATED_COLUMNS``.
"""

from __future__ import annotations

from dataclasses import dataclass

import dbldatagen as dg
from pyspark.sql import SparkSession
from pyspark.sql.types import (
    ArrayType,
    DataType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from watchlake.jvm import CORRELATED_NORMALS
from watchlake.schemas import LOCATION_FIELDS, MOTION_FIELDS, WATCH_MESSAGE_V2
from watchlake.stats.model import ActivityStats, ClassStats, Summary
from watchlake.synth import expressions as ex
from watchlake.synth.plan import TICK_SECONDS, TICKS_PER_STEP, Schedule, build_schedule, cholesky_factor

# Message fields (without schema_version) plus what only evaluation and the CASAS writer read; ticks_left is
# the first reading's (reading k has ticks_left - k).
GENERATED_COLUMNS: tuple[str, ...] = (
    *(f.name for f in WATCH_MESSAGE_V2.fields if f.name != "schema_version"),
    "device_index",
    "segment_id",
    "ticks_left",
)
READINGS_PER_MESSAGE = TICKS_PER_STEP  # a message holds one second
_LOCATION_PAIRS = (len(LOCATION_FIELDS) + 1) // 2


@dataclass(frozen=True)
class GeneratorSpec:
    """What a generator is built from; ``start_micros`` is the event time of sequence number 0 (UTC micros)."""

    stats: ActivityStats
    devices: int
    seed: int
    start_micros: int
    schedule_segments: int


def _summary_or_overall(stats: ActivityStats, cls: ClassStats, column: str) -> Summary:
    found = cls.numeric.get(column)
    return found if found is not None and found.count > 0 else stats.overall.numeric[column]


def _add(
    spec: dg.DataGenerator, name: str, kind: DataType, expr: str, base: list[str], omit: bool = True
) -> None:
    spec.withColumn(name, kind, expr=expr, baseColumn=base, omit=omit)


def _add_timeline(spec: dg.DataGenerator, gen: GeneratorSpec, schedule: Schedule) -> None:
    """Device, first sequence number, event time and the activity from the device's place in the schedule."""
    cycle, devices, count = schedule.cycle_ticks // TICKS_PER_STEP, gen.devices, len(schedule.ends)
    place = f"(second + (device_index * {cycle}) div {devices})"  # devices start evenly spread over the cycle
    # One lookup per row in the cycle's per-second segment table (a nested IF would not fit a JIT-able method).
    steps = ", ".join(str(i) for i in schedule.segment_of_step())
    classes = ", ".join(str(c) for c in schedule.segment_class)
    ends = ", ".join(str(e) for e in schedule.ends)
    names = ", ".join(ex.text(name) for name in schedule.classes)
    interval_ms = round(TICK_SECONDS * 1000)
    columns: list[tuple[str, DataType, str, list[str], bool]] = [
        ("device_index", LongType(), f"id % {devices}", ["id"], False),
        ("second", LongType(), f"id div {devices}", ["id"], True),
        ("seq", LongType(), f"second * {READINGS_PER_MESSAGE}", ["second"], False),
        (
            "device_id",
            StringType(),
            "concat('watch-', lpad(cast(device_index AS STRING), 5, '0'))",
            ["device_index"],
            False,
        ),
        (
            "event_time",
            TimestampType(),
            f"timestamp_micros({gen.start_micros} + second * 1000000)",
            ["second"],
            False,
        ),
        ("interval_ms", IntegerType(), str(interval_ms), ["id"], False),
        ("step", LongType(), f"pmod({place}, {cycle})", ["second", "device_index"], True),
        ("segment", IntegerType(), f"element_at(array({steps}), CAST(step AS INT) + 1)", ["step"], True),
        ("class_index", IntegerType(), f"element_at(array({classes}), segment + 1)", ["segment"], True),
        (
            "true_activity",
            StringType(),
            f"element_at(array({names}), class_index + 1)",
            ["class_index"],
            False,
        ),
        (
            "ticks_left",
            LongType(),
            f"element_at(array({ends}), segment + 1) - step * {TICKS_PER_STEP} - 1",
            ["segment", "step"],
            False,
        ),
        (
            "segment_id",
            LongType(),
            f"{place} div {cycle} * {count} + segment",
            ["second", "device_index", "segment"],
            False,
        ),
    ]
    for name, kind, expr, base, omit in columns:
        _add(spec, name, kind, expr, base, omit)


def _add_randomness(spec: dg.DataGenerator, seed: int) -> None:
    """Per message: location normals z0..z6 and the uniforms u_loc and u_battery (motion draws its own)."""
    for p in range(_LOCATION_PAIRS + 1):
        _add(spec, f"h{p}", LongType(), ex.hash_bits(seed * 1000 + 100 + p), ["id"])
    for p in range(_LOCATION_PAIRS):
        first, second = ex.box_muller(f"h{p}")
        _add(spec, f"z{2 * p}", DoubleType(), first, [f"h{p}"])
        _add(spec, f"z{2 * p + 1}", DoubleType(), second, [f"h{p}"])
    last = f"h{_LOCATION_PAIRS}"
    _add(spec, "u_loc", DoubleType(), ex.uniform_high(last), [last])
    _add(spec, "u_battery", DoubleType(), ex.uniform_low(last), [last])


def _add_parameters(spec: dg.DataGenerator, column: str, rows: list[dict[str, float]]) -> str:
    """An omitted struct column ``p_<column>`` with the row's class's parameters of one column; returns its name.

    One small struct per column: whole-stage code generation gives up on rows of more than 100 fields.
    """
    name = f"p_{column}"
    kind = StructType([StructField(field, DoubleType(), False) for field in rows[0]])
    # Listing the last normal as a base column only orders the build: lookups and normals in one select would
    # make one generated method too long for the JIT (> 8000 bytes) and run interpreted, several times slower.
    _add(
        spec,
        name,
        kind,
        ex.class_parameters("class_index", rows),
        ["class_index", f"z{_LOCATION_PAIRS * 2 - 1}"],
    )
    return name


def _motion_parameters(stats: ActivityStats, name: str) -> list[float]:
    """One class's numbers in ``watchlake_correlated_normals`` order: means, sds, minima, maxima of the motion
    axes, then the Cholesky factor's lower triangle row by row."""
    summaries = {
        column: ex.summary_parameters(column, _summary_or_overall(stats, stats.classes[name], column))
        for column in MOTION_FIELDS
    }
    factor = cholesky_factor(stats.classes[name].correlation)
    return [
        *(
            summaries[column][f"{column}_{field}"]
            for field in ("mean", "sd", "min", "max")
            for column in MOTION_FIELDS
        ),
        *(float(factor[axis, j]) for axis in range(len(MOTION_FIELDS)) for j in range(axis + 1)),
    ]


def _add_motion(spec: dg.DataGenerator, stats: ActivityStats, classes: tuple[str, ...], seed: int) -> None:
    """The motion axes, arrays of the message's 10 readings: ``watchlake_correlated_normals`` draws them with the
    class's parameters into one flat array (axis-major), sliced per axis. Written as SQL expressions, 90
    correlated values per row made a generated method beyond the JVM's 64 KB limit (and a slow fallback)."""
    lookup = ex.class_array("class_index", [_motion_parameters(stats, name) for name in classes])
    _add(spec, "p_motion", ArrayType(DoubleType()), lookup, ["class_index"])
    draws = f"{CORRELATED_NORMALS}(id, {seed}, {READINGS_PER_MESSAGE}, {len(MOTION_FIELDS)}, p_motion)"
    _add(spec, "motion", ArrayType(DoubleType()), draws, ["id", "p_motion"])
    for axis, column in enumerate(MOTION_FIELDS):
        first = axis * READINGS_PER_MESSAGE + 1
        expr = f"slice(motion, {first}, {READINGS_PER_MESSAGE})"
        _add(spec, column, ArrayType(DoubleType()), expr, ["motion"], omit=False)


def _add_values(spec: dg.DataGenerator, stats: ActivityStats, classes: tuple[str, ...], seed: int) -> None:
    """Class-conditional values: motion axes correlated through the class's Cholesky factor, location fields
    independent with the class's missing fraction, categories with the class's shares."""
    _add_motion(spec, stats, classes, seed)
    for position, column in enumerate(LOCATION_FIELDS):
        normal = f"z{position}"
        rows = [
            ex.summary_parameters(column, _summary_or_overall(stats, stats.classes[name], column))
            for name in classes
        ]
        params = _add_parameters(spec, column, rows)
        # Not rounded, unlike the motion axes: distances from the mean location can vary by less than 1e-6
        # degrees within a class, and a location fix is only 7 numbers a message.
        value = ex.normal_value(params, column, normal)
        expr = f"if(u_loc < {params}.{column}_missing, CAST(NULL AS DOUBLE), {value})"
        _add(spec, column, DoubleType(), expr, [params, "u_loc", normal], omit=False)
    for column, uniform in (("location_type", "u_loc"), ("battery_state", "u_battery")):
        branches = [ex.categorical(uniform, getattr(stats.classes[name], column)) for name in classes]
        _add(
            spec,
            column,
            StringType(),
            ex.by_class("class_index", branches),
            ["class_index", uniform],
            omit=False,
        )


def build_generator(
    spark: SparkSession, gen: GeneratorSpec, rows: int, partitions: int | None = None
) -> tuple[dg.DataGenerator, Schedule]:
    """The DataGenerator of ``rows`` messages (ids 0..rows-1, 10 readings each) and the schedule it follows.

    ``build()`` gives a batch frame, ``build(withStreaming=True, options={"rowsPerSecond": n})`` a stream whose
    row with id i equals the batch's row i. Columns: ``GENERATED_COLUMNS`` (in that order after select).
    """
    schedule = build_schedule(gen.stats, gen.schedule_segments, gen.seed)
    spec = dg.DataGenerator(
        spark,
        name="synthetic_watches",
        rows=rows,
        partitions=partitions or spark.sparkContext.defaultParallelism,
        randomSeedMethod="hash_fieldname",
        randomSeed=gen.seed,
    )
    _add_timeline(spec, gen, schedule)
    _add_randomness(spec, gen.seed)
    _add_values(spec, gen.stats, schedule.classes, gen.seed)
    return spec, schedule

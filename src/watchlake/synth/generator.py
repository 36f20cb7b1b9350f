"""Builds the dbldatagen ``DataGenerator`` of synthetic watches from ``ActivityStats``, in code.

Row ``id`` -> device ``id % devices``, per-device sequence number ``id div devices``, event time ``start + seq *
0.1 s``; the activity comes from the device's place in the shared schedule; motion axes are class-conditional
normals with the class's means, sds and correlations (Cholesky), clipped to the class's observed range; location
fields and categories follow the class's shares and missing fractions. Output columns: ``GENERATED_COLUMNS``.
"""

from __future__ import annotations

from dataclasses import dataclass

import dbldatagen as dg
from pyspark.sql import SparkSession
from pyspark.sql.types import (
    DataType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from watchlake.schemas import LOCATION_FIELDS, MOTION_FIELDS, WATCH_MESSAGE_V1
from watchlake.stats.model import ActivityStats, ClassStats, Summary
from watchlake.synth import expressions as ex
from watchlake.synth.plan import TICK_SECONDS, TICKS_PER_STEP, Schedule, build_schedule, cholesky_factor

# Message fields (without schema_version) plus what only evaluation and the CASAS writer read.
GENERATED_COLUMNS: tuple[str, ...] = (
    *(f.name for f in WATCH_MESSAGE_V1.fields if f.name != "schema_version"),
    "device_index",
    "segment_id",
    "ticks_left",
)
_NORMALS = len(MOTION_FIELDS) + len(LOCATION_FIELDS)


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
    """Device, sequence number, event time and the activity from the device's place in the schedule."""
    cycle, devices, count = schedule.cycle_ticks, gen.devices, len(schedule.ends)
    micros = round(TICK_SECONDS * 1e6)
    place = f"(seq + (device_index * {cycle}) div {devices})"  # devices start evenly spread over the cycle
    # One lookup per row in the cycle's per-second segment table (a nested IF would not fit a JIT-able method).
    steps = ", ".join(str(i) for i in schedule.segment_of_step())
    classes = ", ".join(str(c) for c in schedule.segment_class)
    ends = ", ".join(str(e) for e in schedule.ends)
    names = ", ".join(ex.text(name) for name in schedule.classes)
    columns: list[tuple[str, DataType, str, list[str], bool]] = [
        ("device_index", LongType(), f"id % {devices}", ["id"], False),
        ("seq", LongType(), f"id div {devices}", ["id"], False),
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
            f"timestamp_micros({gen.start_micros} + seq * {micros})",
            ["seq"],
            False,
        ),
        ("tick", LongType(), f"pmod({place}, {cycle})", ["seq", "device_index"], True),
        (
            "segment",
            IntegerType(),
            f"element_at(array({steps}), CAST(tick div {TICKS_PER_STEP} AS INT) + 1)",
            ["tick"],
            True,
        ),
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
            f"element_at(array({ends}), segment + 1) - tick - 1",
            ["segment", "tick"],
            False,
        ),
        (
            "segment_id",
            LongType(),
            f"{place} div {cycle} * {count} + segment",
            ["seq", "device_index", "segment"],
            False,
        ),
    ]
    for name, kind, expr, base, omit in columns:
        _add(spec, name, kind, expr, base, omit)


def _add_randomness(spec: dg.DataGenerator, seed: int) -> None:
    """Hash columns h0.. and standard normals z0..z15 (motion axes first), uniforms u_loc and u_battery."""
    pairs = (_NORMALS + 1) // 2
    for k in range(pairs + 1):
        _add(spec, f"h{k}", LongType(), ex.hash_bits(seed * 1000 + k), ["id"])
    for k in range(pairs):
        first, second = ex.box_muller(f"h{k}")
        _add(spec, f"z{2 * k}", DoubleType(), first, [f"h{k}"])
        _add(spec, f"z{2 * k + 1}", DoubleType(), second, [f"h{k}"])
    _add(spec, "u_loc", DoubleType(), ex.uniform_high(f"h{pairs}"), [f"h{pairs}"])
    _add(spec, "u_battery", DoubleType(), ex.uniform_low(f"h{pairs}"), [f"h{pairs}"])


def _add_parameters(spec: dg.DataGenerator, column: str, rows: list[dict[str, float]]) -> str:
    """An omitted struct column ``p_<column>`` with the row's class's parameters of one column; returns its name.

    One small struct per column: whole-stage code generation gives up on rows of more than 100 fields.
    """
    name = f"p_{column}"
    kind = StructType([StructField(field, DoubleType(), False) for field in rows[0]])
    # Listing the last normal as a base column only orders the build: lookups and normals in one select would
    # make one generated method too long for the JIT (> 8000 bytes) and run interpreted, several times slower.
    _add(spec, name, kind, ex.class_parameters("class_index", rows), ["class_index", f"z{_NORMALS - 1}"])
    return name


def _add_values(spec: dg.DataGenerator, stats: ActivityStats, classes: tuple[str, ...]) -> None:
    """Class-conditional values: motion axes correlated through the class's Cholesky factor, location fields
    independent with the class's missing fraction, categories with the class's shares."""
    factors = [cholesky_factor(stats.classes[name].correlation) for name in classes]
    normals = [f"z{i}" for i in range(_NORMALS)]
    for axis, column in enumerate(MOTION_FIELDS):
        rows = [
            {
                **ex.summary_parameters(column, _summary_or_overall(stats, stats.classes[name], column)),
                **{f"{column}_l{j}": float(factor[axis, j]) for j in range(axis + 1)},
            }
            for name, factor in zip(classes, factors, strict=True)
        ]
        params = _add_parameters(spec, column, rows)
        weights = " + ".join(f"{params}.{column}_l{j} * {normals[j]}" for j in range(axis + 1))
        expr = ex.normal_value(params, column, weights)
        _add(spec, column, DoubleType(), expr, [params, *normals[: axis + 1]], omit=False)
    for position, column in enumerate(LOCATION_FIELDS):
        normal = normals[len(MOTION_FIELDS) + position]
        rows = [
            ex.summary_parameters(column, _summary_or_overall(stats, stats.classes[name], column))
            for name in classes
        ]
        params = _add_parameters(spec, column, rows)
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
    """The DataGenerator of ``rows`` rows (ids 0..rows-1) and the activity schedule it follows.

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
    _add_values(spec, gen.stats, schedule.classes)
    return spec, schedule

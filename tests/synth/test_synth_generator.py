"""Generated watches follow the statistics they were built from (stated tolerances), deterministically."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual
from synth_stats import BATTERY, LOCATIONS, SHARES, correlation, make_stats

from watchlake.jvm import CORRELATED_NORMALS
from watchlake.schemas import LOCATION_FIELDS, MOTION_FIELDS
from watchlake.stats.model import Summary
from watchlake.synth.generator import GENERATED_COLUMNS, GeneratorSpec, build_generator
from watchlake.synth.plan import TICK_SECONDS, build_schedule, cholesky_factor
from watchlake.synth.transforms import to_readings

START = 1_767_254_400_000_000  # 2026-01-01T08:00:00Z
# Tolerances on ~200k rows (about 40k-100k per class): far above the sampling error (< 0.5% of an sd).
MEAN_TOLERANCE_SDS = 0.03
SD_RELATIVE_TOLERANCE = 0.03
CORRELATION_TOLERANCE = 0.03


def test_build_schedule_class_time_follows_shares() -> None:
    schedule = build_schedule(make_stats(), segments=64, seed=3)
    ticks = schedule.class_ticks()
    total = schedule.cycle_ticks
    assert {name: ticks[name] / total for name in SHARES} == pytest.approx(SHARES, abs=0.001)
    assert list(schedule.ends) == sorted(schedule.ends)
    assert len(schedule.segment_of_step()) * 10 == total


def test_build_schedule_segment_durations_follow_statistics() -> None:
    stats = make_stats()
    schedule = build_schedule(stats, segments=400, seed=3)
    starts = (0, *schedule.ends[:-1])
    durations: dict[str, list[float]] = {name: [] for name in SHARES}
    for cls, start, end in zip(schedule.segment_class, starts, schedule.ends, strict=True):
        durations[schedule.classes[cls]].append((end - start) * TICK_SECONDS)
    for name, found in durations.items():
        # The last segment of each class is cut to fit the class's time budget: leave it out.
        expected = stats.classes[name].segment_seconds
        assert np.mean(sorted(found)[1:]) == pytest.approx(expected.mean, rel=0.15)


def test_cholesky_factor_reproduces_correlation() -> None:
    matrix = np.asarray(correlation(0.5))
    factor = cholesky_factor(matrix)
    assert np.allclose(factor @ factor.T, matrix, atol=1e-6)
    assert np.allclose(factor, np.tril(factor))


def test_cholesky_factor_repairs_inconsistent_pairs() -> None:
    matrix = np.eye(3)
    matrix[0, 1] = matrix[1, 0] = matrix[1, 2] = matrix[2, 1] = 0.9
    matrix[0, 2] = matrix[2, 0] = -0.9  # not positive semi-definite
    repaired = cholesky_factor(matrix) @ cholesky_factor(matrix).T
    assert np.allclose(np.diag(repaired), 1.0)
    assert np.all(np.linalg.eigvalsh(repaired) > -1e-9)


_MASK = (1 << 64) - 1


def _split_mix64(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def reference_draws(key: int, salt: int, readings: int, dims: int, params: list[float]) -> list[float]:
    """watchlake_correlated_normals as its Javadoc specifies it, in plain Python."""
    means, sds, lows, highs = (params[i * dims : (i + 1) * dims] for i in range(4))
    factor, rest = np.zeros((dims, dims)), iter(params[4 * dims :])
    for axis in range(dims):
        for j in range(axis + 1):
            factor[axis, j] = next(rest)
    out = [0.0] * (readings * dims)
    for k in range(readings):
        z: list[float] = []
        for pair in range((dims + 1) // 2):
            bits = _split_mix64(((key * readings + k) * 0x9E3779B97F4A7C15 + (salt << 8) + pair) & _MASK)
            high, low = ((bits >> 32) + 0.5) / 2**32, ((bits & 0xFFFFFFFF) + 0.5) / 2**32
            radius, angle = math.sqrt(-2 * math.log(high)), 2 * math.pi * low
            z += [radius * math.cos(angle), radius * math.sin(angle)]
        for axis in range(dims):
            value = means[axis] + sds[axis] * float(factor[axis] @ np.asarray(z[:dims]))
            out[axis * readings + k] = round(min(max(value, lows[axis]), highs[axis]), 6)
    return out


def test_correlated_normals_function_follows_its_specification(spark) -> None:
    # Three correlated dimensions; the third one's range clips some draws.
    factor = cholesky_factor(np.asarray(correlation(0.6))[:3, :3])
    params = [0.5, -1.0, 2.0, 1.0, 0.1, 3.0, -9.0, -9.0, 1.0, 9.0, 9.0, 4.0]
    params += [float(factor[a, j]) for a in range(3) for j in range(a + 1)]
    literal = ", ".join(f"{value!r}D" for value in params)
    rows = spark.sql(
        f"SELECT key, {CORRELATED_NORMALS}(key, 7, 4, 3, array({literal})) AS draws "
        "FROM VALUES (0L), (1L), (123456789L), (-5L) AS t(key)"
    ).collect()
    for row in rows:
        assert row.draws == pytest.approx(reference_draws(row.key, 7, 4, 3, params), abs=1.5e-6), row.key
    assert max(max(row.draws[8:12]) for row in rows) <= 4.0


def test_correlated_normals_function_rejects_a_wrong_parameter_count(spark) -> None:
    with pytest.raises(Exception, match="params must hold 11 numbers for 2 dimensions, got 3"):
        spark.sql(f"SELECT {CORRELATED_NORMALS}(1L, 7, 4, 2, array(1D, 2D, 3D))").collect()


def generated(spark, messages: int, devices: int, partitions: int | None = None):
    """Generated messages (GENERATED_COLUMNS) of ``devices`` watches, and the schedule they follow."""
    spec, schedule = build_generator(
        spark, GeneratorSpec(make_stats(), devices, 11, START, 64), messages, partitions
    )
    return spec.build().select(*GENERATED_COLUMNS), schedule


def test_generator_rows_depend_only_on_id(spark) -> None:
    one, _ = generated(spark, 2_000, 7, partitions=1)
    three, _ = generated(spark, 2_000, 7, partitions=3)
    assertDataFrameEqual(one, three)


def test_generator_timeline_is_10_hz_per_device(spark) -> None:
    messages, _ = generated(spark, 9, 3)
    first = to_readings(messages).where(F.col("device_index") == 1).orderBy("seq").collect()
    assert [r.seq for r in first] == list(range(30))
    assert {r.device_id for r in first} == {"watch-00001"}
    steps = {(b.event_time - a.event_time).total_seconds() for a, b in itertools.pairwise(first)}
    assert steps == {0.1}


@pytest.fixture(scope="module")
def full_cycle(spark):
    """Readings of three devices, each covering one whole schedule cycle (about 196k readings): class time is
    exact."""
    devices = 3
    _, schedule = generated(spark, 1, devices)
    messages, _ = generated(spark, devices * schedule.cycle_ticks // 10, devices)
    return to_readings(messages).cache()


def class_moments(rows, column: str) -> dict[str, tuple[float, float]]:
    found = rows.groupBy("true_activity").agg(F.avg(column).alias("m"), F.stddev_samp(column).alias("s"))
    return {r.true_activity: (r.m, r.s) for r in found.collect()}


@pytest.mark.slow
def test_generated_label_shares_match(full_cycle) -> None:
    counts = {r.true_activity: r["count"] for r in full_cycle.groupBy("true_activity").count().collect()}
    total = sum(counts.values())
    assert {name: count / total for name, count in counts.items()} == pytest.approx(SHARES, abs=0.001)


@pytest.mark.slow
@pytest.mark.parametrize("column", [*MOTION_FIELDS, "speed", "course"])
def test_generated_means_and_sds_match(full_cycle, column: str) -> None:
    stats = make_stats()
    for name, (mean, sd) in class_moments(full_cycle, column).items():
        expected = stats.classes[name].numeric[column]
        assert abs(mean - expected.mean) <= MEAN_TOLERANCE_SDS * expected.sd, (name, column)
        assert sd == pytest.approx(expected.sd, rel=SD_RELATIVE_TOLERANCE), (name, column)


@pytest.mark.slow
def test_generated_motion_correlations_match(full_cycle) -> None:
    stats = make_stats()
    pairs = [
        ("yaw", "pitch"),
        ("pitch", "roll"),
        ("user_acceleration_x", "user_acceleration_z"),
        ("yaw", "roll"),
    ]
    aggregates = [F.corr(a, b).alias(f"{a}|{b}") for a, b in pairs]
    for row in full_cycle.groupBy("true_activity").agg(*aggregates).collect():
        expected = stats.classes[row.true_activity].correlation
        for a, b in pairs:
            want = expected[MOTION_FIELDS.index(a)][MOTION_FIELDS.index(b)]
            assert row[f"{a}|{b}"] == pytest.approx(want, abs=CORRELATION_TOLERANCE), (
                row.true_activity,
                a,
                b,
            )


@pytest.mark.slow
@pytest.mark.parametrize(("column", "shares"), [("location_type", LOCATIONS), ("battery_state", BATTERY)])
def test_generated_category_shares_match(full_cycle, column: str, shares: dict) -> None:
    counts = full_cycle.groupBy("true_activity", column).count().collect()
    totals: dict[str, int] = {}
    for row in counts:
        totals[row.true_activity] = totals.get(row.true_activity, 0) + row["count"]
    found = {(r.true_activity, r[column]): r["count"] / totals[r.true_activity] for r in counts}
    for (name, value), share in {
        (n, v): s for n, values in shares.items() for v, s in values.items()
    }.items():
        # One draw per message (10 readings): four standard errors of a share among the class's messages.
        draws = totals[name] / 10
        tolerance = 4 * math.sqrt(share * (1 - share) / draws)
        assert found.get((name, value), 0.0) == pytest.approx(share, abs=tolerance), (name, value, draws)
    assert set(found) <= {(n, v) for n, values in shares.items() for v in values}


@pytest.mark.slow
def test_generated_location_fields_missing_together(full_cycle) -> None:
    missing = [F.col(name).isNull() for name in LOCATION_FIELDS]
    row = full_cycle.agg(
        F.sum(F.col("location_type").isNull().cast("int")).alias("type"),
        *(F.sum(m.cast("int")).alias(f"m{i}") for i, m in enumerate(missing)),
    ).collect()[0]
    assert {row[f"m{i}"] for i in range(len(LOCATION_FIELDS))} == {row.type}


@pytest.mark.slow
def test_generated_values_stay_in_observed_range(full_cycle) -> None:
    stats = make_stats()
    bounds = (
        full_cycle.groupBy("true_activity").agg(F.min("yaw").alias("lo"), F.max("yaw").alias("hi")).collect()
    )
    for row in bounds:
        expected = stats.classes[row.true_activity].numeric["yaw"]
        assert expected.min <= row.lo <= row.hi <= expected.max


def test_location_values_that_vary_by_less_than_a_micro_degree_keep_their_spread(spark) -> None:
    # Distances from the mean location can vary by 1e-7 degrees within a class: no rounding may flatten them.
    stats = make_stats()
    relax = stats.classes["Relax"]
    tiny = Summary(10_000, 3e-4, 2e-7, 3e-4 - 1e-6, 3e-4 + 1e-6, 0.0, {0.5: 3e-4})
    stats = dataclasses.replace(
        stats,
        classes={
            **stats.classes,
            "Relax": dataclasses.replace(
                relax, numeric={**relax.numeric, "latitude_distance_from_mean": tiny}
            ),
        },
    )
    spec, _ = build_generator(spark, GeneratorSpec(stats, 3, 11, START, 64), 6_000)
    found = (
        spec.build()
        .where(F.col("true_activity") == "Relax")
        .agg(
            F.stddev_samp("latitude_distance_from_mean").alias("sd"),
            F.count_distinct("latitude_distance_from_mean").alias("n"),
        )
        .first()
    )
    assert found.sd == pytest.approx(2e-7, rel=0.1)
    assert found.n > 1000

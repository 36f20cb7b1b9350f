"""Statistics of tiny inline readings, checked against values worked out by hand."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType
from pyspark.testing import assertDataFrameEqual

from watchlake.labels.mapping import load_mapping
from watchlake.schemas import ACTIVITY_STATS, LOCATION_FIELDS, MOTION_FIELDS, READINGS
from watchlake.stats.classes import with_activity_class
from watchlake.stats.model import ActivityStats
from watchlake.stats.transforms import (
    to_activity_stats,
    to_correlations,
    to_frequencies,
    to_numeric_stats,
    to_temporal_stats,
    with_segments,
)

T0 = datetime(2026, 1, 1, 8, 0, 0)
# A new StructType: StructType.add would change the shared READINGS in place.
CLASSED = StructType([*READINGS.fields, StructField("activity_class", StringType(), True)])
# (seconds after T0, yaw, location_type, battery_state, class): class A for 3 rows, B for 2, a 20 s gap, A again.
ROWS = [
    (0.0, 1.0, "house", "unplugged", "A"),
    (0.1, 2.0, "house", "unplugged", "A"),
    (0.2, 3.0, None, "unplugged", "A"),
    (0.3, 4.0, "road", "full", "B"),
    (0.4, 6.0, "road", "unplugged", "B"),
    (20.4, 5.0, None, None, "A"),
    (20.5, 7.0, "house", "unplugged", "A"),
]


def reading(offset: float, yaw: float, location: str | None, battery: str | None, cls: str | None) -> tuple:
    # pitch = 2 yaw, roll = -yaw; the other motion axes alternate so no pair is constant.
    motion = [yaw, 2 * yaw, -yaw, *[float((i + round(yaw)) % 3) for i in range(6)]]
    location_values = [None if location is None else yaw] * len(LOCATION_FIELDS)
    stamp = T0 + timedelta(seconds=offset)
    return ("p1", stamp, *motion, location, *location_values, battery, None, "f.csv", date(2026, 1, 1), cls)


@pytest.fixture(scope="module")
def readings(spark):
    return spark.createDataFrame([reading(*row) for row in ROWS], CLASSED)


def stat_rows(*rows: tuple) -> list[tuple]:
    return [tuple(row) for row in rows]


def test_to_numeric_stats_yaw_exact(spark, readings) -> None:
    stats = to_numeric_stats(readings, ["yaw"], [0.5], 10_000)
    sd_all = math.sqrt(sum((v - 4.0) ** 2 for v in (1, 2, 3, 4, 6, 5, 7)) / 6)
    expected = [
        ("overall", None, "yaw", "count", None, 7.0),
        ("overall", None, "yaw", "mean", None, 4.0),
        ("overall", None, "yaw", "sd", None, sd_all),
        ("overall", None, "yaw", "min", None, 1.0),
        ("overall", None, "yaw", "max", None, 7.0),
        ("overall", None, "yaw", "null_fraction", None, 0.0),
        ("overall", None, "yaw", "quantile", "0.5", 4.0),
        ("class", "A", "yaw", "count", None, 5.0),
        ("class", "A", "yaw", "mean", None, 3.6),
        ("class", "A", "yaw", "sd", None, math.sqrt(sum((v - 3.6) ** 2 for v in (1, 2, 3, 5, 7)) / 4)),
        ("class", "A", "yaw", "min", None, 1.0),
        ("class", "A", "yaw", "max", None, 7.0),
        ("class", "A", "yaw", "null_fraction", None, 0.0),
        ("class", "A", "yaw", "quantile", "0.5", 3.0),
        ("class", "B", "yaw", "count", None, 2.0),
        ("class", "B", "yaw", "mean", None, 5.0),
        ("class", "B", "yaw", "sd", None, math.sqrt(2.0)),
        ("class", "B", "yaw", "min", None, 4.0),
        ("class", "B", "yaw", "max", None, 6.0),
        ("class", "B", "yaw", "null_fraction", None, 0.0),
        ("class", "B", "yaw", "quantile", "0.5", 4.0),
    ]
    assertDataFrameEqual(stats, spark.createDataFrame(expected, ACTIVITY_STATS), rtol=1e-9)


def test_to_numeric_stats_counts_missing_location(spark, readings) -> None:
    stats = to_numeric_stats(readings, ["speed"], [0.5], 10_000).where(
        F.col("statistic").isin("count", "null_fraction") & (F.col("scope") == "overall")
    )
    expected = [
        ("overall", None, "speed", "count", None, 5.0),
        ("overall", None, "speed", "null_fraction", None, 2 / 7),
    ]
    assertDataFrameEqual(stats, spark.createDataFrame(expected, ACTIVITY_STATS), rtol=1e-9)


def test_to_correlations_linear_axes(readings) -> None:
    rows = {
        (r.activity_class, r.column, r.key): r.value
        for r in to_correlations(readings).where(F.col("column") == "yaw").collect()
    }
    assert rows[(None, "yaw", "pitch")] == pytest.approx(1.0)
    assert rows[(None, "yaw", "roll")] == pytest.approx(-1.0)
    assert rows[("B", "yaw", "roll")] == pytest.approx(-1.0)
    assert len(rows) == 3 * (len(MOTION_FIELDS) - 1)


def test_to_frequencies_shares_include_missing(spark, readings) -> None:
    expected = [
        ("overall", None, "location_type", "share", "house", 3 / 7),
        ("overall", None, "location_type", "share", "road", 2 / 7),
        ("overall", None, "location_type", "share", None, 2 / 7),
        ("class", "A", "location_type", "share", "house", 3 / 5),
        ("class", "A", "location_type", "share", None, 2 / 5),
        ("class", "B", "location_type", "share", "road", 1.0),
    ]
    frequencies = to_frequencies(readings, "location_type")
    assertDataFrameEqual(frequencies, spark.createDataFrame(expected, ACTIVITY_STATS), rtol=1e-9)


def test_to_temporal_stats_sampling_and_segment_durations(spark, readings) -> None:
    temporal = to_temporal_stats(with_segments(readings, 10.0), [0.5], 10_000, 10.0).where(
        F.col("statistic").isin("interval_median_seconds", "sampling_hz", "count", "mean", "max")
    )
    # Segments: A 0.0-0.2 (0.3 s), B 0.3-0.4 (0.2 s), after the 20 s gap A 20.4-20.5 (0.2 s).
    expected = [
        ("overall", None, "stamp", "interval_median_seconds", None, 0.1),
        ("overall", None, "stamp", "sampling_hz", None, 10.0),
        ("overall", None, "segment", "count", None, 3.0),
        ("overall", None, "segment", "mean", None, 0.7 / 3),
        ("overall", None, "segment", "max", None, 0.3),
        ("class", "A", "segment", "count", None, 2.0),
        ("class", "A", "segment", "mean", None, 0.25),
        ("class", "A", "segment", "max", None, 0.3),
        ("class", "B", "segment", "count", None, 1.0),
        ("class", "B", "segment", "mean", None, 0.2),
        ("class", "B", "segment", "max", None, 0.2),
    ]
    assertDataFrameEqual(temporal, spark.createDataFrame(expected, ACTIVITY_STATS), rtol=1e-6)


def test_with_activity_class_spreads_labels_and_drops_ignored(spark) -> None:
    rows = [
        ("p1", T0 + timedelta(seconds=s), label)
        for s, label in ((0, None), (100, "eat"), (200, None), (250, "unknown"), (900, None))
    ]
    readings = spark.createDataFrame(rows, "participant string, stamp timestamp, user_activity_label string")
    classed = with_activity_class(readings, 300.0, load_mapping())
    got = [r.activity_class for r in classed.orderBy("stamp").collect()]
    assert got == ["Mealtime", "Mealtime", None, None, None]


def test_activity_stats_from_rows_reads_every_part(readings) -> None:
    stats = ActivityStats.from_rows(to_activity_stats(readings, [0.5], 10_000, 10.0).collect())
    assert set(stats.classes) == {"A", "B"}
    assert stats.class_shares == pytest.approx({"A": 5 / 7, "B": 2 / 7})
    assert stats.labelled_shares() == pytest.approx({"A": 5 / 7, "B": 2 / 7})
    assert stats.sampling_hz == pytest.approx(10.0)
    assert stats.classes["B"].numeric["yaw"].mean == pytest.approx(5.0)
    assert stats.classes["A"].location_type == pytest.approx({"house": 0.6, None: 0.4})
    assert stats.classes["B"].battery_state == pytest.approx({"full": 0.5, "unplugged": 0.5})
    assert stats.classes["A"].segment_seconds.mean == pytest.approx(0.25)
    correlation = stats.overall.correlation
    assert correlation[0][1] == correlation[1][0] == pytest.approx(1.0)
    assert correlation[0][2] == pytest.approx(-1.0)

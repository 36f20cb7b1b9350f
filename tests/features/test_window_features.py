"""Window features on tiny inline readings with exact expected values."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from watchlake.features.transforms import CATEGORICAL_COLUMNS, FEATURE_COLUMNS, to_windows
from watchlake.schemas import READINGS

T0 = datetime(2020, 1, 1, 6, 0, 0)  # 06:00: hour_sin = 1, hour_cos = 0


def _reading(
    participant, seconds, acc=(0.0, 0.0, 0.0), location=None, speed=None, battery="unplugged", label=None
):
    motion = [0.1, 0.2, 0.3, 0.0, 0.0, 0.0, *acc]
    lat = 0.01 if location else None
    return (
        participant,
        T0 + timedelta(seconds=seconds),
        *motion,
        location,
        lat,
        0.0 if location else None,
        0.0 if location else None,
        None,
        speed,
        None,
        None,
        battery,
        label,
        "f.csv",
        T0.date(),
    )


@pytest.fixture(scope="module")
def readings(spark):
    rows = [
        _reading("p1", 0, acc=(1.0, 0.0, 0.0), location="House", speed=2.0, label="Work"),
        _reading("p1", 10, acc=(2.0, 0.0, 0.0), location="road", speed=-1.0, label="Relax"),
        _reading("p1", 20, acc=(3.0, 4.0, 0.0), location="road", speed=4.0, battery="full"),
        _reading("p1", 30, acc=(4.0, 0.0, 0.0), location="Moon base", speed=None),
        _reading("p1", 60, acc=(5.0, 0.0, 0.0)),
        _reading("p2", 5, acc=(7.0, 0.0, 0.0), label="Sleep"),
    ]
    return spark.createDataFrame(rows, READINGS).withColumnRenamed("user_activity_label", "activity")


@pytest.fixture(scope="module")
def tumbling(readings):
    """Tumbling 60 s windows with labels, collected once (the wide aggregation takes seconds to plan)."""
    return to_windows(readings, window_seconds=60, step_seconds=60, label_col="activity").collect()


def _window(windows, participant, start_seconds):
    start = T0 + timedelta(seconds=start_seconds)
    found = [row for row in windows if row.participant == participant and row.window_start == start]
    assert len(found) == 1
    return found[0]


def test_to_windows_axis_statistics_are_exact(tumbling):
    row = _window(tumbling, "p1", 0)
    assert row.rows == 4
    assert row.user_acceleration_x_mean == pytest.approx(2.5)
    assert row.user_acceleration_x_sd == pytest.approx(math.sqrt(1.25))
    assert (row.user_acceleration_x_min, row.user_acceleration_x_max) == (1.0, 4.0)
    assert row.user_acceleration_x_energy == pytest.approx((1 + 4 + 9 + 16) / 4)
    # Values 1, 2, 3, 4: symmetric (skewness 0), kurtosis E[(x - 2.5)^4] / 1.25^2 = 2.5625 / 1.5625.
    assert row.user_acceleration_x_skewness == pytest.approx(0.0, abs=1e-12)
    assert row.user_acceleration_x_kurtosis == pytest.approx(1.64)
    # One reading per second: no consecutive pair inside a second, no change measured.
    assert row.user_acceleration_x_mean_abs_change == 0.0
    assert row.acceleration_magnitude_max == pytest.approx(5.0)
    assert row.yaw_mean == pytest.approx(0.1) and row.roll_sd == pytest.approx(0.0)
    assert (row.yaw_skewness, row.yaw_kurtosis) == (0.0, 0.0)  # constant: no shape, not rounding noise


def test_to_windows_changes_skewness_and_the_mode_tie(spark):
    # Three readings in one second (x = 1, 3, 2 -> changes 2 and 1), a fourth in the next (x = 10).
    rows = [
        _reading("p1", 0.0, acc=(1.0, 0.0, 0.0), location="road"),
        _reading("p1", 0.1, acc=(3.0, 0.0, 0.0), location="house"),
        _reading("p1", 0.2, acc=(2.0, 0.0, 0.0)),
        _reading("p1", 1.5, acc=(10.0, 0.0, 0.0)),
    ]
    readings = spark.createDataFrame(rows, READINGS)
    [row] = to_windows(readings, window_seconds=60, step_seconds=60).collect()
    assert row.user_acceleration_x_mean_abs_change == pytest.approx(1.5)  # (2 + 1) / 2 pairs
    values = [1.0, 3.0, 2.0, 10.0]
    mean = sum(values) / 4
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / 4)
    assert row.user_acceleration_x_skewness == pytest.approx(sum((v - mean) ** 3 for v in values) / 4 / sd**3)
    assert row.location_type_mode == "house"  # one each: the kind listed first wins


def test_to_windows_needs_whole_seconds(readings):
    with pytest.raises(ValueError, match="whole number of seconds"):
        to_windows(readings, window_seconds=2.5, step_seconds=2.5)


def test_to_windows_context_time_and_label(tumbling):
    row = _window(tumbling, "p1", 0)
    assert row.speed_mean == pytest.approx(3.0)  # the invalid -1 and the null are left out
    assert row.speed_max == pytest.approx(4.0)
    assert row.distance_from_mean_km == pytest.approx(1.1132)
    assert row.location_known_fraction == 1.0
    assert (row.location_house_fraction, row.location_road_fraction, row.location_other_fraction) == (
        0.25,
        0.5,
        0.25,
    )
    assert row.location_type_mode == "road"
    assert row.battery_full_fraction == 0.25
    assert row.hour_sin == pytest.approx(1.0) and row.hour_cos == pytest.approx(0.0, abs=1e-12)
    assert (row.activity, row.labelled_rows) == ("Relax", 2)  # the last labelled row wins


def test_to_windows_missing_context_gets_sentinels_and_no_nulls(tumbling):
    row = _window(tumbling, "p1", 60)
    assert (row.speed_mean, row.distance_from_mean_km, row.location_known_fraction) == (-1.0, -1.0, 0.0)
    assert (row.location_type_mode, row.activity, row.rows) == ("unknown", None, 1)
    assert all(row[name] is not None for name in FEATURE_COLUMNS)


def test_to_windows_sliding_windows_and_keys(readings):
    windows = to_windows(readings, window_seconds=60, step_seconds=30)
    keys = sorted(
        (row.participant, (row.window_start - T0).total_seconds(), row.rows) for row in windows.collect()
    )
    assert keys == [
        ("p1", -30.0, 3),
        ("p1", 0.0, 4),
        ("p1", 30.0, 2),
        ("p1", 60.0, 1),
        ("p2", -30.0, 1),
        ("p2", 0.0, 1),
    ]
    assert windows.columns[:3] == ["participant", "window_start", "window_end"]
    assert set(windows.columns) == {
        "participant",
        "window_start",
        "window_end",
        *FEATURE_COLUMNS,
        *CATEGORICAL_COLUMNS,
    }


def test_to_windows_key_and_time_columns_are_parameters(readings):
    stream_like = readings.withColumnRenamed("participant", "device_id").withColumnRenamed(
        "stamp", "event_time"
    )
    windows = to_windows(
        stream_like, window_seconds=60, step_seconds=60, key_col="device_id", time_col="event_time"
    )
    assert sorted(row.device_id for row in windows.collect()) == ["p1", "p1", "p2"]

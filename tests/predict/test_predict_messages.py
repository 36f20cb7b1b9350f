from __future__ import annotations

import json
from datetime import datetime

import pytest

from watchlake.predict.messages import MAX_READINGS_PER_MESSAGE, REQUIRED_FIELDS, split_messages
from watchlake.schemas import MOTION_FIELDS, WATCH_READING

KAFKA_DDL = "key binary, value binary, topic string, partition int, offset long, timestamp timestamp"
ARRIVED = datetime(2026, 1, 1, 12, 0, 5)


def message(**changes: object) -> dict[str, object]:
    """A valid V2 message of three readings (yaw 0.5, 0.6, 0.7; the other axes 0.5), with ``changes`` applied
    (a change to None drops the field)."""
    body: dict[str, object] = {
        "schema_version": 2,
        "device_id": "w1",
        "seq": 7,
        "event_time": "2026-01-01T12:00:00.100",
        "interval_ms": 100,
        **{axis: [0.5, 0.5, 0.5] for axis in MOTION_FIELDS},
        "yaw": [0.5, 0.6, 0.7],
        "location_type": "house",
        "speed": 1.5,
        "battery_state": "unplugged",
        "true_activity": "Relax",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def kafka_rows(spark, values: list[bytes | None]):
    rows = [(b"w1", value, "t", 0, offset, ARRIVED) for offset, value in enumerate(values)]
    return spark.createDataFrame(rows, KAFKA_DDL)


def encode(body: dict[str, object]) -> bytes:
    return json.dumps(body).encode()


def test_split_messages_valid_message_becomes_one_row_per_reading(spark) -> None:
    readings, dead = split_messages(kafka_rows(spark, [encode(message())]), max_bytes=10_000)
    assert dead.count() == 0
    assert readings.columns == [*WATCH_READING.fieldNames(), "arrived_at"]
    rows = sorted(readings.collect(), key=lambda row: row.seq)
    assert [(row.seq, row.yaw, row.pitch) for row in rows] == [(7, 0.5, 0.5), (8, 0.6, 0.5), (9, 0.7, 0.5)]
    assert [row.event_time for row in rows] == [
        datetime(2026, 1, 1, 12, 0, 0, 100_000),
        datetime(2026, 1, 1, 12, 0, 0, 200_000),
        datetime(2026, 1, 1, 12, 0, 0, 300_000),
    ]
    assert {(row.device_id, row.location_type, row.speed, row.true_activity) for row in rows} == {
        ("w1", "house", 1.5, "Relax")
    }
    assert {row.arrived_at for row in rows} == {ARRIVED}
    assert {row.latitude_distance_from_mean for row in rows} == {None}


def with_axis(axis: str, values: list[object]) -> bytes:
    return encode(message(**{axis: values}))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"", "empty message"),
        (None, "empty message"),
        (b"{not json", "not a JSON document"),
        (b"\xff\xfe\x00garbage", "not a JSON document"),
        (b"[1, 2, 3]", "schema_version is not 2"),
        (encode(message(schema_version=3)), "schema_version is not 2"),
        (encode(message(yaw=None)), "missing or mistyped field: yaw"),
        (encode(message(pitch="high")), "missing or mistyped field: pitch"),
        (encode(message(pitch=0.5)), "missing or mistyped field: pitch"),
        (with_axis("roll", [0.5, "north", 0.5]), "missing or mistyped field: roll"),
        (encode(message(event_time="yesterday")), "missing or mistyped field: event_time"),
        (encode(message(device_id=None)), "missing or mistyped field: device_id"),
        (encode(message(interval_ms=None)), "missing or mistyped field: interval_ms"),
        (encode(message(true_activity="x" * 5000)), "message larger than 2000 bytes"),
        (with_axis("roll", [0.5, 0.5]), "motion arrays differ in length"),
        (encode(message(**{axis: [] for axis in MOTION_FIELDS})), "motion arrays are empty"),
        (
            with_axis("user_acceleration_z", [0.5, None, 0.5]),
            "null reading in motion array: user_acceleration_z",
        ),
        (encode(message(interval_ms=0)), "interval_ms is not positive"),
        (encode(message(interval_ms=-100)), "interval_ms is not positive"),
    ],
)
def test_split_messages_bad_message_is_a_dead_letter_with_reason(spark, value, reason) -> None:
    readings, dead = split_messages(kafka_rows(spark, [encode(message()), value]), max_bytes=2000)
    assert readings.count() == 3
    letter = dead.collect()
    assert [(row.kafka_offset, row.reason) for row in letter] == [(1, reason)]
    assert letter[0].raw_size == len(value or b"")


def test_split_messages_v1_message_is_a_dead_letter(spark) -> None:
    v1 = {
        "schema_version": 1,
        "device_id": "w1",
        "seq": 7,
        "event_time": "2026-01-01T12:00:00.100",
        **{axis: 0.5 for axis in MOTION_FIELDS},
        "true_activity": "Relax",
    }
    readings, dead = split_messages(kafka_rows(spark, [encode(v1)]), max_bytes=2000)
    assert readings.count() == 0
    assert [row.reason for row in dead.collect()] == ["schema_version is not 2"]


def test_split_messages_too_many_readings_is_a_dead_letter(spark) -> None:
    many = [0] * (MAX_READINGS_PER_MESSAGE + 1)
    value = encode(message(**{axis: many for axis in MOTION_FIELDS}))
    readings, dead = split_messages(kafka_rows(spark, [value]), max_bytes=len(value))
    assert readings.count() == 0
    assert [row.reason for row in dead.collect()] == [
        f"motion arrays hold more than {MAX_READINGS_PER_MESSAGE} readings"
    ]


def test_required_fields_are_the_ones_features_need() -> None:
    assert set(MOTION_FIELDS) <= set(REQUIRED_FIELDS)
    assert {"device_id", "event_time", "schema_version", "seq", "interval_ms"} <= set(REQUIRED_FIELDS)

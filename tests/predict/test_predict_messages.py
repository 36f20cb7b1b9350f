from __future__ import annotations

import json
from datetime import datetime

import pytest

from watchlake.predict.messages import REQUIRED_FIELDS, split_messages
from watchlake.schemas import MOTION_FIELDS

KAFKA_DDL = "key binary, value binary, topic string, partition int, offset long, timestamp timestamp"
ARRIVED = datetime(2026, 1, 1, 12, 0, 5)


def message(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "schema_version": 1,
        "device_id": "w1",
        "seq": 7,
        "event_time": "2026-01-01T12:00:00.100",
        **{axis: 0.5 for axis in MOTION_FIELDS},
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


def test_split_messages_valid_message_becomes_a_reading(spark) -> None:
    readings, dead = split_messages(kafka_rows(spark, [encode(message())]), max_bytes=10_000)
    assert dead.count() == 0
    row = readings.collect()[0]
    assert (row.device_id, row.seq, row.yaw, row.location_type) == ("w1", 7, 0.5, "house")
    assert row.event_time == datetime(2026, 1, 1, 12, 0, 0, 100_000)
    assert row.arrived_at == ARRIVED
    assert row.latitude_distance_from_mean is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"", "empty message"),
        (None, "empty message"),
        (b"{not json", "not a JSON document"),
        (b"\xff\xfe\x00garbage", "not a JSON document"),
        (b"[1, 2, 3]", "schema_version is not 1"),
        (encode(message(schema_version=2)), "schema_version is not 1"),
        (encode(message(yaw=None)), "missing or mistyped field: yaw"),
        (encode(message(pitch="high")), "missing or mistyped field: pitch"),
        (encode(message(event_time="yesterday")), "missing or mistyped field: event_time"),
        (encode(message(device_id=None)), "missing or mistyped field: device_id"),
        (encode(message(true_activity="x" * 5000)), "message larger than 2000 bytes"),
    ],
)
def test_split_messages_bad_message_is_a_dead_letter_with_reason(spark, value, reason) -> None:
    readings, dead = split_messages(kafka_rows(spark, [encode(message()), value]), max_bytes=2000)
    assert readings.count() == 1
    letter = dead.collect()
    assert [(row.kafka_offset, row.reason) for row in letter] == [(1, reason)]
    assert letter[0].raw_size == len(value or b"")


def test_required_fields_are_the_ones_features_need() -> None:
    assert set(MOTION_FIELDS) <= set(REQUIRED_FIELDS)
    assert {"device_id", "event_time", "schema_version"} <= set(REQUIRED_FIELDS)

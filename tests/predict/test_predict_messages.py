from __future__ import annotations

import json
from datetime import datetime

import pytest

from partials_reference import reference_partials
from watchlake.features.assembly import PASSTHROUGH, passthrough_of
from watchlake.predict.messages import (
    MAX_MESSAGE_MILLIS,
    MAX_READINGS_PER_MESSAGE,
    REQUIRED_FIELDS,
    to_assembler_rows,
)
from watchlake.schemas import MOTION_FIELDS

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


def split(spark, values: list[bytes | None], max_bytes: int) -> tuple[list, list]:
    """(partials rows, dead letters) of ``to_assembler_rows`` on Kafka rows of ``values``."""
    rows = to_assembler_rows(kafka_rows(spark, values), max_bytes).cache()
    return rows.where(f"{PASSTHROUGH} IS NULL").collect(), passthrough_of(rows).collect()


def test_valid_message_becomes_the_partials_of_its_second(spark) -> None:
    valid, dead = split(spark, [encode(message())], max_bytes=10_000)
    assert dead == []
    [row] = valid
    assert (row.key, row.second, row.arrived_at) == ("w1", 1_767_268_800, ARRIVED)
    assert row.event_time == datetime(2026, 1, 1, 12, 0, 0, 100_000)
    body = message()
    expected = reference_partials(
        {axis: body[axis] for axis in MOTION_FIELDS},
        speed=[1.5] * 3,
        latitude=[None] * 3,
        longitude=[None] * 3,
        location_type=["house"] * 3,
        battery_state=["unplugged"] * 3,
    )
    assert row.partials == pytest.approx(expected, rel=1e-12)


BAD_DEVICE_ID = "device_id is not 1-64 characters without control characters"


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
        (encode(message(interval_ms=400)), f"readings span more than {MAX_MESSAGE_MILLIS} ms"),
        (encode(message(device_id="")), BAD_DEVICE_ID),
        (encode(message(device_id="w" * 65)), BAD_DEVICE_ID),
        (encode(message(device_id="w\u0000")), BAD_DEVICE_ID),
        (encode(message(device_id="w\n1")), BAD_DEVICE_ID),
    ],
)
def test_bad_message_is_a_dead_letter_with_reason(spark, value, reason) -> None:
    valid, letter = split(spark, [encode(message()), value], max_bytes=2000)
    assert [row.key for row in valid] == ["w1"]
    assert [(row.kafka_offset, row.reason, row.received_at) for row in letter] == [(1, reason, ARRIVED)]
    assert letter[0].raw_size == len(value or b"")


def test_v1_message_is_a_dead_letter(spark) -> None:
    v1 = {
        "schema_version": 1,
        "device_id": "w1",
        "seq": 7,
        "event_time": "2026-01-01T12:00:00.100",
        **{axis: 0.5 for axis in MOTION_FIELDS},
        "true_activity": "Relax",
    }
    valid, dead = split(spark, [encode(v1)], max_bytes=2000)
    assert valid == []
    assert [row.reason for row in dead] == ["schema_version is not 2"]


def test_too_many_readings_is_a_dead_letter(spark) -> None:
    many = [0] * (MAX_READINGS_PER_MESSAGE + 1)
    value = encode(message(interval_ms=1, **{axis: many for axis in MOTION_FIELDS}))
    valid, dead = split(spark, [value], max_bytes=len(value))
    assert valid == []
    assert [row.reason for row in dead] == [
        f"motion arrays hold more than {MAX_READINGS_PER_MESSAGE} readings"
    ]


def test_required_fields_are_the_ones_features_need() -> None:
    assert set(MOTION_FIELDS) <= set(REQUIRED_FIELDS)
    assert {"device_id", "event_time", "schema_version", "seq", "interval_ms"} <= set(REQUIRED_FIELDS)

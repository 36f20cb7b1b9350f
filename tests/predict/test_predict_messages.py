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
WRONG = "wrong JSON type for "
NOT_UNICODE = "{} is not valid Unicode text (an unpaired UTF-16 surrogate escape)"
NAN, INF = float("nan"), float("inf")


def replace(body: dict[str, object], placeholder: bytes, raw: bytes) -> bytes:
    """``body`` as JSON with ``placeholder`` replaced by ``raw`` bytes (what json.dumps cannot write)."""
    return encode(body).replace(placeholder, raw, 1)


def with_axis(axis: str, values: list[object]) -> bytes:
    return encode(message(**{axis: values}))


# (raw Kafka value, the dead letter's reason): checked together, in one Spark job.
BAD_MESSAGES: list[tuple[bytes | None, str]] = [
    (b"", "empty message"),
    (None, "empty message"),
    (b"{not json", "not a JSON document"),
    (b"\xff\xfe\x00garbage", "not a JSON document"),
    (b"[1, 2, 3]", "the message is a JSON array, not an object"),
    (b"5", "the message is a JSON number, not an object"),
    (b'"watch"', "the message is a JSON string, not an object"),
    (b"true", "the message is JSON true or false, not an object"),
    (b"null", "the message is JSON null, not an object"),
    (b'{"device_id": "w0", ' + encode(message())[1:], "duplicate key 'device_id'"),
    (replace(message(device_id="w#"), b"#", b"\xff"), "not UTF-8 text"),
    (encode(message(schema_version=3)), "schema_version is not 2"),
    (encode(message(yaw=None)), "missing field: yaw"),
    (encode(message(pitch="high")), "pitch is not an array of numbers"),
    (encode(message(pitch=0.5)), "pitch is not an array of numbers"),
    (with_axis("roll", [0.5, "north", 0.5]), "roll is not an array of numbers"),
    (encode(message(event_time="yesterday")), "event_time is not an ISO-8601 time"),
    (
        encode(message(event_time=1_767_268_800)),
        f"{WRONG}event_time: a number where a string (an ISO-8601 time) belongs",
    ),
    (encode(message(device_id=None)), "missing field: device_id"),
    (replace(message(device_id="#"), b'"#"', b"null"), "required field is null: device_id"),
    (encode(message(device_id=12345)), f"{WRONG}device_id: a number where a string belongs"),
    (encode(message(device_id=["w1"])), f"{WRONG}device_id: an array where a string belongs"),
    (encode(message(true_activity={"a": 1})), f"{WRONG}true_activity: an object where a string belongs"),
    (encode(message(location_type=5)), f"{WRONG}location_type: a number where a string belongs"),
    (encode(message(battery_state=True)), f"{WRONG}battery_state: true or false where a string belongs"),
    (encode(message(speed="fast")), f"{WRONG}speed: a string where a number belongs"),
    (encode(message(course=False)), f"{WRONG}course: true or false where a number belongs"),
    (encode(message(seq=7.5)), "seq is not an integer of at most 64 bits"),
    (encode(message(seq="7")), "seq is not an integer of at most 64 bits"),
    (encode(message(seq=2**64)), "seq is not an integer of at most 64 bits"),
    (encode(message(interval_ms=3_000_000_000)), "interval_ms is not an integer of at most 32 bits"),
    (encode(message(schema_version=2.0)), "schema_version is not 2"),
    (encode(message(schema_version="2")), "schema_version is not 2"),
    (encode(message(interval_ms=None)), "missing field: interval_ms"),
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
    (with_axis("yaw", [0.5, NAN, 0.5]), "yaw[1] is not a finite number"),
    (with_axis("pitch", [0.5, 0.5, INF]), "pitch[2] is not a finite number"),
    (with_axis("roll", [-INF, 0.5, 0.5]), "roll[0] is not a finite number"),
    (
        replace(message(rotation_rate_x=[0.5, "#", 0.5]), b'"#"', b"1e400"),
        "rotation_rate_x[1] is not a finite number",
    ),
    (
        replace(message(rotation_rate_y=[0.5, "#", 0.5]), b'"#"', b"-1e400"),
        "rotation_rate_y[1] is not a finite number",
    ),
    (
        with_axis("user_acceleration_x", [0.5, "NaN", 0.5]),
        f"{WRONG}user_acceleration_x[1]: a string where a number belongs",
    ),
    (
        with_axis("user_acceleration_y", ["Infinity", 0.5, 0.5]),
        f"{WRONG}user_acceleration_y[0]: a string where a number belongs",
    ),
    (encode(message(speed=NAN)), "speed is not a finite number"),
    (
        replace(message(latitude_distance_from_mean="#"), b'"#"', b"1e400"),
        "latitude_distance_from_mean is not a finite number",
    ),
    (encode(message(course=-INF)), "course is not a finite number"),
    (encode(message(device_id="w\ud800")), NOT_UNICODE.format("device_id")),
    (encode(message(device_id="w\udc00")), NOT_UNICODE.format("device_id")),
    (encode(message(device_id="w\udc00\ud800")), NOT_UNICODE.format("device_id")),
    (encode(message(true_activity="Relax\ud83d")), NOT_UNICODE.format("true_activity")),
    (replace(message(device_id="w#"), b"#", b"\\\\\\ud800"), NOT_UNICODE.format("device_id")),
    (
        replace(message(), b'"seq"', b'"note": "\\ud800", "seq"'),
        "a string of the message is not valid Unicode text (an unpaired UTF-16 surrogate escape)",
    ),
    (with_axis("yaw", [0.5, 0.5, -INF]), "yaw[2] is not a finite number"),
    (with_axis("pitch", [INF, NAN, 0.5]), "pitch[0] is not a finite number"),
    (with_axis("roll", [0.5, 0.5, "-Infinity"]), f"{WRONG}roll[2]: a string where a number belongs"),
    (encode(message(speed="NaN")), f"{WRONG}speed: a string where a number belongs"),
    (encode(message(device_id=True)), f"{WRONG}device_id: true or false where a string belongs"),
    (encode(message(device_id=12.5)), f"{WRONG}device_id: a number where a string belongs"),
    (b"1e400", "the message is a JSON number, not an object"),
    (b'{"device_id": 1, "device_id": 2}', "duplicate key 'device_id'"),
]


def test_bad_messages_are_dead_letters_with_their_reasons(spark) -> None:
    values = [encode(message()), *(value for value, _ in BAD_MESSAGES)]
    valid, letters = split(spark, values, max_bytes=2000)
    assert [row.key for row in valid] == ["w1"]
    found = {row.kafka_offset: (row.reason, row.raw_size, row.received_at) for row in letters}
    expected = {
        offset: (reason, len(value or b""), ARRIVED)
        for offset, (value, reason) in enumerate(BAD_MESSAGES, start=1)
    }
    wrong = {
        offset: (BAD_MESSAGES[offset - 1][0], found.get(offset))
        for offset in expected
        if found.get(offset) != expected[offset]
    }
    assert wrong == {}


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


def test_valid_device_ids_are_kept_exactly_as_sent(spark) -> None:
    ids = ["12345", "w?", "w\ufffd", "\U0001f600 watch", "w\\ud800", "über-watch", "w" * 64]
    valid, dead = split(spark, [encode(message(device_id=device_id)) for device_id in ids], max_bytes=10_000)
    assert dead == []
    assert sorted(row.key for row in valid) == sorted(ids)


def test_optional_fields_may_be_null_or_absent_and_integers_are_numbers(spark) -> None:
    body = message(speed=1, location_type=None, course=None)
    value = encode({**body, "course": None, "altitude_distance_from_mean": 2})
    valid, dead = split(spark, [value], max_bytes=10_000)
    assert dead == []
    [row] = valid
    expected = reference_partials(
        {axis: body[axis] for axis in MOTION_FIELDS},
        speed=[1.0] * 3,
        latitude=[None] * 3,
        longitude=[None] * 3,
        location_type=[None] * 3,
        battery_state=["unplugged"] * 3,
    )
    assert row.partials == pytest.approx(expected, rel=1e-12)

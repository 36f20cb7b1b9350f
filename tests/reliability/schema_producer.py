"""A watch producer written from ``src/watchlake/synth/MESSAGE_SCHEMA.md`` alone, as an outside team would write
one: hand-built JSON values, kafka-python, no watchlake import. The reliability tests stream its known event sets.

Every device sends one message per second with 10 readings 100 ms apart, so each whole minute of a device is one
60 s window of 600 readings once the predictor has it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

START = datetime(2026, 3, 1, 9, 0, 0)
READINGS = 10
MOTION = (
    "yaw",
    "pitch",
    "roll",
    "rotation_rate_x",
    "rotation_rate_y",
    "rotation_rate_z",
    "user_acceleration_x",
    "user_acceleration_y",
    "user_acceleration_z",
)
# user_acceleration_x per device (the tiny test model reads its class from it).
DEVICES = {"watch-relax": 0.1, "watch-work": 0.5, "watch-exercise": 0.9}
FLUSH_DEVICE = "watch-flush"


def stamp(when: datetime) -> str:
    """ISO-8601 UTC with milliseconds, as the schema's example: ``2026-01-01T08:00:04.000Z``."""
    return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond // 1000:03d}Z"


def message(device: str, second: int, accel_x: float, readings: int = READINGS) -> dict[str, Any]:
    """The schema's object for ``device``'s second ``second`` after START (every field, in the schema's order)."""
    return {
        "schema_version": 2,
        "device_id": device,
        "seq": second * READINGS,
        "event_time": stamp(START + timedelta(seconds=second)),
        "interval_ms": 100,
        **{axis: [0.5] * readings for axis in MOTION},
        "user_acceleration_x": [accel_x] * readings,
        "location_type": "house",
        "latitude_distance_from_mean": 0.0003,
        "longitude_distance_from_mean": -0.0011,
        "altitude_distance_from_mean": 2.5,
        "course": 181.0,
        "speed": 0.0,
        "horizontal_accuracy": 10.0,
        "vertical_accuracy": 6.0,
        "battery_state": "unplugged",
        "true_activity": "Relax",
    }


def encoded(body: dict[str, Any]) -> tuple[str, bytes]:
    """A (key, value) record: the key is the device id, the value the UTF-8 JSON object."""
    return body["device_id"], json.dumps(body).encode()


def minute(index: int) -> list[tuple[str, bytes]]:
    """Minute ``index`` after START of every device: 60 messages each."""
    return [
        encoded(message(device, index * 60 + second, accel_x))
        for second in range(60)
        for device, accel_x in DEVICES.items()
    ]


def flush(at_minute: int) -> list[tuple[str, bytes]]:
    """One reading of another device at ``at_minute``: moves the watermark past every earlier window."""
    return [encoded(message(FLUSH_DEVICE, at_minute * 60, 0.5, readings=1))]


def windows(minutes: Iterable[int]) -> set[tuple[str, datetime]]:
    """The (device, window start) pairs the predictor must write for these minutes."""
    return {(device, START + timedelta(minutes=m)) for device in DEVICES for m in minutes}


def send(bootstrap_servers: str, topic: str, records: Iterable[tuple[str, bytes | None]]) -> int:
    """Send ``records`` with acks=all and wait for every one; returns how many."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=5)
    sent = 0
    try:
        for key, value in records:
            producer.send(topic, key=key.encode("utf-8", "surrogatepass"), value=value)
            sent += 1
        producer.flush()
    finally:
        producer.close()
    return sent

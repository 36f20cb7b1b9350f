"""A window's messages read back from the real Kafka, and the oracle labelling the queue through the API with the
generator's ground truth."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import pytest
from annotate_fixtures import T0, RecordingSink, fill_queue, probabilities, query, queue_row

from conftest import make_settings
from fixtures_services import kafka_overrides, warehouse_overrides
from watchlake.annotate.oracle import run_oracle
from watchlake.annotate.readings import MOTION_AXES, read_window

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _ramp(second: int, k: int, i: int) -> float:
    """Reading k of a second on axis i: exact values a test can check."""
    return round(0.001 * (second * 10 + k) + i, 6)


def _wave(second: int, k: int, i: int) -> float:
    """Reading k of a second on axis i: an arm swinging (for the screenshot)."""
    t = second + k / 10
    scale = 0.35 if i < 3 else 1.6
    return round(scale * (math.sin(t * (1.3 + 0.4 * i) + i) + 0.3 * math.sin(t * 7.1 * (i + 1))), 6)


def _message(device: str, second: int, activity: str, shape=_ramp) -> dict:
    at = T0 + timedelta(seconds=second)
    values = {axis: [shape(second, k, i) for k in range(10)] for i, axis in enumerate(MOTION_AXES)}
    return {
        "schema_version": 2,
        "device_id": device,
        "seq": (second + 100) * 10,
        "event_time": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "interval_ms": 100,
        "yaw": [0.1] * 10,
        "pitch": [0.2] * 10,
        "roll": [0.3] * 10,
        **values,
        "location_type": "house",
        "latitude_distance_from_mean": 0.0,
        "longitude_distance_from_mean": 0.0,
        "altitude_distance_from_mean": 0.0,
        "course": 0.0,
        "speed": 0.0,
        "horizontal_accuracy": 5.0,
        "vertical_accuracy": 3.0,
        "battery_state": "unplugged",
        "true_activity": activity,
    }


def _produce(settings, activities: dict[str, str], shape=_ramp) -> None:
    """Seconds -100..159 of each watch, interleaved as the generator sends them; inside the window [0, 60) the
    watch does its class, outside it something else (the read must keep to the window)."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers.split(","))
    for second in range(-100, 160):
        for device, activity in activities.items():
            inside = 0 <= second < 60
            value = json.dumps(_message(device, second, activity if inside else "Sleep", shape)).encode()
            producer.send(settings.kafka.topic, key=device.encode(), value=value)
    producer.flush()
    producer.close()


@pytest.fixture
def settings(tmp_path, kafka_service, kafka_topic, postgres_service, pg_schema):
    return make_settings(
        tmp_path,
        **kafka_overrides(kafka_service, kafka_topic),
        **warehouse_overrides(postgres_service, pg_schema),
    )


def test_read_window_gives_the_windows_readings_in_order(settings):
    _produce(settings, {"watch-1": "Walk", "watch-2": "Eat", "watch-3": "Cook"})
    found = read_window(settings, "watch-2", T0, T0 + timedelta(seconds=60))
    assert found is not None
    assert len(found.seconds) == 600
    assert found.seconds[:3] == [0.0, 0.1, 0.2] and found.seconds[-1] == 59.9
    assert found.axes["user_acceleration_x"][:2] == [0.0, 0.001]
    assert found.axes["rotation_rate_z"][-1] == pytest.approx(5.599)
    assert set(found.true_activities) == {"Eat"} and found.true_activity == "Eat"
    assert read_window(settings, "watch-9", T0, T0 + timedelta(seconds=60)) is None


def test_read_window_finds_a_window_behind_later_event_times(settings):
    """A partition whose event times go back (a fresh stream after a faster one): the offset search misses the
    window, the scan finds it."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers.split(","))
    for second in [*range(3000, 3100), *range(0, 60), *range(3100, 3200)]:
        value = json.dumps(_message("watch-1", second, "Walk" if second < 60 else "Sleep")).encode()
        producer.send(settings.kafka.topic, key=b"watch-1", value=value)
    producer.flush()
    producer.close()
    found = read_window(settings, "watch-1", T0, T0 + timedelta(seconds=60))
    assert found is not None and len(found.seconds) == 600 and found.true_activity == "Walk"


def test_oracle_labels_the_queue_with_the_ground_truth(settings):
    _produce(settings, {"watch-1": "Walk", "watch-2": "Eat"})
    fill_queue(
        settings,
        [
            queue_row("watch-1", T0, probabilities(0.4)),
            queue_row("watch-2", T0, probabilities(0.6)),
            queue_row("watch-3", T0, probabilities(0.5)),  # nothing in Kafka: skipped
        ],
    )
    sink = RecordingSink()
    result = run_oracle(settings, sink=sink)
    assert (result.labelled, result.skipped, result.noisy, result.refused) == (2, 1, 0, 0)
    assert sorted((label.device_id, label.label, label.annotator) for label in sink.labels) == [
        ("watch-1", "Walk", "oracle"),
        ("watch-2", "Eat", "oracle"),
    ]
    stored = query(settings, "SELECT device_id, label FROM {schema}.annotation_labels ORDER BY device_id")
    assert stored == [("watch-1", "Walk"), ("watch-2", "Eat")]
    again = run_oracle(settings, sink=sink)  # the queue is empty for the oracle now
    assert (again.labelled, again.skipped) == (0, 0)


def test_oracle_noise_and_limit(tmp_path, postgres_service, pg_schema):
    settings = make_settings(
        tmp_path, **warehouse_overrides(postgres_service, pg_schema), annotate={"oracle_noise": 1.0}
    )
    fill_queue(settings, [queue_row(f"watch-{i}", T0, probabilities(0.3 + i / 20)) for i in range(5)])
    sink = RecordingSink()
    result = run_oracle(settings, limit=3, sink=sink, truth=lambda *_: "Walk")
    assert (result.labelled, result.noisy) == (3, 3)
    assert len(sink.labels) == 3 and all(label.label != "Walk" for label in sink.labels)
    assert query(settings, "SELECT count(*) FROM {schema}.annotation_labels") == [(3,)]

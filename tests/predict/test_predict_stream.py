"""End to end on the real broker and PostgreSQL: Kafka messages -> predictor -> warehouse rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyspark.errors import StreamingQueryException

from conftest import make_settings
from fixtures_services import kafka_overrides, warehouse_overrides
from fixtures_services import warehouse_query as warehouse_rows
from watchlake.predict.job import run
from watchlake.registry.registry import ModelRegistry
from watchlake.schemas import MOTION_FIELDS

pytestmark = [pytest.mark.slow, pytest.mark.services]

START = datetime(2026, 3, 1, 9, 0, 0)
# The tiny model learns its class from user_acceleration_x_mean: Relax < 0.33 <= Work < 0.66 <= Exercise.
DEVICES = {"watch-relax": 0.1, "watch-work": 0.5, "watch-exercise": 0.9}


READINGS_PER_MESSAGE = 10  # one message per watch and second, at 10 Hz


def stamp(when: datetime) -> str:
    """``when`` as the generator writes it (UTC, milliseconds)."""
    return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond // 1000:03d}Z"


def second_of(
    device: str, seq: int, when: datetime, accel_x: float, readings: int = READINGS_PER_MESSAGE
) -> dict[str, Any]:
    """One V2 message: ``readings`` readings from ``when`` on, 100 ms apart, every axis 0.5 but accel x."""
    return {
        "schema_version": 2,
        "device_id": device,
        "seq": seq,
        "event_time": stamp(when),
        "interval_ms": 100,
        **{axis: [0.5] * readings for axis in MOTION_FIELDS},
        "user_acceleration_x": [accel_x] * readings,
        "location_type": "house",
        "battery_state": "unplugged",
        "true_activity": "unknown",
    }


def minute_of_readings(minute: int) -> list[tuple[str, bytes]]:
    """One minute of 10 Hz readings from every device, as (key, value) messages of one second each."""
    messages = []
    for device, accel_x in DEVICES.items():
        for second in range(60):
            when = START + timedelta(minutes=minute, seconds=second)
            seq = (minute * 60 + second) * READINGS_PER_MESSAGE
            messages.append((device, json.dumps(second_of(device, seq, when, accel_x)).encode()))
    return messages


def flush(minute: int) -> list[tuple[str, bytes]]:
    """A reading far enough ahead to move the watermark past every window before ``minute``."""
    when = START + timedelta(minutes=minute)
    return [("watch-flush", json.dumps(second_of("watch-flush", 0, when, 0.5, readings=1)).encode())]


def produce(settings: Any, messages: list[tuple[str, bytes | None]]) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, acks="all", linger_ms=5)
    for key, value in messages:
        producer.send(settings.kafka.topic, key=key.encode(), value=value)
    producer.flush()
    producer.close()


@pytest.fixture
def predict_settings(tmp_path: Path, kafka_service, kafka_topic, postgres_service, pg_schema) -> Any:
    return make_settings(
        tmp_path,
        **kafka_overrides(kafka_service, kafka_topic),
        **warehouse_overrides(postgres_service, pg_schema),
        predict={"watermark_seconds": 5, "trigger_seconds": 0.5, "low_confidence_threshold": 0.99},
    )


@pytest.fixture
def champion(predict_settings, tiny_model) -> ModelRegistry:
    registry = ModelRegistry.from_settings(predict_settings)
    version = registry.register(tiny_model.model, {"classes": list(tiny_model.classes), "metrics": {}})
    registry.set_champion(version, "test")
    return registry


def batch_predictions(spark, settings, messages: list[tuple[str, bytes]]) -> dict[tuple[str, datetime], str]:
    """What the batch scoring API predicts for the same readings: the stream must agree with it."""
    from watchlake.features.transforms import to_windows
    from watchlake.messages import message_readings, parse_json_messages
    from watchlake.scoring import load_champion, score

    values = spark.createDataFrame([(value.decode(),) for _, value in messages], "value string")
    readings = message_readings(parse_json_messages(values))
    windows = to_windows(
        readings, window_seconds=60, step_seconds=60, key_col="device_id", time_col="event_time"
    )
    scored = score(load_champion(settings, spark), windows).collect()
    return {(row.device_id, row.window_start): row.predicted_activity for row in scored}


def test_predict_writes_one_row_per_closed_window(spark, predict_settings, champion) -> None:
    readings = [*minute_of_readings(0), *minute_of_readings(1)]
    produce(predict_settings, [*readings, *flush(3)])
    started = datetime.now(UTC).replace(tzinfo=None)
    result = run(predict_settings, spark, available_now=True, timeout_seconds=240)
    finished = datetime.now(UTC).replace(tzinfo=None)
    rows = warehouse_rows(
        predict_settings,
        "SELECT device_id, window_start, predicted_class, events, model_version, probabilities, predicted_at, "
        "latency_ms FROM {schema}.predictions ORDER BY device_id, window_start",
    )
    expected = batch_predictions(spark, predict_settings, readings)
    assert {(row[0], row[1]): row[2] for row in rows} == expected
    assert len(expected) == len(DEVICES) * 2
    assert {row[3] for row in rows} == {600}
    assert {row[4] for row in rows} == {"1"}
    assert all(abs(sum(json.loads(row[5]).values()) - 1) < 1e-9 for row in rows)
    # predicted_at: the clock (naive UTC) when Spark produced the row, during the run; the events arrived before.
    assert all(started - timedelta(seconds=1) <= row[6] <= finished for row in rows)
    assert all(row[7] >= 0 for row in rows)
    assert result.predictions == len(expected)


def test_predict_queues_low_confidence_windows_with_features_and_signal(
    spark, predict_settings, champion
) -> None:
    produce(predict_settings, [*minute_of_readings(0), *flush(2)])
    result = run(predict_settings, spark, available_now=True, timeout_seconds=240)
    queued = warehouse_rows(
        predict_settings,
        "SELECT device_id, confidence_measure, confidence_value, features, signal FROM {schema}.annotation_queue",
    )
    # The threshold (margin < 0.99) queues every window with a margin below 0.99 and nothing else.
    margins = dict(warehouse_rows(predict_settings, "SELECT device_id, margin FROM {schema}.predictions"))
    assert sorted(row[0] for row in queued) == sorted(d for d, margin in margins.items() if margin < 0.99)
    assert result.queued == len(queued) > 0
    device, measure, value, features, signal = queued[0]
    assert (measure, value) == ("margin", pytest.approx(margins[device]))
    assert json.loads(features)["user_acceleration_x_mean"] == pytest.approx(DEVICES[device])
    points = json.loads(signal)  # per second of the window: mean magnitudes
    assert [point["t"] for point in points] == list(range(60))
    expected_magnitude = (DEVICES[device] ** 2 + 0.5**2 + 0.5**2) ** 0.5
    assert points[0]["a"] == pytest.approx(expected_magnitude, abs=1e-4)


def malformed(seq: int, **changes: Any) -> tuple[str, bytes]:
    body = {**second_of("watch-x", seq, START, 0.1), **changes}
    return ("bad", json.dumps({key: value for key, value in body.items() if value is not None}).encode())


V1_READING = {
    "schema_version": 1,
    "device_id": "watch-x",
    "seq": 9,
    "event_time": stamp(START),
    **{axis: 0.5 for axis in MOTION_FIELDS},
    "true_activity": "unknown",
}
MALFORMED: list[tuple[str, bytes | None]] = [
    ("bad", b"{this is not json"),
    malformed(1, yaw="north"),
    malformed(2, pitch=None),
    malformed(3, schema_version=99),
    ("bad", b"x" * 50_000),
    malformed(5, roll=[0.5] * 9),
    malformed(6, rotation_rate_x=[0.5] * 9 + [None]),
    malformed(7, **{axis: [] for axis in MOTION_FIELDS}),
    ("bad", json.dumps(V1_READING).encode()),
    # Found from outside (issue 14): each of these used to be scored, coerced or misreported.
    malformed(10, yaw=[0.5] * 9 + [float("nan")]),  # bare NaN
    malformed(11, pitch=[float("inf")] * 10),  # bare Infinity
    ("bad", malformed(12, roll=["#"] * 10)[1].replace(b'"#"', b"1e400")),
    malformed(13, rotation_rate_z=["NaN"] * 10),
    malformed(14, device_id=12345),
    malformed(15, device_id="watch-\ud800"),
    ("bad", b"[" + malformed(16)[1] + b"]"),
    ("bad", b'{"device_id": "watch-y", ' + malformed(17)[1][1:]),
]


def test_predict_sets_malformed_messages_aside_and_goes_on(spark, predict_settings, champion) -> None:
    readings = minute_of_readings(0)
    produce(predict_settings, [*readings[:90], *MALFORMED, *readings[90:], *flush(2)])
    result = run(predict_settings, spark, available_now=True, timeout_seconds=240)
    letters = warehouse_rows(
        predict_settings,
        "SELECT kafka_offset, reason, raw_size FROM {schema}.dead_letters ORDER BY kafka_offset",
    )
    reasons = [row[1] for row in letters]
    assert reasons == [
        "not a JSON document",
        "yaw is not an array of numbers",
        "missing field: pitch",
        "schema_version is not 2",
        "message larger than 16384 bytes",
        "motion arrays differ in length",
        "null reading in motion array: rotation_rate_x",
        "motion arrays are empty",
        "schema_version is not 2",
        "yaw[9] is not a finite number",
        "pitch[0] is not a finite number",
        "roll[0] is not a finite number",
        "wrong JSON type for rotation_rate_z[0]: a string where a number belongs",
        "wrong JSON type for device_id: a number where a string belongs",
        "device_id is not valid Unicode text (an unpaired UTF-16 surrogate escape)",
        "the message is a JSON array, not an object",
        "duplicate key 'device_id'",
    ]
    assert letters[4][2] == 50_000
    assert result.dead_letters == len(MALFORMED)
    predictions = warehouse_rows(predict_settings, "SELECT device_id, events FROM {schema}.predictions")
    assert sorted(predictions) == sorted((device, 600) for device in DEVICES)


def test_predict_restart_after_crash_loses_and_repeats_nothing(
    spark, predict_settings, champion, monkeypatch: pytest.MonkeyPatch
) -> None:
    from watchlake.predict.sinks import PredictionSink
    from watchlake.warehouse.tables import PREDICTIONS

    crashed: list[int] = []
    before_crash: dict[tuple[str, datetime], int] = {}  # what the crashed batch committed: window -> batch id
    commit = PredictionSink.commit

    def crash_after_first_commit(self: PredictionSink, batch_id: int, rows: Any) -> None:
        commit(self, batch_id, rows)
        if rows[PREDICTIONS] and not crashed:
            crashed.append(batch_id)
            before_crash.update({(row[0], row[1]): batch_id for row in rows[PREDICTIONS]})
            raise RuntimeError("simulated crash after the warehouse commit, before Spark's checkpoint commit")

    readings = [*minute_of_readings(0), *minute_of_readings(1)]
    produce(predict_settings, [*readings, *flush(3)])
    monkeypatch.setattr(PredictionSink, "commit", crash_after_first_commit)
    with pytest.raises(StreamingQueryException):
        run(predict_settings, spark, available_now=True, timeout_seconds=240)
    monkeypatch.undo()
    assert crashed

    crashed_at = datetime.now(UTC).replace(tzinfo=None)
    assert before_crash

    restart = run(predict_settings, spark, available_now=True, timeout_seconds=240)  # replays that batch
    rows = warehouse_rows(
        predict_settings, "SELECT device_id, window_start, batch_id, predicted_at FROM {schema}.predictions"
    )
    windows = {(device, START + timedelta(minutes=m)) for device in DEVICES for m in (0, 1)}
    assert sorted((device, start) for device, start, _, _ in rows if device in DEVICES) == sorted(windows)
    # The key would merge a repeat into the same rows; what a repeat changes is who wrote them, and when. The rows
    # the crashed batch committed keep its batch id and its time; every other row comes from the restart.
    written_by = {(device, start): (batch, at) for device, start, batch, at in rows}
    for window, batch in before_crash.items():
        assert written_by[window][0] == batch and written_by[window][1] < crashed_at, window
    assert all(at > crashed_at for window, (_, at) in written_by.items() if window not in before_crash)
    # Counted before any key could merge: the restart wrote only the windows the crashed batch had not.
    assert restart.predictions == len(rows) - len(before_crash)
    ledger = warehouse_rows(
        predict_settings,
        "SELECT batch_id, rows_written FROM {schema}.stream_batches WHERE query_name = 'predict'",
    )
    assert crashed[0] in {row[0] for row in ledger}
    assert {batch for batch, _ in written_by.values()} <= {row[0] for row in ledger}
    tables = "predictions", "annotation_queue", "dead_letters"
    stored = sum(
        warehouse_rows(predict_settings, f"SELECT count(*) FROM {{schema}}.{t}")[0][0] for t in tables
    )
    assert sum(row[1] for row in ledger) == stored  # every row merged once, by the batch the ledger names


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def test_predict_switches_to_a_promoted_champion_without_restart(
    spark, predict_settings, champion, tiny_model
) -> None:
    from watchlake.predict.job import start

    running = start(predict_settings, spark)
    try:
        produce(predict_settings, [*minute_of_readings(0), *flush(2)])
        count = "SELECT count(*) FROM {schema}.predictions WHERE device_id <> 'watch-flush'"
        wait_for(lambda: warehouse_rows(predict_settings, count)[0][0] == 3, 180, "the first predictions")
        challenger = champion.register(tiny_model.model, {"classes": list(tiny_model.classes), "metrics": {}})
        champion.set_champion(challenger, "test promotion")
        produce(predict_settings, [*minute_of_readings(3), *flush(5)])
        wait_for(
            lambda: warehouse_rows(predict_settings, count)[0][0] == 6, 180, "predictions after promotion"
        )
        assert running.predictions.isActive
    finally:
        running.stop()
    versions = warehouse_rows(
        predict_settings,
        "SELECT window_start, model_version, count(*) FROM {schema}.predictions "
        "WHERE device_id <> 'watch-flush' GROUP BY 1, 2 ORDER BY 1",
    )
    assert versions == [(START, "1", 3), (START + timedelta(minutes=3), "2", 3)]


def test_predict_sets_late_and_repeated_messages_aside_and_counts_the_too_old(
    spark, predict_settings, champion
) -> None:
    minute = minute_of_readings(0)
    repeat = minute[30]  # watch-relax, second 30, sent twice (a producer's retry)
    produce(predict_settings, [*minute, repeat, *flush(2)])
    first = run(predict_settings, spark, available_now=True, timeout_seconds=240)
    assert (first.predictions, first.dead_letters, first.older_than_watermark) == (len(DEVICES), 1, 0)
    letters = warehouse_rows(predict_settings, "SELECT raw_value, reason FROM {schema}.dead_letters")
    assert letters == [
        (None, "late or repeated: the windows of its second (2026-03-01 09:00:30) were scored or hold it")
    ]
    events = warehouse_rows(predict_settings, "SELECT device_id, events FROM {schema}.predictions")
    assert sorted(events) == sorted((device, 600) for device in DEVICES)  # the repeat was not merged twice

    # The watermark now stands near 09:02: a message of 09:00 is dropped before the windows, and counted.
    produce(predict_settings, [minute[90]])
    second = run(predict_settings, spark, available_now=True, timeout_seconds=240)
    assert (second.predictions, second.dead_letters, second.older_than_watermark) == (0, 0, 1)


# The warehouse restart test moved to tests/reliability/test_predict_bounces.py (the reliability tier, issue 14).

"""The window assembler on a stream of messages gives the batch features of the same readings (train = serve),
closes a window on its watch's own last second, and closes a silent watch's windows by the watermark."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest
from pyspark.sql import functions as F

from watchlake.features.assembly import KEY, SIGNAL, assemble_windows, late_of, passthrough_of, windows_of
from watchlake.features.transforms import CATEGORICAL_COLUMNS, FEATURE_COLUMNS, finish_windows, to_windows
from watchlake.messages import message_readings, parse_json_messages
from watchlake.predict.messages import to_assembler_rows
from watchlake.schemas import MOTION_FIELDS

T0 = datetime(2026, 2, 1, 8, 0, 0)
KAFKA_DDL = "key binary, value binary, topic string, partition int, offset long, timestamp timestamp"


def message(device: str, second: int, seed: float) -> str:
    """One V2 message: 10 readings of ``device`` in second ``second`` after T0, values varying with ``seed``."""
    when = T0 + timedelta(seconds=second)
    motion = {
        axis: [round(math.sin(seed + second + 0.1 * k + i), 6) for k in range(10)]
        for i, axis in enumerate(MOTION_FIELDS)
    }
    return json.dumps(
        {
            "schema_version": 2,
            "device_id": device,
            "seq": second * 10,
            "event_time": when.replace(tzinfo=UTC).isoformat(timespec="milliseconds"),
            "interval_ms": 100,
            **motion,
            "location_type": ["house", "road", "Moon base"][second % 3],
            "latitude_distance_from_mean": 0.001 * second,
            "longitude_distance_from_mean": -0.002,
            "speed": None if second % 4 == 0 else float(second % 5),
            "battery_state": "full" if second > 12 else "unplugged",
            "true_activity": "Relax",
        }
    )


def schedule() -> list[list[tuple[str, int]]]:
    """(device, second) per micro-batch: 'steady' sends seconds 0-25 one a batch; 'quiet' stops after second 7;
    'steady' resends its second 8 after window [0, 10) was emitted (while [5, 15) holds it already): late."""
    batches = [[("steady", s)] + ([("quiet", s)] if s <= 7 else []) for s in range(26)]
    batches[10].append(("steady", 8))
    return batches


@pytest.mark.slow
def test_assembled_stream_windows_equal_batch_windows(spark, tmp_path):
    offset = 0
    arrived: dict[tuple[str, int], datetime] = {}
    resent = []
    for number, batch in enumerate(schedule()):
        rows = []
        for device, second in batch:
            stamp = T0 + timedelta(seconds=second + 1, milliseconds=offset)
            if (device, second) in arrived:
                resent.append(offset)
            arrived.setdefault((device, second), stamp)
            rows.append(
                (device.encode(), message(device, second, len(device)).encode(), "t", 0, offset, stamp)
            )
            offset += 1
        spark.createDataFrame(rows, KAFKA_DDL).write.parquet(str(tmp_path / "in" / f"batch={number:02d}"))
    kafka = spark.readStream.schema(KAFKA_DDL).option("maxFilesPerTrigger", 1).parquet(str(tmp_path / "in/*"))
    assembled = assemble_windows(
        to_assembler_rows(kafka, max_bytes=100_000), window_seconds=10, step_seconds=5, watermark_seconds=2
    )
    query = (
        assembled.writeStream.format("memory")
        .queryName("watchlake_assembly_test")
        .outputMode("append")
        .option("checkpointLocation", str(tmp_path / "checkpoint"))
        .trigger(availableNow=True)
        .start()
    )
    try:
        query.awaitTermination(180)
    finally:
        query.stop()
    output = spark.sql("SELECT * FROM watchlake_assembly_test")
    assert passthrough_of(output).count() == 0
    # steady's resend of second 8 (one window emitted, the other holding it): returned as late, merged nowhere.
    assert [row.kafka_offset for row in late_of(output).collect()] == resent
    windows = windows_of(output).withColumnRenamed(KEY, "device_id")
    streamed = {
        (row.device_id, row.window_start): row
        for row in finish_windows(windows, "device_id", keep=("seconds", "last_arrived_at", SIGNAL)).collect()
    }

    values = [message(d, s, len(d)) for d, s in sorted({(d, s) for batch in schedule() for d, s in batch})]
    readings = message_readings(
        parse_json_messages(spark.createDataFrame([(v,) for v in values], "value string"))
    )
    batch = {
        (row.device_id, row.window_start): row
        for row in to_windows(
            readings, window_seconds=10, step_seconds=5, key_col="device_id", time_col="event_time"
        )
        .where(F.col("window_end") <= F.lit(T0 + timedelta(seconds=25)))  # steady's last windows stay open
        .collect()
    }
    assert sorted(streamed) == sorted(batch)
    for key, want in batch.items():
        got = streamed[key]
        # Equal up to the order of floating-point sums (kurtosis from power sums amplifies that to ~1e-8).
        assert [got[name] for name in FEATURE_COLUMNS] == pytest.approx(
            [want[name] for name in FEATURE_COLUMNS], rel=1e-6, abs=1e-9
        ), key
        assert [got[name] for name in CATEGORICAL_COLUMNS] == [want[name] for name in CATEGORICAL_COLUMNS]

    # quiet's last windows closed by the watermark with the seconds it sent; steady's late resend left no trace.
    quiet = streamed[("quiet", T0 + timedelta(seconds=5))]
    assert (quiet.seconds, quiet.rows) == (3, 30)
    steady = streamed[("steady", T0)]
    assert steady.seconds == 10
    assert steady.last_arrived_at == arrived[("steady", 9)]
    # The signal: per second, mean |acceleration| and |rotation rate|.
    points = [steady.signal[i : i + 3] for i in range(0, len(steady.signal), 3)]
    assert [point[0] for point in sorted(points)] == list(range(10))
    second_two = json.loads(message("steady", 2, len("steady")))
    acceleration = [
        math.sqrt(sum(second_two[axis][k] ** 2 for axis in MOTION_FIELDS[6:9])) for k in range(10)
    ]
    assert sorted(points)[2][1] == pytest.approx(sum(acceleration) / 10)

"""Design probe, not product code: readings/s into Kafka when one message carries a watch's whole second.

The V1 message (one reading, ~760 bytes of JSON) cannot reach 300k readings/s on 2 cores that also run the broker
(`run.py` measures the transport ceiling). This probe builds messages of 10 readings with plain Spark expressions
shaped like the generator's (hash-of-id normals, a few multiply-adds per value, location and battery once per
message), serialises them with `to_json` and writes them with the product's Kafka producer settings, to size the
gain before a V2 message schema is designed.

Usage: python bench/generate/probe_v2_messages.py [--messages 400000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.generate.run import bench_settings, timed_write  # noqa: E402
from pyspark.sql import Column, DataFrame, SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from watchlake.schemas import LOCATION_FIELDS, MOTION_FIELDS  # noqa: E402
from watchlake.services import kafka  # noqa: E402
from watchlake.spark import build_session  # noqa: E402
from watchlake.synth import expressions as ex  # noqa: E402
from watchlake.synth.job import kafka_sink_options  # noqa: E402

READINGS_PER_MESSAGE = 10
DEVICES = 100
START_MICROS = 1_767_254_400_000_000  # 2026-01-01T08:00:00Z


def _normals(salt: int, count: int, row_id: str) -> list[str]:
    """``count`` standard normals of one row (Box-Muller pairs of ``xxhash64(row_id, salt + k)``)."""
    values: list[str] = []
    for pair in range((count + 1) // 2):
        values += ex.box_muller(f"xxhash64({row_id}, {salt + pair})")
    return values[:count]


def message_columns() -> dict[str, Column]:
    """One message per (device, second): motion axes as arrays of 10 readings, the rest once."""
    per_reading = [
        _normals(100 + 10 * k, len(MOTION_FIELDS), f"id * {READINGS_PER_MESSAGE} + {k}")
        for k in range(READINGS_PER_MESSAGE)
    ]
    columns = {
        "schema_version": F.lit(2),
        "device_id": F.expr(f"concat('watch-', lpad(cast(id % {DEVICES} AS STRING), 5, '0'))"),
        "seq": F.expr(f"(id div {DEVICES}) * {READINGS_PER_MESSAGE}"),
        "event_time": F.expr(f"timestamp_micros({START_MICROS} + (id div {DEVICES}) * 1000000)"),
    }
    for axis, name in enumerate(MOTION_FIELDS):
        values = (
            f"0.1D + 0.5D * ({normals[axis]} + 0.3D * {normals[max(axis - 1, 0)]})" for normals in per_reading
        )
        columns[name] = F.expr(f"array({', '.join(values)})")
    for name, normal in zip(LOCATION_FIELDS, _normals(900, len(LOCATION_FIELDS), "id"), strict=True):
        columns[name] = F.expr(f"10D + 2D * {normal}")
    house = ex.uniform_high(ex.hash_bits(999))
    columns["location_type"] = F.expr(f"CASE WHEN {house} < 0.6D THEN 'house' ELSE 'road' END")
    columns["battery_state"] = F.lit("unplugged")
    columns["true_activity"] = F.expr("element_at(array('Relax', 'Work', 'Sleep'), CAST(id % 3 AS INT) + 1)")
    return columns


def messages(spark: SparkSession, count: int) -> DataFrame:
    fields = [column.alias(name) for name, column in message_columns().items()]
    return spark.range(0, count, numPartitions=2).select(
        F.expr(f"concat('watch-', lpad(cast(id % {DEVICES} AS STRING), 5, '0'))").alias("key"),
        F.to_json(F.struct(*fields)).alias("value"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=400_000)
    count = parser.parse_args().messages
    root = Path(tempfile.mkdtemp(prefix="watchlake-probe-v2-"))
    settings = bench_settings(root, partitions=2)
    kafka.start(settings)
    try:
        kafka.ensure_topic(settings, "probe-v2")
        spark = build_session(settings, "probe-v2", jars=("spark-kafka",))
        messages(spark, 20_000).write.format("noop").mode("overwrite").save()  # warm-up
        size = messages(spark, 1000).select(F.avg(F.length("value"))).first()[0]
        print(f"{READINGS_PER_MESSAGE} readings a message, {size:.0f} bytes of JSON")
        runs = [("json, no-op sink", "noop", None)] + [("into Kafka", "kafka", "probe-v2")] * 2
        for label, sink, topic in runs:
            options = kafka_sink_options(settings, topic) if topic else None
            result = timed_write(messages(spark, count), count, sink, options)
            readings = result["rows_per_second"] * READINGS_PER_MESSAGE
            print(f"{label}: {result['rows_per_second']:,} messages/s = {readings:,} readings/s")
        spark.stop()
    finally:
        kafka.stop(settings)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

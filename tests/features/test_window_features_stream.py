"""to_windows runs unchanged on a Structured Streaming DataFrame (only streaming-safe aggregations)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from watchlake.features.transforms import FEATURE_COLUMNS, to_windows
from watchlake.schemas import READINGS

T0 = datetime(2020, 1, 1, 6, 0, 0)


@pytest.mark.slow
def test_to_windows_on_a_stream_matches_batch(spark, tmp_path):
    rows = [
        (
            "d1",
            T0 + timedelta(seconds=s),
            *[0.1 * s] * 9,
            "house",
            None,
            None,
            None,
            None,
            1.0,
            None,
            None,
            "unplugged",
            None,
            "f.csv",
            T0.date(),
        )
        for s in range(0, 200, 5)
    ]
    spark.createDataFrame(rows, READINGS).write.parquet(str(tmp_path / "in"))
    stream = (
        spark.readStream.schema(READINGS).parquet(str(tmp_path / "in")).withWatermark("stamp", "10 seconds")
    )
    windows = to_windows(stream, window_seconds=60, step_seconds=60, key_col="participant")
    query = (
        windows.writeStream.format("memory")
        .queryName("watchlake_feature_stream_test")
        .outputMode("append")
        .option("checkpointLocation", str(tmp_path / "checkpoint"))
        .trigger(availableNow=True)
        .start()
    )
    try:
        query.awaitTermination(120)
    finally:
        query.stop()
    streamed = spark.sql("SELECT * FROM watchlake_feature_stream_test").orderBy("window_start").collect()
    batch = (
        to_windows(spark.read.parquet(str(tmp_path / "in")), window_seconds=60, step_seconds=60)
        .orderBy("window_start")
        .collect()
    )
    # The watermark holds back the last (still open) window; the closed ones equal the batch result.
    assert [row.window_start for row in streamed] == [row.window_start for row in batch[:3]]
    for got, want in zip(streamed, batch, strict=False):
        assert [got[name] for name in FEATURE_COLUMNS] == pytest.approx(
            [want[name] for name in FEATURE_COLUMNS]
        )

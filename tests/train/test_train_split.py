"""Splits keep a participant's (or a time block's) windows on one side; crossing windows are dropped."""

from __future__ import annotations

from datetime import datetime, timedelta

from fixtures_models import tiny_windows
from watchlake.train.transforms import choose_test_keys, split_by_key, split_by_time_block, with_time_block

T0 = datetime(2020, 1, 1)


def test_split_by_key_has_no_participant_on_both_sides(spark):
    windows = tiny_windows(spark, rows=60, participants=5)
    test_keys = choose_test_keys([f"p{n}" for n in range(5)], 0.4, seed=42)
    train, test = split_by_key(windows, test_keys, key_col="participant")
    train_keys = {row.participant for row in train.select("participant").distinct().collect()}
    held_keys = {row.participant for row in test.select("participant").distinct().collect()}
    assert held_keys == set(test_keys)
    assert train_keys == {f"p{n}" for n in range(5)} - set(test_keys)
    assert train.count() + test.count() == 60


def test_with_time_block_drops_windows_crossing_block_end(spark):
    # 60 s windows sliding by 30 s over 120 s blocks: the window starting at 90 s ends at 150 s, crossing 120 s.
    rows = [("p1", T0 + timedelta(seconds=s), T0 + timedelta(seconds=s + 60)) for s in (0, 30, 60, 90, 120)]
    windows = spark.createDataFrame(rows, "participant string, window_start timestamp, window_end timestamp")
    kept = with_time_block(windows, 120.0, key_col="participant").collect()
    starts = sorted((row.window_start - T0).total_seconds() for row in kept)
    assert starts == [0.0, 30.0, 60.0, 120.0]
    assert len({row.time_block for row in kept}) == 2


def test_split_by_time_block_blocks_are_on_one_side_only(spark):
    windows = tiny_windows(spark, rows=400, participants=2)
    train, test = split_by_time_block(windows, 600.0, 0.3, 7, key_col="participant")
    train_blocks = {row.time_block for row in train.select("time_block").distinct().collect()}
    test_blocks = {row.time_block for row in test.select("time_block").distinct().collect()}
    assert train_blocks and test_blocks
    assert not train_blocks & test_blocks
    assert train.count() + test.count() == 400  # 60 s tumbling windows never cross a 600 s block

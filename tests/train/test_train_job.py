"""The train job end to end on tiny inline readings: windows, report, registry, promotion, rollback via the CLI."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from conftest import make_settings
from watchlake.registry.registry import ModelRegistry
from watchlake.schemas import READINGS

T0 = datetime(2020, 3, 2, 8, 0, 0)
# Planted signal: the activity sets the level of user_acceleration_x and the speed.
LEVEL = {"Relax": (0.0, 0.0), "Walk": (0.6, 1.4), "Car": (0.2, 15.0)}
SCHEDULE = ["Relax", "Walk", "Car", "Walk", "Relax", "Car"]


def _participant_rows(participant: str, rng: random.Random) -> list[tuple]:
    rows = []
    for block, activity in enumerate(SCHEDULE):  # 6 blocks of 300 s at 1 Hz, a label on each block's last row
        level, speed = LEVEL[activity]
        for second in range(300):
            stamp = T0 + timedelta(seconds=block * 300 + second)
            acc = level + rng.gauss(0, 0.05)
            motion = [0.1, 0.2, 0.3, rng.gauss(0, 0.1), 0.0, 0.0, acc, rng.gauss(0, 0.05), 0.0]
            label = activity if second == 299 else None
            rows.append(
                (
                    participant,
                    stamp,
                    *motion,
                    "road",
                    0.001,
                    0.001,
                    1.0,
                    90.0,
                    speed,
                    5.0,
                    5.0,
                    "unplugged",
                    label,
                    "x.csv",
                    stamp.date(),
                )
            )
    return rows


@pytest.fixture
def lake_settings(spark, tmp_path: Path):
    settings = make_settings(
        tmp_path,
        catalog={"kind": "none", "database": "watchlake"},
        train={"num_trees": 10, "max_depth": 5, "test_fraction": 0.34},
        # 1 Hz readings: a whole 60 s window holds 60 of the 600 a 10 Hz watch would send
        features={"min_readings_share": 0.05},
    )
    rng = random.Random(1)
    rows = [row for n in range(1, 4) for row in _participant_rows(f"p{n}", rng)]
    readings = spark.createDataFrame(rows, READINGS)
    from watchlake.lake import Lake

    readings.write.partitionBy("participant", "date").parquet(Lake.from_settings(settings).readings)
    from watchlake.features.job import run as features

    features(settings, spark)
    return settings


@pytest.mark.slow
def test_train_run_registers_promotes_reports_and_rolls_back(spark, lake_settings, monkeypatch, capsys):
    from watchlake.cli import main
    from watchlake.train.job import run

    first = run(lake_settings, spark)
    assert (first.version, first.promoted) == (1, True)
    assert first.test_windows == 30 and first.train_windows == 60  # 1 of 3 participants held out, 30 min each
    assert first.metrics["macro_f1"] > 0.9
    assert first.metrics["macro_f1"] > first.baseline["macro_f1"] + 0.5
    report = json.loads(Path(first.report, "metrics.json").read_text())
    assert report["metrics"]["confusion"]["labels"] == ["Exercise", "Relax", "Travel"]
    assert Path(first.report, "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    second = run(lake_settings, spark)  # same data and seed: equal metrics, so not better by the margin
    assert (second.version, second.promoted) == (2, False)
    registry = ModelRegistry.from_settings(lake_settings)
    registry.set_champion(2, "manual")
    meta = registry.meta(2)
    assert meta["heldout"]["test_participants"] and "password" not in meta["settings"]["warehouse"]
    confidence = meta["heldout_confidence"]  # the monitoring page's drift reference
    assert confidence["bins"] == 10 and sum(confidence["counts"]) == second.test_windows
    monkeypatch.setenv("WATCHLAKE_LAKE__ROOT", lake_settings.lake.root)
    monkeypatch.setenv("WATCHLAKE_RUNTIME_DIR", lake_settings.runtime_dir)
    assert main(["train", "--rollback"]) == 0
    assert registry.champion().version == 1
    assert "champion is now version 1" in capsys.readouterr().out
    promotions = [(p.version, p.reason) for p in registry.champion().promotions]
    assert promotions == [(1, first.reason), (2, "manual"), (1, "rollback from 2")]


@pytest.mark.slow
def test_features_run_writes_declared_windows_with_their_version(spark, lake_settings):
    from watchlake.features.dataset import read_windows
    from watchlake.features.transforms import FEATURE_VERSION, LABELLED_WINDOWS
    from watchlake.lake import Lake

    windows = read_windows(spark, Lake.from_settings(lake_settings))
    assert windows.schema.fieldNames() == LABELLED_WINDOWS.fieldNames()
    counts = windows.groupBy("participant", "feature_version").count().collect()
    # 3 participants x 30 minutes of 1 Hz readings in tumbling 60 s windows (features.* defaults)
    assert sorted((row[0], row[1]) for row in counts) == [(f"p{n}", FEATURE_VERSION) for n in (1, 2, 3)]
    assert all(row["count"] == 30 for row in counts)


@pytest.mark.slow
def test_train_run_without_windows_says_to_run_features(spark, tmp_path: Path):
    from watchlake.errors import DataQualityError
    from watchlake.train.job import run

    with pytest.raises(DataQualityError, match="run `watchlake features` first"):
        run(make_settings(tmp_path, catalog={"kind": "none"}), spark)


@pytest.mark.slow
def test_train_run_refuses_windows_of_another_feature_version(spark, lake_settings):
    from pyspark.sql import functions as F

    from watchlake.errors import DataQualityError
    from watchlake.lake import Lake
    from watchlake.train.job import run

    path = Lake.from_settings(lake_settings).windows
    old = spark.read.parquet(path).withColumn("feature_version", F.lit(1)).collect()
    spark.createDataFrame(old, spark.read.parquet(path).schema).write.mode("overwrite").parquet(path)
    with pytest.raises(DataQualityError, match=r"feature version \[1\].*run `watchlake features` again"):
        run(lake_settings, spark)


@pytest.mark.slow
def test_train_run_refuses_windows_of_one_class(spark, lake_settings):
    from pyspark.sql import functions as F

    from watchlake.errors import DataQualityError
    from watchlake.lake import Lake
    from watchlake.train.job import run

    path = Lake.from_settings(lake_settings).windows
    one_class = spark.read.parquet(path).withColumn("activity", F.lit("Walk")).collect()
    spark.createDataFrame(one_class, spark.read.parquet(path).schema).write.mode("overwrite").parquet(path)
    with pytest.raises(DataQualityError, match=r"fewer than two activity classes \(only 'Walk'\)"):
        run(lake_settings, spark)
    assert ModelRegistry.from_settings(lake_settings).versions() == []  # nothing fitted, nothing promoted

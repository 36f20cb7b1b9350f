"""watchlake retrain end to end on tiny readings, the real test PostgreSQL (Feast online store) and the test's
lake (Feast offline store): labels enter the challenger's data, a worse challenger is never promoted, nothing
new means nothing trained, and one-class data is refused."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from test_train_job import _participant_rows

from conftest import make_settings
from watchlake.errors import NOTHING_TO_DO_EXIT
from watchlake.feature_store.records import WindowLabel
from watchlake.features.transforms import CATEGORICAL_COLUMNS, FEATURE_COLUMNS
from watchlake.registry.registry import ModelRegistry
from watchlake.schemas import READINGS
from watchlake.settings import Settings

pytestmark = pytest.mark.slow
LABELLED_AT = datetime(2026, 12, 1, 12, 0, 0)


@pytest.fixture
def retrain_settings(spark, tmp_path: Path, postgres_service: Settings, pg_schema: str) -> Settings:
    """Three participants' labelled windows in the lake, a champion trained on them, an empty feature store."""
    warehouse = {**postgres_service.warehouse.model_dump(), "schema_name": pg_schema}
    settings = make_settings(
        tmp_path,
        catalog={"kind": "none", "database": "watchlake"},
        train={"num_trees": 10, "max_depth": 5, "test_fraction": 0.34},
        features={"min_readings_share": 0.05},
        warehouse=warehouse,
        feature_store={"online_schema": pg_schema},
    )
    rng = random.Random(1)
    rows = [row for n in range(1, 4) for row in _participant_rows(f"p{n}", rng)]
    from watchlake.features.job import run as features
    from watchlake.lake import Lake
    from watchlake.train.job import run as train

    spark.createDataFrame(rows, READINGS).write.partitionBy("participant", "date").parquet(
        Lake.from_settings(settings).readings
    )
    features(settings, spark)
    assert train(settings, spark).promoted
    return settings


def _base_windows(spark, settings: Settings) -> list:
    from watchlake.features.dataset import read_windows
    from watchlake.lake import Lake

    return read_windows(spark, Lake.from_settings(settings)).orderBy("participant", "window_start").collect()


def _label_of(
    row, label: str | None, *, device: str | None = None, at: datetime = LABELLED_AT
) -> WindowLabel:
    features = {name: float(row[name]) for name in FEATURE_COLUMNS}
    features.update({name: row[name] for name in CATEGORICAL_COLUMNS})
    return WindowLabel(
        label_id=uuid.uuid4().hex,
        device_id=device or row["participant"],
        window_start=row["window_start"],
        window_end=row["window_end"],
        label=label,
        annotator="tester",
        labelled_at=at,
        note="",
        model_version="1",
        features=features,
    )


def test_retrain_without_labels_skips_cleanly(retrain_settings, monkeypatch, capsys):
    from watchlake.cli import main

    for key, value in {
        "WATCHLAKE_LAKE__ROOT": retrain_settings.lake.root,
        "WATCHLAKE_RUNTIME_DIR": retrain_settings.runtime_dir,
        "WATCHLAKE_CATALOG__KIND": "none",
        "WATCHLAKE_WAREHOUSE__PORT": str(retrain_settings.warehouse.port),
        "WATCHLAKE_WAREHOUSE__DATABASE": retrain_settings.warehouse.database,
        "WATCHLAKE_FEATURE_STORE__ONLINE_SCHEMA": retrain_settings.feature_store.online_schema,
    }.items():
        monkeypatch.setenv(key, value)
    assert main(["retrain"]) == NOTHING_TO_DO_EXIT  # 99: a DAG task shows it as skipped
    assert (
        "retrain: no labels in the feature store; nothing trained, champion v1 stays"
        in capsys.readouterr().out
    )
    assert ModelRegistry.from_settings(retrain_settings).versions() == [1]


def test_retrain_trains_on_the_labels_records_the_heldout_share_and_then_skips(spark, retrain_settings):
    from watchlake.feature_store.push import push_labels
    from watchlake.retrain.commands import summary
    from watchlake.retrain.job import run

    # New watches: two devices whose windows look like p1's, labelled with p1's true classes.
    base = [row for row in _base_windows(spark, retrain_settings) if row["participant"] == "p1"]
    labels = [_label_of(row, row["activity"], device=device) for device in ("w1", "w2") for row in base]
    push_labels(retrain_settings, labels)
    first = run(retrain_settings, spark)
    assert not first.skipped and first.version == 2
    assert first.labels_used == 60 and first.labels_train + first.labels_test == 60
    assert 0 < first.labels_test < 60
    registry = ModelRegistry.from_settings(retrain_settings)
    meta = registry.meta(2)
    held = meta["labels"]["heldout"]
    assert len(held["windows"]) == first.labels_test
    assert {device for device, _ in held["windows"]} <= {"w1", "w2"}
    assert (held["seed"], held["test_fraction"]) == (17, 0.3)
    assert meta["labels"]["max_labelled_at"] == LABELLED_AT.isoformat()
    # the labelled windows are in the challenger's training data: base training windows + the labels' train side
    assert sum(meta["data"]["train_windows"].values()) == first.base_train + first.labels_train
    assert sum(meta["data"]["test_windows"].values()) == first.test_windows
    report = json.loads(Path(first.report, "retrain.json").read_text())
    assert report["champion"]["version"] == 1 and report["challenger"]["version"] == 2
    assert report["champion"]["windows"] == report["challenger"]["windows"] == first.test_windows
    assert set(report["challenger"]["per_class"]) == {"Exercise", "Relax", "Travel"}
    assert Path(first.report, "champion_confusion.png").read_bytes()[:4] == b"\x89PNG"
    line = summary(first)
    assert "60 labelled windows" in line and f"challenger v2 {first.challenger_macro_f1:.3f}" in line
    second = run(retrain_settings, spark)  # v2 saw every label, promoted or not: nothing to refit
    assert second.skipped and "no labels newer than those model v2 was trained on" in second.reason
    assert registry.versions() == [1, 2]
    # one more label: a new run, and the windows held out before stay held out (a seeded hash per window)
    push_labels(
        retrain_settings,
        [_label_of(base[0], base[0]["activity"], device="w3", at=LABELLED_AT + timedelta(hours=1))],
    )
    third = run(retrain_settings, spark)
    assert not third.skipped and third.labels_used == 61
    again = {tuple(pair) for pair in registry.meta(third.version)["labels"]["heldout"]["windows"]}
    assert {tuple(pair) for pair in held["windows"]} <= again


def test_retrain_never_promotes_a_challenger_trained_on_shuffled_labels(spark, retrain_settings):
    from watchlake.feature_store.push import push_labels
    from watchlake.retrain.job import run
    from watchlake.train.transforms import choose_test_keys

    windows = _base_windows(spark, retrain_settings)
    test_keys = choose_test_keys({row["participant"] for row in windows}, 0.34, retrain_settings.train.seed)
    rng = random.Random(5)
    classes = ["Exercise", "Relax", "Travel"]
    # every training window relabelled at random: the challenger can learn nothing from its data
    labels = [_label_of(row, rng.choice(classes)) for row in windows if row["participant"] not in test_keys]
    push_labels(retrain_settings, labels)
    result = run(retrain_settings, spark)
    assert not result.skipped
    assert result.challenger_macro_f1 < result.champion_macro_f1
    assert not result.promoted and "<=" in result.reason
    registry = ModelRegistry.from_settings(retrain_settings)
    assert registry.champion().version == 1
    assert registry.meta(result.version)["promotion"]["decision"] is False
    # the lost challenger saw these labels: the next run refits nothing
    assert run(retrain_settings, spark).skipped


def test_retrain_without_champion_says_to_train_first(spark, tmp_path):
    from watchlake.errors import ModelError
    from watchlake.retrain.job import run

    with pytest.raises(ModelError, match="run `watchlake train` first"):
        run(make_settings(tmp_path, catalog={"kind": "none"}), spark)


def test_retrain_refuses_training_data_of_one_class(spark, retrain_settings):
    from watchlake.errors import DataQualityError
    from watchlake.feature_store.push import push_labels
    from watchlake.retrain.job import run
    from watchlake.train.transforms import choose_test_keys

    windows = _base_windows(spark, retrain_settings)
    test_keys = choose_test_keys({row["participant"] for row in windows}, 0.34, retrain_settings.train.seed)
    # every training window relabelled Relax: the challenger's training data hold one class
    push_labels(
        retrain_settings, [_label_of(row, "Relax") for row in windows if row["participant"] not in test_keys]
    )
    with pytest.raises(DataQualityError, match=r"fewer than two activity classes \(only 'Relax'\)"):
        run(retrain_settings, spark)
    assert ModelRegistry.from_settings(retrain_settings).versions() == [1]


def test_retrain_promotes_a_challenger_that_learnt_a_new_watch_signature_from_the_labels(
    spark, retrain_settings
):
    from watchlake.feature_store.push import push_labels
    from watchlake.retrain.job import run

    # Planted shift: new watches whose rotation-rate features sit far from the training participants' and whose
    # classes are rotated (they look like p1's Relax, but are Travel, ...): the champion gets them all wrong.
    rotated = {"Relax": "Travel", "Travel": "Exercise", "Exercise": "Relax"}
    shifted = [name for name in FEATURE_COLUMNS if name.startswith("rotation_rate_")]
    base = [row for row in _base_windows(spark, retrain_settings) if row["participant"] == "p1"]
    labels = []
    for device in ("n1", "n2", "n3"):
        for row in base:
            label = _label_of(row, rotated[row["activity"]], device=device)
            features = {**label.features, **{name: 100.0 for name in shifted}}
            labels.append(WindowLabel(**{**label.__dict__, "features": features}))
    push_labels(retrain_settings, labels)
    result = run(retrain_settings, spark)
    assert result.labels_test > 10  # the held-out share holds new-watch windows the champion cannot know
    assert result.challenger_macro_f1 > result.champion_macro_f1 + 0.2
    assert result.promoted
    assert ModelRegistry.from_settings(retrain_settings).champion().version == result.version

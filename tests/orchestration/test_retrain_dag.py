"""``dag.test()`` of watchlake_retrain on the local target: skipped while the feature store holds no new label,
a new registered version once labels arrive (the retrain stage through the CLI in a subprocess)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from airflow_fixtures import DAGS_FOLDER, airflow_home  # noqa: F401

from watchlake.registry.registry import ModelRegistry
from watchlake.settings import Settings

# The champion-in-a-lake fixture and label helpers of the retrain job's tests (one module, one name in sys.modules).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
from test_retrain_job import _base_windows, _label_of, retrain_settings  # noqa: F401

pytestmark = pytest.mark.slow


def _task_states(run) -> dict[str, str]:
    # A run can report success while a task failed: every task instance is checked.
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def test_retrain_dag_skips_without_new_labels_then_retrains_on_them(
    airflow_home: Path,  # noqa: F811
    spark,
    retrain_settings: Settings,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from watchlake.feature_store.push import push_labels

    settings = retrain_settings
    for key, value in {
        "WATCHLAKE_RUNTIME_DIR": settings.runtime_dir,
        "WATCHLAKE_LAKE__ROOT": settings.lake.root,
        "WATCHLAKE_CATALOG__KIND": "none",
        "WATCHLAKE_SPARK__MASTER": "local[2]",
        "WATCHLAKE_SPARK__SHUFFLE_PARTITIONS": "2",
        "WATCHLAKE_SPARK__UI_ENABLED": "false",
        "WATCHLAKE_SPARK__DRIVER_MEMORY": "1g",
        "WATCHLAKE_TRAIN__NUM_TREES": str(settings.train.num_trees),
        "WATCHLAKE_TRAIN__MAX_DEPTH": str(settings.train.max_depth),
        "WATCHLAKE_TRAIN__TEST_FRACTION": str(settings.train.test_fraction),
        "WATCHLAKE_FEATURES__MIN_READINGS_SHARE": str(settings.features.min_readings_share),
        "WATCHLAKE_WAREHOUSE__HOST": settings.warehouse.host,
        "WATCHLAKE_WAREHOUSE__PORT": str(settings.warehouse.port),
        "WATCHLAKE_WAREHOUSE__USER": settings.warehouse.user,
        "WATCHLAKE_WAREHOUSE__DATABASE": settings.warehouse.database,
        "WATCHLAKE_WAREHOUSE__SCHEMA_NAME": settings.warehouse.schema_name,
        "WATCHLAKE_FEATURE_STORE__ONLINE_SCHEMA": settings.feature_store.online_schema,
        "WATCHLAKE_ORCHESTRATION__TARGET": "local",
    }.items():
        monkeypatch.setenv(key, value)
    dag = DagBag(dag_folder=str(DAGS_FOLDER)).get_dag("watchlake_retrain")

    assert _task_states(dag.test()) == {"retrain": "skipped"}
    registry = ModelRegistry.from_settings(settings)
    assert registry.versions() == [1]

    base = [row for row in _base_windows(spark, settings) if row["participant"] == "p1"]
    push_labels(settings, [_label_of(row, row["activity"], device="w1") for row in base])
    assert _task_states(dag.test()) == {"retrain": "success"}
    assert registry.versions() == [1, 2]
    assert registry.meta(2)["retrained_from"] == 1

"""``dag.test()`` of watchlake_batch on the local target: each stage through the CLI in a subprocess, on a
generated sample, into a temporary lake."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from airflow_fixtures import DAGS_FOLDER, airflow_home  # noqa: F401

from conftest import make_settings
from watchlake.lake import Lake


@pytest.mark.slow
def test_batch_dag_runs_every_stage_into_the_lake(
    airflow_home: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_service,
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    variables = {
        "WATCHLAKE_RUNTIME_DIR": str(tmp_path / "runtime"),
        "WATCHLAKE_LAKE__ROOT": str(tmp_path / "lake"),
        "WATCHLAKE_SPARK__MASTER": "local[2]",
        "WATCHLAKE_SPARK__SHUFFLE_PARTITIONS": "2",
        "WATCHLAKE_SPARK__UI_ENABLED": "false",
        "WATCHLAKE_SPARK__DRIVER_MEMORY": "1g",
        "WATCHLAKE_STATS__WAREHOUSE_COPY": "off",
        "WATCHLAKE_SAMPLE__PARTICIPANTS": "1",
        "WATCHLAKE_SAMPLE__GROUPS": "1",
        "WATCHLAKE_SAMPLE__HOURS": "0.1",
        "WATCHLAKE_ORCHESTRATION__TARGET": "local",
        # Each task is a process of its own: they share the catalog through the test PostgreSQL's metastore.
        "WATCHLAKE_WAREHOUSE__HOST": postgres_service.warehouse.host,
        "WATCHLAKE_WAREHOUSE__PORT": str(postgres_service.warehouse.port),
        "WATCHLAKE_WAREHOUSE__USER": postgres_service.warehouse.user,
        "WATCHLAKE_WAREHOUSE__DATABASE": postgres_service.warehouse.database,
        "WATCHLAKE_CATALOG__METASTORE_DATABASE": postgres_service.catalog.metastore_database,
    }
    for key, value in variables.items():
        monkeypatch.setenv(key, value)

    run = DagBag(dag_folder=str(DAGS_FOLDER)).get_dag("watchlake_batch").test(run_conf={"source": "sample"})

    # A run can report success while a task failed: every task instance is checked.
    assert {ti.task_id: str(ti.state) for ti in run.get_task_instances()} == {
        "ingest": "success",
        "clean": "success",
        "stats": "success",
    }
    lake = Lake.from_settings(make_settings(tmp_path, lake={"root": str(tmp_path / "lake")}))
    manifest = Path(lake.manifests) / lake.staging_manifest_name
    staged = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert [Path(row["path"]).name for row in staged] == ["sw1.p1.csv"]
    readings = pq.read_table(lake.readings)
    assert readings.num_rows > 1000
    statistics = pq.read_table(lake.activity_stats).to_pylist()
    counts = {row["value"] for row in statistics if row["scope"] == "overall" and row["statistic"] == "count"}
    assert readings.num_rows in counts

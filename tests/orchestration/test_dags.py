"""The DAG folder: it imports cleanly, its DAGs are the pipelines, and parsing it loads no heavy module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from airflow_fixtures import DAGS_FOLDER, airflow_environment, airflow_home  # noqa: F401

from watchlake.orchestration.pipelines import PIPELINES
from watchlake.stages import STAGES

# What parsing must not load: Spark, the AWS SDK, and any stage's code (job or commands module).
HEAVY_PREFIXES = ("pyspark", "py4j", "boto3", "botocore")
STAGE_MODULES = sorted({path.partition(":")[0] for entry in STAGES for path in (entry.run, entry.commands)})


def test_dagbag_imports_the_pipelines_without_errors(airflow_home: Path) -> None:  # noqa: F811
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == sorted(p.dag_id for p in PIPELINES)
    for entry in PIPELINES:
        dag = bag.get_dag(entry.dag_id)
        chain = [
            t.task_id for t in sorted(dag.tasks, key=lambda t: len(t.get_flat_relative_ids(upstream=True)))
        ]
        assert chain == list(entry.stages)
        assert {key: dag.params[key] for key in entry.params} == {
            k: p.default for k, p in entry.params.items()
        }


_PARSE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": sorted(bag.dag_ids),
                  "modules": sorted(sys.modules)}))
"""


def test_parsing_the_dags_imports_no_spark_aws_or_stage_module(tmp_path: Path) -> None:
    # A fresh interpreter: this test process may already hold PySpark or boto3 from other tests. The emr target
    # is set so that parsing would show it if the EMR path were imported at parse time.
    env = {**os.environ, **airflow_environment(tmp_path), "WATCHLAKE_ORCHESTRATION__TARGET": "emr"}
    result = subprocess.run(
        [sys.executable, "-c", _PARSE, str(DAGS_FOLDER)], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    parsed = json.loads(result.stdout.strip().splitlines()[-1])
    assert parsed["errors"] == {}
    assert parsed["dags"] == sorted(p.dag_id for p in PIPELINES)
    loaded = set(parsed["modules"])
    assert "watchlake.orchestration.airflow_dag" in loaded  # the check looks at the interpreter that parsed
    assert sorted(m for m in loaded if m.split(".")[0] in HEAVY_PREFIXES) == []
    assert sorted(loaded & set(STAGE_MODULES)) == []
    assert "watchlake.orchestration.emr_runner" not in loaded

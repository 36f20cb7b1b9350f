"""Airflow DAGs from :data:`watchlake.orchestration.pipelines.PIPELINES`: one task per stage, chained.

What a DAG file in ``dags/`` calls. Parsing imports Airflow's SDK, the stage table and this package's pure modules
only; the stage code, PySpark and boto3 load when a task runs (in the CLI's subprocess or the EMR runner).
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import DAG, Param, get_current_context, task

from watchlake.orchestration.pipelines import Pipeline, pipeline, stage_arguments
from watchlake.stages import stage

# The first data interval: before any CASAS archive, so a scheduled pipeline never backfills (catchup off).
START_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def run_stage_task(dag_id: str, name: str) -> str:
    """The body of every task: stage ``name`` of pipeline ``dag_id`` with the run's parameters, on the target in
    settings. Its summary line is the task's return value (XCom) and in its log; a stage with nothing to do (retrain
    without new labels) makes the task skipped, and the tasks after it skip too."""
    from airflow.sdk.exceptions import AirflowSkipException

    from watchlake.errors import StageSkipped
    from watchlake.orchestration.tasks import run_task

    context = get_current_context()
    arguments = stage_arguments(pipeline(dag_id), name, context["params"])
    try:
        return run_task(name, arguments, context)
    except StageSkipped as skipped:
        raise AirflowSkipException(str(skipped)) from None


def build_dag(dag_id: str) -> DAG:
    """The DAG of pipeline ``dag_id``: its stages as tasks ``stage`` -> ``stage`` ..., no retries (a stage
    that failed needs a look, and re-running it replaces its output anyway), one run at a time."""
    entry: Pipeline = pipeline(dag_id)
    with DAG(
        dag_id=entry.dag_id,
        description=entry.description,
        schedule=entry.schedule,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=["watchlake"],
        params={
            key: Param(param.default, type=param.type, description=param.description)
            for key, param in entry.params.items()
        },
        default_args={"retries": 0},
    ) as dag:
        previous = None
        for name in entry.stages:
            current = task(task_id=name, doc=stage(name).help)(run_stage_task)(entry.dag_id, name)
            if previous is not None:
                previous >> current
            previous = current
    return dag

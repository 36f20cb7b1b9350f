"""The EMR target at run time: find or create the project's cluster, add a stage's Spark step and wait for it, with
the Amazon provider's operators (EmrCreateJobFlowOperator, EmrAddStepsOperator, EmrStepSensor) run inside the
stage's task. Imported only when such a task runs, so parsing the DAGs never loads boto3."""

from __future__ import annotations

import gzip
import logging
import time
from collections.abc import Sequence
from typing import Any

from watchlake.errors import OrchestrationError
from watchlake.orchestration import emr
from watchlake.settings import Settings

log = logging.getLogger(__name__)


def _emr_client(settings: Settings) -> Any:
    """The EMR boto3 client of the provider's hook (the Airflow connection ``orchestration.emr.aws_conn_id``)."""
    from airflow.providers.amazon.aws.hooks.emr import EmrHook

    hook = EmrHook(aws_conn_id=settings.orchestration.emr.aws_conn_id, region_name=settings.aws.region)
    return hook.conn


def find_cluster(settings: Settings, client: Any) -> str | None:
    """The id of a cluster that can take steps: ``aws.emr_cluster_id`` when set (an error when it cannot), else
    the first active cluster carrying the project's tags; None when there is none."""
    pinned = settings.aws.emr_cluster_id
    if pinned:
        state = client.describe_cluster(ClusterId=pinned)["Cluster"]["Status"]["State"]
        if state not in emr.ACTIVE_STATES:
            raise OrchestrationError(
                f"aws.emr_cluster_id {pinned} is {state}; clear the setting to let the DAG create a cluster"
            )
        return pinned
    pages = client.get_paginator("list_clusters").paginate(ClusterStates=list(emr.ACTIVE_STATES))
    for page in pages:
        for summary in page["Clusters"]:
            tags = client.describe_cluster(ClusterId=summary["Id"])["Cluster"].get("Tags", [])
            if emr.is_project_cluster(settings, tags):
                return str(summary["Id"])
    return None


def ensure_cluster(settings: Settings, context: Any) -> str:
    """The project's cluster: reused when one is up, else created with :func:`emr.cluster_request`."""
    from airflow.providers.amazon.aws.operators.emr import EmrCreateJobFlowOperator

    found = find_cluster(settings, _emr_client(settings))
    if found:
        log.info("reusing EMR cluster %s", found)
        return found
    operator = EmrCreateJobFlowOperator(
        task_id="create_cluster",
        aws_conn_id=settings.orchestration.emr.aws_conn_id,
        region_name=settings.aws.region,
        job_flow_overrides=emr.cluster_request(settings),
    )
    cluster_id = str(operator.execute(context))
    log.info("created EMR cluster %s (%s)", cluster_id, settings.orchestration.emr.release_label)
    return cluster_id


def add_step(settings: Settings, cluster_id: str, name: str, arguments: Sequence[str], context: Any) -> str:
    """Add stage ``name``'s Spark step to the cluster; returns the step id."""
    from airflow.providers.amazon.aws.operators.emr import EmrAddStepsOperator

    operator = EmrAddStepsOperator(
        task_id=f"{name}_add_step",
        aws_conn_id=settings.orchestration.emr.aws_conn_id,
        job_flow_id=cluster_id,
        steps=[emr.spark_step(settings, name, arguments)],
    )
    step_ids = operator.execute(context)
    log.info("added step %s (%s) to cluster %s", step_ids[0], name, cluster_id)
    return str(step_ids[0])


def step_log(settings: Settings, cluster_id: str, step_id: str) -> str:
    """The step's stderr from the log URI, waiting up to ``orchestration.emr.step_log_wait_seconds`` for EMR to
    copy it there; a note saying where to look when it never arrives."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    bucket, key = emr.step_log_location(settings, cluster_id, step_id)
    s3 = S3Hook(aws_conn_id=settings.orchestration.emr.aws_conn_id, region_name=settings.aws.region).conn
    deadline = time.monotonic() + settings.orchestration.emr.step_log_wait_seconds
    while True:
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            return gzip.decompress(body).decode("utf-8", errors="replace")
        except s3.exceptions.NoSuchKey:
            if time.monotonic() >= deadline:
                return (
                    f"(no step log at s3://{bucket}/{key} yet; EMR copies logs every few minutes: look there)"
                )
            time.sleep(min(10.0, settings.orchestration.emr.step_poll_seconds))


def run_step(settings: Settings, name: str, arguments: Sequence[str], context: Any) -> str:
    """Run stage ``name`` as an EMR step and wait for it (EmrStepSensor); on failure log the step's stderr and
    raise OrchestrationError carrying it. Returns ``"<name>: step <id> COMPLETED on <cluster>"``."""
    from airflow.providers.amazon.aws.sensors.emr import EmrStepSensor

    cluster_id = ensure_cluster(settings, context)
    step_id = add_step(settings, cluster_id, name, arguments, context)
    sensor = EmrStepSensor(
        task_id=f"{name}_watch_step",
        aws_conn_id=settings.orchestration.emr.aws_conn_id,
        job_flow_id=cluster_id,
        step_id=step_id,
        poke_interval=settings.orchestration.emr.step_poll_seconds,
        mode="poke",
    )
    try:
        sensor.execute(context)
    except Exception as error:
        text = step_log(settings, cluster_id, step_id)
        log.error("step %s (%s) failed: %s\n--- step stderr ---\n%s", step_id, name, error, text)
        raise OrchestrationError(
            f"stage {name}: EMR step {step_id} on cluster {cluster_id} failed ({error}); its stderr:\n{text}"
        ) from error
    return f"{name}: step {step_id} COMPLETED on {cluster_id}"

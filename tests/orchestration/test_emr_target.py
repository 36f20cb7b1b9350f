"""The emr target against a moto server: the Amazon provider's operators with the real boto3 client create the
project's cluster, add the stages' Spark steps and watch them; a failed step fails its task with the step's log.
moto never finishes a step by itself, so a thread of the test plays EMR: it completes or fails each step."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow_fixtures import DAGS_FOLDER, airflow_home  # noqa: F401

from conftest import make_settings
from watchlake.orchestration import emr
from watchlake.settings import Settings

PLANTED_LOG = (
    "Traceback (most recent call last):\nwatchlake.errors.ModelError: no feature windows at s3://x/features"
)


def _play_emr(settings: Settings, s3: Any, outcomes: dict[str, str], stop: threading.Event) -> None:
    """Give every step moto holds the outcome of its name; a failed step's stderr is put where EMR puts it."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.emr.models import emr_backends

    backend = emr_backends[DEFAULT_ACCOUNT_ID][settings.aws.region]
    while not stop.wait(0.2):
        for cluster in list(backend.clusters.values()):
            for step in cluster.steps:
                outcome = outcomes.get(step.name)
                if outcome is None or step.state in ("COMPLETED", "FAILED"):
                    continue
                if outcome == "FAILED":
                    bucket, key = emr.step_log_location(settings, cluster.id, step.id)
                    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(PLANTED_LOG.encode()))
                step.state = outcome


@pytest.fixture
def emr_target(
    airflow_home: Path,  # noqa: F811
    s3_settings: Settings,
    s3_client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Settings]:
    """The environment a task sees on the emr target with moto as AWS (lake and code in a fresh bucket, Glue)."""
    aws = s3_settings.aws
    variables = {
        "WATCHLAKE_RUNTIME_DIR": str(tmp_path / "runtime"),
        "WATCHLAKE_LAKE__ROOT": f"s3://{aws.bucket}",
        "WATCHLAKE_CATALOG__KIND": "glue",
        "WATCHLAKE_AWS__BUCKET": aws.bucket,
        "WATCHLAKE_AWS__REGION": aws.region,
        "WATCHLAKE_AWS__ENDPOINT_URL": aws.endpoint_url,
        "WATCHLAKE_ORCHESTRATION__TARGET": "emr",
        "WATCHLAKE_ORCHESTRATION__EMR__STEP_POLL_SECONDS": "0.5",
        "WATCHLAKE_ORCHESTRATION__EMR__STEP_LOG_WAIT_SECONDS": "5",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
            {"conn_type": "aws", "extra": {"endpoint_url": aws.endpoint_url, "region_name": aws.region}}
        ),
    }
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    yield make_settings(
        tmp_path,
        lake={"root": f"s3://{aws.bucket}"},
        catalog={"kind": "glue"},
        aws={"bucket": aws.bucket, "region": aws.region, "endpoint_url": aws.endpoint_url},
        orchestration={"target": "emr"},
    )


def _run_train_dag(settings: Settings, s3: Any, outcomes: dict[str, str]) -> dict[str, str]:
    """``dag.test()`` of watchlake_train while the EMR player runs; every task instance's state."""
    from airflow.dag_processing.dagbag import DagBag

    stop = threading.Event()
    player = threading.Thread(target=_play_emr, args=(settings, s3, outcomes, stop), daemon=True)
    player.start()
    try:
        run = DagBag(dag_folder=str(DAGS_FOLDER)).get_dag("watchlake_train").test()
    finally:
        stop.set()
        player.join(timeout=10)
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


ACTIVE = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"]


def _emr_client(settings: Settings) -> Any:
    import boto3

    return boto3.client("emr", endpoint_url=settings.aws.endpoint_url, region_name=settings.aws.region)


@pytest.mark.slow
@pytest.mark.services
def test_train_dag_on_emr_submits_steps_and_fails_with_the_step_log(
    emr_target: Settings,
    s3_client: Any,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    outcomes = {"watchlake-features": "COMPLETED", "watchlake-train": "FAILED"}
    client = _emr_client(emr_target)
    # The moto server is shared by the session: clusters other tests left up would be reused here.
    left_up = [cluster["Id"] for cluster in client.list_clusters(ClusterStates=ACTIVE)["Clusters"]]
    if left_up:
        client.terminate_job_flows(JobFlowIds=left_up)
    states = _run_train_dag(emr_target, s3_client, outcomes)

    assert states == {"features": "success", "train": "failed"}
    clusters = client.list_clusters(ClusterStates=ACTIVE)["Clusters"]
    assert len(clusters) == 1  # created by the first task, reused by the second
    cluster_id = clusters[0]["Id"]
    cluster = client.describe_cluster(ClusterId=cluster_id)["Cluster"]
    assert cluster["ReleaseLabel"] == "emr-spark-8.1.0"
    assert [app["Name"] for app in cluster["Applications"]] == ["Spark"]
    assert {t["Key"]: t["Value"] for t in cluster["Tags"]} == {"project": "watchlake"}
    assert cluster["Configurations"] == [
        {
            "Classification": "spark-hive-site",
            "Properties": {"hive.metastore.client.factory.class": emr.GLUE_CLIENT_FACTORY},
        }
    ]
    bucket = emr_target.aws.bucket
    (action,) = client.list_bootstrap_actions(ClusterId=cluster_id)["BootstrapActions"]
    assert action["ScriptPath"] == f"s3://{bucket}/code/bootstrap/install-watchlake.sh"
    assert action["Args"] == [f"s3://{bucket}/code", emr.NODE_JAR_DIR]

    steps = {s["Name"]: s for s in client.list_steps(ClusterId=cluster_id)["Steps"]}
    assert sorted(steps) == ["watchlake-features", "watchlake-train"]
    for name in ("features", "train"):
        args = steps[f"watchlake-{name}"]["Config"]["Args"]
        assert args[:3] == ["spark-submit", "--deploy-mode", "cluster"]
        assert args[-1] == f"s3://{bucket}/code/spark_jobs/{name}.py"
        assert f"spark.yarn.appMasterEnv.WATCHLAKE_JVM__LIB_DIR={emr.NODE_JAR_DIR}" in args
        assert (
            REPO_SPARK_JOBS / f"{name}.py"
        ).is_file()  # the script the step names exists in the bundle's source
    assert [steps[f"watchlake-{n}"]["Status"]["State"] for n in ("features", "train")] == [
        "COMPLETED",
        "FAILED",
    ]

    # The task log reaches pytest through Airflow's handlers or straight to the terminal, depending on what
    # configured logging first in this process: look at both.
    logged = capfd.readouterr()
    text = logged.out + logged.err + caplog.text
    train_step = steps["watchlake-train"]["Id"]
    assert f"step {train_step} (train) failed" in text
    assert "watchlake.errors.ModelError: no feature windows" in text


REPO_SPARK_JOBS = DAGS_FOLDER.parent / "spark_jobs"

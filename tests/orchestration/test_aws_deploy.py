"""``watchlake --env aws aws deploy`` against a moto server: the uploaded keys and their bytes, the cluster's
bootstrap action and the batch pipeline's steps (moto never runs them: only what was asked is checked)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from watchlake.cli import main
from watchlake.orchestration import emr
from watchlake.settings import Settings, load_settings


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def aws_env(s3_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """--env aws with the lake in the fixture's fresh moto bucket; the settings the command sees."""
    monkeypatch.setenv("WATCHLAKE_ENV", "aws")
    monkeypatch.setenv("WATCHLAKE_LAKE__ROOT", s3_settings.lake.root)
    monkeypatch.setenv("WATCHLAKE_AWS__ENDPOINT_URL", s3_settings.aws.endpoint_url)
    monkeypatch.setenv("WATCHLAKE_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("WATCHLAKE_JVM__LIB_DIR", str(REPO / "jvm" / "lib"))
    return load_settings()


def _objects(s3: Any, bucket: str) -> dict[str, bytes]:
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    ]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


@pytest.mark.slow
def test_deploy_uploads_the_bundle_and_adds_the_batch_steps(
    aws_env: Settings, s3_client: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import boto3

    bucket, lib = aws_env.aws.bucket, aws_env.jvm.lib_path
    assert main(["aws", "deploy", "--steps", "batch"]) == 0
    first = capsys.readouterr()

    stored = _objects(s3_client, bucket)
    local = {
        **{f"code/spark_jobs/{path.name}": path for path in (REPO / "spark_jobs").glob("*.py")},
        **{f"code/jars/functions/{path.name}": path for path in (lib / "functions").glob("*.jar")},
        **{f"code/jars/spark-kafka/{path.name}": path for path in (lib / "spark-kafka").glob("*.jar")},
    }
    wheels = [key for key in stored if key.startswith("code/wheel/")]
    assert wheels == ["code/wheel/watchlake-0.1.0-py3-none-any.whl"]
    assert set(stored) == {*local, *wheels, "code/bundle.json", "code/bootstrap/install-watchlake.sh"}
    assert {key: _sha(stored[key]) for key in local} == {
        key: _sha(path.read_bytes()) for key, path in local.items()
    }
    manifest = json.loads(stored["code/bundle.json"])
    assert manifest[wheels[0]]["sha256"] == _sha(stored[wheels[0]])
    assert b"pip install" in stored["code/bootstrap/install-watchlake.sh"]
    assert f"[1/{len(manifest)}] s3://{bucket}/code/bootstrap" in first.err and "uploaded" in first.err

    client = boto3.client("emr", endpoint_url=aws_env.aws.endpoint_url, region_name=aws_env.aws.region)
    cluster_id = first.out.split("cluster ")[1].split(";")[0]
    actions = client.list_bootstrap_actions(ClusterId=cluster_id)["BootstrapActions"]
    assert [(action["ScriptPath"], action["Args"]) for action in actions] == [
        (f"s3://{bucket}/code/bootstrap/install-watchlake.sh", [f"s3://{bucket}/code", emr.NODE_JAR_DIR])
    ]
    cluster = client.describe_cluster(ClusterId=cluster_id)["Cluster"]
    assert {"Key": "project", "Value": "watchlake"} in cluster["Tags"]
    steps = client.list_steps(ClusterId=cluster_id)["Steps"][::-1]  # EMR lists the newest step first
    assert [step["Name"] for step in steps] == ["watchlake-clean", "watchlake-stats"]
    assert [step["Config"]["Args"][-1] for step in steps] == [
        f"s3://{bucket}/code/spark_jobs/clean.py",
        f"s3://{bucket}/code/spark_jobs/stats.py",
    ]

    # Again with the same wheel: nothing is sent twice and the cluster is reused.
    wheel = tmp_path / Path(wheels[0]).name
    wheel.write_bytes(stored[wheels[0]])
    assert main(["aws", "deploy", "--wheel", str(wheel)]) == 0
    second = capsys.readouterr()
    assert f"0 uploaded (0.0 MB), {len(manifest)} unchanged" in second.out
    assert f"cluster {cluster_id}" in second.out


@pytest.mark.slow
def test_init_sh_on_aws_stages_the_sample_and_uploads_the_spark_scripts(
    aws_env: Settings, s3_client: Any
) -> None:
    import os
    import subprocess

    env = {**os.environ, "WATCHLAKE_SAMPLE__PARTICIPANTS": "1", "WATCHLAKE_SAMPLE__HOURS": "0.05"}
    done = subprocess.run(
        ["bash", str(REPO / "init.sh"), "--source", "sample"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    stored = _objects(s3_client, aws_env.aws.bucket)
    scripts = {
        f"code/spark_jobs/{path.name}": path.read_bytes() for path in (REPO / "spark_jobs").glob("*.py")
    }
    assert {key: stored[key] for key in scripts} == scripts
    assert any(key.startswith("staging/") and key.endswith(".csv") for key in stored)
    assert not any(key.startswith(("code/wheel/", "code/jars/")) for key in stored)

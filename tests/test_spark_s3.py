"""Spark on an S3 lake outside EMR: the S3A configuration as data, the set-ups refused before a JVM starts, and
the batch chain (sample -> ingest -> clean -> stats -> features -> train -> registry) on moto with --env aws
settings, its outputs read back with boto3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from watchlake.errors import ConfigError
from watchlake.settings import Settings, load_settings
from watchlake.spark import build_session, session_conf
from watchlake.spark_aws import S3A_FILE_SYSTEM, s3a_conf

REPO = Path(__file__).resolve().parent.parent
SECRET = "do-not-print-this-secret"


def _aws(tmp_path: Path, **overrides: Any) -> Settings:
    """conf/aws.yaml as a user outside EMR runs it: a local master, a catalog Spark can open here."""
    values: dict[str, Any] = {
        "runtime_dir": str(tmp_path / "runtime"),
        "spark": {"master": "local[2]", "shuffle_partitions": 2, "ui_enabled": False},
        "catalog": {"kind": "none"},
    }
    values.update(overrides)
    return load_settings("aws", **values)


def test_s3a_conf_maps_s3_and_points_at_the_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    conf = s3a_conf(_aws(tmp_path, aws={"endpoint_url": "http://127.0.0.1:5999", "region": "eu-west-1"}))

    assert conf["spark.hadoop.fs.s3.impl"] == S3A_FILE_SYSTEM
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:5999"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.endpoint.region"] == "eu-west-1"
    # Credentials found in the environment are read by the SDK's chain, never copied into the configuration.
    assert "spark.hadoop.fs.s3a.access.key" not in conf
    assert not any(SECRET in value or "AKIAEXAMPLE" in value for value in conf.values())


def test_s3a_conf_placeholders_only_for_a_simulated_endpoint_without_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "absent"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "absent"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    simulated = s3a_conf(_aws(tmp_path, aws={"endpoint_url": "http://127.0.0.1:5999"}))
    real = s3a_conf(_aws(tmp_path))

    assert simulated["spark.hadoop.fs.s3a.access.key"] == "testing"
    assert "spark.hadoop.fs.s3a.access.key" not in real
    assert "spark.hadoop.fs.s3a.endpoint" not in real


def test_s3a_conf_empty_on_emr_and_for_a_local_lake(tmp_path: Path) -> None:
    on_emr = _aws(tmp_path, spark={"master": "yarn", "on_emr": True}, catalog={"kind": "glue"})
    local_lake = _aws(tmp_path, lake={"root": str(tmp_path / "lake")})
    assert s3a_conf(on_emr) == {}
    assert s3a_conf(local_lake) == {}
    assert "spark.hadoop.fs.s3.impl" not in session_conf(on_emr, [])


def test_build_session_refuses_glue_outside_emr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"catalog.kind is glue.*WATCHLAKE_CATALOG__KIND"):
        build_session(_aws(tmp_path, catalog={"kind": "glue"}), "glue-off-emr")
    assert not (tmp_path / "metastore_db").exists()
    assert not (tmp_path / "derby.log").exists()


def test_build_session_refuses_yarn_without_a_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HADOOP_CONF_DIR", raising=False)
    monkeypatch.delenv("YARN_CONF_DIR", raising=False)
    with pytest.raises(ConfigError, match=r"spark.master is yarn.*HADOOP_CONF_DIR.*WATCHLAKE_SPARK__MASTER"):
        build_session(_aws(tmp_path, spark={"master": "yarn"}), "yarn-without-cluster")


# One process runs the chain, as `watchlake --env aws <stage>` would one stage at a time (each stage's session is
# the first one of its JVM, so it gets the S3A jars; the test process's shared session has none).
_CHAIN = """
import time
from watchlake.settings import load_settings
from watchlake.stages import run_stage, summary
settings = load_settings()
for name, options in (("sample", {}), ("ingest", {"source": "sample"}), ("clean", {}), ("stats", {}),
                      ("features", {}), ("train", {})):
    started = time.monotonic()
    result = run_stage(name, settings, **options)
    print(f"{time.monotonic() - started:6.1f} s  {summary(name, result)}", flush=True)
"""


def _parquet(client: Any, bucket: str, prefix: str, tmp_path: Path) -> Any:
    """The Parquet dataset under ``s3://bucket/prefix``, downloaded with boto3 (not through Spark)."""
    folder = tmp_path / "download" / prefix
    keys = [
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
        for item in page.get("Contents", [])
        if item["Key"].endswith(".parquet")
    ]
    assert keys, f"no Parquet under s3://{bucket}/{prefix}"
    for key in keys:
        target = folder / key[len(prefix) + 1 :]
        target.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(bucket, key, str(target))
    return pq.read_table(folder)


def _json(client: Any, bucket: str, key: str) -> Any:
    return json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())


@pytest.mark.slow
def test_batch_chain_on_an_s3_lake_in_moto(moto_endpoint: str, tmp_path: Path) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    bucket = f"watchlake-chain-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket)
    variables = {
        "WATCHLAKE_ENV": "aws",
        "WATCHLAKE_LAKE__ROOT": f"s3://{bucket}",
        "WATCHLAKE_AWS__ENDPOINT_URL": moto_endpoint,
        "WATCHLAKE_RUNTIME_DIR": str(tmp_path / "runtime"),
        "WATCHLAKE_SPARK__MASTER": "local[2]",
        "WATCHLAKE_SPARK__SHUFFLE_PARTITIONS": "2",
        "WATCHLAKE_SPARK__UI_ENABLED": "false",
        "WATCHLAKE_SPARK__DRIVER_MEMORY": "1g",
        "WATCHLAKE_CATALOG__KIND": "none",
        "WATCHLAKE_STATS__WAREHOUSE_COPY": "off",
        "WATCHLAKE_SAMPLE__PARTICIPANTS": "4",
        "WATCHLAKE_SAMPLE__GROUPS": "1",
        "WATCHLAKE_SAMPLE__HOURS": "0.15",
        "WATCHLAKE_STATS__QUANTILES": "[0.5]",
        "WATCHLAKE_TRAIN__NUM_TREES": "5",
        "WATCHLAKE_JVM__LIB_DIR": str(REPO / "jvm" / "lib"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": SECRET,
    }
    environment = {key: value for key, value in os.environ.items() if not key.startswith("WATCHLAKE_")}
    result = subprocess.run(
        [sys.executable, "-c", _CHAIN],
        cwd=tmp_path,
        env={**environment, **variables},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert SECRET not in result.stdout + result.stderr

    staged = [item["Key"] for item in client.list_objects_v2(Bucket=bucket, Prefix="staging/")["Contents"]]
    assert sorted(Path(key).name for key in staged) == [f"sw1.p{n}.csv" for n in range(1, 5)]
    readings = _parquet(client, bucket, "processed/readings", tmp_path).num_rows
    assert readings > 4 * 0.15 * 3600 * 5  # about 10 Hz, less the planted defects
    statistics = _parquet(client, bucket, "stats/activity_stats", tmp_path).to_pylist()
    counts = {row["value"] for row in statistics if row["scope"] == "overall" and row["statistic"] == "count"}
    assert readings in counts
    windows = _parquet(client, bucket, "features/windows", tmp_path).num_rows
    assert 4 * 9 - 8 <= windows <= 4 * 9  # one a minute per participant, the edges may be partial
    champion = _json(client, bucket, "models/activity/champion.json")
    meta = _json(client, bucket, f"models/activity/versions/{champion['version']}/meta.json")
    assert champion["version"] == 1
    model_keys = client.list_objects_v2(Bucket=bucket, Prefix="models/activity/versions/1/model/")["Contents"]
    assert any("RandomForestClassifier" in item["Key"] for item in model_keys)
    assert 0 <= meta["metrics"]["macro_f1"] <= 1
    assert not (tmp_path / "metastore_db").exists()

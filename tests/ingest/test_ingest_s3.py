"""Bulk load into an S3 lake: moto in server mode with the real boto3 client, multipart, skip unchanged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from watchlake.casas.sample import generate_sample, read_members
from watchlake.ingest.job import run
from watchlake.settings import Settings

pytestmark = pytest.mark.slow


def _objects(client: Any, bucket: str, prefix: str) -> dict[str, dict[str, Any]]:
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {item["Key"]: item for item in listed}


def test_run_s3_multipart_and_second_run_copies_nothing(
    s3_settings: Settings, s3_client: Any, tmp_path: Path
) -> None:
    # One file over the 5 MiB multipart chunk, one small: both paths of the transfer manager.
    sample = tmp_path / "sample"
    generate_sample(sample, participants=2, hours=0.55, groups=2, seed=21)
    settings = s3_settings.model_copy(
        update={"ingest": s3_settings.ingest.model_copy(update={"multipart_chunk_mb": 5})}
    )
    bucket = settings.aws.bucket

    first = run(settings, str(sample))
    before = _objects(s3_client, bucket, "staging/")
    second = run(settings, str(sample))
    after = _objects(s3_client, bucket, "staging/")

    expected = {f"staging/{key}": data for key, data in read_members(sample).items()}
    assert sorted(before) == sorted(expected)
    for key, data in expected.items():
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert body == data
        head = s3_client.head_object(Bucket=bucket, Key=key)
        assert head["Metadata"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert any(item["ETag"].strip('"').endswith("-2") for item in before.values())  # a multipart upload
    assert (first.copied, second.copied, second.skipped) == (2, 0, 2)
    assert {k: v["LastModified"] for k, v in after.items()} == {
        k: v["LastModified"] for k, v in before.items()
    }
    manifest = s3_client.get_object(Bucket=bucket, Key="manifests/staging.jsonl")["Body"].read().decode()
    entries = [json.loads(line) for line in manifest.splitlines()]
    assert [entry["path"] for entry in entries] == [f"s3://{bucket}/{key}" for key in sorted(expected)]
    assert first.manifest == f"s3://{bucket}/manifests/staging.jsonl"


def test_run_s3_recopies_object_with_other_content(
    s3_settings: Settings, s3_client: Any, tmp_path: Path
) -> None:
    sample = tmp_path / "sample"
    generate_sample(sample, participants=1, hours=0.02, groups=1, seed=2)
    bucket = s3_settings.aws.bucket
    run(s3_settings, str(sample))
    original = s3_client.get_object(Bucket=bucket, Key="staging/group1/sw1.p1.csv")["Body"].read()
    s3_client.put_object(Bucket=bucket, Key="staging/group1/sw1.p1.csv", Body=original[:-1] + b"X")

    result = run(s3_settings, str(sample))

    assert result.copied == 1
    assert s3_client.get_object(Bucket=bucket, Key="staging/group1/sw1.p1.csv")["Body"].read() == original

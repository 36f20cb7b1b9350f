"""`watchlake up moto`'s module: a moto server for S3 on the loopback endpoint of the settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import make_settings
from watchlake.aws import s3_client
from watchlake.services import moto
from watchlake.services.process import free_port, is_alive
from watchlake.settings import Settings

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture
def moto_settings(tmp_path: Path) -> Iterator[Settings]:
    settings = make_settings(
        tmp_path, aws={"endpoint_url": f"http://127.0.0.1:{free_port()}", "bucket": "watchlake-test-lake"}
    )
    try:
        yield settings
    finally:
        moto.stop(settings)


def test_moto_server_s3_put_list_get(moto_settings: Settings) -> None:
    info = moto.start(moto_settings)
    s3 = s3_client(moto_settings)
    bucket = moto_settings.aws.bucket
    s3.put_object(Bucket=bucket, Key="staging/group1/sw1.p1.csv", Body=b"stamp,x\n1,0.5\n")
    listed = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix="staging/")["Contents"]]
    body = s3.get_object(Bucket=bucket, Key="staging/group1/sw1.p1.csv")["Body"].read()

    assert info.state == "running" and info.healthy
    assert listed == ["staging/group1/sw1.p1.csv"]
    assert body == b"stamp,x\n1,0.5\n"


def test_moto_stop_leaves_no_process(moto_settings: Settings) -> None:
    pid = moto.start(moto_settings).pid
    assert pid is not None and is_alive(pid)
    assert moto.stop(moto_settings).state == "stopped"
    assert not is_alive(pid)


def test_moto_is_skipped_for_real_aws(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, aws={"endpoint_url": ""})
    assert moto.start(settings).state == "skipped"


def test_moto_healthy_after_multipart_uploads(moto_settings: Settings) -> None:
    # moto's state dump (/moto-api/data.json) fails once a multipart upload is in it; the health probe is not that.
    moto.start(moto_settings)
    s3, bucket = s3_client(moto_settings), moto_settings.aws.bucket
    done = s3.create_multipart_upload(Bucket=bucket, Key="staging/big.csv")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="staging/big.csv", UploadId=done, PartNumber=1, Body=b"x" * 1024)
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="staging/big.csv",
        UploadId=done,
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    pending = s3.create_multipart_upload(Bucket=bucket, Key="staging/half.csv")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="staging/half.csv", UploadId=pending, PartNumber=1, Body=b"y" * 1024)

    info = moto.status(moto_settings)
    assert info.state == "running" and info.healthy

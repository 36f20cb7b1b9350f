"""An in-process moto S3 server for tests: one per test run on a free loopback port, a fresh bucket per test.

``moto_endpoint`` (session) is the server's URL; ``s3_settings`` gives a test settings whose lake root is
``s3://<fresh bucket>`` and whose ``aws.endpoint_url`` is the server; ``s3_client`` is a real boto3 client on it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from conftest import make_settings
from watchlake.services.process import free_port
from watchlake.settings import Settings

__all__ = ["moto_endpoint", "s3_client", "s3_settings"]

# moto accepts any credentials; real ones in the environment are never sent anywhere but the local server.
_DUMMY_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of a ThreadedMotoServer on 127.0.0.1, started once per run and always stopped."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    missing = {key: value for key, value in _DUMMY_ENV.items() if key not in os.environ}
    with mock.patch.dict(os.environ, missing):
        server.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()


@pytest.fixture
def s3_settings(moto_endpoint: str, tmp_path: Path) -> Settings:
    """Settings with the lake in a new, empty bucket on the moto server (runtime folder under tmp_path)."""
    import boto3

    bucket = f"watchlake-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return make_settings(
        tmp_path,
        lake={"root": f"s3://{bucket}"},
        aws={"endpoint_url": moto_endpoint, "bucket": bucket, "region": "us-east-1"},
    )


@pytest.fixture
def s3_client(s3_settings: Settings) -> Any:
    """A real boto3 S3 client on the moto server."""
    import boto3

    return boto3.client("s3", endpoint_url=s3_settings.aws.endpoint_url, region_name=s3_settings.aws.region)

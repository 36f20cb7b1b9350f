"""The one S3 client factory: its options per settings, and a real client against the moto server."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import make_settings
from watchlake.aws import SIMULATED_CREDENTIALS, s3_client, s3_client_options
from watchlake.settings import Settings


def _settings(tmp_path: Path, endpoint_url: str) -> Settings:
    return make_settings(tmp_path, aws={"endpoint_url": endpoint_url, "region": "eu-west-1"})


def test_s3_client_options_real_aws_region_only(tmp_path: Path) -> None:
    # Against real AWS no placeholder key is ever set, even when boto3 found none.
    assert s3_client_options(_settings(tmp_path, ""), credentials_found=False) == {"region_name": "eu-west-1"}


def test_s3_client_options_endpoint_path_style_own_credentials(tmp_path: Path) -> None:
    options = s3_client_options(_settings(tmp_path, "http://localhost:5000"), credentials_found=True)
    config = options.pop("config")
    assert options == {"region_name": "eu-west-1", "endpoint_url": "http://localhost:5000"}
    assert config.s3 == {"addressing_style": "path"}


def test_s3_client_options_endpoint_without_credentials_uses_placeholders(tmp_path: Path) -> None:
    options = s3_client_options(_settings(tmp_path, "http://localhost:5000"), credentials_found=False)
    assert {key: options[key] for key in SIMULATED_CREDENTIALS} == SIMULATED_CREDENTIALS


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An environment where boto3's credential chain finds nothing (no keys, no files, no instance role)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "absent-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "absent-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("no_aws_credentials")
def test_s3_client_reaches_moto_by_name_without_credentials(moto_endpoint: str, tmp_path: Path) -> None:
    # By host name, as an endpoint is usually configured, and with boto3 finding no key: the placeholders sign.
    port = urlparse(moto_endpoint).port
    settings = make_settings(
        tmp_path, aws={"endpoint_url": f"http://localhost:{port}", "region": "us-east-1"}
    )
    client = s3_client(settings)
    client.create_bucket(Bucket="watchlake-aws-factory")
    client.put_object(Bucket="watchlake-aws-factory", Key="a/b.txt", Body=b"x")

    listed = client.list_objects_v2(Bucket="watchlake-aws-factory")["Contents"]
    assert [item["Key"] for item in listed] == ["a/b.txt"]
    assert client.meta.endpoint_url == f"http://localhost:{port}"

"""Small-object storage for the registry and reports: a local folder or S3 (boto3), behind one interface.

Local writes that must be atomic go to a temporary name in the same folder and are renamed over the target
(``os.replace``); on S3 a single PUT of an object is atomic, so readers see the old or the new object whole.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from watchlake.aws import s3_client
from watchlake.errors import ConfigError
from watchlake.lake import is_remote
from watchlake.settings import Settings

log = logging.getLogger(__name__)


class Store(Protocol):
    def read_bytes(self, uri: str) -> bytes | None: ...

    def write_bytes(self, uri: str, data: bytes) -> None: ...

    def list_children(self, uri: str) -> list[str]: ...

    def upload_dir(self, local_dir: Path, uri: str) -> None: ...

    def download_dir(self, uri: str, local_dir: Path) -> None: ...


class LocalStore:
    """Objects are files; ``write_bytes`` is atomic (temporary file + fsync + rename in the same folder)."""

    def read_bytes(self, uri: str) -> bytes | None:
        path = Path(uri)
        return path.read_bytes() if path.is_file() else None

    def write_bytes(self, uri: str, data: bytes) -> None:
        path = Path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex}")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    def list_children(self, uri: str) -> list[str]:
        path = Path(uri)
        return sorted(child.name for child in path.iterdir()) if path.is_dir() else []

    def upload_dir(self, local_dir: Path, uri: str) -> None:
        raise NotImplementedError("local lakes save models in place")

    def download_dir(self, uri: str, local_dir: Path) -> None:
        raise NotImplementedError("local lakes load models in place")


class S3Store:
    """Objects in S3 through boto3 (``s3://`` and ``s3a://`` URIs); each PUT is atomic."""

    def __init__(self, client: Any) -> None:
        self._s3 = client

    @staticmethod
    def _split(uri: str) -> tuple[str, str]:
        parsed = urlparse(uri)
        return parsed.netloc, parsed.path.lstrip("/")

    def read_bytes(self, uri: str) -> bytes | None:
        bucket, key = self._split(uri)
        try:
            return bytes(self._s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except self._s3.exceptions.NoSuchKey:
            return None

    def write_bytes(self, uri: str, data: bytes) -> None:
        bucket, key = self._split(uri)
        self._s3.put_object(Bucket=bucket, Key=key, Body=data)

    def list_children(self, uri: str) -> list[str]:
        bucket, prefix = self._split(uri.rstrip("/") + "/")
        names: set[str] = set()
        for page in self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, Delimiter="/"
        ):
            names.update(item["Prefix"][len(prefix) :].rstrip("/") for item in page.get("CommonPrefixes", []))
            names.update(item["Key"][len(prefix) :] for item in page.get("Contents", []))
        return sorted(names)

    def upload_dir(self, local_dir: Path, uri: str) -> None:
        bucket, prefix = self._split(uri.rstrip("/") + "/")
        for path in sorted(local_dir.rglob("*")):
            if path.is_file() and not path.name.endswith(".crc"):
                self._s3.upload_file(str(path), bucket, prefix + path.relative_to(local_dir).as_posix())

    def download_dir(self, uri: str, local_dir: Path) -> None:
        bucket, prefix = self._split(uri.rstrip("/") + "/")
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                target = local_dir / item["Key"][len(prefix) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                self._s3.download_file(bucket, item["Key"], str(target))


def store_for(uri: str, settings: Settings) -> Store:
    """The store that holds ``uri``: S3 for ``s3://``/``s3a://``, a local folder for plain paths."""
    if not is_remote(uri):
        return LocalStore()
    if urlparse(uri).scheme not in ("s3", "s3a"):
        raise ConfigError(f"lake.root: unsupported scheme in {uri!r}; use a local path, s3:// or s3a://")
    return S3Store(s3_client(settings))

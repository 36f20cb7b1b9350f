"""Copying participant CSVs into the lake's staging area (a local folder or S3) like ``aws s3 sync``.

A file is skipped when the target already holds the same size and SHA-256 (local: hashed on disk; S3: the
``sha256`` object metadata written at upload, since multipart ETags are not content hashes). Copies are
verified against the hash taken before copying. A JSON Lines manifest records every staged file and every file
set aside for its header rows (also listed in the quarantine listing until a later load stages it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from watchlake.errors import IngestError
from watchlake.ingest.sources import SetAside, SourceFile
from watchlake.lake import is_remote
from watchlake.progress import CountingReader, Tracker, track

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
# The ``status`` of a manifest line.
STAGED = "staged"
QUARANTINED = "quarantined"


@dataclass(frozen=True)
class Staged:
    """One manifest line: where a file is staged, its size and checksum, and whether this run copied it."""

    path: str
    size_bytes: int
    sha256: str
    key: str
    participant: str
    source: str
    copied: bool


class Target(Protocol):
    """Where files are staged. ``put`` copies, verifies against ``sha256`` when given, and returns the hash;
    a target with ``hash_first`` needs the hash before the copy (S3 stores it in the object metadata)."""

    hash_first: bool

    def uri(self, key: str) -> str: ...
    def size_of(self, key: str) -> int | None: ...
    def matches(self, key: str, size: int, sha256: str) -> bool: ...
    def put(self, stream: BinaryIO, key: str, size: int, sha256: str | None) -> str: ...
    def read_text(self, key: str) -> str | None: ...
    def write_text(self, key: str, text: str) -> None: ...


class _HashingReader:
    """Wraps a binary stream and hashes what is read through it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def sha256_of(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK_BYTES):
        digest.update(chunk)
    return digest.hexdigest()


def _check_copy(reader: _HashingReader, key: str, size: int, sha256: str | None) -> str:
    digest = reader.digest.hexdigest()
    if reader.size != size or sha256 not in (None, digest):
        raise IngestError(f"{key}: the source changed while it was being staged; run ingest again")
    return digest


class LocalTarget:
    """A local folder; files are written to ``<name>.part`` and renamed when complete and verified."""

    hash_first = False

    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def size_of(self, key: str) -> int | None:
        path = self.root / key
        return path.stat().st_size if path.is_file() else None

    def uri(self, key: str) -> str:
        return str(self.root / key)

    def matches(self, key: str, size: int, sha256: str) -> bool:
        path = self.root / key
        if not path.is_file() or path.stat().st_size != size:
            return False
        with open(path, "rb") as stream:
            return sha256_of(stream) == sha256

    def put(self, stream: BinaryIO, key: str, size: int, sha256: str | None) -> str:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        reader = _HashingReader(stream)
        with open(partial, "wb") as sink:
            while chunk := reader.read(CHUNK_BYTES):
                sink.write(chunk)
        try:
            digest = _check_copy(reader, key, size, sha256)
        except IngestError:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, path)
        return digest

    def read_text(self, key: str) -> str | None:
        path = self.root / key
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def write_text(self, key: str, text: str) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


class S3Target:
    """An ``s3://bucket/prefix``; large files go up as multipart uploads with the SHA-256 in the metadata."""

    hash_first = True

    def __init__(self, uri: str, client: Any, chunk_mb: int) -> None:
        from boto3.s3.transfer import TransferConfig

        bucket, _, prefix = uri.split("://", 1)[1].partition("/")
        self.bucket, self.prefix, self.client = bucket, prefix.strip("/"), client
        chunk = chunk_mb * 1024 * 1024
        self.config = TransferConfig(multipart_threshold=chunk, multipart_chunksize=chunk)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return dict(self.client.head_object(Bucket=self.bucket, Key=self._key(key)))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise IngestError(f"cannot read {self.uri(key)}: {error}") from None

    def size_of(self, key: str) -> int | None:
        head = self._head(key)
        return None if head is None else int(head["ContentLength"])

    def matches(self, key: str, size: int, sha256: str) -> bool:
        head = self._head(key)
        return (
            head is not None
            and head["ContentLength"] == size
            and head.get("Metadata", {}).get("sha256") == sha256
        )

    def put(self, stream: BinaryIO, key: str, size: int, sha256: str | None) -> str:
        if sha256 is None:
            raise ValueError("S3Target.put needs the SHA-256 up front (hash_first)")
        reader = _HashingReader(stream)
        extra = {"Metadata": {"sha256": sha256}}
        self.client.upload_fileobj(reader, self.bucket, self._key(key), ExtraArgs=extra, Config=self.config)
        try:
            return _check_copy(reader, key, size, sha256)
        except IngestError:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
            raise

    def read_text(self, key: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError:
            return None
        return body.read().decode("utf-8")

    def write_text(self, key: str, text: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=text.encode("utf-8"))


def target_for(uri: str, s3_client: Any, chunk_mb: int) -> Target:
    """A local folder target, or an S3 target for ``s3://`` / ``s3a://`` URIs (needs ``s3_client``)."""
    if not is_remote(uri):
        return LocalTarget(uri.removeprefix("file://"))
    if not uri.startswith(("s3://", "s3a://")):
        raise IngestError(f"cannot stage to {uri}: only local folders and s3:// are supported")
    return S3Target(uri, s3_client, chunk_mb)


def sync(sources: list[SourceFile], target: Target) -> list[Staged]:
    """Copy each source to ``target`` under its key unless the same bytes are already there.

    A source is hashed before copying only when the target holds a file of the same size (to compare) or needs
    the hash up front; otherwise it is hashed while it is copied, so a first load reads each source once.
    """
    staged = []
    total = sum(source.size for source in sources)
    finished = 0
    with track("staging", total) as progress:
        for number, source in enumerate(sources, start=1):
            progress.set(finished, f"staging [{number}/{len(sources)}] {source.key}")
            staged.append(_sync_one(source, target, progress))
            finished += source.size
            progress.set(finished)
            log.info(
                "ingest: [%d/%d] %s %s (%.1f MB)",
                number, len(sources), "copied" if staged[-1].copied else "unchanged", staged[-1].path,
                source.size / 1e6,
            )  # fmt: skip
    return staged


def _sync_one(source: SourceFile, target: Target, progress: Tracker) -> Staged:
    same_size = target.size_of(source.key) == source.size
    sha256: str | None = None
    if same_size or target.hash_first:
        with source.open() as stream:
            sha256 = sha256_of(CountingReader(stream, progress))
    copied = sha256 is None or not (same_size and target.matches(source.key, source.size, sha256))
    if copied:
        with source.open() as stream:
            sha256 = target.put(CountingReader(stream, progress), source.key, source.size, sha256)
    assert sha256 is not None
    return Staged(
        target.uri(source.key), source.size, sha256, source.key, source.participant, source.origin, copied
    )


def _read_lines(target: Target, key: str) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for line in (target.read_text(key) or "").splitlines():
        if line.strip():
            entry = json.loads(line)
            entries[entry["path"]] = entry
    return entries


def _write_lines(target: Target, key: str, entries: dict[str, dict[str, Any]]) -> int:
    text = "".join(json.dumps(entries[path], sort_keys=True) + "\n" for path in sorted(entries))
    target.write_text(key, text)
    return len(entries)


def set_aside_entry(target: Target, item: SetAside, when: datetime) -> dict[str, Any]:
    """The manifest line of a file set aside: where it would be staged, where it came from, why not."""
    source = item.source
    return {
        "path": target.uri(source.key),
        "key": source.key,
        "participant": source.participant,
        "source": source.origin,
        "size_bytes": source.size,
        "sha256": None,
        "status": QUARANTINED,
        "reason": item.reason,
        "set_aside_at": when.isoformat(timespec="seconds"),
    }


def write_manifest(
    target: Target, key: str, staged: list[Staged], set_aside: Sequence[dict[str, Any]] = ()
) -> int:
    """Merge ``staged`` and the ``set_aside`` entries into the JSON Lines manifest at ``key`` (one line per staging
    path, ``status`` staged or quarantined); returns its lines."""
    entries = _read_lines(target, key)
    for item in staged:
        entry = asdict(item)
        entry.pop("copied")
        entries[item.path] = {**entry, "status": STAGED}
    for entry in set_aside:
        entries[entry["path"]] = entry
    return _write_lines(target, key, entries)


def write_quarantine(
    target: Target, key: str, staged: list[Staged], set_aside: Sequence[dict[str, Any]]
) -> int:
    """Update the quarantine listing at ``key``: add this load's ``set_aside`` entries, drop the files it staged
    (fixed since); returns the files still listed."""
    entries = _read_lines(target, key)
    for item in staged:
        entries.pop(item.path, None)
    for entry in set_aside:
        entries[entry["path"]] = entry
    return _write_lines(target, key, entries)

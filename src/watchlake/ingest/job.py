"""The bulk load: get the CASAS archives (download, a local folder or zip, or the sample generator), check every
file's header, sync the participant CSVs to ``<lake>/staging/<group>/sw1.pN.csv`` and write the manifest; files
with wrong header rows are set aside (listed, not staged) and named in the error the load ends with."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from watchlake.aws import s3_client
from watchlake.errors import FormatError, IngestError
from watchlake.ingest import sources as found
from watchlake.ingest.staging import (
    Staged,
    set_aside_entry,
    sync,
    target_for,
    write_manifest,
    write_quarantine,
)
from watchlake.lake import Lake, is_remote
from watchlake.settings import Settings

log = logging.getLogger(__name__)

SOURCES = ("casas", "sample")


@dataclass(frozen=True)
class IngestResult:
    """What one bulk load did: files staged, how many were copied or already there, and the manifest."""

    files: int
    copied: int
    skipped: int
    bytes_copied: int
    manifest: str
    staged: list[Staged]
    set_aside: tuple[str, ...] = ()  # staging keys of the files whose header rows were wrong


def download_dir(settings: Settings) -> Path:
    """Where archives are downloaded: ``settings.ingest.download_dir`` or ``<runtime_dir>/downloads``."""
    return Path(settings.ingest.download_dir or Path(settings.runtime_dir) / "downloads")


def resolve_source(settings: Settings, source: str) -> list[Path]:
    """The local zips or folders behind ``--source``: ``casas`` downloads, ``sample`` generates, else a path."""
    if source == "casas":
        from watchlake.ingest.download import download

        conf = settings.ingest
        folder = download_dir(settings)
        return [
            download(
                url,
                folder,
                retries=conf.retries,
                backoff_seconds=conf.retry_backoff_seconds,
                timeout=conf.timeout_seconds,
            )
            for url in conf.archive_urls
        ]
    if source == "sample":
        from watchlake.casas.sample import generate_sample, sample_dir

        conf = settings.sample
        return generate_sample(
            sample_dir(settings), conf.participants, conf.hours, conf.groups, conf.seed
        ).zips
    path = Path(source).expanduser()
    if not path.exists():
        raise IngestError(f"--source {source}: no such file or folder; give casas, sample, a folder or a zip")
    return [path]


def run(settings: Settings, source: str = "casas", strict: bool = False) -> IngestResult:
    """Stage every participant CSV of ``source`` whose header rows are right; a second run with the same inputs
    copies nothing.

    A file with wrong header rows is set aside: not staged, listed with its reason in the manifest and in
    ``Lake.quarantine``; after the others are staged, FormatError names it (a non-zero exit). With ``strict``, all
    headers are checked before the first copy and one bad file stops the load with nothing new staged.
    """
    started = time.perf_counter()
    lake = Lake.from_settings(settings)
    files = found.collect(resolve_source(settings, source))
    good, bad = found.split_checked(files)
    if strict and bad:
        raise FormatError(
            f"{len(bad)} file(s) fail the CASAS header check, nothing staged (--strict): "
            + "; ".join(item.reason for item in bad)
        )
    remote = is_remote(lake.staging) or is_remote(lake.manifests)
    client = s3_client(settings) if remote else None
    chunk_mb = settings.ingest.multipart_chunk_mb
    staging = target_for(lake.staging, client, chunk_mb)
    staged = sync(good, staging)
    now = datetime.now(UTC)
    aside = [set_aside_entry(staging, item, now) for item in bad]
    manifests = target_for(lake.manifests, client, chunk_mb)
    lines = write_manifest(manifests, lake.staging_manifest_name, staged, aside)
    write_quarantine(manifests, lake.quarantine_name, staged, aside)
    copied = [item for item in staged if item.copied]
    result = IngestResult(
        len(staged), len(copied), len(staged) - len(copied), sum(item.size_bytes for item in copied),
        lake.staging_manifest, staged, tuple(entry["key"] for entry in aside),
    )  # fmt: skip
    log.info(
        "ingest: %d files, %d copied (%.1f MB), %d unchanged, into %s in %.1f s; manifest %s (%d entries)",
        result.files, result.copied, result.bytes_copied / 1e6, result.skipped, lake.staging,
        time.perf_counter() - started, result.manifest, lines,
    )  # fmt: skip
    if bad:
        raise FormatError(
            f"{len(bad)} of {len(files)} file(s) set aside (not staged; listed in {lake.quarantine}), the other "
            f"{len(staged)} staged: "
            + "; ".join(item.reason for item in bad)
            + ". Fix or replace them and run `watchlake ingest` again"
        )
    return result

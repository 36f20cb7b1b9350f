"""moto in server mode: a local stand-in for S3, EMR and Glue when ``aws.endpoint_url`` points at loopback.

Started as ``python -m moto.server`` (the ``moto[server]`` extra) on the endpoint's port; its state lives in memory
and is gone when it stops. ``aws.bucket`` (the S3 lake's bucket) is created on start when set.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from urllib.parse import urlparse

from watchlake.aws import s3_client
from watchlake.errors import ServiceError
from watchlake.services import process
from watchlake.services.process import ServiceInfo
from watchlake.settings import Settings

log = logging.getLogger(__name__)

NAME = "moto"
TOKEN = "moto.server"
START_TIMEOUT = 60.0


def endpoint(settings: Settings) -> tuple[str, int] | None:
    """Host and port of a simulated AWS endpoint, or None when ``aws.endpoint_url`` is not on loopback."""
    url = urlparse(settings.aws.endpoint_url)
    if not url.hostname or not process.is_loopback(url.hostname):
        return None
    return process.LOOPBACK, url.port or (443 if url.scheme == "https" else 80)


def _paths(settings: Settings) -> dict[str, Path]:
    home = process.service_dir(settings.runtime_dir, NAME)
    return {"home": home, "log": home / "moto.log", "pid": home / "moto.pid"}


# A health probe waits this long for moto: a hung server is reported unhealthy rather than waited for.
PROBE_TIMEOUT = 2.0


def _answers(settings: Settings) -> bool:
    """Whether moto answers an S3 ListBuckets: a cheap call. (Its ``/moto-api/data.json`` dumps the whole state
    and fails once a multipart upload is in it, so a healthy server looked sick.)"""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        s3_client(settings, timeout_seconds=PROBE_TIMEOUT).list_buckets()
    except (BotoCoreError, ClientError, OSError):
        return False
    return True


def start(settings: Settings) -> ServiceInfo:
    """Start moto on the endpoint's port unless it runs already; skipped when AWS is not simulated."""
    where = endpoint(settings)
    if where is None:
        return _skipped(settings)
    host, port = where
    paths = _paths(settings)
    pid = process.live_pid(paths["pid"], TOKEN, NAME)
    if pid is None:
        try:
            import moto.server  # noqa: F401  (only to check the extra is installed)
        except ImportError:
            raise ServiceError("moto: moto server is not installed; pip install 'moto[server]'") from None
        process.ensure_port_free(host, port, NAME, "aws.endpoint_url")
        command = [sys.executable, "-m", TOKEN, "-H", host, "-p", str(port)]
        pid = process.spawn(command, paths["log"])
        paths["pid"].write_text(f"{pid}\n")
        process.wait_healthy(NAME, pid, TOKEN, lambda: _answers(settings), paths["log"], START_TIMEOUT)
        log.info("moto: server pid %d on %s:%d", pid, host, port)
    else:
        log.info("moto: already running (pid %d on %s:%d)", pid, host, port)
    if settings.aws.bucket:
        _ensure_bucket(settings)
    return status(settings)


def _ensure_bucket(settings: Settings) -> None:
    s3 = s3_client(settings)
    existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    if settings.aws.bucket not in existing:
        s3.create_bucket(Bucket=settings.aws.bucket)
        log.info("moto: created bucket %s", settings.aws.bucket)


def stop(settings: Settings) -> ServiceInfo:
    paths = _paths(settings)
    pid = process.live_pid(paths["pid"], TOKEN, NAME)
    if pid is not None:
        process.stop_pid(pid, TOKEN, NAME, timeout=10.0)
        log.info("moto: stopped pid %d", pid)
    paths["pid"].unlink(missing_ok=True)
    return status(settings)


def status(settings: Settings) -> ServiceInfo:
    where = endpoint(settings)
    paths = _paths(settings)
    pid = process.live_pid(paths["pid"], TOKEN, NAME)
    if pid is not None:
        address = f"{where[0]}:{where[1]}" if where else ""
        healthy = where is not None and _answers(settings)
        return ServiceInfo(NAME, "running", address, pid, healthy, str(paths["log"]))
    if where is None:
        return _skipped(settings)
    return ServiceInfo(NAME, "stopped", f"{where[0]}:{where[1]}", log_file=str(paths["log"]))


def _skipped(settings: Settings) -> ServiceInfo:
    target = settings.aws.endpoint_url or "the real AWS endpoints"
    return ServiceInfo(NAME, "skipped", detail=f"aws.endpoint_url is {target}, not a loopback URL")

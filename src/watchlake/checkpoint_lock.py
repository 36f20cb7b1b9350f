"""One process per streaming checkpoint: the predictor and the generator lock a file next to their query's
checkpoint, holding the owner's pid, before they touch it.

The lock is ``fcntl.flock`` on ``<checkpoint>.lock``: the kernel drops it when its process ends, however it ends,
so a killed process never leaves a stale lock (the file stays, with the last pid, and is simply locked again). It
relies on nothing in Spark or its metastore. A checkpoint outside the local file system (``s3://``) is locked by a
file under ``<runtime_dir>/locks/``, which guards against a second process on the same machine only.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

from watchlake.errors import ServiceError
from watchlake.lake import Lake
from watchlake.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class _Held:
    file: IO[str]
    count: int  # nested holds in this process (``predict --reset`` then the stream)


# Locks this process holds, by lock file path: a process may take its own lock again.
_HELD: dict[str, _Held] = {}


def lock_file_of(settings: Settings, query_name: str) -> Path:
    """The lock file of ``query_name``'s checkpoint: beside it when local, else under ``<runtime_dir>/locks``."""
    checkpoint = Lake.from_settings(settings).checkpoint(query_name)
    parsed = urlparse(checkpoint)
    if parsed.scheme in ("", "file"):
        return Path(f"{parsed.path if parsed.scheme else checkpoint}.lock").absolute()
    digest = hashlib.sha256(checkpoint.encode()).hexdigest()[:16]
    return (Path(settings.runtime_dir) / "locks" / f"{query_name}-{digest}.lock").absolute()


@dataclass
class CheckpointLock:
    """A held lock; :meth:`release` it when the query has stopped (the process ending releases it too)."""

    path: Path

    def release(self) -> None:
        held = _HELD.get(str(self.path))
        if held is None:
            return
        held.count -= 1
        if held.count == 0:
            del _HELD[str(self.path)]
            fcntl.flock(held.file, fcntl.LOCK_UN)
            held.file.close()


def lock_checkpoint(settings: Settings, query_name: str, role: str) -> CheckpointLock:
    """Take the lock of ``query_name``'s checkpoint for a ``role`` ("predictor", "generator"), or raise a
    ServiceError naming the pid that holds it and the checkpoint."""
    path = lock_file_of(settings, query_name)
    held = _HELD.get(str(path))
    if held is not None:
        held.count += 1
        return CheckpointLock(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    file = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.seek(0)
        owner = file.read().split()
        file.close()
        pid = owner[0] if owner else "unknown"
        checkpoint = Lake.from_settings(settings).checkpoint(query_name)
        raise ServiceError(
            f"a {role} is already running (pid {pid}) on the checkpoint {checkpoint} (lock {path}); stop it "
            f"first (Ctrl-C in its terminal, or `kill {pid}`), or give this one another query name"
        ) from None
    file.seek(0)
    file.truncate()
    file.write(f"{os.getpid()} {role}\n")
    file.flush()
    _HELD[str(path)] = _Held(file, 1)
    log.info("%s: holding %s (pid %d)", role, path, os.getpid())
    return CheckpointLock(path)

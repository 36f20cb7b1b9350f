"""One writer at a time: Feast's file offline store appends by rewriting its Parquet file, and its file registry
is rewritten by ``apply``, so concurrent pushers (annotators, the oracle, retrain's apply) take this lock first.

``fcntl.flock`` on ``<repo_dir>/store.lock``: threads and processes of this machine exclude each other (each
``open`` is its own lock holder) and the kernel drops the lock when its holder dies, so no stale lock is left.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from watchlake.errors import ServiceError

_POLL_SECONDS = 0.05


@contextmanager
def store_lock(folder: Path, timeout_seconds: float) -> Iterator[None]:
    """Hold the store's lock for the ``with`` block; ServiceError after ``timeout_seconds`` of waiting."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "store.lock"
    deadline = time.monotonic() + timeout_seconds
    with open(path, "a+") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ServiceError(
                        f"the feature store is locked by another writer ({path}) for over {timeout_seconds:g} s; "
                        "retry, or raise feature_store.lock_timeout_seconds"
                    ) from None
                time.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

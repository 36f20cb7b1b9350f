"""Write annotators' labels to the feature store: every label online (PostgreSQL) and offline (the lake's
Parquet) in one Feast push. Rows are only ever added: a relabel or an undo (label None) is a newer row of the
same window, and the old rows stay offline for the record and for point-in-time reads.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from watchlake.feature_store.lock import store_lock
from watchlake.feature_store.records import WindowLabel
from watchlake.feature_store.repo import PUSH_SOURCE, open_store, repo_dir
from watchlake.feature_store.rows import columns, to_rounds, to_row
from watchlake.lake import Lake, is_remote
from watchlake.settings import Settings

log = logging.getLogger(__name__)


def _keep_previous(settings: Settings) -> None:
    """Feast's file store rewrites its Parquet file in place on every push: keep the last good copy beside it
    (``window_labels.parquet.previous``), so a push that dies half-way loses nothing that was stored."""
    path = Lake.from_settings(settings).window_labels
    if not is_remote(path) and Path(path).exists():
        shutil.copy2(path, f"{path}.previous")


def push_labels(settings: Settings, labels: Sequence[WindowLabel]) -> int:
    """Push ``labels`` online and offline (PushMode.ONLINE_AND_OFFLINE); return how many rows were written.

    Pushers are serialised by the store's file lock. Several labels of one window in one call are pushed oldest
    first, so the online store ends with the newest. ValueError when two labels share a ``label_id`` or a label
    lacks a window feature (nothing is written then)."""
    if not labels:
        return 0
    ids = [label.label_id for label in labels]
    if len(set(ids)) != len(ids):
        raise ValueError(
            "push_labels: the labels repeat a label_id (a replayed submission); nothing was pushed"
        )
    import pandas as pd
    from feast.data_source import PushMode

    pushed_at = datetime.now(UTC)
    frames = [
        pd.DataFrame([to_row(label, pushed_at) for label in group], columns=columns())
        for group in to_rounds(labels)
    ]
    store = open_store(settings)
    with store_lock(repo_dir(settings), settings.feature_store.lock_timeout_seconds):
        _keep_previous(settings)
        for frame in frames:
            frame["label"] = frame["label"].astype(object)
            store.push(PUSH_SOURCE, frame, to=PushMode.ONLINE_AND_OFFLINE)
    log.info("feature store: pushed %d label rows", len(labels))
    return len(labels)

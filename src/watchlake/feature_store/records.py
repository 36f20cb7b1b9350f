"""One annotator's label of one window, as the annotation service hands it to the feature store.

The annotation service (``watchlake annotate``) writes a :class:`WindowLabel` on every submission, undo included,
and ``watchlake.feature_store.push.push_labels`` writes it online and offline in one push. Labels are never updated
in place: a relabel or an undo is a newer row of the same window, and the newest row (by ``labelled_at``) wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class WindowLabel:
    label_id: (
        str  # unique per submission (the API's idempotency key): a replay carries the same id and is refused
    )
    device_id: str
    window_start: datetime  # naive UTC, as the warehouse holds window times
    window_end: datetime
    label: str | None  # the activity class; None retracts the window's earlier labels (undo)
    annotator: str
    labelled_at: datetime  # naive UTC; the row's event time in the feature store
    note: str
    model_version: str  # the model whose low confidence queued the window
    features: Mapping[str, float | str]  # the queue row's window features, by feature column name

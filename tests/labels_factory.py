"""WindowLabel values for feature store and retrain tests."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from watchlake.feature_store.records import WindowLabel
from watchlake.features.transforms import CATEGORICAL_COLUMNS, FEATURE_COLUMNS

T0 = datetime(2026, 12, 1, 10, 0, 0)


def window_label(
    device: str,
    minute: int,
    label: str | None,
    labelled_at: datetime,
    *,
    level: float = 0.5,
    annotator: str = "ann",
    note: str = "",
) -> WindowLabel:
    """A label of ``device``'s window starting ``minute`` minutes after T0, every feature ``level``."""
    start = T0 + timedelta(minutes=minute)
    features: dict[str, float | str] = {name: level for name in FEATURE_COLUMNS}
    features.update({name: "house" for name in CATEGORICAL_COLUMNS})
    return WindowLabel(
        label_id=uuid.uuid4().hex,
        device_id=device,
        window_start=start,
        window_end=start + timedelta(seconds=60),
        label=label,
        annotator=annotator,
        labelled_at=labelled_at,
        note=note,
        model_version="1",
        features=features,
    )


def push_minutes(settings, device: str, minutes: int) -> None:
    """Push one label per minute of ``device`` (the body of a concurrent pusher process)."""
    from watchlake.feature_store.push import push_labels

    for minute in range(minutes):
        push_labels(settings, [window_label(device, minute, "Walk", T0 + timedelta(hours=1))])

"""The ``partial`` flag of streamed predictions: windows with fewer events than the minimum share of readings."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from watchlake.features.transforms import FEATURE_COLUMNS, min_readings
from watchlake.predict.rows import Window, to_sink_rows
from watchlake.scoring import Scores
from watchlake.settings import FeatureSettings
from watchlake.warehouse.tables import PREDICTIONS

START = datetime(2020, 1, 1, 10, 0)


def _window(device: str, events: int) -> Window:
    return Window(
        device_id=device,
        window_start=START,
        window_end=START + timedelta(seconds=60),
        events=events,
        last_arrived_at=START + timedelta(seconds=61),
        signal=[],
        values=[0.0] * len(FEATURE_COLUMNS),
    )


def test_min_readings_is_the_share_of_the_expected_10_hz_readings_rounded_up() -> None:
    assert min_readings(60, 0.5) == 300
    assert min_readings(60, 0.0) == 0
    assert min_readings(7, 0.33) == 24  # 23.1 rounded up
    defaults = FeatureSettings()
    assert min_readings(defaults.window_seconds, defaults.min_readings_share) == 300


def test_to_sink_rows_marks_windows_with_fewer_events_than_the_minimum_partial() -> None:
    windows = [
        _window("lone-row", 1),
        _window("just-short", 299),
        _window("enough", 300),
        _window("full", 600),
    ]
    probabilities = np.array([[0.9, 0.1]] * len(windows))
    scores = Scores(
        probabilities,
        ["A"] * len(windows),
        probabilities[:, 0],
        probabilities[:, 0] - 0.1,
        np.zeros(len(windows)),
    )
    predictions, _ = to_sink_rows(
        windows,
        scores,
        classes=("A", "B"),
        model_version=1,
        query_name="q",
        batch_id=0,
        now=START + timedelta(seconds=62),
        measure="margin",
        threshold=0.0,
        max_queued=0,
        min_readings=300,
    )
    flags = {row[0]: dict(zip(PREDICTIONS.column_names, row, strict=True))["partial"] for row in predictions}
    assert flags == {"lone-row": True, "just-short": True, "enough": False, "full": False}

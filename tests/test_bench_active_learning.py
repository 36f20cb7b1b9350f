"""The active-learning benchmark's pure parts: the planted shift, the doubt measures, the learning curve."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from watchlake.features.transforms import CATEGORICAL_COLUMNS, FEATURE_COLUMNS
from watchlake.labels.transforms import ACTIVITY

_PATH = Path(__file__).resolve().parents[1] / "bench" / "active_learning" / "run.py"
_SPEC = importlib.util.spec_from_file_location("bench_active_learning", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
bench = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = bench  # its dataclasses look their module up by name
_SPEC.loader.exec_module(bench)


def _windows(participants: int = 10, per_participant: int = 30, seed: int = 1) -> pd.DataFrame:
    """Two learnable classes: class B has a larger first feature."""
    rng = np.random.default_rng(seed)
    rows = participants * per_participant
    labels = np.where(np.arange(rows) % 2 == 0, "A", "B")
    values = rng.normal(size=(rows, len(FEATURE_COLUMNS)))
    values[:, 0] += np.where(labels == "B", 3.0, 0.0)
    frame = pd.DataFrame(values, columns=list(FEATURE_COLUMNS))
    frame["participant"] = [f"p{i // per_participant:02d}" for i in range(rows)]
    frame[ACTIVITY] = labels
    for name in CATEGORICAL_COLUMNS:
        frame[name] = np.where(np.arange(rows) % 3 == 0, "house", "road")
    return frame


def test_the_shift_moves_each_class_of_the_new_watches_only_and_splits_them_by_participant() -> None:
    windows = _windows()
    split = bench.plant_shift(windows, shift=1.0, seed=7)
    unshifted = bench.plant_shift(windows, shift=0.0, seed=7)
    np.testing.assert_array_equal(split.base_x, unshifted.base_x)  # the training watches are untouched
    assert len(split.base_y) == 5 * 30 and len(split.pool_y) == 3 * 30 and len(split.heldout_y) == 2 * 30
    numeric = len(FEATURE_COLUMNS)
    for name in ("A", "B"):
        moved = (split.pool_x - unshifted.pool_x)[split.pool_y == name, :numeric]
        assert np.abs(moved).max() > 0
        np.testing.assert_allclose(moved, np.broadcast_to(moved[0], moved.shape))  # one offset per class
    offset_a = (split.pool_x - unshifted.pool_x)[split.pool_y == "A"][0]
    offset_b = (split.pool_x - unshifted.pool_x)[split.pool_y == "B"][0]
    assert not np.allclose(offset_a, offset_b)
    # the categorical (the last column) is never shifted
    np.testing.assert_array_equal(split.heldout_x[:, numeric:], unshifted.heldout_x[:, numeric:])


def test_doubt_puts_the_window_the_model_is_least_sure_of_first() -> None:
    probabilities = np.array([[0.9, 0.05, 0.05], [0.45, 0.45, 0.10], [0.5, 0.3, 0.2]])
    assert list(np.argsort(-bench.doubt(probabilities, "margin"))) == [1, 2, 0]
    assert list(np.argsort(-bench.doubt(probabilities, "max_probability"))) == [1, 2, 0]
    assert list(np.argsort(-bench.doubt(probabilities, "entropy"))) == [2, 1, 0]
    with pytest.raises(ValueError, match="unknown strategy"):
        bench.doubt(probabilities, "vibes")


def test_a_learning_curve_labels_distinct_pool_windows_and_reports_when_it_reaches_a_target() -> None:
    split = bench.plant_shift(_windows(), shift=2.0, seed=3)
    curve = bench.learning_curve(split, "margin", seed=0, batch=10, rounds=3, trees=10, depth=4)
    assert len(curve) == 4 and all(0.0 <= value <= 1.0 for value in curve)
    assert bench.labels_to_reach([0.2, 0.5, 0.9, 0.95], 0.9, batch=10) == 20
    assert bench.labels_to_reach([0.2, 0.5], 0.9, batch=10) is None
    # a budget larger than the pool stops when every window is labelled
    whole = bench.learning_curve(split, "random", seed=0, batch=50, rounds=10, trees=5, depth=3)
    assert len(whole) == 3  # 0, 50, 90 (all) labels

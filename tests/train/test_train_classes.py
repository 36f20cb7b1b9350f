"""The two-class rule of training (train and retrain): pure, no Spark."""

from __future__ import annotations

import pytest

from watchlake.errors import DataQualityError
from watchlake.train.fitting import require_two_classes


def test_require_two_classes_refuses_one_class():
    with pytest.raises(DataQualityError, match=r"fewer than two activity classes \(only 'Relax'\)"):
        require_two_classes({"Relax": 40}, "the training windows")


def test_require_two_classes_ignores_classes_without_windows():
    with pytest.raises(DataQualityError, match=r"only 'Relax'"):
        require_two_classes({"Relax": 40, "Walk": 0}, "the training windows")


def test_require_two_classes_refuses_no_windows():
    with pytest.raises(DataQualityError, match=r"\(none\)"):
        require_two_classes({}, "the training windows")


def test_require_two_classes_accepts_two():
    require_two_classes({"Relax": 1, "Walk": 1}, "the training windows")

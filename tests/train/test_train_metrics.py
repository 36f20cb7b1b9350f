"""Metrics from (true, predicted, count) triples agree with sklearn; the majority baseline; class weights."""

from __future__ import annotations

import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from watchlake.train.metrics import classification_metrics, majority_baseline
from watchlake.train.transforms import choose_test_keys, class_weights

TRUE = ["Relax"] * 6 + ["Work"] * 3 + ["Sleep"] * 2 + ["Eat"]
PRED = ["Relax"] * 4 + ["Work", "Sleep"] + ["Work", "Work", "Relax"] + ["Sleep", "Relax"] + ["Relax"]


def _triples(true, pred):
    counts: dict[tuple[str, str], int] = {}
    for pair in zip(true, pred, strict=True):
        counts[pair] = counts.get(pair, 0) + 1
    return [(t, p, c) for (t, p), c in counts.items()]


def test_classification_metrics_match_sklearn():
    metrics = classification_metrics(_triples(TRUE, PRED))
    labels = sorted(set(TRUE) | set(PRED))
    assert metrics["accuracy"] == pytest.approx(accuracy_score(TRUE, PRED))
    assert metrics["macro_f1"] == pytest.approx(f1_score(TRUE, PRED, average="macro", zero_division=0))
    assert metrics["weighted_f1"] == pytest.approx(f1_score(TRUE, PRED, average="weighted", zero_division=0))
    precision, recall, f1, support = precision_recall_fscore_support(
        TRUE, PRED, labels=labels, zero_division=0
    )
    for i, label in enumerate(labels):
        got = metrics["per_class"][label]
        assert (got["precision"], got["recall"], got["f1"], got["support"]) == pytest.approx(
            (precision[i], recall[i], f1[i], support[i])
        )
    assert metrics["confusion"]["labels"] == labels
    assert metrics["confusion"]["matrix"] == confusion_matrix(TRUE, PRED, labels=labels).tolist()


def test_majority_baseline_predicts_training_majority_on_test_support():
    baseline = majority_baseline({"Relax": 6, "Work": 3, "Sleep": 1}, "Relax")
    assert baseline["accuracy"] == pytest.approx(0.6)
    assert baseline["macro_f1"] == pytest.approx((2 * 0.6 / 1.6) / 3)


def test_class_weights_are_inverse_frequency():
    assert class_weights({"a": 6, "b": 3, "c": 1}) == pytest.approx({"a": 10 / 18, "b": 10 / 9, "c": 10 / 3})


def test_choose_test_keys_is_deterministic_and_leaves_both_sides_non_empty():
    keys = [f"sw1.p{n}" for n in range(1, 11)]
    chosen = choose_test_keys(keys, 0.3, seed=42)
    assert len(chosen) == 3 and set(chosen) < set(keys)
    assert chosen == choose_test_keys(list(reversed(keys)), 0.3, seed=42)
    assert len(choose_test_keys(["a", "b"], 0.9, seed=1)) == 1
    assert len(choose_test_keys(["a", "b"], 0.01, seed=1)) == 1

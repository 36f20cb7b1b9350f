"""Classification metrics from (true, predicted, count) triples: pure Python, no Spark, no sklearn.

Macro averages run over the union of true and predicted classes (as sklearn does); F1 of a class with no
predictions or no support is 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def classification_metrics(pairs: Iterable[tuple[str, str, int]]) -> dict[str, Any]:
    """Accuracy, macro/weighted F1, per-class precision/recall/F1/support and the confusion matrix."""
    counts: dict[tuple[str, str], int] = {}
    for truth, predicted, count in pairs:
        counts[(truth, predicted)] = counts.get((truth, predicted), 0) + int(count)
    labels = sorted({t for t, _ in counts} | {p for _, p in counts})
    total = sum(counts.values())
    per_class: dict[str, dict[str, float]] = {}
    for label in labels:
        hit = counts.get((label, label), 0)
        support = sum(c for (t, _), c in counts.items() if t == label)
        predicted = sum(c for (_, p), c in counts.items() if p == label)
        precision = hit / predicted if predicted else 0.0
        recall = hit / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    correct = sum(c for (t, p), c in counts.items() if t == p)
    return {
        "windows": total,
        "accuracy": correct / total if total else 0.0,
        "macro_f1": sum(m["f1"] for m in per_class.values()) / len(labels) if labels else 0.0,
        "weighted_f1": (sum(m["f1"] * m["support"] for m in per_class.values()) / total) if total else 0.0,
        "per_class": per_class,
        "confusion": {
            "labels": labels,
            "matrix": [[counts.get((t, p), 0) for p in labels] for t in labels],
        },
    }


def majority_baseline(test_support: dict[str, int], majority_class: str) -> dict[str, Any]:
    """Metrics of always predicting ``majority_class`` (the training majority) on the test windows."""
    return classification_metrics((truth, majority_class, count) for truth, count in test_support.items())


def summary(metrics: dict[str, Any]) -> dict[str, float]:
    """The headline numbers of a metrics dict (for meta.json and the promotion decision)."""
    return {key: float(metrics[key]) for key in ("accuracy", "macro_f1", "weighted_f1")}

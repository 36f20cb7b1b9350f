"""What ``watchlake train`` and ``watchlake retrain`` share: the split, the recipe's fit with class weights, the
evaluation of a challenger and of the champion on the same held-out windows, and the model's meta record.

The recipe is a :class:`TrainSettings` (classifier and its parameters, seed): retrain passes the champion's, so a
challenger differs from the champion only by the data it saw.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from watchlake.errors import DataQualityError
from watchlake.features.transforms import CATEGORICAL_COLUMNS, FEATURE_COLUMNS, FEATURE_VERSION
from watchlake.labels.transforms import ACTIVITY
from watchlake.lake import Lake
from watchlake.monitor.confidence import BINS, HELDOUT_KEY, bin_column, counts_from
from watchlake.registry.registry import ModelRegistry
from watchlake.scoring import ChampionModel, score
from watchlake.settings import Settings, TrainSettings
from watchlake.train import transforms as T
from watchlake.train.metrics import classification_metrics, majority_baseline, summary
from watchlake.train.pipeline import TrainedModel, fit_pipeline

log = logging.getLogger(__name__)
KEY = "participant"


@dataclass(frozen=True)
class Outcome:
    fitted: TrainedModel
    metrics: dict[str, Any]
    baseline: dict[str, Any]
    train_counts: dict[str, int]
    test_counts: dict[str, int]
    fit_seconds: float
    heldout_confidence: list[
        int
    ]  # the challenger's confidence histogram on the test windows (monitor.confidence)


def class_counts(windows: DataFrame) -> dict[str, int]:
    return {row[ACTIVITY]: int(row["count"]) for row in windows.groupBy(ACTIVITY).count().collect()}


def require_two_classes(counts: dict[str, int], what: str) -> None:
    """DataQualityError unless ``counts`` has two classes or more: a one-class model predicts that class for
    every window, scores a perfect macro-F1 on one-class test data, and would be promoted."""
    present = sorted(name for name, count in counts.items() if count > 0)
    if len(present) < 2:
        found = f"only {present[0]!r}" if present else "none"
        raise DataQualityError(
            f"{what} hold fewer than two activity classes ({found}): a classifier needs at least two; "
            "label windows of more classes (or check labels.yaml's mapping) and train again"
        )


def split(trainable: DataFrame, train: TrainSettings) -> tuple[DataFrame, DataFrame, dict[str, Any]]:
    """(train, test, held-out identity): by participant or by time block, as ``train.split_by`` says."""
    if train.split_by == "participant":
        keys = [row[KEY] for row in trainable.select(KEY).distinct().collect()]
        test_keys = T.choose_test_keys(keys, train.test_fraction, train.seed)
        train_side, test_side = T.split_by_key(trainable, test_keys, key_col=KEY)
        heldout: dict[str, Any] = {"split_by": "participant", "test_participants": test_keys}
    else:
        train_side, test_side = T.split_by_time_block(
            trainable, train.time_block_seconds, train.test_fraction, train.seed, key_col=KEY
        )
        heldout = {"split_by": "time_block", "block_seconds": train.time_block_seconds, "seed": train.seed}
    heldout["fingerprint"] = fingerprint(heldout)
    return train_side.cache(), test_side.cache(), heldout


def fingerprint(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def evaluate(model: ChampionModel, test: DataFrame) -> dict[str, Any]:
    return evaluate_with_confidence(model, test)[0]


def evaluate_with_confidence(model: ChampionModel, test: DataFrame) -> tuple[dict[str, Any], list[int]]:
    """The metrics of ``model`` on ``test`` and its confidence histogram there, from one Spark job (counts per
    true class, predicted class and confidence bin)."""
    scored = score(model, test)
    cells = (
        scored.groupBy(ACTIVITY, "predicted_activity", bin_column(scored["confidence"]).alias("bin"))
        .count()
        .collect()
    )
    metrics = classification_metrics((row[0], row[1], row[3]) for row in cells)  # it sums over the bins
    return metrics, counts_from((int(row[2]), int(row[3])) for row in cells)


def fit_and_evaluate(
    recipe: TrainSettings, registry: ModelRegistry, train: DataFrame, test: DataFrame
) -> Outcome:
    """Fit ``recipe`` with inverse-frequency class weights; evaluate on ``test`` beside the training-majority
    baseline. DataQualityError when the training windows hold fewer than two classes."""
    train_counts = class_counts(train)
    require_two_classes(train_counts, "the training windows")
    test_counts = class_counts(test)
    started = time.perf_counter()
    weighted = T.with_class_weight(train, T.class_weights(train_counts), label_col=ACTIVITY)
    fitted = fit_pipeline(weighted, recipe, label_col=ACTIVITY)
    fit_seconds = time.perf_counter() - started
    metrics, confidence = evaluate_with_confidence(
        ChampionModel(registry.name, 0, fitted.classes, fitted.model, registry), test
    )
    majority = max(train_counts, key=lambda name: (train_counts[name], name))
    baseline = majority_baseline(test_counts, majority)
    return Outcome(fitted, metrics, baseline, train_counts, test_counts, fit_seconds, confidence)


def champion_evaluation(
    registry: ModelRegistry, spark: SparkSession, test: DataFrame
) -> dict[str, Any] | None:
    """The champion's full metrics on ``test`` plus its ``version``; None without a champion; only the version
    when it cannot score today's features (it then loses the promotion)."""
    pointer = registry.champion()
    if pointer is None:
        return None
    try:
        meta = registry.meta(pointer.version)
        champion = ChampionModel(
            registry.name,
            pointer.version,
            tuple(meta["classes"]),
            registry.load(pointer.version, spark),
            registry,
        )
        return {**evaluate(champion, test), "version": pointer.version}
    except Exception as error:  # a champion that cannot score today's features must not block training
        log.warning("champion version %d could not be evaluated: %s", pointer.version, error)
        return {"version": pointer.version}


def headline(evaluation: dict[str, Any] | None) -> dict[str, float] | None:
    """The decision's view of a champion evaluation: headline metrics and version (None stays None)."""
    if evaluation is None:
        return None
    if "macro_f1" not in evaluation:
        return {"version": float(evaluation["version"])}
    return {**summary(evaluation), "version": float(evaluation["version"])}


def settings_snapshot(settings: Settings) -> dict[str, Any]:
    """The settings as JSON data, without secrets."""
    snapshot = settings.model_dump(mode="json")
    snapshot.get("warehouse", {}).pop("password", None)
    snapshot.get("feature_store", {}).get("online_store", {}).pop("password", None)
    return dict(snapshot)


def model_meta(settings: Settings, lake: Lake, outcome: Outcome, heldout: dict[str, Any]) -> dict[str, Any]:
    return {
        "classes": list(outcome.fitted.classes),
        "feature_version": FEATURE_VERSION,
        "feature_columns": list(FEATURE_COLUMNS),
        "categorical_columns": list(CATEGORICAL_COLUMNS),
        "metrics": summary(outcome.metrics),
        "baseline": summary(outcome.baseline),
        "per_class": outcome.metrics["per_class"],
        "heldout": heldout,
        HELDOUT_KEY: {"bins": BINS, "counts": outcome.heldout_confidence},
        "data": {
            "windows": lake.windows,
            "train_windows": outcome.train_counts,
            "test_windows": outcome.test_counts,
        },
        "settings": settings_snapshot(settings),
    }

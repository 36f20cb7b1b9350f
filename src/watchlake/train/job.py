"""The train job: labelled windows (``watchlake features``) -> split -> fit -> evaluate -> register -> maybe promote.

The challenger and the current champion are scored on the same held-out windows; the pure
:func:`watchlake.registry.promotion.decide_promotion` decides. Reports go to ``Lake.train_reports/<run id>/``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from watchlake.features.dataset import read_windows
from watchlake.features.transforms import CATEGORICAL_COLUMNS, FEATURE_COLUMNS, FEATURE_VERSION
from watchlake.labels.mapping import load_mapping
from watchlake.labels.transforms import ACTIVITY
from watchlake.lake import Lake, join
from watchlake.registry.promotion import Decision, decide_promotion
from watchlake.registry.registry import ModelRegistry
from watchlake.registry.store import store_for
from watchlake.scoring import ChampionModel, score
from watchlake.settings import Settings
from watchlake.train import transforms as T
from watchlake.train.metrics import classification_metrics, majority_baseline, summary
from watchlake.train.pipeline import TrainedModel, fit_pipeline
from watchlake.train.report import write_report

log = logging.getLogger(__name__)
KEY = "participant"


@dataclass(frozen=True)
class TrainResult:
    version: int
    promoted: bool
    reason: str
    metrics: dict[str, float]
    baseline: dict[str, float]
    train_windows: int
    test_windows: int
    report: str
    fit_seconds: float


def run(settings: Settings, spark: SparkSession) -> TrainResult:
    """Train on ``Lake.windows``, register the model, promote it if it beats the champion; return a summary."""
    lake = Lake.from_settings(settings)
    mapping = load_mapping(settings.labels.mapping_file)
    windows = read_windows(spark, lake)
    trainable = T.select_trainable(windows, label_col=ACTIVITY, ignore_class=mapping.ignore)
    train, test, heldout = _split(trainable, settings)
    registry = ModelRegistry.from_settings(settings)
    outcome = _fit_and_evaluate(settings, registry, train, test)
    champion_metrics = _champion_metrics(registry, spark, test)
    decision = decide_promotion(
        summary(outcome.metrics),
        champion_metrics,
        metric=settings.train.promotion_metric,
        margin=settings.train.promotion_margin,
    )
    meta = _meta(settings, lake, outcome, heldout)
    meta["promotion"] = {
        "decision": decision.promote,
        "reason": decision.reason,
        "champion": champion_metrics,
    }
    version = registry.register(outcome.fitted.model, meta)
    if decision.promote:
        registry.set_champion(version, decision.reason)
    report = _write_report(settings, lake, registry.name, version, outcome, decision)
    log.info(
        "train: version %d macro-F1 %.3f (baseline %.3f); %s",
        version,
        outcome.metrics["macro_f1"],
        outcome.baseline["macro_f1"],
        decision.reason,
    )
    return TrainResult(
        version=version,
        promoted=decision.promote,
        reason=decision.reason,
        metrics=summary(outcome.metrics),
        baseline=summary(outcome.baseline),
        train_windows=sum(outcome.train_counts.values()),
        test_windows=sum(outcome.test_counts.values()),
        report=report,
        fit_seconds=round(outcome.fit_seconds, 2),
    )


@dataclass(frozen=True)
class _Outcome:
    fitted: TrainedModel
    metrics: dict[str, Any]
    baseline: dict[str, Any]
    train_counts: dict[str, int]
    test_counts: dict[str, int]
    fit_seconds: float


def _fit_and_evaluate(
    settings: Settings, registry: ModelRegistry, train: DataFrame, test: DataFrame
) -> _Outcome:
    """Fit with inverse-frequency class weights; evaluate on ``test`` beside the training-majority baseline."""
    train_counts = _class_counts(train)
    test_counts = _class_counts(test)
    started = time.perf_counter()
    weighted = T.with_class_weight(train, T.class_weights(train_counts), label_col=ACTIVITY)
    fitted = fit_pipeline(weighted, settings.train, label_col=ACTIVITY)
    fit_seconds = time.perf_counter() - started
    metrics = _evaluate(ChampionModel(registry.name, 0, fitted.classes, fitted.model, registry), test)
    majority = max(train_counts, key=lambda name: (train_counts[name], name))
    baseline = majority_baseline(test_counts, majority)
    return _Outcome(fitted, metrics, baseline, train_counts, test_counts, fit_seconds)


def _split(trainable: DataFrame, settings: Settings) -> tuple[DataFrame, DataFrame, dict[str, Any]]:
    train = settings.train
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
    heldout["fingerprint"] = hashlib.sha256(json.dumps(heldout, sort_keys=True).encode()).hexdigest()[:16]
    return train_side.cache(), test_side.cache(), heldout


def _class_counts(windows: DataFrame) -> dict[str, int]:
    return {row[ACTIVITY]: int(row["count"]) for row in windows.groupBy(ACTIVITY).count().collect()}


def _evaluate(model: ChampionModel, test: DataFrame) -> dict[str, Any]:
    pairs = score(model, test).groupBy(ACTIVITY, "predicted_activity").count().collect()
    return classification_metrics((row[0], row[1], row[2]) for row in pairs)


def _champion_metrics(
    registry: ModelRegistry, spark: SparkSession, test: DataFrame
) -> dict[str, float] | None:
    """The champion's headline metrics on this run's held-out windows; None without a champion."""
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
        return {**summary(_evaluate(champion, test)), "version": float(pointer.version)}
    except Exception as error:  # a champion that cannot score today's features must not block training
        log.warning("champion version %d could not be evaluated: %s", pointer.version, error)
        return {"version": float(pointer.version)}


def _settings_snapshot(settings: Settings) -> dict[str, Any]:
    """The settings as JSON data, without secrets."""
    snapshot = settings.model_dump(mode="json")
    snapshot.get("warehouse", {}).pop("password", None)
    return dict(snapshot)


def _meta(settings: Settings, lake: Lake, outcome: _Outcome, heldout: dict[str, Any]) -> dict[str, Any]:
    return {
        "classes": list(outcome.fitted.classes),
        "feature_version": FEATURE_VERSION,
        "feature_columns": list(FEATURE_COLUMNS),
        "categorical_columns": list(CATEGORICAL_COLUMNS),
        "metrics": summary(outcome.metrics),
        "baseline": summary(outcome.baseline),
        "per_class": outcome.metrics["per_class"],
        "heldout": heldout,
        "data": {
            "windows": lake.windows,
            "train_windows": outcome.train_counts,
            "test_windows": outcome.test_counts,
        },
        "settings": _settings_snapshot(settings),
    }


def _write_report(
    settings: Settings, lake: Lake, name: str, version: int, outcome: _Outcome, decision: Decision
) -> str:
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + f"-v{version}"
    folder = join(lake.train_reports, run_id)
    report = {
        "model": name,
        "version": version,
        "metrics": outcome.metrics,
        "baseline": outcome.baseline,
        "train_windows": outcome.train_counts,
        "promotion": {"promoted": decision.promote, "reason": decision.reason},
        "fit_seconds": round(outcome.fit_seconds, 2),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_report(store_for(folder, settings), folder, report)
    log.info("train report: %s", folder)
    return folder

"""The train job: labelled windows (``watchlake features``) -> split -> fit -> evaluate -> register -> maybe promote.

The challenger and the current champion are scored on the same held-out windows (:mod:`watchlake.train.fitting`,
shared with ``watchlake retrain``); the pure :func:`watchlake.registry.promotion.decide_promotion` decides. Reports go to ``Lake.train_reports/<run id>/``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from pyspark.sql import SparkSession

from watchlake.features.dataset import read_windows
from watchlake.labels.mapping import load_mapping
from watchlake.labels.transforms import ACTIVITY
from watchlake.lake import Lake, join
from watchlake.registry.promotion import Decision, decide_promotion
from watchlake.registry.registry import ModelRegistry
from watchlake.registry.store import store_for
from watchlake.settings import Settings
from watchlake.train import fitting as F
from watchlake.train import transforms as T
from watchlake.train.metrics import summary
from watchlake.train.report import write_report

log = logging.getLogger(__name__)


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
    train, test, heldout = F.split(trainable, settings.train)
    registry = ModelRegistry.from_settings(settings)
    outcome = F.fit_and_evaluate(settings.train, registry, train, test)
    champion_metrics = F.headline(F.champion_evaluation(registry, spark, test))
    decision = decide_promotion(
        summary(outcome.metrics),
        champion_metrics,
        metric=settings.train.promotion_metric,
        margin=settings.train.promotion_margin,
    )
    meta = F.model_meta(settings, lake, outcome, heldout)
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


def _write_report(
    settings: Settings, lake: Lake, name: str, version: int, outcome: F.Outcome, decision: Decision
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

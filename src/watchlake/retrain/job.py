"""The retrain job: base windows (``Lake.windows``, split as ``watchlake train`` splits them) plus the feature
store's labelled windows (point-in-time at the run's start) -> a challenger fitted with the champion's recipe ->
champion and challenger scored on the same held-out windows -> the existing promotion gate -> a report.

Skips (nothing fitted, exit 0) when the store holds no label newer than the champion's training (or than a
later challenger's that lost): each model's meta records the newest ``labelled_at`` it saw.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from watchlake.errors import ModelError
from watchlake.features.dataset import read_windows
from watchlake.features.transforms import WINDOW_START
from watchlake.labels.mapping import load_mapping
from watchlake.labels.transforms import ACTIVITY
from watchlake.lake import Lake
from watchlake.registry.promotion import decide_promotion
from watchlake.registry.registry import ModelRegistry
from watchlake.retrain import transforms as R
from watchlake.retrain.report import write_retrain_report
from watchlake.settings import Settings, TrainSettings
from watchlake.train import fitting as FIT
from watchlake.train import transforms as T
from watchlake.train.metrics import summary

log = logging.getLogger(__name__)

# What a champion's recipe is: its classifier and parameters. The split stays today's settings (the same held-out
# participants as `watchlake train`).
RECIPE_FIELDS = ("classifier", "num_trees", "max_depth", "seed")


@dataclass(frozen=True)
class RetrainResult:
    skipped: bool
    reason: str
    champion_version: int
    labels_used: int = 0
    labels_train: int = 0
    labels_test: int = 0
    base_train: int = 0
    test_windows: int = 0
    version: int | None = None
    promoted: bool = False
    champion_macro_f1: float | None = None
    challenger_macro_f1: float | None = None
    max_labelled_at: str | None = None
    report: str = ""


def champion_recipe(settings: Settings, champion_meta: dict[str, Any]) -> TrainSettings:
    """Today's train settings with the champion's classifier, parameters and seed (from its meta)."""
    recorded = champion_meta.get("settings", {}).get("train", {})
    update = {name: recorded[name] for name in RECIPE_FIELDS if name in recorded}
    return TrainSettings.model_validate({**settings.train.model_dump(), **update})


def _labels_seen(registry: ModelRegistry, champion: int) -> tuple[int, datetime | None]:
    """The newest ``labelled_at`` the champion, or a later challenger that lost, was trained on (and that
    version): refitting the same recipe on the same labels would give the same model and decision again."""
    best: tuple[int, datetime | None] = (champion, None)
    for version in [champion, *(v for v in registry.versions() if v > champion)]:
        recorded = registry.meta(version).get("labels", {}).get("max_labelled_at")
        if recorded and (best[1] is None or datetime.fromisoformat(recorded) >= best[1]):
            best = (version, datetime.fromisoformat(recorded))
    return best


def run(settings: Settings, spark: SparkSession, as_of: datetime | None = None) -> RetrainResult:
    """Retrain with the store's labels as of ``as_of`` (default now); register the challenger and promote it
    through the gate, or skip when there is nothing new. ModelError without a champion (run `watchlake train`)."""
    from watchlake.feature_store.retrieval import labelled_windows, latest_label_time
    from watchlake.feature_store.rows import as_utc

    moment = as_utc(as_of or datetime.now(UTC)).replace(tzinfo=None)  # naive UTC, as the lake's times
    registry = ModelRegistry.from_settings(settings)
    pointer = registry.champion()
    if pointer is None:
        raise ModelError(f"model {registry.name!r} has no champion to retrain: run `watchlake train` first")
    champion_meta = registry.meta(pointer.version)
    newest = latest_label_time(settings, moment)
    if newest is None:
        return RetrainResult(True, "no labels in the feature store", pointer.version)
    seen_by, seen = _labels_seen(registry, pointer.version)
    if seen is not None and newest <= seen:
        return RetrainResult(
            True,
            f"no labels newer than those model v{seen_by} was trained on ({seen.isoformat()})",
            pointer.version,
        )
    return _retrain(
        settings, spark, registry, champion_meta, labelled_windows(settings, spark, moment), newest
    )


def _retrain(
    settings: Settings,
    spark: SparkSession,
    registry: ModelRegistry,
    champion_meta: dict[str, Any],
    labelled: DataFrame,
    newest: datetime,
) -> RetrainResult:
    lake = Lake.from_settings(settings)
    ignore = load_mapping(settings.labels.mapping_file).ignore
    labelled = T.select_trainable(labelled, label_col=ACTIVITY, ignore_class=ignore).cache()
    base = T.select_trainable(read_windows(spark, lake), label_col=ACTIVITY, ignore_class=ignore)
    # Split before leaving relabelled windows out: the held-out participants are exactly `watchlake train`'s.
    base_train, base_test, heldout = FIT.split(base, settings.train)
    base_train = R.select_not_relabelled(base_train, labelled)
    base_test = R.select_not_relabelled(base_test, labelled)
    train_settings = settings.train
    labels_train, labels_test = R.split_labelled(
        labelled,
        train_settings.label_test_fraction,
        train_settings.label_seed,
        heldout.get("test_participants", []),
    )
    train = (
        R.to_training_rows(base_train, "base").unionByName(R.to_training_rows(labels_train, "label")).cache()
    )
    test = R.to_training_rows(base_test, "base").unionByName(R.to_training_rows(labels_test, "label")).cache()
    recipe = champion_recipe(settings, champion_meta)
    outcome = FIT.fit_and_evaluate(recipe, registry, train, test)
    champion = FIT.champion_evaluation(registry, spark, test)
    decision = decide_promotion(
        summary(outcome.metrics),
        FIT.headline(champion),
        metric=train_settings.promotion_metric,
        margin=train_settings.promotion_margin,
    )
    labels = _labels_record(labelled, labels_test, newest, train_settings, heldout)
    meta = FIT.model_meta(settings, lake, outcome, {**heldout, "labels": labels["heldout"]})
    meta["settings"]["train"] = {**meta["settings"]["train"], **recipe.model_dump(include=set(RECIPE_FIELDS))}
    meta["labels"] = labels
    meta["retrained_from"] = champion_meta["version"]
    meta["promotion"] = {
        "decision": decision.promote,
        "reason": decision.reason,
        "champion": FIT.headline(champion),
    }
    version = registry.register(outcome.fitted.model, meta)
    if decision.promote:
        registry.set_champion(version, decision.reason)
    report = write_retrain_report(
        settings,
        lake,
        registry.name,
        version,
        outcome,
        champion,
        decision,
        labels,
        base_counts=_count(base_train),
    )
    result = RetrainResult(
        skipped=False,
        reason=decision.reason,
        champion_version=int(champion_meta["version"]),
        labels_used=labels["windows"],
        labels_train=labels["train"],
        labels_test=labels["test"],
        base_train=_count(base_train),
        test_windows=sum(outcome.test_counts.values()),
        version=version,
        promoted=decision.promote,
        champion_macro_f1=(champion or {}).get("macro_f1"),
        challenger_macro_f1=float(outcome.metrics["macro_f1"]),
        max_labelled_at=labels["max_labelled_at"],
        report=report,
    )
    log.info("retrain: %s", result)
    return result


def _count(windows: DataFrame) -> int:
    return int(windows.count())


def _labels_record(
    labelled: DataFrame,
    labels_test: DataFrame,
    newest: datetime,
    train: TrainSettings,
    heldout: dict[str, Any],
) -> dict[str, Any]:
    """What the challenger saw of the store: counts, the newest label time, and the held-out labelled windows
    (seed, share and every window by participant and start) for a later run or an audit to reproduce."""
    held = sorted(
        (row[0], row[1].isoformat()) for row in labels_test.select(R.KEY, F.col(WINDOW_START)).collect()
    )
    windows = _count(labelled)
    share = {
        "seed": train.label_seed,
        "test_fraction": train.label_test_fraction,
        "base_test_participants_held_out": bool(heldout.get("test_participants")),
        "windows": [list(pair) for pair in held],
    }
    share["fingerprint"] = FIT.fingerprint(share)
    return {
        "windows": windows,
        "train": windows - len(held),
        "test": len(held),
        "max_labelled_at": newest.isoformat(),
        "heldout": share,
    }

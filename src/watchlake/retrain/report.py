"""The retrain report: both models' figures on the same held-out windows, their confusion matrices, the labels
used and the promotion decision, under ``Lake.retrain_reports/<run id>/``."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from watchlake.lake import Lake, join
from watchlake.registry.promotion import Decision
from watchlake.registry.store import store_for
from watchlake.settings import Settings
from watchlake.train.fitting import Outcome
from watchlake.train.report import confusion_png

log = logging.getLogger(__name__)


def write_retrain_report(
    settings: Settings,
    lake: Lake,
    name: str,
    version: int,
    outcome: Outcome,
    champion: dict[str, Any] | None,
    decision: Decision,
    labels: dict[str, Any],
    *,
    base_counts: int,
) -> str:
    """Write ``retrain.json`` and ``challenger_confusion.png`` (+ ``champion_confusion.png`` when the champion
    could score); return the folder."""
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + f"-v{version}"
    folder = join(lake.retrain_reports, run_id)
    store = store_for(folder, settings)
    report = {
        "model": name,
        "challenger": {"version": version, **outcome.metrics},
        "champion": champion,
        "same_heldout_windows": sum(outcome.test_counts.values()),
        "test_windows": outcome.test_counts,
        "train_windows": outcome.train_counts,
        "base_train_windows": base_counts,
        "labels": {key: value for key, value in labels.items() if key != "heldout"},
        "labels_heldout": labels["heldout"],
        "promotion": {
            "promoted": decision.promote,
            "reason": decision.reason,
            "metric": settings.train.promotion_metric,
            "margin": settings.train.promotion_margin,
        },
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    store.write_bytes(join(folder, "retrain.json"), json.dumps(report, indent=2, default=str).encode())
    title = f"challenger {name} v{version}: macro-F1 {outcome.metrics['macro_f1']:.3f}"
    store.write_bytes(join(folder, "challenger_confusion.png"), confusion_png(outcome.metrics, title))
    if champion and "confusion" in champion:
        title = f"champion {name} v{champion['version']}: macro-F1 {champion['macro_f1']:.3f}"
        store.write_bytes(join(folder, "champion_confusion.png"), confusion_png(champion, title))
    log.info("retrain report: %s", folder)
    return folder

"""``watchlake retrain``: refit the champion's recipe with the feature store's labels; promote only a better model."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

DESCRIPTION = (
    "Read the base feature windows (<lake>/features/windows, split as `watchlake train` splits them) and the "
    "labelled windows of the Feast feature store (point-in-time: the newest label of each window at the run's "
    "start; undone windows left out). A share of the labelled windows (settings.train.label_test_fraction, "
    "seeded by train.label_seed, recorded in the model's meta) is held out with the base held-out participants. "
    "A challenger is fitted with the champion's recipe; champion and challenger are scored on the same held-out "
    "windows and the challenger becomes the champion only if it beats it by settings.train.promotion_margin. "
    "The report (both models' per-class figures and confusion matrices, the decision) goes to "
    "<lake>/reports/retrain/<run>/. Nothing is trained when the store holds no label newer than the champion's."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of",
        default=None,
        metavar="TIME",
        help="read the labels as they stood at this UTC time (ISO 8601; default: now)",
    )


def options(args: argparse.Namespace) -> dict[str, Any]:
    return {"as_of": datetime.fromisoformat(args.as_of) if args.as_of else None}


def summary(result: Any) -> str:
    if result.skipped:
        return f"{result.reason}; nothing trained, champion v{result.champion_version} stays"
    champion = "n/a" if result.champion_macro_f1 is None else f"{result.champion_macro_f1:.3f}"
    verdict = "promoted" if result.promoted else "not promoted"
    return (
        f"{result.labels_used} labelled windows ({result.labels_train} train, {result.labels_test} held "
        f"out) + {result.base_train} base training windows; macro-F1 champion v{result.champion_version} "
        f"{champion} vs challenger v{result.version} {result.challenger_macro_f1:.3f} on the same "
        f"{result.test_windows} held-out windows; {verdict} ({result.reason}); report {result.report}"
    )

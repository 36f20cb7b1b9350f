"""``watchlake train``: fit the activity classifier, register it, promote it if it wins; or roll back / show."""

from __future__ import annotations

import argparse
from typing import Any

DESCRIPTION = (
    "Read the labelled feature windows of `watchlake features` (<lake>/features/windows), split them by "
    "participant or time block (settings.train.split_by), fit a Spark ML pipeline (settings.train.classifier) "
    "with inverse-frequency class weights, and evaluate on the held-out side beside a majority-class baseline. "
    "The model is registered as a new version under <lake>/models/<name>/versions/<n>/ and becomes the "
    "champion if it beats the current champion on the same held-out windows by "
    "settings.train.promotion_margin. Metrics JSON and a confusion-matrix PNG go to "
    "<lake>/reports/train/<run>/."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--rollback", action="store_true", help="make the previous champion the champion again (no training)"
    )
    action.add_argument("--show", action="store_true", help="print the registered versions and the champion")
    parser.add_argument("--model", default=None, help="model name (default: settings.train.model_name)")


def options(args: argparse.Namespace) -> dict[str, Any]:
    return {}


def summary(result: Any) -> str:
    metrics, baseline = result.metrics, result.baseline
    verdict = "champion" if result.promoted else f"not promoted ({result.reason})"
    return (
        f"model v{result.version} on {result.train_windows} windows: macro-F1 {metrics['macro_f1']:.3f}, "
        f"accuracy {metrics['accuracy']:.3f} on {result.test_windows} held-out windows "
        f"(majority baseline {baseline['macro_f1']:.3f} / {baseline['accuracy']:.3f}); {verdict}; "
        f"report {result.report}"
    )


def handle(args: argparse.Namespace, settings: Any) -> int | None:
    """``--show`` and ``--rollback`` act on the registry instead of training (None: train)."""
    if not (args.rollback or args.show):
        return None
    from watchlake.registry.registry import ModelRegistry

    registry = ModelRegistry.from_settings(settings, args.model)
    if args.rollback:
        pointer = registry.rollback()
        print(f"model {registry.name}: champion is now version {pointer.version} ({pointer.reason})")
        return 0
    champion = registry.champion()
    for version in registry.versions():
        meta = registry.meta(version)
        mark = "*" if champion and champion.version == version else " "
        print(
            f"{mark} {version:>3}  {meta.get('created_at', '')}  macro-F1 {meta['metrics']['macro_f1']:.3f}"
        )
    if champion is None:
        print(f"model {registry.name}: no champion")
    else:
        print(f"champion: version {champion.version}, history {list(champion.history)}")
    return 0

"""``watchlake train``: fit the activity classifier, register it, promote it if it wins; or roll back / show."""

from __future__ import annotations

import argparse
from typing import Any

from watchlake.cli import add_command, settings_of


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "train",
        _train,
        help="train the activity classifier on the processed readings; --rollback / --show for the registry",
        description=(
            "Spread the CASAS labels over their span (settings.labels), map them to classes (conf/labels.yaml), "
            "build feature windows (settings.features, written to <lake>/features/windows), split by participant "
            "or time block (settings.train.split_by), fit a Spark ML pipeline (settings.train.classifier) with "
            "inverse-frequency class weights, and evaluate on the held-out side beside a majority-class baseline. "
            "The model is registered as a new version under <lake>/models/<name>/versions/<n>/ and becomes the "
            "champion if it beats the current champion on the same held-out windows by "
            "settings.train.promotion_margin. Metrics JSON and a confusion-matrix PNG go to "
            "<lake>/reports/train/<run>/."
        ),
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--rollback", action="store_true", help="make the previous champion the champion again (no training)"
    )
    action.add_argument("--show", action="store_true", help="print the registered versions and the champion")
    parser.add_argument("--model", default=None, help="model name (default: settings.train.model_name)")


def _train(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if args.rollback or args.show:
        return _registry_action(settings, args)
    from watchlake.spark import build_session
    from watchlake.train.job import run

    spark = build_session(settings, "watchlake-train")
    result = run(settings, spark)
    print(
        f"model version {result.version}: macro-F1 {result.metrics['macro_f1']:.3f}, accuracy "
        f"{result.metrics['accuracy']:.3f} on {result.test_windows} held-out windows (majority baseline "
        f"macro-F1 {result.baseline['macro_f1']:.3f}, accuracy {result.baseline['accuracy']:.3f}); "
        f"{'promoted' if result.promoted else 'not promoted'}: {result.reason}; report {result.report}"
    )
    return 0


def _registry_action(settings: Any, args: argparse.Namespace) -> int:
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
